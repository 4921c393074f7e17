/**
 * Route entries of every table, as typed arrays indexed by route index. The LPMs map prefixes to
 * route indices. What a lookup needs (type, port, IPv4 gateway) is also kept interleaved in
 * `hot`, four Int32s per route, so a lookup touches one cache line per route instead of one per
 * field; the per-field arrays serve the control plane. Entries never change after `add`.
 */
import { mask4 } from './lpm4.js';

/** Route types, as `ip route` names them. */
export enum RouteType {
  /** No route (the lookup found nothing): the caller answers "network unreachable". */
  None = 0,
  Unicast = 1,
  /** An address of ferry's own: deliver locally (ferry's services, then the host port). */
  Local = 2,
  Blackhole = 3,
  Unreachable = 4,
  Prohibit = 5,
  /** Ends the lookup in this table as if nothing matched; policy routing tries the next rule. */
  Throw = 6,
}

export const ROUTE_TYPE_NAMES: readonly string[] = [
  'none',
  'unicast',
  'local',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
];

/** A route as the control plane describes it. */
export interface RouteSpec {
  readonly family: 4 | 6;
  /** IPv4: unsigned 32-bit; IPv6: 16 bytes. Bits past `len` are ignored. */
  readonly dst: number | Uint8Array;
  readonly len: number;
  readonly type: RouteType;
  /** Output port index, -1 for none. */
  readonly port: number;
  /** Next hop, or null for an on-link (directly connected / point-to-point) route. */
  readonly gateway: number | Uint8Array | null;
  readonly metric: number;
}

/** Offsets in a `hot` record. */
export const HOT_TYPE = 0;
export const HOT_PORT = 1;
/** IPv4 gateway as an Int32 (read it with `>>> 0`), or 0. */
export const HOT_GW4 = 2;
export const HOT_HAS_GW = 3;

export class RouteStore {
  /** [type, port, gw4, hasGw] per route. */
  hot: Int32Array;
  family: Uint8Array;
  type: Uint8Array;
  port: Int32Array;
  metric: Uint32Array;
  table: Uint32Array;
  len: Uint8Array;
  dst4: Uint32Array;
  /** 4 words per route. */
  dst6: Uint32Array;
  gw4: Uint32Array;
  gw6: Uint32Array;
  hasGw: Uint8Array;
  /** Next route for the same prefix in the same table (higher metric), or -1. */
  next: Int32Array;
  live: Uint8Array;
  /** Bumped by every add and remove: route caches compare it to know their decisions still hold. */
  generation = 0;
  private top = 0;
  private readonly free: number[] = [];

  constructor(capacity = 64) {
    this.hot = new Int32Array(capacity * 4);
    this.family = new Uint8Array(capacity);
    this.type = new Uint8Array(capacity);
    this.port = new Int32Array(capacity);
    this.metric = new Uint32Array(capacity);
    this.table = new Uint32Array(capacity);
    this.len = new Uint8Array(capacity);
    this.dst4 = new Uint32Array(capacity);
    this.dst6 = new Uint32Array(capacity * 4);
    this.gw4 = new Uint32Array(capacity);
    this.gw6 = new Uint32Array(capacity * 4);
    this.hasGw = new Uint8Array(capacity);
    this.next = new Int32Array(capacity);
    this.live = new Uint8Array(capacity);
  }

  get count(): number {
    return this.top - this.free.length;
  }

  /** Stores a route and returns its index. */
  add(table: number, r: RouteSpec): number {
    this.generation++;
    let i = this.free.pop();
    if (i === undefined) {
      if (this.top === this.type.length) this.grow();
      i = this.top++;
    }
    this.family[i] = r.family;
    this.type[i] = r.type;
    this.port[i] = r.port;
    this.metric[i] = r.metric;
    this.table[i] = table;
    this.len[i] = r.len;
    this.next[i] = -1;
    this.live[i] = 1;
    this.hasGw[i] = r.gateway === null ? 0 : 1;
    const h = i << 2;
    this.hot[h + HOT_TYPE] = r.type;
    this.hot[h + HOT_PORT] = r.port;
    this.hot[h + HOT_GW4] = r.family === 4 && r.gateway !== null ? (r.gateway as number) | 0 : 0;
    this.hot[h + HOT_HAS_GW] = this.hasGw[i]!;
    if (r.family === 4) {
      this.dst4[i] = ((r.dst as number) & mask4(r.len)) >>> 0;
      this.gw4[i] = r.gateway === null ? 0 : (r.gateway as number);
    } else {
      writeWords(r.dst as Uint8Array, this.dst6, i << 2);
      for (let w = 0; w < 4; w++) {
        const bits = Math.max(0, Math.min(32, r.len - 32 * w));
        this.dst6[(i << 2) + w] = (this.dst6[(i << 2) + w]! & mask4(bits)) >>> 0;
      }
      if (r.gateway === null) this.gw6.fill(0, i << 2, (i << 2) + 4);
      else writeWords(r.gateway as Uint8Array, this.gw6, i << 2);
    }
    return i;
  }

  remove(i: number): void {
    if (!this.live[i]) throw new RangeError(`route ${i} is not in use`);
    this.generation++;
    this.live[i] = 0;
    this.free.push(i);
  }

  private grow(): void {
    const cap = this.type.length * 2;
    const g8 = (a: Uint8Array) => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    const g32 = (a: Uint32Array, per = 1) => {
      const b = new Uint32Array(cap * per);
      b.set(a);
      return b;
    };
    const gi = (a: Int32Array, per = 1) => {
      const b = new Int32Array(cap * per);
      b.set(a);
      return b;
    };
    this.hot = gi(this.hot, 4);
    this.family = g8(this.family);
    this.type = g8(this.type);
    this.port = gi(this.port);
    this.metric = g32(this.metric);
    this.table = g32(this.table);
    this.len = g8(this.len);
    this.dst4 = g32(this.dst4);
    this.dst6 = g32(this.dst6, 4);
    this.gw4 = g32(this.gw4);
    this.gw6 = g32(this.gw6, 4);
    this.hasGw = g8(this.hasGw);
    this.next = gi(this.next);
    this.live = g8(this.live);
  }
}

function writeWords(b: Uint8Array, out: Uint32Array, at: number): void {
  for (let w = 0; w < 4; w++) {
    out[at + w] = ((b[4 * w]! << 24) | (b[4 * w + 1]! << 16) | (b[4 * w + 2]! << 8) | b[4 * w + 3]!) >>> 0;
  }
}
