/**
 * A direct-mapped cache of IPv4 policy-routing decisions, keyed by everything the decision reads
 * from the packet: destination, source, fwmark and input port. Policy routing walks the rules and
 * one LPM per matching rule (three rules and two tables for a marked packet of seed 000); a hit
 * here is one cache line and four compares. The same idea as VPP's per-flow adjacency or the old
 * Linux route cache, without per-flow state: the key is the lookup's whole input.
 *
 * Correctness on change: every entry carries the RIB generation (`Rib.generation`) it was filled
 * at, and is a miss at any other. Adding or removing a route or a rule, or a learned host route,
 * therefore invalidates all entries at once without touching them.
 *
 * A hostile sender can only make entries collide (the index is not keyed): each collision costs
 * one ordinary lookup, never a wrong answer, since the whole key is compared.
 *
 * Layout: ENTRY_WORDS int32 words per entry, one 64-byte cache line each. Addresses and marks are
 * stored as int32 (`| 0`) so nothing is boxed on the way in or out.
 */

const ENTRY_WORDS = 16;
const E_STAMP = 0;
const E_DST = 1;
const E_SRC = 2;
const E_MARK = 3;
const E_IIF = 4;
/** 1 when the lookup found a decision (the resolver returned true), 0 when it returned false. */
const E_FOUND = 5;
const E_TYPE = 6;
const E_PORT = 7;
const E_NEXTHOP = 8;
const E_TABLE = 9;
const E_RULE = 10;

/** What a cached decision holds (the fields of a RouteResult). */
export interface CachedRoute {
  port: number;
  nextHop: number;
  type: number;
  table: number;
  rule: number;
}

export class RouteCache {
  private readonly words: Int32Array;
  private readonly shift: number;

  /** @param bits log2 of the number of entries (default 1024 entries, 64 KiB) */
  constructor(bits = 10) {
    if (!Number.isInteger(bits) || bits < 1 || bits > 20)
      throw new RangeError(`route cache bits must be 1..20: ${bits}`);
    this.words = new Int32Array((1 << bits) * ENTRY_WORDS);
    this.shift = 32 - bits;
  }

  /** The entry (word offset) this key maps to. */
  slot(dst: number, src: number, mark: number, iif: number): number {
    const h = Math.imul(
      dst ^ Math.imul(src, 0x27d4eb2d) ^ Math.imul(mark ^ (iif << 20), 0x165667b1),
      0x9e3779b1,
    );
    return (h >>> this.shift) * ENTRY_WORDS;
  }

  /**
   * True when entry `at` holds this key at generation `gen`. Stamps are generation + 1, so the
   * zero of an unused entry never matches.
   */
  holds(at: number, dst: number, src: number, mark: number, iif: number, gen: number): boolean {
    const w = this.words;
    return (
      w[at + E_STAMP] === ((gen + 1) | 0) &&
      w[at + E_DST] === (dst | 0) &&
      w[at + E_SRC] === (src | 0) &&
      w[at + E_MARK] === (mark | 0) &&
      w[at + E_IIF] === (iif | 0)
    );
  }

  /** Copies entry `at`'s decision into `out` when it found one; returns what the lookup returned. */
  load(at: number, out: CachedRoute): boolean {
    const w = this.words;
    if (w[at + E_FOUND] === 0) return false;
    out.type = w[at + E_TYPE]!;
    out.port = w[at + E_PORT]!;
    out.nextHop = w[at + E_NEXTHOP]! >>> 0;
    out.table = w[at + E_TABLE]! >>> 0;
    out.rule = w[at + E_RULE]!;
    return true;
  }

  /** Fills entry `at` with the key, the generation and the decision (`out` is read only when found). */
  store(
    at: number,
    dst: number,
    src: number,
    mark: number,
    iif: number,
    gen: number,
    found: boolean,
    out: CachedRoute,
  ): void {
    const w = this.words;
    w[at + E_STAMP] = (gen + 1) | 0;
    w[at + E_DST] = dst | 0;
    w[at + E_SRC] = src | 0;
    w[at + E_MARK] = mark | 0;
    w[at + E_IIF] = iif | 0;
    w[at + E_FOUND] = found ? 1 : 0;
    if (!found) return;
    w[at + E_TYPE] = out.type;
    w[at + E_PORT] = out.port;
    w[at + E_NEXTHOP] = out.nextHop | 0;
    w[at + E_TABLE] = out.table | 0;
    w[at + E_RULE] = out.rule;
  }

  /** Forgets every entry (not needed for correctness: a generation change already does). */
  clear(): void {
    this.words.fill(0);
  }
}
