import { WIRE_ERROR_COUNT, wireErrorName } from '../wire/errors.js';

/**
 * Drop counters by reason, VPP-style: every stage registers the reasons it may drop for when it
 * is built (strings, once), and counts by small integer id on the hot path.
 */
export class DropCounters {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private counts = new Float64Array(64);

  /** Returns the id for `reason`, registering it on first use (build time, not per packet). */
  register(reason: string): number {
    const known = this.ids.get(reason);
    if (known !== undefined) return known;
    const id = this.names.length;
    this.names.push(reason);
    this.ids.set(reason, id);
    if (id >= this.counts.length) {
      const grown = new Float64Array(this.counts.length * 2);
      grown.set(this.counts);
      this.counts = grown;
    }
    return id;
  }

  /**
   * Registers `<prefix>-<name>` for every WireError code and returns the ids indexed by code, so
   * a stage drops a refused packet with `drop(s, ids[err])` whatever code its decoder returns.
   */
  registerWireErrors(prefix: string): number[] {
    const ids: number[] = [];
    for (let e = 0; e < WIRE_ERROR_COUNT; e++) ids.push(this.register(`${prefix}-${wireErrorName(e)}`));
    return ids;
  }

  count(id: number, n = 1): void {
    this.counts[id]! += n;
  }

  name(id: number): string {
    return this.names[id] ?? `reason-${id}`;
  }

  get(reason: string): number {
    const id = this.ids.get(reason);
    return id === undefined ? 0 : this.counts[id]!;
  }

  /** Non-zero counters, by name (for summary.json, `ferry status`, metrics). */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.names.length; i++) if (this.counts[i]) out[this.names[i]!] = this.counts[i]!;
    return out;
  }
}
