/**
 * The connection-tracking table for IPv4: flows in preallocated typed arrays (one array per field,
 * indexed by flow), both directions hashed into one Robin Hood index, deadlines on a timer wheel,
 * unassured flows on a FIFO for early drop. Nothing here allocates after construction.
 *
 * Clock: `now` is engine time in milliseconds (integers give exact expiry; wall clock live, packet
 * timestamps in replay). Timeouts are given in seconds and stored as absolute ms deadlines.
 * A flow is expired when `now >= deadline` (netfilter `nf_ct_is_expired`: timeout - now <= 0).
 *
 * The per-flow layout and its byte count are documented in README.md beside this file.
 */
import { FlowFifo } from './flow-fifo.js';
import { halfSipHash13x4, randomHashKey } from './flow-hash.js';
import { FlowIndex } from './flow-index.js';
import {
  CT_ASSURED,
  CT_IN_USE,
  CT_STATUS_MASK,
  NAT_CSUM,
  NAT_DIR_WORDS,
  NAT_DST,
  NAT_PORTS,
  NAT_SRC,
  NAT_WORDS,
  PROTO_WORDS,
} from './flow-layout.js';
import { FlowTableStats } from './flow-table-stats.js';
import { TimerWheel } from './timer-wheel.js';

export interface FlowTableOptions {
  /** Maximum number of flows (default 262,144, netfilter's largest default bucket count). */
  capacity?: number;
  /**
   * Index cells, a power of two > 2 × capacity. Default: the smallest keeping the load at most
   * 0.75 with the table full (exactly 0.5 for a power-of-two capacity).
   */
  indexSlots?: number;
  /** Timer-wheel slots of 1 ms, a power of two ≥ 64 (default 65,536). */
  wheelSlots?: number;
  /** Unassured flows examined by one early drop (default 8, netfilter's NF_CT_EVICTION_RANGE). */
  evictionScan?: number;
  /** 64-bit hash key as two u32 (default: random per table, as netfilter's nf_conntrack_hash_rnd). */
  hashKey?: readonly [number, number];
}

/**
 * Told about every flow the table removes (expiry, early drop, `remove()`), before its fields are
 * cleared, so the owner of per-flow resources (NAT port mappings) can release them. One object
 * set once: no closure per call.
 */
export interface FlowRemoveListener {
  flowRemoved(flow: number): void;
}

/** insert(): the table is full and no flow could be evicted. */
export const INSERT_FULL = -1;
/** insert(): the original or reply key already belongs to a flow. */
export const INSERT_CLASH = -2;

/** Largest capacity accepted (64 Mi flows ≈ 16 GB); keeps the index within typed-array limits. */
const MAX_CAPACITY = 1 << 26;

/** Highest index load (two entries per flow) the default index size allows at full capacity. */
const MAX_DEFAULT_LOAD = 0.75;

/** log2 of the recent-flow cache's slots at most (4096 slots, 16 KiB: stays in L1/L2). */
const MICRO_BITS = 12;

/** Slot of the recent-flow cache for a key: a multiplicative mix (fast, unkeyed; see `micro`). */
function microSlot(w0: number, w1: number, w2: number, w3: number, shift: number): number {
  const h = Math.imul(w0 ^ Math.imul(w1, 0x27d4eb2d) ^ Math.imul(w2 ^ (w3 << 7), 0x165667b1), 0x9e3779b1);
  return h >>> shift;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class FlowTable {
  readonly capacity: number;
  /** Live flows. */
  count = 0;
  readonly stats = new FlowTableStats();
  /** Notified before a flow is unlinked (see FlowRemoveListener); null when nobody listens. */
  removeListener: FlowRemoveListener | null = null;

  /** Protocol tracker state, PROTO_WORDS u32 per flow (offsets in flow-layout.ts). */
  readonly protoState: Uint32Array;
  /** NAT rewrite per direction, NAT_WORDS u32 per flow (offsets in flow-layout.ts). */
  readonly nat: Uint32Array;

  /** Key words per handle: keys[4h .. 4h+3] = src, dst, ports, proto/zone (8 words per flow). */
  private readonly keys: Int32Array;
  /** Hash of each handle's key (so removal need not rehash). */
  private readonly hashes: Int32Array;
  private readonly state: Uint8Array;
  private readonly status: Uint8Array;
  private readonly marks: Uint32Array;
  private readonly ctMarks: Uint32Array;
  private readonly deadlines: Float64Array;
  private readonly lastSeens: Float64Array;
  /** Per handle: [packets, bytes] at 2h, 2h+1. */
  private readonly counters: Float64Array;
  /** Stack of free flow indices; freeTop entries are valid. */
  private readonly free: Int32Array;
  private freeTop: number;

  private readonly index: FlowIndex;
  private readonly wheel: TimerWheel;
  private readonly unassured: FlowFifo;
  private readonly evictionScan: number;
  private readonly k0: number;
  private readonly k1: number;
  /**
   * Recent-flow cache (the exact-match cache in front of Open vSwitch's classifier): handle + 1 of
   * a flow found recently, per slot of an unkeyed hash of the key, 0 when empty. It holds hints
   * only: `lookup` trusts a slot after comparing the flow's stored key and live bit, so an entry
   * left by a removed or reused flow is a miss, and a peer aiming keys at one slot (the hash is
   * public) only sends lookups on to the keyed index.
   */
  private readonly micro: Int32Array;
  private readonly microShift: number;

  constructor(options: FlowTableOptions = {}) {
    const capacity = options.capacity ?? 262_144;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new RangeError(`flow table capacity must be 1..${MAX_CAPACITY}: ${capacity}`);
    }
    const indexSlots = options.indexSlots ?? nextPow2(Math.ceil((2 * capacity) / MAX_DEFAULT_LOAD));
    if (indexSlots <= 2 * capacity) {
      throw new RangeError(`index slots (${indexSlots}) must exceed twice the capacity (${capacity})`);
    }
    const evictionScan = options.evictionScan ?? 8;
    if (!Number.isInteger(evictionScan) || evictionScan < 1) {
      throw new RangeError(`evictionScan must be a positive integer: ${evictionScan}`);
    }
    this.capacity = capacity;
    this.evictionScan = evictionScan;
    const key = options.hashKey ?? randomHashKey();
    this.k0 = key[0] | 0;
    this.k1 = key[1] | 0;

    this.keys = new Int32Array(capacity * 8);
    this.hashes = new Int32Array(capacity * 2);
    this.state = new Uint8Array(capacity);
    this.status = new Uint8Array(capacity);
    this.marks = new Uint32Array(capacity);
    this.ctMarks = new Uint32Array(capacity);
    this.deadlines = new Float64Array(capacity);
    this.lastSeens = new Float64Array(capacity);
    this.counters = new Float64Array(capacity * 4);
    this.protoState = new Uint32Array(capacity * PROTO_WORDS);
    this.nat = new Uint32Array(capacity * NAT_WORDS);
    this.free = new Int32Array(capacity);
    // Hand out low indices first, so a lightly used table iterates compactly.
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeTop = capacity;

    this.index = new FlowIndex(indexSlots, this.keys);
    const microBits = Math.min(MICRO_BITS, Math.max(4, Math.ceil(Math.log2(2 * capacity))));
    this.micro = new Int32Array(1 << microBits);
    this.microShift = 32 - microBits;
    this.wheel = new TimerWheel(capacity, options.wheelSlots);
    this.unassured = new FlowFifo(capacity);
  }

  // ---- lookup / insert / remove ------------------------------------------------------------

  /**
   * Handle (flow * 2 + direction) of the flow one of whose keys is this tuple, or -1.
   * Does not look at time: a flow past its deadline that `expire()` has not reaped yet is still
   * found; check `isExpired()` where that matters (netfilter treats such an entry as gone).
   */
  lookup(src: number, dst: number, sport: number, dport: number, proto: number, zone = 0): number {
    // Key words are kept as int32, not uint32: a 192.168.x.x address above 2^31 would otherwise
    // be a heap number wherever V8 does not inline (one allocation per packet).
    const w0 = src | 0;
    const w1 = dst | 0;
    const w2 = (sport << 16) | (dport & 0xffff);
    const w3 = ((proto & 0xff) << 16) | (zone & 0xffff);
    const stats = this.stats;
    // The recent-flow cache first: a hit is checked against the flow's own key, so it is exact.
    const c = microSlot(w0, w1, w2, w3, this.microShift);
    const cached = this.micro[c]! - 1;
    if (cached >= 0 && this.holdsKey(cached, w0, w1, w2, w3)) {
      stats.searches++;
      stats.found++;
      stats.cacheHits++;
      return cached;
    }
    return this.search(w0, w1, w2, w3, c);
  }

  /**
   * `lookup` answered by the recent-flow cache alone: the handle when the cache holds this key's
   * flow (counted as a search that found it), else -1 at once, without searching the index and
   * without counting (the caller falls back to `lookup`). For a stage's established-flow path.
   */
  lookupCached(src: number, dst: number, sport: number, dport: number, proto: number, zone = 0): number {
    const w0 = src | 0;
    const w1 = dst | 0;
    const w2 = (sport << 16) | (dport & 0xffff);
    const w3 = ((proto & 0xff) << 16) | (zone & 0xffff);
    const cached = this.micro[microSlot(w0, w1, w2, w3, this.microShift)]! - 1;
    if (cached < 0 || !this.holdsKey(cached, w0, w1, w2, w3)) return -1;
    const stats = this.stats;
    stats.searches++;
    stats.found++;
    stats.cacheHits++;
    return cached;
  }

  /** `lookup` past the recent-flow cache: the keyed hash and the index; a flow found is cached in slot c. */
  private search(w0: number, w1: number, w2: number, w3: number, c: number): number {
    const stats = this.stats;
    const h = halfSipHash13x4(this.k0, this.k1, w0, w1, w2, w3);
    const handle = this.index.find4(h, w0, w1, w2, w3);
    if (handle >= 0) this.micro[c] = handle + 1;
    const probes = this.index.lastProbes;
    stats.searches++;
    stats.probes += probes;
    if (probes > stats.maxProbe) stats.maxProbe = probes;
    if (handle >= 0) stats.found++;
    return handle;
  }

  /** True when handle's flow is live and handle's key is exactly (w0, w1, w2, w3). */
  private holdsKey(handle: number, w0: number, w1: number, w2: number, w3: number): boolean {
    const k = handle * 4;
    const keys = this.keys;
    return (
      keys[k] === w0 &&
      keys[k + 1] === w1 &&
      keys[k + 2] === w2 &&
      keys[k + 3] === w3 &&
      (this.status[handle >>> 1]! & CT_IN_USE) !== 0
    );
  }

  /**
   * Creates a flow from its original tuple and its reply tuple (the inverse of the original
   * after NAT; the caller computes it) with deadline now + timeout seconds. Both keys share the
   * protocol and zone. Returns the flow index; INSERT_CLASH if either key is taken or the two keys
   * are equal; INSERT_FULL if the table is full and neither a due flow nor an unassured flow
   * could be removed to make room. A new flow is unassured, in state 0, with zeroed fields.
   */
  insert(
    src: number,
    dst: number,
    sport: number,
    dport: number,
    proto: number,
    replySrc: number,
    replyDst: number,
    replySport: number,
    replyDport: number,
    now: number,
    timeoutSecs: number,
    zone = 0,
  ): number {
    const o0 = src | 0;
    const o1 = dst | 0;
    const o2 = (sport << 16) | (dport & 0xffff);
    const w3 = ((proto & 0xff) << 16) | (zone & 0xffff);
    const r0 = replySrc | 0;
    const r1 = replyDst | 0;
    const r2 = (replySport << 16) | (replyDport & 0xffff);
    const ho = halfSipHash13x4(this.k0, this.k1, o0, o1, o2, w3);
    const hr = halfSipHash13x4(this.k0, this.k1, r0, r1, r2, w3);
    // Both keys must be free, as netfilter's confirm step refuses a clash in either direction.
    // A reply key equal to the original (src = dst and sport = dport: a LAND packet) is refused
    // too: its two directions could not be told apart.
    if (
      (o0 === r0 && o1 === r1 && o2 === r2) ||
      this.index.find4(ho, o0, o1, o2, w3) >= 0 ||
      this.index.find4(hr, r0, r1, r2, w3) >= 0
    ) {
      this.stats.clashes++;
      return INSERT_CLASH;
    }
    if (this.count === this.capacity && !this.makeRoom(now)) {
      this.stats.insertFailed++;
      return INSERT_FULL;
    }

    const f = this.free[--this.freeTop]!;
    const k = f * 8;
    const keys = this.keys;
    keys[k] = o0;
    keys[k + 1] = o1;
    keys[k + 2] = o2;
    keys[k + 3] = w3;
    keys[k + 4] = r0;
    keys[k + 5] = r1;
    keys[k + 6] = r2;
    keys[k + 7] = w3;
    this.hashes[2 * f] = ho;
    this.hashes[2 * f + 1] = hr;
    this.index.place(ho, 2 * f);
    this.index.place(hr, 2 * f + 1);

    this.state[f] = 0;
    this.status[f] = CT_IN_USE;
    this.marks[f] = 0;
    this.ctMarks[f] = 0;
    this.lastSeens[f] = now;
    const deadline = now + Math.round(timeoutSecs * 1000);
    this.deadlines[f] = deadline;
    const c = f * 4;
    this.counters[c] = 0;
    this.counters[c + 1] = 0;
    this.counters[c + 2] = 0;
    this.counters[c + 3] = 0;
    const p = f * PROTO_WORDS;
    for (let i = 0; i < PROTO_WORDS; i++) this.protoState[p + i] = 0;
    const n = f * NAT_WORDS;
    for (let i = 0; i < NAT_WORDS; i++) this.nat[n + i] = 0;

    this.wheel.catchUp(now);
    this.wheel.add(f, deadline);
    this.unassured.push(f);
    this.count++;
    this.stats.inserts++;
    return f;
  }

  /** Removes a live flow (the caller's decision; counted in stats.deletes). */
  remove(flow: number): void {
    if (!this.isLive(flow)) throw new RangeError(`flow ${flow} is not live`);
    this.unlink(flow);
    this.stats.deletes++;
  }

  // ---- time -------------------------------------------------------------------------------

  /**
   * Sets the flow's deadline to now + secs. An extension is one store: the wheel notices it when
   * the old deadline comes round (lazy refresh). Only a shortened deadline re-files the flow.
   */
  setTimeout(flow: number, now: number, secs: number): void {
    const deadline = now + Math.round(secs * 1000);
    const old = this.deadlines[flow]!;
    this.deadlines[flow] = deadline;
    if (deadline < old && (this.status[flow]! & CT_IN_USE) !== 0) {
      this.wheel.remove(flow);
      this.wheel.add(flow, deadline);
    }
  }

  /** True when the flow's deadline has been reached (`now >= deadline`). */
  isExpired(flow: number, now: number): boolean {
    return this.deadlines[flow]! <= now;
  }

  /**
   * Removes up to `budget` flows whose deadline is ≤ now, oldest wheel tick first, and returns how
   * many it removed. `budget` bounds the flows visited (removed, or re-filed because their
   * deadline was extended since they were filed), so a call's cost is bounded even when nothing
   * is due; a call with nothing due costs O(1) plus one bitmap word per 32 ms elapsed.
   */
  expire(now: number, budget: number): number {
    const wheel = this.wheel;
    const deadlines = this.deadlines;
    let visits = 0;
    let removed = 0;
    while (visits < budget) {
      const t = wheel.nextDue(now);
      if (t < 0) break;
      const s = t & wheel.mask;
      let f = wheel.head[s]!;
      while (f !== -1 && visits < budget) {
        const next = wheel.next[f]!;
        const d = deadlines[f]!;
        if (d <= now) {
          this.unlink(f);
          removed++;
        } else {
          // Extended since filing: file it again at its current deadline (always a later tick).
          wheel.remove(f);
          wheel.add(f, d);
        }
        visits++;
        f = next;
      }
      if (f !== -1) break;
      wheel.finished(t, now);
    }
    this.stats.expired += removed;
    return removed;
  }

  // ---- when full --------------------------------------------------------------------------

  /** Frees one flow for an insert into a full table: a due flow first, else an early drop. */
  private makeRoom(now: number): boolean {
    if (this.expire(now, this.evictionScan) > 0) return true;
    return this.earlyDrop();
  }

  /**
   * Evicts the least recently seen of the `evictionScan` oldest unassured flows.
   * netfilter's early_drop scans NF_CT_EVICTION_RANGE (8) hash buckets near the new tuple and
   * deletes non-assured entries there; a FIFO of unassured flows finds a victim whenever one
   * exists anywhere in the table, at the same bounded cost. Assured flows are never evicted.
   */
  private earlyDrop(): boolean {
    const fifo = this.unassured;
    let f = fifo.head;
    let victim = -1;
    let oldest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.evictionScan && f !== -1; i++) {
      const seen = this.lastSeens[f]!;
      if (seen < oldest) {
        oldest = seen;
        victim = f;
      }
      f = fifo.next[f]!;
    }
    if (victim < 0) return false;
    this.unlink(victim);
    this.stats.earlyDrops++;
    return true;
  }

  private unlink(f: number): void {
    if (this.removeListener !== null) this.removeListener.flowRemoved(f);
    this.index.erase(this.hashes[2 * f]!, 2 * f);
    this.index.erase(this.hashes[2 * f + 1]!, 2 * f + 1);
    this.wheel.remove(f);
    this.unassured.remove(f);
    this.status[f] = 0;
    this.free[this.freeTop++] = f;
    this.count--;
  }

  // ---- iteration --------------------------------------------------------------------------

  /** The next live flow index after `flow` (start with -1), or -1 at the end. O(capacity) per sweep. */
  nextFlow(flow: number): number {
    const status = this.status;
    for (let f = flow + 1; f < this.capacity; f++) {
      if (status[f]! & CT_IN_USE) return f;
    }
    return -1;
  }

  isLive(flow: number): boolean {
    return flow >= 0 && flow < this.capacity && (this.status[flow]! & CT_IN_USE) !== 0;
  }

  // ---- per-direction key and counters (by handle) -------------------------------------------

  src(handle: number): number {
    return this.keys[handle * 4]! >>> 0;
  }

  dst(handle: number): number {
    return this.keys[handle * 4 + 1]! >>> 0;
  }

  sport(handle: number): number {
    return this.keys[handle * 4 + 2]! >>> 16;
  }

  dport(handle: number): number {
    return this.keys[handle * 4 + 2]! & 0xffff;
  }

  proto(flow: number): number {
    return (this.keys[flow * 8 + 3]! >>> 16) & 0xff;
  }

  zone(flow: number): number {
    return this.keys[flow * 8 + 3]! & 0xffff;
  }

  packets(handle: number): number {
    return this.counters[handle * 2]!;
  }

  bytes(handle: number): number {
    return this.counters[handle * 2 + 1]!;
  }

  /** Counts one packet of `bytes` in the handle's direction and records when the flow was seen. */
  account(handle: number, bytes: number, now: number): void {
    const c = handle * 2;
    this.counters[c]++;
    this.counters[c + 1] += bytes;
    this.lastSeens[handle >>> 1] = now;
  }

  // ---- per-flow fields ----------------------------------------------------------------------

  getState(flow: number): number {
    return this.state[flow]!;
  }

  setState(flow: number, value: number): void {
    this.state[flow] = value;
  }

  /** Status bits (CT_* in flow-layout.ts). */
  getStatus(flow: number): number {
    return this.status[flow]! & CT_STATUS_MASK;
  }

  hasStatus(flow: number, bits: number): boolean {
    return (this.status[flow]! & bits) !== 0;
  }

  /** Sets status bits. Setting CT_ASSURED takes the flow off the early-drop list. */
  setStatusBits(flow: number, bits: number): void {
    const old = this.status[flow]!;
    const now = old | (bits & CT_STATUS_MASK);
    this.status[flow] = now;
    if (now & ~old & CT_ASSURED) this.unassured.remove(flow);
  }

  /** Clears status bits. Clearing CT_ASSURED makes the flow evictable again (youngest first). */
  clearStatusBits(flow: number, bits: number): void {
    const old = this.status[flow]!;
    const now = old & ~(bits & CT_STATUS_MASK);
    this.status[flow] = now;
    if (old & ~now & CT_ASSURED && old & CT_IN_USE) this.unassured.push(flow);
  }

  getMark(flow: number): number {
    return this.marks[flow]!;
  }

  setMark(flow: number, mark: number): void {
    this.marks[flow] = mark;
  }

  getCtMark(flow: number): number {
    return this.ctMarks[flow]!;
  }

  setCtMark(flow: number, mark: number): void {
    this.ctMarks[flow] = mark;
  }

  deadline(flow: number): number {
    return this.deadlines[flow]!;
  }

  lastSeen(flow: number): number {
    return this.lastSeens[flow]!;
  }

  protoWord(flow: number, word: number): number {
    return this.protoState[flow * PROTO_WORDS + word]!;
  }

  setProtoWord(flow: number, word: number, value: number): void {
    this.protoState[flow * PROTO_WORDS + word] = value;
  }

  // ---- NAT rewrite (by handle: what a packet of that direction becomes) ---------------------

  setNat(handle: number, src: number, dst: number, sport: number, dport: number, csum: number): void {
    const n = handle * NAT_DIR_WORDS;
    this.nat[n + NAT_SRC] = src;
    this.nat[n + NAT_DST] = dst;
    this.nat[n + NAT_PORTS] = (sport << 16) | (dport & 0xffff);
    this.nat[n + NAT_CSUM] = csum;
  }

  natSrc(handle: number): number {
    return this.nat[handle * NAT_DIR_WORDS + NAT_SRC]!;
  }

  natDst(handle: number): number {
    return this.nat[handle * NAT_DIR_WORDS + NAT_DST]!;
  }

  natSport(handle: number): number {
    return this.nat[handle * NAT_DIR_WORDS + NAT_PORTS]! >>> 16;
  }

  natDport(handle: number): number {
    return this.nat[handle * NAT_DIR_WORDS + NAT_PORTS]! & 0xffff;
  }

  natCsum(handle: number): number {
    return this.nat[handle * NAT_DIR_WORDS + NAT_CSUM]!;
  }

  // ---- introspection ----------------------------------------------------------------------

  /** Bytes of typed-array storage the table owns (fixed at construction). */
  get storageBytes(): number {
    let n = 0;
    for (const a of [
      this.keys,
      this.hashes,
      this.state,
      this.status,
      this.marks,
      this.ctMarks,
      this.deadlines,
      this.lastSeens,
      this.counters,
      this.protoState,
      this.nat,
      this.free,
      this.index.cells,
      this.wheel.head,
      this.wheel.next,
      this.wheel.prev,
      this.wheel.occupied,
      this.unassured.next,
      this.unassured.prev,
    ]) {
      n += a.byteLength;
    }
    return n;
  }

  /** Flows waiting on the timer wheel (equals count) and unassured flows (early-drop candidates). */
  get unassuredCount(): number {
    return this.unassured.count;
  }

  /**
   * Cross-checks every structure (index, wheel, early-drop list, free stack) against the flow
   * arrays; returns '' or the first inconsistency. O(capacity + index slots): tests and debugging.
   */
  audit(): string {
    const bad = this.index.audit();
    if (bad) return bad;
    if (this.index.size !== 2 * this.count)
      return `index holds ${this.index.size} entries for ${this.count} flows`;
    if (this.wheel.count !== this.count) return `wheel holds ${this.wheel.count} flows, table ${this.count}`;
    if (this.freeTop + this.count !== this.capacity) return `free stack ${this.freeTop} + live ${this.count}`;
    let live = 0;
    let unassured = 0;
    for (let f = 0; f < this.capacity; f++) {
      if (!(this.status[f]! & CT_IN_USE)) continue;
      live++;
      for (let h = 2 * f; h <= 2 * f + 1; h++) {
        const k = h * 4;
        const w = this.keys;
        const hash = halfSipHash13x4(this.k0, this.k1, w[k]!, w[k + 1]!, w[k + 2]!, w[k + 3]!);
        if ((hash | 0) !== this.hashes[h]) return `handle ${h}: stored hash is stale`;
        const found = this.index.find4(hash, w[k]!, w[k + 1]!, w[k + 2]!, w[k + 3]!);
        if (found !== h) return `handle ${h}: lookup gives ${found}`;
      }
      if (!this.wheel.isFiled(f)) return `flow ${f} is not on the timer wheel`;
      const assured = (this.status[f]! & CT_ASSURED) !== 0;
      if (assured === this.unassured.has(f)) return `flow ${f}: early-drop list membership wrong`;
      if (!assured) unassured++;
    }
    if (live !== this.count) return `${live} live flows, count says ${this.count}`;
    if (unassured !== this.unassured.count)
      return `early-drop list holds ${this.unassured.count}, expected ${unassured}`;
    return '';
  }
}
