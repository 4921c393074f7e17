/**
 * One routing table (`ip route show table N`): an IPv4 and an IPv6 LPM over route indices in the
 * shared `RouteStore`. Several routes may share a prefix with different metrics (the kernel's
 * fib aliases); the LPM points at the lowest metric, the rest wait in a chain and take over when
 * it is deleted.
 */
import { Lpm4 } from './lpm4.js';
import { Lpm6 } from './lpm6.js';
import type { RouteSpec, RouteStore } from './store.js';

export class RouteExistsError extends Error {
  override readonly name = 'RouteExistsError';
}

export class RoutingTable {
  readonly v4 = new Lpm4();
  readonly v6 = new Lpm6();

  constructor(
    readonly id: number,
    readonly name: string,
    private readonly store: RouteStore,
  ) {}

  /** Routes in this table (all families). */
  get size(): number {
    let n = 0;
    for (const [, , head] of this.v4.entries()) n += this.chainLength(head);
    for (const [, , head] of this.v6.entries()) n += this.chainLength(head);
    return n;
  }

  private chainLength(head: number): number {
    let n = 0;
    for (let r = head; r >= 0; r = this.store.next[r]!) n++;
    return n;
  }

  private head(r: RouteSpec): number {
    return r.family === 4 ? this.v4.get(r.dst as number, r.len) : this.v6.get(r.dst as Uint8Array, r.len);
  }

  private setHead(r: RouteSpec, idx: number): void {
    if (r.family === 4) this.v4.insert(r.dst as number, r.len, idx);
    else this.v6.insert(r.dst as Uint8Array, r.len, idx);
  }

  /**
   * Adds a route and returns its index. A second route for the same prefix and metric throws
   * `RouteExistsError` (as `ip route add` fails with "File exists") unless `append` is set, in
   * which case it waits behind the first (connected routes of two ports in one subnet).
   */
  add(r: RouteSpec, append = false): number {
    const s = this.store;
    const head = this.head(r);
    if (!append) {
      for (let x = head; x >= 0; x = s.next[x]!) {
        if (s.metric[x] === r.metric)
          throw new RouteExistsError(`a route for this prefix with metric ${r.metric} exists`);
      }
    }
    const idx = s.add(this.id, r);
    if (head < 0 || s.metric[head]! > r.metric) {
      s.next[idx] = head;
      this.setHead(r, idx);
      return idx;
    }
    let prev = head;
    while (s.next[prev]! >= 0 && s.metric[s.next[prev]!]! <= r.metric) prev = s.next[prev]!;
    s.next[idx] = s.next[prev]!;
    s.next[prev] = idx;
    return idx;
  }

  /** Removes route `idx` (an index `add` returned for this table). */
  remove(idx: number): void {
    const s = this.store;
    if (!s.live[idx] || s.table[idx] !== this.id)
      throw new RangeError(`route ${idx} is not in table ${this.id}`);
    const spec = this.specOf(idx);
    const head = this.head(spec);
    if (head === idx) {
      const nx = s.next[idx]!;
      if (nx < 0) {
        if (spec.family === 4) this.v4.delete(spec.dst as number, spec.len);
        else this.v6.delete(spec.dst as Uint8Array, spec.len);
      } else this.setHead(spec, nx);
    } else {
      let prev = head;
      while (prev >= 0 && s.next[prev] !== idx) prev = s.next[prev]!;
      if (prev < 0) throw new RangeError(`route ${idx} is not linked in table ${this.id}`);
      s.next[prev] = s.next[idx]!;
    }
    s.remove(idx);
  }

  /** The route for exactly this prefix with this metric, or -1. */
  find(family: 4 | 6, dst: number | Uint8Array, len: number, metric: number): number {
    const head = family === 4 ? this.v4.get(dst as number, len) : this.v6.get(dst as Uint8Array, len);
    for (let x = head; x >= 0; x = this.store.next[x]!) if (this.store.metric[x] === metric) return x;
    return -1;
  }

  private specOf(idx: number): RouteSpec {
    const s = this.store;
    if (s.family[idx] === 4) {
      return {
        family: 4,
        dst: s.dst4[idx]!,
        len: s.len[idx]!,
        type: s.type[idx]!,
        port: -1,
        gateway: null,
        metric: 0,
      };
    }
    const b = new Uint8Array(16);
    for (let w = 0; w < 4; w++) {
      const x = s.dst6[(idx << 2) + w]!;
      b[4 * w] = x >>> 24;
      b[4 * w + 1] = x >>> 16;
      b[4 * w + 2] = x >>> 8;
      b[4 * w + 3] = x;
    }
    return { family: 6, dst: b, len: s.len[idx]!, type: s.type[idx]!, port: -1, gateway: null, metric: 0 };
  }
}
