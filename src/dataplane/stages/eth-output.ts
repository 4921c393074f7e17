/**
 * eth-output: gives a routed IPv4 packet its link layer. On an L3 port (TUN) the packet goes as
 * is. On an Ethernet port the next hop (the gateway, or the destination when on-link) is looked
 * up in the neighbour table: known → a fresh Ethernet header (rewritten in place when the packet
 * arrived with one, else prepended through PacketMeta.head); unknown → the packet waits in the
 * neighbour queue and an ARP request goes out (RFC 826; queueing as RFC 1122 §2.3.2.2 asks).
 */

import { OUT_DROP, OUT_QUEUED_REQUEST, OUT_SEND } from '../neighbour/table.js';
import { HEAD_MAX, partialCsum } from '../pipeline/packet-meta.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { Stage } from '../pipeline/stage.js';
import { formatIpv4, formatMac, setU16, setU48, u32 } from '../wire/bytes.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import type { ArpOriginator } from './arp-originator.js';
import { completeCsumAt } from './offload-tx.js';
import type { RouterContext } from './router-context.js';

const EV_RESOLVED = 1;
const EV_QUEUED = 2;
const EV_L3 = 3;

const macBytes = new Uint8Array(6);

export class EthOutput extends Stage {
  readonly name = 'eth-output';
  private readonly queueDrop: number;
  private readonly tableFull: number;
  next!: Stage;

  constructor(
    pipe: Pipeline,
    private readonly ctx: RouterContext,
    private readonly arp: ArpOriginator,
  ) {
    super();
    this.queueDrop = pipe.drops.register('neighbour-queue-full');
    this.tableFull = pipe.drops.register('neighbour-table-full');
  }

  process(pipe: Pipeline, slots: Uint16Array, n: number): void {
    const b = pipe.batch;
    const d = b.data;
    const m = pipe.meta;
    const ctx = this.ctx;
    const neigh = ctx.neighbours;
    // Packets for the main successor are compacted in place and handed on as one vector.
    let w = 0;
    for (let k = 0; k < n; k++) {
      const s = slots[k]!;
      const port = m.outPort[s]!;
      const l3 = m.l3Off[s]!;
      const len = m.l3Len[s]!;
      if (ctx.portL2[port] === 0) {
        b.offset[s] = l3;
        b.length[s] = len;
        pipe.trace(s, this, EV_L3, 0, port);
        slots[w++] = s;
        continue;
      }
      const target = m.nextHop[s] !== 0 ? m.nextHop[s]! : u32(d, l3 + 16);
      const e = neigh.ensure(target, port, ctx.now);
      if (e < 0) {
        pipe.drop(s, this.tableFull);
        continue;
      }
      const r = neigh.output(e, ctx.now, d, l3, len);
      if (r === OUT_SEND) {
        const mac = neigh.mac[e]!;
        if (l3 - b.offset[s]! >= ETH_HEADER_LEN) {
          const at = l3 - ETH_HEADER_LEN;
          setU48(d, at, mac);
          setU48(d, at + 6, ctx.portMac[port]!);
          setU16(d, at + 12, ETHERTYPE_IPV4);
          b.offset[s] = at;
          b.length[s] = len + ETH_HEADER_LEN;
        } else {
          const h = m.head;
          const at = s * HEAD_MAX;
          setU48(h, at, mac);
          setU48(h, at + 6, ctx.portMac[port]!);
          setU16(h, at + 12, ETHERTYPE_IPV4);
          m.headLen[s] = ETH_HEADER_LEN;
          b.offset[s] = l3;
          b.length[s] = len;
        }
        if (m.traceId[s] !== 0)
          pipe.trace(
            s,
            this,
            EV_RESOLVED,
            target,
            port,
            Math.floor(mac / 0x1_0000_0000),
            mac % 0x1_0000_0000,
          );
        slots[w++] = s;
        continue;
      }
      if (r === OUT_DROP) {
        pipe.drop(s, this.queueDrop);
        continue;
      }
      // The queued copy leaves later without this packet's offload descriptor: finish its checksum.
      if (partialCsum(m, s)) {
        const q = neigh.qTail[e]!;
        const start = q * neigh.slotBytes + (m.l2Off[s]! + m.csumStart[s]! - l3);
        completeCsumAt(neigh.pool, start, q * neigh.slotBytes + len, m.csumOffset[s]!);
      }
      if (r === OUT_QUEUED_REQUEST) this.arp.request(target, port, 0);
      pipe.trace(s, this, EV_QUEUED, target, port);
      pipe.consume(s);
    }
    pipe.nextAll(this.next.id, slots, w);
  }

  override formatTrace = (e: number, target: number, port: number, macHi: number, macLo: number): string => {
    const name = this.ctx.ports[port]?.name ?? `port ${port}`;
    if (e === EV_L3) return `out ${name} as a bare IP packet (L3 port)`;
    if (e === EV_QUEUED) return `${formatIpv4(target)} on ${name} not resolved yet: queued, ARP request sent`;
    setU16(macBytes, 0, macHi);
    setU16(macBytes, 2, macLo >>> 16);
    setU16(macBytes, 4, macLo & 0xffff);
    return `${formatIpv4(target)} is at ${formatMac(macBytes)}: Ethernet header written, out ${name}`;
  };
}
