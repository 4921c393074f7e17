/**
 * IPv6 longest-prefix match: a 65,536-slot first level on the top 16 bits, then one
 * path-compressed binary (Patricia) trie per /16, all in typed arrays.
 *
 * IPv6 tables are sparse in 128 bits, so a multibit trie would spend most of its memory on
 * near-empty levels; a single binary trie would be ~log2(n) dependent loads deep (17 for 100k
 * routes). The first level removes the top of that depth with one load: prefixes up to /16 are
 * leaf-pushed into the slots they cover (as in Lpm4's root), longer ones live in the trie of
 * their /16. In a trie every node is a prefix (a route, or a "glue" node where two subtrees
 * part), nodes with one child and no route are never kept, and a node stores its full key: a
 * lookup walks down by the bit just past each node's length and checks the node's bits with
 * word compares, remembering the last route that matched. Nothing is allocated per lookup;
 * addresses are four big-endian u32 words.
 *
 * Tables of up to SMALL prefixes are also kept as a short list, longest first, that lookups
 * scan instead (as in Lpm4): no misses in the 65,536-slot first level for the local table or a
 * table with one default route.
 *
 * Nodes are 8-word records in one Int32Array (32 bytes: one cache line serves a whole visit,
 * which is what a lookup's pointer chase pays for): key (4 words, bits past len zero), len,
 * value (-1 = glue), child[2]. Parent links, used by deletes only, are a separate array.
 * Freed nodes are reused.
 */

/** Record layout: word offsets within a node. */
const LEN = 4;
const VAL = 5;
const CHILD = 6;
const STRIDE = 8;

const ROOT_SLOTS = 1 << 16;
/** Tables with at most this many prefixes are looked up by a linear scan. */
const SMALL = 8;

export class Lpm6 {
  private nodes: Int32Array;
  private parent: Int32Array;
  /** First level: leaf of the longest prefix up to /16 (value + 1, 0 = none), its length, and the /16's trie. */
  private readonly rootLeaf = new Int32Array(ROOT_SLOTS);
  private readonly rootLen = new Uint8Array(ROOT_SLOTS);
  private readonly rootNode = new Int32Array(ROOT_SLOTS).fill(-1);
  /** Prefixes up to /16: key top16 * 32 + len → value. */
  private readonly short = new Map<number, number>();
  private top = 0;
  private readonly free: number[] = [];
  private count = 0;
  /** The small-table list: 4 masked words, 4 mask words and a value per prefix; smallN = -1 when unused. */
  private readonly smallKey = new Int32Array(SMALL * 4);
  private readonly smallMask = new Int32Array(SMALL * 4);
  private readonly smallVal = new Int32Array(SMALL);
  private smallN = 0;
  /** Scratch for control-plane calls that take byte addresses. */
  private readonly words = new Uint32Array(4);

  constructor(initialNodes = 64) {
    this.nodes = new Int32Array(initialNodes * STRIDE);
    this.parent = new Int32Array(initialNodes);
  }

  get size(): number {
    return this.count + this.short.size;
  }

  /** Nodes in use (routes plus glue). */
  get nodeCount(): number {
    return this.top - this.free.length;
  }

  get bytes(): number {
    return (
      this.nodes.byteLength +
      this.parent.byteLength +
      this.rootLeaf.byteLength +
      this.rootLen.byteLength +
      this.rootNode.byteLength
    );
  }

  /** Value of the longest prefix containing the address in `q` (4 words), or -1. Allocation-free. */
  lookup(q: Uint32Array): number {
    const sn = this.smallN;
    if (sn >= 0) {
      const k = this.smallKey;
      const m = this.smallMask;
      for (let i = 0; i < sn; i++) {
        const o = i << 2;
        if (
          (q[0]! & m[o]!) === k[o] &&
          (q[1]! & m[o + 1]!) === k[o + 1] &&
          (q[2]! & m[o + 2]!) === k[o + 2] &&
          (q[3]! & m[o + 3]!) === k[o + 3]
        ) {
          return this.smallVal[i]!;
        }
      }
      return -1;
    }
    const nodes = this.nodes;
    const top = q[0]! >>> 16;
    let n = this.rootNode[top]!;
    let best = this.rootLeaf[top]! - 1;
    // Every node under this slot shares its top 16 bits.
    let checked = 16;
    while (n >= 0) {
      const b = n << 3;
      const l = nodes[b + LEN]!;
      // Compare the bits in [checked, l) (from the start of checked's word).
      for (let w = checked >>> 5; w << 5 < l; w++) {
        let x = q[w]! ^ nodes[b + w]!;
        const bits = l - (w << 5);
        if (bits < 32) x &= ~(0xffffffff >>> bits);
        if (x !== 0) return best;
      }
      checked = l;
      const v = nodes[b + VAL]!;
      if (v >= 0) best = v;
      if (l === 128) return best;
      n = nodes[b + CHILD + ((q[l >>> 5]! >>> (31 - (l & 31))) & 1)]!;
    }
    return best;
  }

  /** Byte-address convenience for the control plane and tests (copies into a scratch). */
  lookupBytes(addr: Uint8Array, off = 0): number {
    toWords(addr, off, this.words);
    return this.lookup(this.words);
  }

  /** Value stored for exactly addr/len, or -1. */
  get(addr: Uint8Array, len: number): number {
    const k = maskedWords(addr, len);
    if (len <= 16) return this.short.get((k[0]! >>> 16) * 32 + len) ?? -1;
    const n = this.find(k, len);
    return n < 0 ? -1 : this.nodes[(n << 3) + VAL]!;
  }

  /** Adds or replaces addr/len (bits past len are ignored). `value` must be 0..2^31-1. */
  insert(addr: Uint8Array, len: number, value: number): void {
    if (len < 0 || len > 128 || !Number.isInteger(len)) throw new RangeError(`prefix length ${len}`);
    if (value < 0 || value > 0x7fffffff || !Number.isInteger(value)) throw new RangeError(`value ${value}`);
    const k = maskedWords(addr, len);
    if (len <= 16) {
      const top = k[0]! >>> 16;
      this.short.set(top * 32 + len, value);
      this.paintRoot(top, len, value + 1, len, -1);
      this.relist();
      return;
    }
    let n = this.rootNode[k[0]! >>> 16]!;
    let up = -1;
    let dir = 0;
    while (n >= 0) {
      const nl = this.nodes[(n << 3) + LEN]!;
      if (this.common(k, len, n) < nl) break;
      if (nl === len) {
        if (this.nodes[(n << 3) + VAL]! < 0) this.count++;
        this.nodes[(n << 3) + VAL] = value;
        this.relist();
        return;
      }
      up = n;
      dir = bitOf(k, nl);
      n = this.nodes[(n << 3) + CHILD + dir]!;
    }
    this.count++;
    if (n < 0) {
      this.link(up, dir, this.node(k, len, value));
      this.relist();
      return;
    }
    const c = this.common(k, len, n);
    if (c === len) {
      // The new prefix sits above n.
      const m = this.node(k, len, value);
      this.setChild(m, this.bitOfNode(n, len), n);
      this.link(up, dir, m);
      this.relist();
      return;
    }
    // They part at bit c: a glue node holds both.
    const g = this.node(truncate(k, c), c, -1);
    const leaf = this.node(k, len, value);
    const b = bitOf(k, c);
    this.setChild(g, b, leaf);
    this.setChild(g, 1 - b, n);
    this.link(up, dir, g);
    this.relist();
  }

  /** Rebuilds the small-table list (or retires it once the table outgrows it). */
  private relist(): void {
    if (this.size > SMALL) {
      this.smallN = -1;
      return;
    }
    const list = [...this.entries()].sort((x, y) => y[1] - x[1]);
    const w = new Uint32Array(4);
    list.forEach(([a, len, v], i) => {
      toWords(a, 0, w);
      for (let j = 0; j < 4; j++) {
        const bits = Math.max(0, Math.min(32, len - 32 * j));
        const m = bits === 0 ? 0 : bits === 32 ? -1 : ~(0xffffffff >>> bits);
        this.smallMask[(i << 2) + j] = m;
        this.smallKey[(i << 2) + j] = w[j]! & m;
      }
      this.smallVal[i] = v;
    });
    this.smallN = list.length;
  }

  /** Removes addr/len; returns whether it was present. */
  delete(addr: Uint8Array, len: number): boolean {
    const k = maskedWords(addr, len);
    if (len <= 16) {
      const top = k[0]! >>> 16;
      if (!this.short.delete(top * 32 + len)) return false;
      let leaf = 0;
      let leafLen = 0;
      for (let l = len - 1; l >= 0; l--) {
        const v = this.short.get(((top & (0xffff0000 >>> l)) >>> 0) * 32 + l);
        if (v !== undefined) {
          leaf = v + 1;
          leafLen = l;
          break;
        }
      }
      this.paintRoot(top, len, leaf, leafLen, len);
      this.relist();
      return true;
    }
    const n = this.find(k, len);
    const nodes = this.nodes;
    if (n < 0 || nodes[(n << 3) + VAL]! < 0) return false;
    nodes[(n << 3) + VAL] = -1;
    this.count--;
    // Drop route-less nodes with fewer than two children, walking up.
    let m = n;
    while (m >= 0 && nodes[(m << 3) + VAL]! < 0) {
      const c0 = nodes[(m << 3) + CHILD]!;
      const c1 = nodes[(m << 3) + CHILD + 1]!;
      if (c0 >= 0 && c1 >= 0) break;
      const only = c0 >= 0 ? c0 : c1;
      const up = this.parent[m]!;
      if (up < 0) this.rootNode[nodes[m << 3]! >>> 16] = only;
      else nodes[(up << 3) + CHILD + (nodes[(up << 3) + CHILD] === m ? 0 : 1)] = only;
      if (only >= 0) this.parent[only] = up;
      this.free.push(m);
      m = up;
    }
    this.relist();
    return true;
  }

  /** Every stored prefix as [16-byte address, len, value] (control plane). */
  *entries(): IterableIterator<[Uint8Array, number, number]> {
    for (const [k, v] of this.short) {
      const b = new Uint8Array(16);
      const top = Math.floor(k / 32);
      b[0] = top >>> 8;
      b[1] = top & 0xff;
      yield [b, k % 32, v];
    }
    const stack: number[] = [];
    for (let t = 0; t < ROOT_SLOTS; t++) if (this.rootNode[t]! >= 0) stack.push(this.rootNode[t]!);
    while (stack.length > 0) {
      const n = stack.pop()!;
      const r = n << 3;
      if (this.nodes[r + VAL]! >= 0) {
        const b = new Uint8Array(16);
        for (let w = 0; w < 4; w++) {
          const x = this.nodes[r + w]!;
          b[4 * w] = x >>> 24;
          b[4 * w + 1] = x >>> 16;
          b[4 * w + 2] = x >>> 8;
          b[4 * w + 3] = x;
        }
        yield [b, this.nodes[r + LEN]!, this.nodes[r + VAL]!];
      }
      for (const c of [this.nodes[r + CHILD]!, this.nodes[r + CHILD + 1]!]) if (c >= 0) stack.push(c);
    }
  }

  /** Writes (leaf, leafLen) into the first-level slots a prefix of length len ≤ 16 at `top` covers. */
  private paintRoot(top: number, len: number, leaf: number, leafLen: number, only: number): void {
    const start = top & (0xffff0000 >>> len) & 0xffff;
    const end = start + (1 << (16 - len));
    for (let i = start; i < end; i++) {
      const owner = this.rootLen[i]!;
      if (only < 0 ? owner <= leafLen : owner === only) {
        this.rootLeaf[i] = leaf;
        this.rootLen[i] = leafLen;
      }
    }
  }

  private find(k: Uint32Array, len: number): number {
    let n = this.rootNode[k[0]! >>> 16]!;
    while (n >= 0) {
      const nl = this.nodes[(n << 3) + LEN]!;
      if (nl > len || this.common(k, len, n) < nl) return -1;
      if (nl === len) return n;
      n = this.nodes[(n << 3) + CHILD + bitOf(k, nl)]!;
    }
    return -1;
  }

  /** Length of the common prefix of k (length len) and node n, at most min(len, n's length). */
  private common(k: Uint32Array, len: number, n: number): number {
    const limit = Math.min(len, this.nodes[(n << 3) + LEN]!);
    for (let w = 0; w << 5 < limit; w++) {
      const x = k[w]! ^ this.nodes[(n << 3) + w]!;
      if (x !== 0) return Math.min(limit, (w << 5) + Math.clz32(x));
    }
    return limit;
  }

  private bitOfNode(n: number, i: number): number {
    return (this.nodes[(n << 3) + (i >>> 5)]! >>> (31 - (i & 31))) & 1;
  }

  private node(k: Uint32Array, len: number, value: number): number {
    let n = this.free.pop();
    if (n === undefined) {
      if (this.top === this.parent.length) this.grow();
      n = this.top++;
    }
    const r = n << 3;
    this.nodes.set(k, r);
    this.nodes[r + LEN] = len;
    this.nodes[r + VAL] = value;
    this.nodes[r + CHILD] = -1;
    this.nodes[r + CHILD + 1] = -1;
    this.parent[n] = -1;
    return n;
  }

  private setChild(p: number, dir: number, c: number): void {
    this.nodes[(p << 3) + CHILD + dir] = c;
    this.parent[c] = p;
  }

  private link(up: number, dir: number, n: number): void {
    if (up < 0) {
      this.rootNode[this.nodes[n << 3]! >>> 16] = n;
      this.parent[n] = -1;
    } else this.setChild(up, dir, n);
  }

  private grow(): void {
    const cap = this.parent.length * 2;
    const nodes = new Int32Array(cap * STRIDE);
    nodes.set(this.nodes);
    const parent = new Int32Array(cap);
    parent.set(this.parent);
    this.nodes = nodes;
    this.parent = parent;
  }
}

/** Reads 16 bytes at addr[off] as four big-endian words into `out`. */
export function toWords(addr: Uint8Array, off: number, out: Uint32Array): void {
  for (let w = 0; w < 4; w++) {
    const o = off + 4 * w;
    out[w] = ((addr[o]! << 24) | (addr[o + 1]! << 16) | (addr[o + 2]! << 8) | addr[o + 3]!) >>> 0;
  }
}

function maskedWords(addr: Uint8Array, len: number): Uint32Array {
  const k = new Uint32Array(4);
  toWords(addr, 0, k);
  return truncate(k, len);
}

/** Copy of k with bits at and past `len` cleared. */
function truncate(k: Uint32Array, len: number): Uint32Array {
  const out = new Uint32Array(4);
  for (let w = 0; w < 4; w++) {
    const bits = Math.max(0, Math.min(32, len - (w << 5)));
    out[w] = bits === 0 ? 0 : bits === 32 ? k[w]! : k[w]! & ~(0xffffffff >>> bits);
  }
  return out;
}

function bitOf(k: Uint32Array, i: number): number {
  return (k[i >>> 5]! >>> (31 - (i & 31))) & 1;
}
