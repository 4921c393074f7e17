/**
 * Hashed timer wheel over items 0..capacity-1 (flow indices), one tick per millisecond of engine
 * clock, `slots` ticks per revolution (default 65,536 ≈ 65.5 s).
 *
 * Each item sits in at most one slot, on an intrusive doubly-linked list (next/prev arrays), so
 * filing and unfiling cost O(1). The wheel is told an item's due time once; later extensions of
 * the deadline are *not* reported: the owner re-files an item when its slot comes round and the
 * item turns out not to be due (lazy refresh, so the per-packet refresh is one store). Deadlines
 * beyond one revolution are filed at the far end of the wheel and re-filed when reached, which
 * costs a long-lived flow one visit per revolution.
 *
 * Invariant: every filed item's tick is at most tick + slots - 1, where `tick` is the cursor (the
 * earliest tick not fully processed), so a walk from the cursor meets every item no later than
 * its tick. Items are filed at or after the cursor, so an occupied slot names one absolute tick;
 * only after a cursor skip (see nextDue) can an item be overdue, and it is met in the same call.
 * A bitmap of occupied slots lets `nextDue` pass 32 empty ticks per word test: a call with nothing
 * due costs O(elapsed ms / 32), at most slots / 32 word tests.
 *
 * List encoding: prev[i] = -1 means "not filed"; a list head has prev[i] = -2 - slot, so an item
 * can be unfiled without storing its slot separately.
 */
export class TimerWheel {
  readonly mask: number;
  /** First item of each slot's list, -1 when empty. */
  readonly head: Int32Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Bit s set ⇔ slot s is non-empty. */
  readonly occupied: Uint32Array;
  /** Cursor: the earliest tick not yet fully processed. */
  tick = 0;
  /** Items filed. */
  count = 0;

  constructor(
    capacity: number,
    readonly slots = 65536,
  ) {
    if (slots < 64 || (slots & (slots - 1)) !== 0)
      throw new RangeError(`wheel slots must be a power of two ≥ 64: ${slots}`);
    this.mask = slots - 1;
    this.head = new Int32Array(slots).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
    this.prev = new Int32Array(capacity).fill(-1);
    this.occupied = new Uint32Array(slots >>> 5);
  }

  /**
   * Files item to be looked at once the clock reaches `due` (ms; fractions round up to the next
   * tick). Due times before the cursor are filed at the cursor, beyond one revolution at its end.
   */
  add(item: number, due: number): void {
    let t = Math.ceil(due);
    if (t < this.tick) t = this.tick;
    else if (t > this.tick + this.mask) t = this.tick + this.mask;
    const s = t & this.mask;
    const h = this.head[s]!;
    this.next[item] = h;
    this.prev[item] = -2 - s;
    if (h === -1) this.occupied[s >>> 5] |= 1 << (s & 31);
    else this.prev[h] = item;
    this.head[s] = item;
    this.count++;
  }

  /** Unfiles item; no-op if it is not filed. */
  remove(item: number): void {
    const p = this.prev[item]!;
    if (p === -1) return;
    const n = this.next[item]!;
    if (p < -1) {
      const s = -2 - p;
      this.head[s] = n;
      if (n === -1) this.occupied[s >>> 5] &= ~(1 << (s & 31));
      else this.prev[n] = p;
    } else {
      this.next[p] = n;
      if (n !== -1) this.prev[n] = p;
    }
    this.prev[item] = -1;
    this.next[item] = -1;
    this.count--;
  }

  isFiled(item: number): boolean {
    return this.prev[item] !== -1;
  }

  /**
   * The earliest occupied tick ≤ now, moving the cursor onto it; or -1 when none is due, with the
   * cursor moved up to floor(now). The cursor never passes floor(now), so an item filed later
   * with a due time ≤ now still lands on a tick that the next call for the same `now` examines.
   * A clock behind the cursor (replayed time stepping back) finds nothing.
   */
  nextDue(now: number): number {
    const last = Math.floor(now);
    if (last < this.tick) return -1;
    if (this.count === 0) {
      this.tick = last;
      return -1;
    }
    // More than a revolution behind (a replay clock jump, or no expire call for a while): every
    // slot is due, so skip the cursor to the last revolution. An item filed on an earlier tick is
    // then visited on a later one, still ≤ now; re-filing is relative to the new cursor, so a
    // long-lived flow costs at most two visits per call instead of one per elapsed revolution.
    if (last - this.tick > this.mask) this.tick = last - this.mask;
    const span = last - this.tick;
    const occupied = this.occupied;
    let s = this.tick & this.mask;
    let off = 0;
    while (off <= span) {
      const w = occupied[s >>> 5]! >>> (s & 31);
      if (w !== 0) {
        off += 31 - Math.clz32(w & -w);
        if (off > span) break;
        this.tick += off;
        return this.tick;
      }
      const step = 32 - (s & 31);
      off += step;
      s = (s + step) & this.mask;
    }
    // Nothing filed on ticks up to `last` (a full revolution would have hit, since count > 0).
    this.tick = last;
    return -1;
  }

  /** After the slot of tick t has been emptied: mark t done unless it is the current ms. */
  finished(t: number, now: number): void {
    if (t < Math.floor(now)) this.tick = t + 1;
  }

  /** Moves an empty wheel's cursor up to the clock, so new items file relative to now. */
  catchUp(now: number): void {
    if (this.count === 0 && now > this.tick) this.tick = Math.floor(now);
  }
}
