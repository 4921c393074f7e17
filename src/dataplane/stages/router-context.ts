/**
 * What the IPv4 router stages share: the ports' facts in typed arrays, the router's own addresses,
 * the neighbour table, routing, the engine clock, and where originated packets go. One instance
 * per engine; stages keep a reference and read it per packet.
 */
import { NeighbourTable } from '../neighbour/table.js';
import { NO_PORT } from '../pipeline/packet-meta.js';
import type { Port, PortStats } from '../ports/port.js';
import { LocalAddresses } from './local-addresses.js';
import { OriginatedBatch } from './originator.js';
import type { RouteResolver } from './route-result.js';

export class RouterContext {
  readonly portMac: Float64Array;
  readonly portMtu: Uint16Array;
  /** 1 when the port carries Ethernet frames. */
  readonly portL2: Uint8Array;
  /** 1 when the port transmits offload descriptors (Port.txOffload): GSO frames and partial checksums may leave as they are. */
  readonly portOffload: Uint8Array;
  /** Per port: the `stats` the engine counts received packets into, or null where the port counts them itself. */
  readonly rxStats: (PortStats | null)[];
  /** 1 when the port answers ARP for addresses routed out of another port (RFC 1027). */
  readonly proxyArp: Uint8Array;
  readonly local = new LocalAddresses();
  /**
   * The host port (the kernel's TAP, linux-cp style), NO_PORT when there is none, and the
   * addresses the kernel carries on it (they may repeat other ports' addresses).
   */
  hostPort = NO_PORT;
  readonly hostAddrs = new LocalAddresses(16);
  readonly neighbours: NeighbourTable;
  /** Engine time in seconds: the capture's clock in replay, the wall clock live. */
  now = 0;
  /** The same instant exactly, for timestamps of originated packets (a double loses nanoseconds). */
  nowSec = 0;
  nowNsec = 0;

  /** Sets the clock from an exact (seconds, nanoseconds) pair. */
  setClock(sec: number, nsec: number): void {
    this.nowSec = sec;
    this.nowNsec = nsec;
    this.now = sec + nsec / 1e9;
  }

  /** Sets the clock from seconds (timers), keeping microsecond precision in the exact pair. */
  setClockSeconds(t: number): void {
    const sec = Math.floor(t);
    this.nowSec = sec;
    this.nowNsec = Math.min(999_999_000, Math.round((t - sec) * 1e6) * 1000);
    this.now = t;
  }
  /** Where originated packets are written (swapped by the engine between rounds). */
  originated = new OriginatedBatch();

  constructor(
    readonly ports: Port[],
    public routes: RouteResolver,
    neighbours?: NeighbourTable,
  ) {
    const n = ports.length;
    this.portMac = new Float64Array(n);
    this.portMtu = new Uint16Array(n);
    this.portL2 = new Uint8Array(n);
    this.portOffload = new Uint8Array(n);
    this.proxyArp = new Uint8Array(n);
    this.rxStats = ports.map((p) => (p.countsRx === true ? null : p.stats));
    ports.forEach((p, i) => {
      p.index = i;
      this.portMac[i] = p.mac;
      this.portMtu[i] = p.mtu;
      this.portL2[i] = p.l2 ? 1 : 0;
      this.portOffload[i] = p.txOffload === true ? 1 : 0;
    });
    this.neighbours = neighbours ?? new NeighbourTable();
  }
}
