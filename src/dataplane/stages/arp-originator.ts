/**
 * Builds the ARP frames the router sends: requests (broadcast, or unicast to re-confirm a
 * neighbour, RFC 4861-style probing as Linux does for ARP) and gratuitous announcements of its own
 * addresses. They go into the originated batch straight to the output port.
 */
import type { Stage } from '../pipeline/stage.js';
import { ARP_OP_REQUEST } from '../wire/arp.js';
import { setU16, setU32, setU48 } from '../wire/bytes.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import type { RouterContext } from './router-context.js';

const BROADCAST = 0xffff_ffff_ffff;
const FRAME_LEN = 42;

export class ArpOriginator {
  /** Set when the graph is built: the stage that transmits on ports. */
  portOutput!: Stage;
  sent = 0;

  constructor(private readonly ctx: RouterContext) {}

  /**
   * Asks "who has `target`?" on `port` from the router's address there (or 0.0.0.0, an ARP probe,
   * when the port has none). `unicastMac` 0 = broadcast.
   */
  request(target: number, port: number, unicastMac: number): boolean {
    const from = this.ctx.local.primary(port);
    return this.emit(port, unicastMac || BROADCAST, ARP_OP_REQUEST, from, target, 0);
  }

  /** Gratuitous ARP for `addr` on `port` (RFC 5227 §3 announcement: a request with sender = target). */
  announce(addr: number, port: number): boolean {
    return this.emit(port, BROADCAST, ARP_OP_REQUEST, addr, addr, 0);
  }

  private emit(port: number, dstMac: number, op: number, spa: number, tpa: number, tha: number): boolean {
    const o = this.ctx.originated;
    const slot = o.alloc(this.portOutput, ETHERTYPE_ARP, 0xffff, port);
    if (slot < 0) return false;
    const d = o.batch.data;
    const at = o.batch.offset[slot]!;
    const mac = this.ctx.portMac[port]!;
    setU48(d, at, dstMac);
    setU48(d, at + 6, mac);
    setU16(d, at + 12, ETHERTYPE_ARP);
    setU16(d, at + 14, 1); // hardware type Ethernet
    setU16(d, at + 16, ETHERTYPE_IPV4);
    d[at + 18] = 6;
    d[at + 19] = 4;
    setU16(d, at + 20, op);
    setU48(d, at + 22, mac);
    setU32(d, at + 28, spa);
    setU48(d, at + 32, tha);
    setU32(d, at + 38, tpa);
    o.batch.length[slot] = FRAME_LEN;
    this.sent++;
    return true;
  }
}
