/**
 * The router's own IPv4 addresses per port, in typed arrays: "is this packet for me?",
 * "which of my addresses is on this port?", and directed-broadcast checks (RFC 1812 §5.3.5).
 */
export class LocalAddresses {
  readonly addr: Uint32Array;
  readonly prefixLen: Uint8Array;
  readonly port: Uint16Array;
  /** Directed broadcast of each address's prefix (0 for /31 and /32, which have none). */
  private readonly bcast: Uint32Array;
  count = 0;

  constructor(capacity = 64) {
    this.addr = new Uint32Array(capacity);
    this.prefixLen = new Uint8Array(capacity);
    this.port = new Uint16Array(capacity);
    this.bcast = new Uint32Array(capacity);
  }

  add(addr: number, prefixLen: number, port: number): void {
    if (this.count === this.addr.length) throw new RangeError('too many local addresses');
    const host = prefixLen >= 31 ? 0 : prefixLen === 0 ? 0xffffffff : ~(0xffffffff << (32 - prefixLen)) >>> 0;
    this.addr[this.count] = addr;
    this.prefixLen[this.count] = prefixLen;
    this.bcast[this.count] = host === 0 ? 0 : (addr | host) >>> 0;
    this.port[this.count++] = port;
  }

  /**
   * Removes `addr` from `port` (a DHCP lease lost); later entries move down one place, so the
   * first address left on a port stays its primary. Returns whether it was there.
   */
  remove(addr: number, port: number): boolean {
    let i = 0;
    while (i < this.count && !(this.addr[i] === addr && this.port[i] === port)) i++;
    if (i === this.count) return false;
    this.addr.copyWithin(i, i + 1, this.count);
    this.prefixLen.copyWithin(i, i + 1, this.count);
    this.port.copyWithin(i, i + 1, this.count);
    this.bcast.copyWithin(i, i + 1, this.count);
    this.count--;
    return true;
  }

  /** Index of the entry holding exactly `a`, or -1. */
  find(a: number): number {
    for (let i = 0; i < this.count; i++) if (this.addr[i] === a) return i;
    return -1;
  }

  /** The first address configured on `port` (the source of packets the router originates there), or 0. */
  primary(port: number): number {
    for (let i = 0; i < this.count; i++) if (this.port[i] === port) return this.addr[i]!;
    return 0;
  }

  /** True for 255.255.255.255 and for the directed broadcast of any connected prefix < /31. */
  isBroadcast(a: number): boolean {
    if (a === 0xffffffff) return true;
    if (a === 0) return false;
    for (let i = 0; i < this.count; i++) if (this.bcast[i] === a) return true;
    return false;
  }

  /**
   * True when `a` is for the router itself: one of its addresses, 255.255.255.255 or a directed
   * broadcast (`find(a) >= 0 || isBroadcast(a)` in one pass, for the per-packet lookup).
   */
  isOwn(a: number): boolean {
    if (a === 0xffffffff) return true;
    const addr = this.addr;
    const bcast = this.bcast;
    for (let i = 0; i < this.count; i++) if (addr[i] === a || (bcast[i] === a && a !== 0)) return true;
    return false;
  }

  /** Index of an address on `port` whose prefix contains `a` (the on-link check), or -1. */
  onLink(a: number, port: number): number {
    for (let i = 0; i < this.count; i++) {
      if (this.port[i] !== port) continue;
      const len = this.prefixLen[i]!;
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      if ((a & mask) >>> 0 === (this.addr[i]! & mask) >>> 0) return i;
    }
    return -1;
  }
}
