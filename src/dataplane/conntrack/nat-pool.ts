/**
 * Source-NAT port mappings with endpoint-independent mapping (RFC 4787 REQ-1, RFC 5382 REQ-1,
 * RFC 5508 REQ-1a): one mapping per (protocol, internal address, internal port or ICMP id,
 * external address), shared by every flow of that internal endpoint whatever the destination, and
 * reference-counted by those flows. An external port belongs to at most one mapping, so ports are
 * never overloaded (RFC 4787 REQ-3, RFC 5382 REQ-7).
 *
 * Port choice, in order: the internal port itself when free and in range (port preservation, as
 * Linux's nf_nat does); else a free port of the same parity (RFC 4787 REQ-4) and, without an
 * explicit range, the same class — 1–1023 or 1024–65535 (RFC 4787 REQ-3's SHOULD; Linux splits
 * the low class further, we keep the RFC's two) — searched from a random start (RFC 6056 §3.3.1,
 * RFC 7857 §9); else any free port of that range. ICMP identifiers use 0–65535 as one class.
 *
 * Storage: per external address and protocol an Int32Array(65536) owner table (mapping + 1);
 * mappings in typed arrays found through a Robin Hood index (the flow table's FlowIndex) keyed by
 * a HalfSipHash of the internal endpoint. Nothing allocates per packet; an owner table is
 * allocated the first time an external address is used.
 */
import { halfSipHash13x4, randomHashKey } from './flow-hash.js';
import { FlowIndex } from './flow-index.js';

export const NAT_P_TCP = 0;
export const NAT_P_UDP = 1;
export const NAT_P_ICMP = 2;
const PROTOS = 3;

/** acquire(): every port of the range is taken. */
export const NAT_EXHAUSTED = -1;
/** acquire(): no room for another mapping or external address. */
export const NAT_NO_ROOM = -2;

const MAX_ADDRS = 64;

export class NatPool {
  readonly capacity: number;
  /** Live mappings. */
  count = 0;
  /** acquire() calls refused because the range was exhausted. */
  exhausted = 0;
  private readonly addrs = new Uint32Array(MAX_ADDRS);
  private addrCount = 0;
  /** owners[addrIdx * PROTOS + proto][port] = mapping + 1, or 0 when free. */
  private readonly owners: Int32Array[] = [];
  /** Ports in use per (address, protocol) and class: [low, high] pairs. */
  private readonly used = new Int32Array(MAX_ADDRS * PROTOS * 2);
  /** Key words per mapping: internal address, port << 16 | proto, external address index, 0. */
  private readonly keys: Int32Array;
  private readonly hashes: Int32Array;
  private readonly extPorts: Uint16Array;
  private readonly extAddrIdx: Uint8Array;
  private readonly refs: Int32Array;
  private readonly free: Int32Array;
  private freeTop: number;
  private readonly index: FlowIndex;
  private readonly k0: number;
  private readonly k1: number;
  private rng: number;

  constructor(capacity: number, hashKey?: readonly [number, number]) {
    this.capacity = capacity;
    this.keys = new Int32Array(capacity * 4);
    this.hashes = new Int32Array(capacity);
    this.extPorts = new Uint16Array(capacity);
    this.extAddrIdx = new Uint8Array(capacity);
    this.refs = new Int32Array(capacity);
    this.free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeTop = capacity;
    let slots = 2;
    while (slots < capacity * 2) slots *= 2;
    this.index = new FlowIndex(slots, this.keys);
    const [k0, k1] = hashKey ?? randomHashKey();
    this.k0 = k0;
    this.k1 = k1;
    this.rng = (k0 ^ 0x9e3779b9) | 1;
  }

  /**
   * The mapping for (proto, internal address:port) on external address `ext`, made if needed with
   * a port in [min, max] (0, 0: the internal port's class). Takes a reference. Returns the mapping,
   * NAT_EXHAUSTED or NAT_NO_ROOM.
   */
  acquire(proto: number, intAddr: number, intPort: number, ext: number, min: number, max: number): number {
    const a = this.addrIndex(ext);
    if (a < 0) return NAT_NO_ROOM;
    // int32 key words (see flow-table.ts: no heap numbers for addresses above 2^31).
    const w0 = intAddr | 0;
    const w1 = (intPort << 16) | proto;
    const h = halfSipHash13x4(this.k0, this.k1, w0, w1, a, 0);
    const found = this.index.find4(h, w0, w1, a, 0);
    if (found >= 0) {
      this.refs[found]!++;
      return found;
    }
    if (this.freeTop === 0) return NAT_NO_ROOM;
    const owner = this.owners[a * PROTOS + proto]!;
    let lo = min;
    let hi = max;
    if (lo === 0 && hi === 0) {
      if (proto === NAT_P_ICMP) hi = 65535;
      else if (intPort < 1024) {
        lo = 1;
        hi = 1023;
      } else {
        lo = 1024;
        hi = 65535;
      }
    }
    const port = this.choosePort(owner, a * PROTOS + proto, intPort, lo, hi);
    if (port < 0) {
      this.exhausted++;
      return NAT_EXHAUSTED;
    }
    const m = this.free[--this.freeTop]!;
    const k = m * 4;
    this.keys[k] = w0;
    this.keys[k + 1] = w1;
    this.keys[k + 2] = a;
    this.keys[k + 3] = 0;
    this.hashes[m] = h;
    this.index.place(h, m);
    this.extPorts[m] = port;
    this.extAddrIdx[m] = a;
    this.refs[m] = 1;
    owner[port] = m + 1;
    this.used[(a * PROTOS + proto) * 2 + (port < 1024 ? 0 : 1)]!++;
    this.count++;
    return m;
  }

  /** Drops a reference; the last one frees the port. */
  release(m: number): void {
    if (--this.refs[m]! > 0) return;
    const a = this.extAddrIdx[m]!;
    const proto = this.keys[m * 4 + 1]! & 0xffff;
    const port = this.extPorts[m]!;
    this.owners[a * PROTOS + proto]![port] = 0;
    this.used[(a * PROTOS + proto) * 2 + (port < 1024 ? 0 : 1)]!--;
    this.index.erase(this.hashes[m]!, m);
    this.free[this.freeTop++] = m;
    this.count--;
  }

  extPort(m: number): number {
    return this.extPorts[m]!;
  }

  extAddr(m: number): number {
    return this.addrs[this.extAddrIdx[m]!]!;
  }

  refCount(m: number): number {
    return this.refs[m]!;
  }

  /** True when `port` of `proto` on external address `ext` is held by a mapping. */
  inUse(proto: number, ext: number, port: number): boolean {
    for (let a = 0; a < this.addrCount; a++)
      if (this.addrs[a] === ext) return this.owners[a * PROTOS + proto]![port] !== 0;
    return false;
  }

  private addrIndex(ext: number): number {
    const e = ext >>> 0;
    for (let a = 0; a < this.addrCount; a++) if (this.addrs[a] === e) return a;
    if (this.addrCount === MAX_ADDRS) return -1;
    const a = this.addrCount++;
    this.addrs[a] = e;
    // First use of this external address: its owner tables (once per address, not per packet).
    for (let p = 0; p < PROTOS; p++) this.owners.push(new Int32Array(65536));
    return a;
  }

  private choosePort(owner: Int32Array, ap: number, want: number, lo: number, hi: number): number {
    if (want >= lo && want <= hi && owner[want] === 0) return want;
    const size = hi - lo + 1;
    // A class-wide range with every port taken: say so without scanning 64k entries.
    if (lo === 1 && hi === 1023 && this.used[ap * 2] === 1023) return -1;
    if (lo === 1024 && hi === 65535 && this.used[ap * 2 + 1] === 64512) return -1;
    let r = this.rng;
    r ^= r << 13;
    r ^= r >>> 17;
    r ^= r << 5;
    this.rng = r;
    const start = (r >>> 0) % size;
    // Same parity first (RFC 4787 REQ-4), then any.
    for (let i = 0; i < size; i++) {
      const p = lo + ((start + i) % size);
      if ((p & 1) === (want & 1) && owner[p] === 0) return p;
    }
    for (let i = 0; i < size; i++) {
      const p = lo + ((start + i) % size);
      if (owner[p] === 0) return p;
    }
    return -1;
  }
}
