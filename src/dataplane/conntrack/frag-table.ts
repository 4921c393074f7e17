/**
 * Fragment tracking without reassembly (VPP's "shallow virtual reassembly", what netfilter would
 * need without nf_defrag): RFC 4787 REQ-14 asks a NAT to pass in-order and out-of-order fragments,
 * yet only the first fragment (offset 0) carries the L4 header that conntrack and NAT key on
 * (RFC 791 §2.3). So the first fragment is classified as any packet and its outcome — the flow
 * handle, ct state and packet mark it ended with — is remembered here under the datagram's
 * identity (src, dst, protocol, IP id; RFC 791 §3.2's reassembly key), and every later fragment
 * of that datagram is given the same outcome instead of being classified itself.
 *
 * An entry's life:
 * - WAITING: a later fragment came before the first (out of order); it is held in the pool.
 * - PENDING: the first fragment is on its way through the chains (registered by conntrack-in,
 *   resolved by conntrack-confirm). Later fragments arriving meanwhile are held too.
 * - RESOLVED: the first fragment passed; later fragments take its outcome. The entry goes when
 *   every byte of the datagram has passed (the last fragment gives the length), or at its deadline.
 * - DROPPED: the first fragment did not survive the chains (a PENDING entry still pending between
 *   two engine runs); later fragments are dropped as it was, until a first fragment comes again.
 *
 * Bounded everything, nothing allocated after construction: `capacity` entries in typed arrays
 * behind a FlowIndex (Robin Hood open addressing, keyed HalfSipHash so a peer choosing IP ids
 * cannot aim them at one probe run); a fixed lifetime per entry (`timeoutMs` from its creation,
 * so creation order is expiry order: a FIFO, no timer wheel); held fragments in a preallocated
 * pool of `holdSlots` buffers with at most `holdBytes` bytes held in all, freed with their entry.
 */
import { FlowFifo } from './flow-fifo.js';
import { halfSipHash13x4, randomHashKey } from './flow-hash.js';
import { FlowIndex } from './flow-index.js';

export const FRAG_FREE = 0;
export const FRAG_WAITING = 1;
export const FRAG_PENDING = 2;
export const FRAG_RESOLVED = 3;
export const FRAG_DROPPED = 4;

/** Largest fragment the pool holds: what one slot of the originated batch can carry back. */
export const FRAG_HOLD_MAX_BYTES = 2048;

/** hold() results. */
export const HOLD_OK = 0;
export const HOLD_POOL_FULL = 1;
export const HOLD_TOO_BIG = 2;

export interface FragTableOptions {
  /** Pipeline slots (a registration waits per slot between conntrack-in and conntrack-confirm). */
  slots: number;
  /** Datagrams tracked at once (default 1024). */
  capacity?: number;
  /** Fragments held at once (default 64). */
  holdSlots?: number;
  /** Bytes held at once (default 64 KiB). */
  holdBytes?: number;
  /** Lifetime of an entry and of the fragments it holds, ms from its creation (default 3000). */
  timeoutMs?: number;
  hashKey?: [number, number];
}

/** Where held fragments go back into the pipeline: the stage they arrived at (`via`). */
export interface FragSink {
  /** Puts held fragment `p` back into the pipeline; false when there was no room. */
  release(table: FragTable, p: number): boolean;
}

export class FragTableStats {
  /** Entries created. */
  created = 0;
  /** First fragments that resolved an entry. */
  resolved = 0;
  /** Entries removed because the whole datagram had passed. */
  completed = 0;
  /** Entries removed at their deadline. */
  expired = 0;
  /** Entries whose first fragment did not survive the chains. */
  firstDropped = 0;
  /** Fragments held. */
  held = 0;
  /** Held fragments put back into the pipeline. */
  released = 0;
}

export class FragTable {
  readonly capacity: number;
  readonly holdSlots: number;
  readonly holdBytes: number;
  readonly timeoutMs: number;
  readonly stats = new FragTableStats();
  /** Per entry: src, dst, IP id, protocol (int32 words, FlowIndex's key layout). */
  readonly keys: Int32Array;
  readonly state: Uint8Array;
  /** Bumped when an entry is freed: a registration remembers it to detect reuse. */
  readonly gen: Uint32Array;
  readonly deadline: Float64Array;
  /** The first fragment's outcome: conntrack handle (-1 none), ct state, packet mark. */
  readonly handle: Int32Array;
  readonly ctState: Uint8Array;
  readonly mark: Uint32Array;
  /** Payload bytes that passed; datagram payload length once the last fragment was seen (-1 before). */
  readonly got: Int32Array;
  readonly total: Int32Array;
  /** Payload bytes of the registered first fragment (counted when it resolves). */
  readonly firstBytes: Int32Array;
  /** Held fragments of each entry, oldest first (pool slots, -1 none). */
  readonly heldHead: Int32Array;
  readonly heldTail: Int32Array;
  /** The pool: `holdSlots` buffers of FRAG_HOLD_MAX_BYTES, each an IP packet. */
  readonly pool: Uint8Array;
  readonly poolLen: Uint16Array;
  readonly poolInPort: Uint16Array;
  /** Egress and next hop when already routed (local output routes before conntrack-out), else NO_PORT / 0. */
  readonly poolOutPort: Uint16Array;
  readonly poolNextHop: Uint32Array;
  /** Index into `sinks` of the stage the fragment came through. */
  readonly poolVia: Uint8Array;
  readonly poolNext: Int32Array;
  /** Per pipeline slot: the entry its first fragment registered (-1 none) and that entry's gen. */
  readonly slotEntry: Int32Array;
  readonly slotGen: Uint32Array;
  /** Release targets by `via` (set by the stages). */
  readonly sinks: (FragSink | null)[] = [null, null];
  /** Entries in use, PENDING ones (conntrack-confirm looks for first fragments only while > 0), fragments held and their bytes. */
  count = 0;
  pending = 0;
  heldCount = 0;
  heldBytes = 0;

  private readonly hashes: Int32Array;
  private readonly index: FlowIndex;
  /** Live entries in creation order = deadline order. */
  private readonly fifo: FlowFifo;
  private readonly free: Int32Array;
  private freeTop: number;
  private readonly poolFree: Int32Array;
  private poolFreeTop: number;
  private readonly k0: number;
  private readonly k1: number;

  constructor(o: FragTableOptions) {
    const capacity = o.capacity ?? 1024;
    const holdSlots = o.holdSlots ?? 64;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`frag table capacity: ${capacity}`);
    if (!Number.isInteger(holdSlots) || holdSlots < 1) throw new RangeError(`frag hold slots: ${holdSlots}`);
    this.capacity = capacity;
    this.holdSlots = holdSlots;
    this.holdBytes = o.holdBytes ?? 65_536;
    this.timeoutMs = o.timeoutMs ?? 3000;
    const key = o.hashKey ?? randomHashKey();
    this.k0 = key[0] | 0;
    this.k1 = key[1] | 0;
    this.keys = new Int32Array(capacity * 4);
    this.hashes = new Int32Array(capacity);
    let cells = 2;
    while (cells <= 2 * capacity) cells *= 2;
    this.index = new FlowIndex(cells, this.keys);
    this.fifo = new FlowFifo(capacity);
    this.state = new Uint8Array(capacity);
    this.gen = new Uint32Array(capacity);
    this.deadline = new Float64Array(capacity);
    this.handle = new Int32Array(capacity);
    this.ctState = new Uint8Array(capacity);
    this.mark = new Uint32Array(capacity);
    this.got = new Int32Array(capacity);
    this.total = new Int32Array(capacity);
    this.firstBytes = new Int32Array(capacity);
    this.heldHead = new Int32Array(capacity).fill(-1);
    this.heldTail = new Int32Array(capacity).fill(-1);
    this.free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeTop = capacity;
    this.pool = new Uint8Array(holdSlots * FRAG_HOLD_MAX_BYTES);
    this.poolLen = new Uint16Array(holdSlots);
    this.poolInPort = new Uint16Array(holdSlots);
    this.poolOutPort = new Uint16Array(holdSlots);
    this.poolNextHop = new Uint32Array(holdSlots);
    this.poolVia = new Uint8Array(holdSlots);
    this.poolNext = new Int32Array(holdSlots).fill(-1);
    this.poolFree = new Int32Array(holdSlots);
    for (let i = 0; i < holdSlots; i++) this.poolFree[i] = holdSlots - 1 - i;
    this.poolFreeTop = holdSlots;
    this.slotEntry = new Int32Array(o.slots).fill(-1);
    this.slotGen = new Uint32Array(o.slots);
  }

  /** The entry of datagram (src, dst, proto, id), or -1. Addresses as int32 (`| 0`). */
  find(src: number, dst: number, proto: number, id: number): number {
    return this.index.find4(halfSipHash13x4(this.k0, this.k1, src, dst, id, proto), src, dst, id, proto);
  }

  /** A new entry in state `state` for a datagram find() did not know; -1 when the table is full. */
  create(src: number, dst: number, proto: number, id: number, state: number, nowMs: number): number {
    if (this.freeTop === 0) return -1;
    const e = this.free[--this.freeTop]!;
    const k = e * 4;
    this.keys[k] = src;
    this.keys[k + 1] = dst;
    this.keys[k + 2] = id;
    this.keys[k + 3] = proto;
    const h = halfSipHash13x4(this.k0, this.k1, src, dst, id, proto);
    this.hashes[e] = h;
    this.index.place(h, e);
    this.fifo.push(e);
    this.state[e] = state;
    if (state === FRAG_PENDING) this.pending++;
    this.deadline[e] = nowMs + this.timeoutMs;
    this.handle[e] = -1;
    this.ctState[e] = 0;
    this.mark[e] = 0;
    this.got[e] = 0;
    this.total[e] = -1;
    this.firstBytes[e] = 0;
    this.count++;
    this.stats.created++;
    return e;
  }

  /** Removes entry e; returns how many held fragments went with it. */
  remove(e: number): number {
    if (this.state[e] === FRAG_PENDING) this.pending--;
    const dropped = this.freeHeld(e);
    this.index.erase(this.hashes[e]!, e);
    this.fifo.remove(e);
    this.state[e] = FRAG_FREE;
    this.gen[e] = (this.gen[e]! + 1) >>> 0;
    this.free[this.freeTop++] = e;
    this.count--;
    return dropped;
  }

  /**
   * Copies the IP packet d[off, off + len) into the pool as a held fragment of entry e, to be put
   * back through sinks[via] with its arrival port, egress and next hop. HOLD_* result.
   */
  hold(
    e: number,
    d: Uint8Array,
    off: number,
    len: number,
    inPort: number,
    outPort: number,
    nextHop: number,
    via: number,
  ): number {
    if (len > FRAG_HOLD_MAX_BYTES) return HOLD_TOO_BIG;
    if (this.poolFreeTop === 0 || this.heldBytes + len > this.holdBytes) return HOLD_POOL_FULL;
    const p = this.poolFree[--this.poolFreeTop]!;
    const pool = this.pool;
    const at = p * FRAG_HOLD_MAX_BYTES;
    for (let i = 0; i < len; i++) pool[at + i] = d[off + i]!;
    this.poolLen[p] = len;
    this.poolInPort[p] = inPort;
    this.poolOutPort[p] = outPort;
    this.poolNextHop[p] = nextHop;
    this.poolVia[p] = via;
    this.poolNext[p] = -1;
    if (this.heldTail[e] === -1) this.heldHead[e] = p;
    else this.poolNext[this.heldTail[e]!] = p;
    this.heldTail[e] = p;
    this.heldCount++;
    this.heldBytes += len;
    this.stats.held++;
    return HOLD_OK;
  }

  /** Registers slot s's first fragment (payload `bytes`) for entry e (new, WAITING or DROPPED → PENDING). */
  register(s: number, e: number, bytes: number): void {
    if (this.state[e] !== FRAG_PENDING) this.pending++;
    this.state[e] = FRAG_PENDING;
    this.firstBytes[e] = bytes;
    this.slotEntry[s] = e;
    this.slotGen[s] = this.gen[e]!;
  }

  /**
   * The entry slot s registered, if it is still pending and still this datagram's (`id`, `proto`
   * of the packet in the slot; addresses may have been translated since); else -1.
   */
  registered(s: number, id: number, proto: number): number {
    const e = this.slotEntry[s]!;
    this.slotEntry[s] = -1;
    if (e < 0 || this.slotGen[s] !== this.gen[e] || this.state[e] !== FRAG_PENDING) return -1;
    return this.keys[e * 4 + 2] === id && this.keys[e * 4 + 3] === proto ? e : -1;
  }

  /**
   * The first fragment of entry e passed with conntrack handle `handle`, ct state and mark: later
   * fragments take them; held ones go back through their sinks. Returns how many held fragments
   * could not be put back (no room in the originated batch): they are dropped.
   */
  resolve(e: number, handle: number, ctState: number, mark: number): number {
    this.pending--;
    this.state[e] = FRAG_RESOLVED;
    this.handle[e] = handle;
    this.ctState[e] = ctState;
    this.mark[e] = mark >>> 0;
    this.stats.resolved++;
    let lost = 0;
    for (let p = this.heldHead[e]!; p !== -1; ) {
      const next = this.poolNext[p]!;
      const sink = this.sinks[this.poolVia[p]!];
      if (sink?.release(this, p)) this.stats.released++;
      else lost++;
      this.freeSlot(p);
      p = next;
    }
    this.heldHead[e] = -1;
    this.heldTail[e] = -1;
    // The first fragment's bytes count once it is known to have passed.
    this.passed(e, 0, this.firstBytes[e]!, true);
    return lost;
  }

  /**
   * Records that `bytes` of payload at fragment offset `off8` (8-byte units) passed for entry e;
   * `more` is the MF flag. When the whole datagram has passed, the entry goes (returns true).
   * Duplicates count twice and may end an entry early: a fragment after that finds no entry, is
   * held and times out — state stays consistent, the duplicate's datagram may lose a fragment.
   */
  passed(e: number, off8: number, bytes: number, more: boolean): boolean {
    if (!more) this.total[e] = off8 * 8 + bytes;
    this.got[e] = this.got[e]! + bytes;
    if (this.state[e] !== FRAG_RESOLVED || this.total[e]! < 0 || this.got[e]! < this.total[e]!) return false;
    this.remove(e);
    this.stats.completed++;
    return true;
  }

  /** Removes entries whose deadline has come; returns how many held fragments went with them. */
  expire(nowMs: number): number {
    let dropped = 0;
    for (let e = this.fifo.head; e !== -1 && this.deadline[e]! <= nowMs; e = this.fifo.head) {
      dropped += this.remove(e);
      this.stats.expired++;
    }
    return dropped;
  }

  /**
   * Between engine runs no first fragment is on its way: a PENDING entry's first fragment was
   * dropped (by a chain, routing, a full table…). Marks those DROPPED and frees what they held;
   * returns how many held fragments that dropped. O(entries), called once per engine tick.
   */
  sweepPending(): number {
    let dropped = 0;
    for (let e = this.fifo.head; e !== -1; e = this.fifo.next[e]!) {
      if (this.state[e] !== FRAG_PENDING) continue;
      this.state[e] = FRAG_DROPPED;
      this.pending--;
      this.stats.firstDropped++;
      dropped += this.freeHeld(e);
    }
    return dropped;
  }

  /** Start of held fragment p in `pool`. */
  poolOffset(p: number): number {
    return p * FRAG_HOLD_MAX_BYTES;
  }

  /** Consistency check for tests: index, FIFO, free lists and byte counts agree. '' when sound. */
  audit(): string {
    const why = this.index.audit();
    if (why) return why;
    if (this.index.size !== this.count || this.fifo.count !== this.count) return 'entry counts disagree';
    if (this.freeTop + this.count !== this.capacity) return 'free list and entries disagree';
    let held = 0;
    let bytes = 0;
    let pending = 0;
    for (let e = this.fifo.head; e !== -1; e = this.fifo.next[e]!) {
      if (this.state[e] === FRAG_FREE) return `entry ${e} is listed but free`;
      if (this.state[e] === FRAG_PENDING) pending++;
      const k = e * 4;
      if (this.find(this.keys[k]!, this.keys[k + 1]!, this.keys[k + 3]!, this.keys[k + 2]!) !== e)
        return `entry ${e} is not found by its key`;
      for (let p = this.heldHead[e]!; p !== -1; p = this.poolNext[p]!) {
        held++;
        bytes += this.poolLen[p]!;
      }
    }
    if (held !== this.heldCount || bytes !== this.heldBytes) return 'held fragments disagree';
    if (pending !== this.pending) return 'pending count disagrees';
    if (this.poolFreeTop + held !== this.holdSlots) return 'pool free list and held fragments disagree';
    return '';
  }

  private freeHeld(e: number): number {
    let n = 0;
    for (let p = this.heldHead[e]!; p !== -1; ) {
      const next = this.poolNext[p]!;
      this.freeSlot(p);
      p = next;
      n++;
    }
    this.heldHead[e] = -1;
    this.heldTail[e] = -1;
    return n;
  }

  private freeSlot(p: number): void {
    this.heldCount--;
    this.heldBytes -= this.poolLen[p]!;
    this.poolNext[p] = -1;
    this.poolFree[this.poolFreeTop++] = p;
  }
}
