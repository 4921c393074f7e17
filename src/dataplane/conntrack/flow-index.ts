/**
 * Open-addressing hash index from a flow key to a handle (flow * 2 + direction).
 *
 * Every flow owns two entries, one per direction, so a packet of either direction finds its flow
 * with one probe sequence (netfilter likewise hashes each conntrack twice, orig and reply).
 *
 * Layout: one Int32Array of `slots` cells, each two int32 words [hash, handle + 1]; 0 in the
 * second word means empty. Storing the full 32-bit hash gives each entry's home slot without
 * rehashing the key and lets a probe skip key comparison on hash mismatch.
 *
 * Probing is linear with Robin Hood ordering: an entry farther from its home takes the place of
 * one nearer to its own, so along any run the distance-from-home grows by at most one per step.
 * A search can therefore stop as soon as it meets an entry nearer home than the search has
 * travelled (a miss costs about as much as a hit), and deletion shifts the following entries one
 * step back until an empty cell or an entry sitting at home ("backward-shift deletion"), which
 * leaves no tombstones: the index never degrades with churn and never needs rebuilding.
 */
export class FlowIndex {
  /** [hash, handle + 1] per slot. */
  readonly cells: Int32Array;
  readonly mask: number;
  /** Entries present (two per flow). */
  size = 0;
  /** Probes (cells examined) of the last find4(); for the table's statistics. */
  lastProbes = 0;

  /**
   * @param slots power of two, larger than the number of entries it will ever hold
   * @param keys the key store: the four key words of handle h are keys[4h .. 4h + 3]
   */
  constructor(
    readonly slots: number,
    private readonly keys: Int32Array,
  ) {
    if (slots < 2 || (slots & (slots - 1)) !== 0)
      throw new RangeError(`index slots must be a power of two: ${slots}`);
    this.cells = new Int32Array(slots * 2);
    this.mask = slots - 1;
  }

  /** Handle whose key is (w0, w1, w2, w3) with hash h, or -1. Key words are int32 (`x | 0`). */
  find4(h: number, w0: number, w1: number, w2: number, w3: number): number {
    const cells = this.cells;
    const keys = this.keys;
    const mask = this.mask;
    const hs = h | 0;
    let pos = h & mask;
    let dist = 0;
    for (;;) {
      const ref = cells[2 * pos + 1]!;
      if (ref === 0) break;
      const eh = cells[2 * pos]!;
      // Robin Hood: an entry closer to its home than we are to ours means our key is absent.
      if (((pos - eh) & mask) < dist) break;
      if (eh === hs) {
        const k = (ref - 1) * 4;
        if (keys[k] === w0 && keys[k + 1] === w1 && keys[k + 2] === w2 && keys[k + 3] === w3) {
          this.lastProbes = dist + 1;
          return ref - 1;
        }
      }
      pos = (pos + 1) & mask;
      dist++;
    }
    this.lastProbes = dist + 1;
    return -1;
  }

  /** Adds handle with hash h. The caller has checked the key is absent and the index not full. */
  place(h: number, handle: number): void {
    const cells = this.cells;
    const mask = this.mask;
    let eh = h | 0;
    let ref = handle + 1;
    let pos = h & mask;
    let dist = 0;
    for (;;) {
      const cur = cells[2 * pos + 1]!;
      if (cur === 0) {
        cells[2 * pos] = eh;
        cells[2 * pos + 1] = ref;
        this.size++;
        return;
      }
      const curH = cells[2 * pos]!;
      const curDist = (pos - curH) & mask;
      if (curDist < dist) {
        // Take the richer entry's cell and carry it on: it continues from its own distance.
        cells[2 * pos] = eh;
        cells[2 * pos + 1] = ref;
        eh = curH;
        ref = cur;
        dist = curDist;
      }
      pos = (pos + 1) & mask;
      dist++;
    }
  }

  /** Removes handle (stored with hash h); throws if it is not there (table corruption). */
  erase(h: number, handle: number): void {
    const cells = this.cells;
    const mask = this.mask;
    const ref = handle + 1;
    let pos = h & mask;
    while (cells[2 * pos + 1] !== ref) {
      if (cells[2 * pos + 1] === 0) throw new Error(`flow index: handle ${handle} not found`);
      pos = (pos + 1) & mask;
    }
    // Backward shift: pull each following entry one step towards its home.
    for (;;) {
      const next = (pos + 1) & mask;
      const nref = cells[2 * next + 1]!;
      if (nref === 0 || ((next - cells[2 * next]!) & mask) === 0) {
        cells[2 * pos] = 0;
        cells[2 * pos + 1] = 0;
        break;
      }
      cells[2 * pos] = cells[2 * next]!;
      cells[2 * pos + 1] = nref;
      pos = next;
    }
    this.size--;
  }

  /**
   * Checks the Robin Hood invariant over the whole index (for tests and a debug command):
   * returns '' or a description of the first violation. O(slots).
   */
  audit(): string {
    const cells = this.cells;
    const mask = this.mask;
    let n = 0;
    for (let pos = 0; pos < this.slots; pos++) {
      if (cells[2 * pos + 1] === 0) continue;
      n++;
      const dist = (pos - cells[2 * pos]!) & mask;
      const prev = (pos - 1) & mask;
      if (dist > 0) {
        if (cells[2 * prev + 1] === 0) return `slot ${pos}: displaced ${dist} after an empty slot`;
        const prevDist = (prev - cells[2 * prev]!) & mask;
        if (dist > prevDist + 1) return `slot ${pos}: distance ${dist} after ${prevDist}`;
      }
    }
    return n === this.size ? '' : `index holds ${n} entries, size says ${this.size}`;
  }
}
