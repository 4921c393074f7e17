/**
 * The neighbour (ARP) table: IPv4 address + port → MAC, with Linux's NUD state machine and a
 * bounded queue of packets waiting for resolution.
 *
 * Entries live in typed arrays (no object per neighbour); an open-addressing index keyed by
 * (address, port) finds them, with backward-shift deletion so no tombstones accumulate. Queued
 * packets are copied into a fixed pool of buffers; when an entry resolves, the caller drains its
 * queue with `nextQueued`; when it fails, the caller drains it to answer ICMP host unreachable.
 */
import {
  DEFAULT_TIMERS,
  type NeighbourTimers,
  NUD_DELAY,
  NUD_FAILED,
  NUD_INCOMPLETE,
  NUD_NONE,
  NUD_PERMANENT,
  NUD_PROBE,
  NUD_REACHABLE,
  NUD_STALE,
} from './states.js';

/** What `output` tells the caller to do with a packet for a neighbour. */
export const OUT_SEND = 0;
/** Packet queued; also send a broadcast ARP request now. */
export const OUT_QUEUED_REQUEST = 1;
/** Packet queued; a request is already outstanding. */
export const OUT_QUEUED = 2;
/** No room to queue (pool empty or table full): drop it. */
export const OUT_DROP = 3;

/** Timer actions `tick` reports. */
export const ACT_BROADCAST_REQUEST = 1;
export const ACT_UNICAST_REQUEST = 2;
export const ACT_FAILED = 3;

export interface NeighbourStats {
  created: number;
  removed: number;
  queueDrops: number;
  tableFull: number;
  failed: number;
}

export class NeighbourTable {
  readonly ip: Uint32Array;
  readonly port: Uint16Array;
  readonly mac: Float64Array;
  readonly state: Uint8Array;
  /** Engine time the entry was last confirmed (REACHABLE) or its state last changed. */
  readonly updated: Float64Array;
  /** Engine time the entry was last used for output. */
  readonly used: Float64Array;
  /** Engine time the next timer action is due (requests, DELAY→PROBE, REACHABLE→STALE). */
  readonly due: Float64Array;
  readonly probes: Uint8Array;
  private readonly qHead: Int32Array;
  /** Last queued pool slot per entry (-1: none); eth-output finishes a queued copy's partial checksum there. */
  readonly qTail: Int32Array;
  private readonly qCount: Uint8Array;

  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly freeList: Int32Array;
  private freeTop: number;

  /** Pool of queued packets: a singly linked list per entry. */
  readonly pool: Uint8Array;
  readonly poolLen: Uint32Array;
  private readonly poolNext: Int32Array;
  private poolFree = -1;
  readonly slotBytes: number;

  /** Actions produced by the last `tick`: entry indices and ACT_* kinds. */
  readonly actEntry: Int32Array;
  readonly actKind: Uint8Array;
  actCount = 0;

  readonly stats: NeighbourStats = { created: 0, removed: 0, queueDrops: 0, tableFull: 0, failed: 0 };
  count = 0;

  constructor(
    readonly capacity = 4096,
    readonly timers: NeighbourTimers = DEFAULT_TIMERS,
    poolSlots = 256,
    slotBytes = 2048,
  ) {
    this.ip = new Uint32Array(capacity);
    this.port = new Uint16Array(capacity);
    this.mac = new Float64Array(capacity);
    this.state = new Uint8Array(capacity);
    this.updated = new Float64Array(capacity);
    this.used = new Float64Array(capacity);
    this.due = new Float64Array(capacity);
    this.probes = new Uint8Array(capacity);
    this.qHead = new Int32Array(capacity).fill(-1);
    this.qTail = new Int32Array(capacity).fill(-1);
    this.qCount = new Uint8Array(capacity);
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.index = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    this.freeList = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeList[i] = capacity - 1 - i;
    this.freeTop = capacity;
    this.slotBytes = slotBytes;
    this.pool = new Uint8Array(poolSlots * slotBytes);
    this.poolLen = new Uint32Array(poolSlots);
    this.poolNext = new Int32Array(poolSlots);
    for (let i = poolSlots - 1; i >= 0; i--) {
      this.poolNext[i] = this.poolFree;
      this.poolFree = i;
    }
    this.actEntry = new Int32Array(capacity);
    this.actKind = new Uint8Array(capacity);
  }

  private hash(ip: number, port: number): number {
    // Fibonacci hashing of the address mixed with the port.
    return (Math.imul(ip ^ (port * 0x9e37), 0x9e3779b1) >>> 0) & this.mask;
  }

  /** Entry index for (ip, port), or -1. */
  find(ip: number, port: number): number {
    let h = this.hash(ip, port);
    for (;;) {
      const e = this.index[h]!;
      if (e < 0) return -1;
      if (this.ip[e] === ip && this.port[e] === port) return e;
      h = (h + 1) & this.mask;
    }
  }

  /** Finds or creates (state NONE) the entry; -1 when the table is full and nothing could be evicted. */
  ensure(ip: number, port: number, now: number): number {
    const found = this.find(ip, port);
    if (found >= 0) return found;
    if (this.freeTop === 0 && !this.evictOne()) {
      this.stats.tableFull++;
      return -1;
    }
    const e = this.freeList[--this.freeTop]!;
    this.ip[e] = ip;
    this.port[e] = port;
    this.mac[e] = 0;
    this.state[e] = NUD_NONE;
    this.updated[e] = now;
    this.used[e] = now;
    this.due[e] = Number.POSITIVE_INFINITY;
    this.probes[e] = 0;
    let h = this.hash(ip, port);
    while (this.index[h]! >= 0) h = (h + 1) & this.mask;
    this.index[h] = e;
    this.count++;
    this.stats.created++;
    return e;
  }

  /** A static entry (config `neighbours:` / own addresses): never expires, never probed. */
  setPermanent(ip: number, port: number, mac: number, now: number): number {
    const e = this.ensure(ip, port, now);
    if (e < 0) return e;
    this.mac[e] = mac;
    this.state[e] = NUD_PERMANENT;
    this.due[e] = Number.POSITIVE_INFINITY;
    return e;
  }

  /**
   * An ARP reply (or a request answering our probe) confirms reachability: REACHABLE with `mac`.
   * Returns the entry; if it has queued packets, the caller drains them with `nextQueued`.
   */
  confirm(ip: number, port: number, mac: number, now: number): number {
    const e = this.ensure(ip, port, now);
    if (e < 0 || this.state[e] === NUD_PERMANENT) return e;
    this.mac[e] = mac;
    this.state[e] = NUD_REACHABLE;
    this.updated[e] = now;
    this.due[e] = now + this.timers.reachable;
    this.probes[e] = 0;
    return e;
  }

  /**
   * RFC 826 "merge": a request from a neighbour tells us its MAC without proving two-way
   * reachability, so a new or changed entry becomes STALE (an unchanged one keeps its state).
   * An INCOMPLETE entry gets its answer this way too and may now send its queue.
   */
  learn(ip: number, port: number, mac: number, now: number): number {
    const e = this.ensure(ip, port, now);
    if (e < 0 || this.state[e] === NUD_PERMANENT) return e;
    const st = this.state[e]!;
    if (st === NUD_NONE || st === NUD_INCOMPLETE || st === NUD_FAILED || this.mac[e] !== mac) {
      this.mac[e] = mac;
      this.state[e] = NUD_STALE;
      this.updated[e] = now;
      this.due[e] = now + this.timers.gcStale;
      this.probes[e] = 0;
    }
    return e;
  }

  /** True when the entry's MAC may be used to send now. */
  usable(e: number): boolean {
    const st = this.state[e]!;
    return (
      st === NUD_REACHABLE || st === NUD_STALE || st === NUD_DELAY || st === NUD_PROBE || st === NUD_PERMANENT
    );
  }

  /**
   * A packet wants to go to neighbour `e`. Returns OUT_SEND (use `mac[e]`), or queues a copy of
   * data[off..off+len) and returns OUT_QUEUED_REQUEST / OUT_QUEUED, or OUT_DROP.
   */
  output(e: number, now: number, data: Uint8Array, off: number, len: number): number {
    this.used[e] = now;
    const st = this.state[e]!;
    if (st === NUD_REACHABLE || st === NUD_DELAY || st === NUD_PROBE || st === NUD_PERMANENT) return OUT_SEND;
    if (st === NUD_STALE) {
      // RFC 4861 §7.3.3: using a STALE entry starts the DELAY timer; traffic keeps flowing.
      this.state[e] = NUD_DELAY;
      this.updated[e] = now;
      this.due[e] = now + this.timers.delayFirstProbe;
      return OUT_SEND;
    }
    let result = OUT_QUEUED;
    if (st === NUD_NONE || st === NUD_FAILED) {
      this.state[e] = NUD_INCOMPLETE;
      this.updated[e] = now;
      this.probes[e] = 1;
      this.due[e] = now + this.timers.retrans;
      result = OUT_QUEUED_REQUEST;
    }
    if (this.enqueue(e, data, off, len)) return result;
    // Nothing queued, but the resolution still starts: the next tick sends the first request.
    if (result === OUT_QUEUED_REQUEST) this.due[e] = now;
    return OUT_DROP;
  }

  private enqueue(e: number, data: Uint8Array, off: number, len: number): boolean {
    if (len > this.slotBytes) {
      this.stats.queueDrops++;
      return false;
    }
    if (this.qCount[e]! >= this.timers.queuePerEntry) {
      // Like Linux's unres queue: the oldest waiting packet makes room for the newest.
      const old = this.qHead[e]!;
      this.qHead[e] = this.poolNext[old]!;
      this.qCount[e]!--;
      this.freeSlot(old);
      this.stats.queueDrops++;
    }
    const s = this.poolFree;
    if (s < 0) {
      this.stats.queueDrops++;
      return false;
    }
    this.poolFree = this.poolNext[s]!;
    this.pool.set(data.subarray(off, off + len), s * this.slotBytes);
    this.poolLen[s] = len;
    this.poolNext[s] = -1;
    if (this.qTail[e]! >= 0) this.poolNext[this.qTail[e]!] = s;
    else this.qHead[e] = s;
    this.qTail[e] = s;
    this.qCount[e]!++;
    return true;
  }

  private freeSlot(s: number): void {
    this.poolNext[s] = this.poolFree;
    this.poolFree = s;
  }

  queued(e: number): number {
    return this.qCount[e]!;
  }

  /**
   * Pops the oldest queued packet of entry e: returns its pool slot (bytes at
   * pool[slot*slotBytes .. +poolLen[slot]]) or -1. Call `release(slot)` when done with it.
   */
  nextQueued(e: number): number {
    const s = this.qHead[e]!;
    if (s < 0) return -1;
    this.qHead[e] = this.poolNext[s]!;
    if (this.qHead[e]! < 0) this.qTail[e] = -1;
    this.qCount[e]!--;
    return s;
  }

  release(slot: number): void {
    this.freeSlot(slot);
  }

  /**
   * Advances timers to `now`: fills actEntry/actKind with requests to send and failures to report
   * (the caller drains a FAILED entry's queue to answer ICMP host unreachable, RFC 1812 §4.3.3.1),
   * and forgets STALE/FAILED entries unused for gcStale. Returns the number of actions.
   */
  tick(now: number): number {
    const t = this.timers;
    let n = 0;
    for (let h = 0; h <= this.mask; h++) {
      const e = this.index[h]!;
      // A microsecond of slack: engine times near 1.7e9 s carry float rounding of ~0.2 µs.
      if (e < 0 || this.due[e]! > now + 1e-6) continue;
      switch (this.state[e]) {
        case NUD_INCOMPLETE:
          if (this.probes[e]! >= t.maxMulticastProbes) {
            this.state[e] = NUD_FAILED;
            this.updated[e] = now;
            this.due[e] = now + t.gcStale;
            this.stats.failed++;
            this.actEntry[n] = e;
            this.actKind[n++] = ACT_FAILED;
          } else {
            this.probes[e]!++;
            this.due[e] = now + t.retrans;
            this.actEntry[n] = e;
            this.actKind[n++] = ACT_BROADCAST_REQUEST;
          }
          break;
        case NUD_REACHABLE:
          this.state[e] = NUD_STALE;
          this.updated[e] = now;
          this.due[e] = now + t.gcStale;
          break;
        case NUD_DELAY:
          this.state[e] = NUD_PROBE;
          this.probes[e] = 1;
          this.due[e] = now + t.retrans;
          this.actEntry[n] = e;
          this.actKind[n++] = ACT_UNICAST_REQUEST;
          break;
        case NUD_PROBE:
          if (this.probes[e]! >= t.maxUnicastProbes) {
            this.state[e] = NUD_FAILED;
            this.updated[e] = now;
            this.due[e] = now + t.gcStale;
            this.stats.failed++;
          } else {
            this.probes[e]!++;
            this.due[e] = now + t.retrans;
            this.actEntry[n] = e;
            this.actKind[n++] = ACT_UNICAST_REQUEST;
          }
          break;
        case NUD_STALE:
        case NUD_FAILED:
          if (now - this.used[e]! >= t.gcStale && this.qCount[e] === 0) {
            this.remove(e);
            h--; // backward shift moved another entry into this index slot
          } else {
            this.due[e] = this.used[e]! + t.gcStale;
          }
          break;
        default:
          this.due[e] = Number.POSITIVE_INFINITY;
      }
      if (n === this.actEntry.length) break;
    }
    this.actCount = n;
    return n;
  }

  /** Removes entry e (its queue is freed). */
  remove(e: number): void {
    for (let s = this.nextQueued(e); s >= 0; s = this.nextQueued(e)) this.freeSlot(s);
    let h = this.hash(this.ip[e]!, this.port[e]!);
    while (this.index[h] !== e) h = (h + 1) & this.mask;
    // Backward-shift deletion: pull later members of the probe run into the hole.
    let hole = h;
    let j = (h + 1) & this.mask;
    for (;;) {
      const o = this.index[j]!;
      if (o < 0) break;
      const home = this.hash(this.ip[o]!, this.port[o]!);
      // o may move into the hole if its home is not cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        this.index[hole] = o;
        hole = j;
      }
      j = (j + 1) & this.mask;
    }
    this.index[hole] = -1;
    this.state[e] = NUD_NONE;
    this.freeList[this.freeTop++] = e;
    this.count--;
    this.stats.removed++;
  }

  /** Evicts the least recently used STALE or FAILED entry without queued packets (bounded scan). */
  private evictOne(): boolean {
    let best = -1;
    for (let e = 0; e < this.capacity; e++) {
      const st = this.state[e];
      if ((st === NUD_STALE || st === NUD_FAILED) && this.qCount[e] === 0) {
        if (best < 0 || this.used[e]! < this.used[best]!) best = e;
      }
    }
    if (best < 0) return false;
    this.remove(best);
    return true;
  }

  /** Live entry indices (for status output; allocates). */
  entries(): number[] {
    const out: number[] = [];
    for (let h = 0; h <= this.mask; h++) if (this.index[h]! >= 0) out.push(this.index[h]!);
    return out.sort((a, b) => this.ip[a]! - this.ip[b]! || this.port[a]! - this.port[b]!);
  }
}
