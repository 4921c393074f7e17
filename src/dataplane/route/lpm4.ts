/**
 * IPv4 longest-prefix match: a 16-8-8 multibit trie in typed arrays (the shape of VPP's ip4
 * "mtrie"), with leaf pushing inside each level and a default leaf per ply.
 *
 * Why this structure:
 * - A lookup is at most three dependent slot loads (root[a>>16], then one 256-slot "ply" per
 *   further byte) plus the ply's default when the slot is empty. Nothing is allocated.
 * - Memory is 320 KiB for the root plus ~1.3 KiB per ply, allocated only under /16s that hold
 *   longer prefixes. A table per `ip rule` target is cheap: DIR-24-8 would need 64 MiB for its
 *   first level in every table, and homelab tables hold a handful of routes.
 * - Updates are incremental: DHCP, failover and `ip route add` change one prefix at a time.
 *   Each level only holds the prefixes whose length ends in it (root: /0–/16, first ply:
 *   /17–/24, second ply: /25–/32), pushed to every slot they cover unless a longer prefix of the
 *   same level owns it. What shorter levels say about a ply's addresses is its *default* leaf,
 *   so adding a /8 rewrites at most 256 root slots and the defaults of the plies under them,
 *   never the slots of those plies.
 *
 * Slots hold an Int32: 0 = nothing at this level (use the ply default), v > 0 = leaf (value
 * v - 1), v < 0 = child ply -(v + 1). A second-level ply's default of 0 means "use the first-level
 * ply's default". Parallel Uint8Arrays keep the length of the prefix that owns each slot and
 * default (updates only). An exact-prefix map (control plane) finds the covering prefix on delete.
 *
 * Small tables (up to SMALL prefixes: local, default, a VPN table with one default route — most
 * tables a homelab router has) are also kept as a short list, longest prefix first, that the
 * lookup scans instead of the trie: a few L1-resident compares instead of a cache miss in a
 * 256 KiB root. The trie is kept up to date either way.
 */

const ROOT_SLOTS = 1 << 16;
const PLY = 256;
/** Tables with at most this many prefixes are looked up by a linear scan. */
export const SMALL = 8;

export function mask4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

export class Lpm4 {
  private readonly root = new Int32Array(ROOT_SLOTS);
  private readonly rootLen = new Uint8Array(ROOT_SLOTS);
  private plies: Int32Array;
  private plyLen: Uint8Array;
  private def: Int32Array;
  private defLen: Uint8Array;
  private plyTop = 0;
  private readonly freePlies: number[] = [];
  /** Exact prefixes: key addr * 64 + len → value. */
  private readonly prefixes = new Map<number, number>();
  /** The small-table list (masked address, mask, value), longest first; smallN = -1 when not in use. */
  private readonly smallAddr = new Int32Array(SMALL);
  private readonly smallMask = new Int32Array(SMALL);
  private readonly smallVal = new Int32Array(SMALL);
  private smallN = 0;

  constructor(initialPlies = 16) {
    this.plies = new Int32Array(initialPlies * PLY);
    this.plyLen = new Uint8Array(initialPlies * PLY);
    this.def = new Int32Array(initialPlies);
    this.defLen = new Uint8Array(initialPlies);
  }

  /** Number of prefixes stored. */
  get size(): number {
    return this.prefixes.size;
  }

  /** Plies in use. */
  get plyCount(): number {
    return this.plyTop - this.freePlies.length;
  }

  /** Bytes held by the trie arrays. */
  get bytes(): number {
    return (
      this.root.byteLength +
      this.rootLen.byteLength +
      this.plies.byteLength +
      this.plyLen.byteLength +
      this.def.byteLength +
      this.defLen.byteLength
    );
  }

  /** Value of the longest prefix containing `addr`, or -1. Allocation-free. */
  lookup(addr: number): number {
    const n = this.smallN;
    if (n >= 0) {
      const sa = this.smallAddr;
      const sm = this.smallMask;
      for (let i = 0; i < n; i++) if ((addr & sm[i]!) === sa[i]) return this.smallVal[i]!;
      return -1;
    }
    const r = this.root[addr >>> 16]!;
    if (r >= 0) return r - 1;
    const plies = this.plies;
    const p1 = -r - 1;
    const v = plies[(p1 << 8) | ((addr >>> 8) & 0xff)]!;
    if (v > 0) return v - 1;
    if (v === 0) return this.def[p1]! - 1;
    const p2 = -v - 1;
    const w = plies[(p2 << 8) | (addr & 0xff)]!;
    if (w > 0) return w - 1;
    const d = this.def[p2]!;
    return (d !== 0 ? d : this.def[p1]!) - 1;
  }

  /** Value stored for exactly addr/len, or -1. */
  get(addr: number, len: number): number {
    return this.prefixes.get(((addr & mask4(len)) >>> 0) * 64 + len) ?? -1;
  }

  /** Adds or replaces addr/len (host bits are ignored). `value` must be 0..2^31-2. */
  insert(addr: number, len: number, value: number): void {
    if (len < 0 || len > 32 || !Number.isInteger(len)) throw new RangeError(`prefix length ${len}`);
    if (value < 0 || value > 0x7ffffffe || !Number.isInteger(value)) throw new RangeError(`value ${value}`);
    const a = (addr & mask4(len)) >>> 0;
    const key = a * 64 + len;
    if (this.prefixes.get(key) === value) return;
    this.prefixes.set(key, value);
    this.paint(a, len, value + 1, len, -1);
    this.relist();
  }

  /** Rebuilds the small-table list (or retires it once the table outgrows it). */
  private relist(): void {
    if (this.prefixes.size > SMALL) {
      this.smallN = -1;
      return;
    }
    const list = [...this.entries()].sort((x, y) => y[1] - x[1]);
    list.forEach(([a, len, v], i) => {
      this.smallMask[i] = mask4(len) | 0;
      this.smallAddr[i] = a | 0;
      this.smallVal[i] = v;
    });
    this.smallN = list.length;
  }

  /** Removes addr/len; returns whether it was present. Its addresses fall back to the covering prefix. */
  delete(addr: number, len: number): boolean {
    const a = (addr & mask4(len)) >>> 0;
    if (!this.prefixes.delete(a * 64 + len)) return false;
    let leaf = 0;
    let leafLen = 0;
    for (let l = len - 1; l >= 0; l--) {
      const v = this.prefixes.get(((a & mask4(l)) >>> 0) * 64 + l);
      if (v !== undefined) {
        leaf = v + 1;
        leafLen = l;
        break;
      }
    }
    // A cover from a shorter level is that level's business: here the slots become "nothing".
    const floor = len <= 16 ? 0 : len <= 24 ? 17 : 25;
    if (leafLen < floor) {
      leaf = 0;
      leafLen = 0;
    }
    this.paint(a, len, leaf, leafLen, len);
    if (len > 16) this.collapse(a, len);
    this.relist();
    return true;
  }

  /** Every stored prefix as [addr, len, value] (control plane). */
  *entries(): IterableIterator<[number, number, number]> {
    for (const [k, v] of this.prefixes) yield [Math.floor(k / 64), k % 64, v];
  }

  /** Insert (`only` = -1) takes slots owned by prefixes no longer than leafLen; delete takes those `only` owned. */
  private owns(slotLen: number, leafLen: number, only: number): boolean {
    return only < 0 ? slotLen <= leafLen : slotLen === only;
  }

  /** Writes (leaf, leafLen) into the slots addr/len covers at its level, or the defaults of plies there. */
  private paint(a: number, len: number, leaf: number, leafLen: number, only: number): void {
    if (len <= 16) {
      const start = a >>> 16;
      const end = start + (1 << (16 - len));
      for (let i = start; i < end; i++) {
        const v = this.root[i]!;
        if (v < 0) this.paintDefault(-v - 1, leaf, leafLen, only);
        else if (this.owns(this.rootLen[i]!, leafLen, only)) {
          this.root[i] = leaf;
          this.rootLen[i] = leafLen;
        }
      }
      return;
    }
    const p1 = only < 0 ? this.expandRoot(a >>> 16) : -this.root[a >>> 16]! - 1;
    if (len <= 24) {
      const start = (p1 << 8) | ((a >>> 8) & 0xff);
      const end = start + (1 << (24 - len));
      for (let s = start; s < end; s++) {
        const v = this.plies[s]!;
        if (v < 0) this.paintDefault(-v - 1, leaf, leafLen, only);
        else this.paintSlot(s, leaf, leafLen, only);
      }
      return;
    }
    const s1 = (p1 << 8) | ((a >>> 8) & 0xff);
    const p2 = only < 0 ? this.expandSlot(s1) : -this.plies[s1]! - 1;
    const start = (p2 << 8) | (a & 0xff);
    const end = start + (1 << (32 - len));
    for (let s = start; s < end; s++) this.paintSlot(s, leaf, leafLen, only);
  }

  private paintSlot(s: number, leaf: number, leafLen: number, only: number): void {
    if (this.owns(this.plyLen[s]!, leafLen, only)) {
      this.plies[s] = leaf;
      this.plyLen[s] = leafLen;
    }
  }

  private paintDefault(p: number, leaf: number, leafLen: number, only: number): void {
    if (this.owns(this.defLen[p]!, leafLen, only)) {
      this.def[p] = leaf;
      this.defLen[p] = leafLen;
    }
  }

  private allocPly(def: number, defLen: number): number {
    let p = this.freePlies.pop();
    if (p === undefined) {
      if (this.plyTop === this.def.length) this.grow();
      p = this.plyTop++;
    }
    this.plies.fill(0, p << 8, (p + 1) << 8);
    this.plyLen.fill(0, p << 8, (p + 1) << 8);
    this.def[p] = def;
    this.defLen[p] = defLen;
    return p;
  }

  private grow(): void {
    const n = this.def.length * 2;
    const plies = new Int32Array(n * PLY);
    plies.set(this.plies);
    const plyLen = new Uint8Array(n * PLY);
    plyLen.set(this.plyLen);
    const def = new Int32Array(n);
    def.set(this.def);
    const defLen = new Uint8Array(n);
    defLen.set(this.defLen);
    this.plies = plies;
    this.plyLen = plyLen;
    this.def = def;
    this.defLen = defLen;
  }

  /** The ply under root slot i; created with the slot's leaf as its default if needed. */
  private expandRoot(i: number): number {
    const v = this.root[i]!;
    if (v < 0) return -v - 1;
    const p = this.allocPly(v, this.rootLen[i]!);
    this.root[i] = -(p + 1);
    return p;
  }

  /** The second-level ply under first-level slot s, created the same way. */
  private expandSlot(s: number): number {
    const v = this.plies[s]!;
    if (v < 0) return -v - 1;
    const p = this.allocPly(v, this.plyLen[s]!);
    this.plies[s] = -(p + 1);
    return p;
  }

  /** Whether every slot of ply p is empty (no leaf, no child). */
  private empty(p: number): boolean {
    const base = p << 8;
    for (let j = 0; j < PLY; j++) if (this.plies[base + j] !== 0) return false;
    return true;
  }

  /** Frees plies on addr's path that a delete left empty, folding their default into the parent slot. */
  private collapse(a: number, len: number): void {
    const i = a >>> 16;
    const p1 = -this.root[i]! - 1;
    if (len > 24) {
      const s1 = (p1 << 8) | ((a >>> 8) & 0xff);
      const p2 = -this.plies[s1]! - 1;
      if (!this.empty(p2)) return;
      this.plies[s1] = this.def[p2]!;
      this.plyLen[s1] = this.defLen[p2]!;
      this.freePlies.push(p2);
    }
    if (!this.empty(p1)) return;
    this.root[i] = this.def[p1]!;
    this.rootLen[i] = this.defLen[p1]!;
    this.freePlies.push(p1);
  }
}
