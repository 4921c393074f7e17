/**
 * The per-packet route lookup. A `RouteContext` is created once per pipeline worker: the caller
 * writes the packet's fields into it (dst, src, mark, iif), calls `routeLookup` (IPv4) or
 * `routeLookup6`, and reads the decision from the same object. Nothing is allocated.
 *
 * Decision fields: `type` (a RouteType; None when no rule found a route), `port` (output port,
 * -1 if none), `nexthop` (the gateway, or the destination itself for on-link routes, so the
 * caller always resolves `nexthop`), `rule` (index in evaluation order), `table` (id), `route`
 * (index in the RouteStore, -1 for rule actions).
 */
import { toWords } from './lpm6.js';
import type { Rib } from './rib.js';
import { RuleAction } from './rules.js';
import { HOT_GW4, HOT_HAS_GW, HOT_PORT, HOT_TYPE, RouteType } from './store.js';

const ACTION_TYPE: readonly RouteType[] = [
  RouteType.None,
  RouteType.None,
  RouteType.Blackhole,
  RouteType.Unreachable,
  RouteType.Prohibit,
];

export class RouteContext {
  // ---- inputs ----
  dst = 0;
  src = 0;
  mark = 0;
  /** Input port index; -1 for locally generated packets. */
  iif = -1;
  readonly dst6 = new Uint32Array(4);
  readonly src6 = new Uint32Array(4);

  // ---- outputs ----
  type: RouteType = RouteType.None;
  port = -1;
  nexthop = 0;
  readonly nexthop6 = new Uint32Array(4);
  rule = -1;
  table = 0;
  route = -1;

  constructor(readonly rib: Rib) {}

  /** Loads the IPv6 destination from 16 bytes at buf[off] (e.g. straight from the packet). */
  setDst6(buf: Uint8Array, off: number): void {
    toWords(buf, off, this.dst6);
  }

  setSrc6(buf: Uint8Array, off: number): void {
    toWords(buf, off, this.src6);
  }

  /** @internal the decision of a rule action (blackhole, unreachable, prohibit). */
  action(i: number, a: number): false {
    this.type = ACTION_TYPE[a]!;
    this.port = -1;
    this.rule = i;
    this.table = 0;
    this.route = -1;
    return false;
  }

  /** @internal no rule found a route. */
  miss(): false {
    this.type = RouteType.None;
    this.port = -1;
    this.rule = -1;
    this.table = 0;
    this.route = -1;
    return false;
  }
}

/**
 * IPv4 policy routing for (ctx.dst, ctx.src, ctx.mark, ctx.iif). Returns true when the packet
 * can go somewhere (Unicast or Local); the details are in ctx.
 */
export function routeLookup(ctx: RouteContext): boolean {
  const rib = ctx.rib;
  const r = rib.rules;
  const store = rib.store;
  const dst = ctx.dst;
  const src = ctx.src;
  const mark = ctx.mark;
  const iif = ctx.iif;
  const n = r.count;
  const fam = r.familyBits;
  const rIif = r.iif;
  const rMark = r.mark;
  const rMarkMask = r.markMask;
  const rSrc = r.src4;
  const rSrcMask = r.src4Mask;
  const rDst = r.dst4;
  const rDstMask = r.dst4Mask;
  const act = r.action;
  const tables = r.tables;
  for (let i = 0; i < n; i++) {
    if ((fam[i]! & 1) === 0) continue;
    const ri = rIif[i]!;
    if (ri >= 0 && ri !== iif) continue;
    if (((mark & rMarkMask[i]!) ^ rMark[i]!) !== 0) continue;
    if (((src & rSrcMask[i]!) ^ rSrc[i]!) !== 0) continue;
    if (((dst & rDstMask[i]!) ^ rDst[i]!) !== 0) continue;
    const a = act[i]!;
    if (a !== RuleAction.Lookup) return ctx.action(i, a);
    const t = tables[i];
    if (t === null || t === undefined) continue;
    const route = t.v4.lookup(dst);
    if (route < 0) continue;
    const hot = store.hot;
    const h = route << 2;
    const type = hot[h + HOT_TYPE]!;
    if (type === RouteType.Throw) continue;
    ctx.type = type;
    ctx.port = hot[h + HOT_PORT]!;
    ctx.nexthop = hot[h + HOT_HAS_GW] === 1 ? hot[h + HOT_GW4]! >>> 0 : dst;
    ctx.rule = i;
    ctx.table = t.id;
    ctx.route = route;
    return type === RouteType.Unicast || type === RouteType.Local;
  }
  return ctx.miss();
}

function match6(q: Uint32Array, vals: Uint32Array, masks: Uint32Array, at: number): boolean {
  return (
    ((q[0]! & masks[at]!) ^ vals[at]!) === 0 &&
    ((q[1]! & masks[at + 1]!) ^ vals[at + 1]!) === 0 &&
    ((q[2]! & masks[at + 2]!) ^ vals[at + 2]!) === 0 &&
    ((q[3]! & masks[at + 3]!) ^ vals[at + 3]!) === 0
  );
}

/** IPv6 policy routing for (ctx.dst6, ctx.src6, ctx.mark, ctx.iif); the next hop goes to ctx.nexthop6. */
export function routeLookup6(ctx: RouteContext): boolean {
  const rib = ctx.rib;
  const r = rib.rules;
  const store = rib.store;
  const dst = ctx.dst6;
  const src = ctx.src6;
  const mark = ctx.mark;
  const iif = ctx.iif;
  const n = r.count;
  for (let i = 0; i < n; i++) {
    if ((r.familyBits[i]! & 2) === 0) continue;
    const ri = r.iif[i]!;
    if (ri >= 0 && ri !== iif) continue;
    if (((mark & r.markMask[i]!) ^ r.mark[i]!) !== 0) continue;
    const at = i << 2;
    if (!match6(src, r.src6, r.src6Mask, at) || !match6(dst, r.dst6, r.dst6Mask, at)) continue;
    const a = r.action[i]!;
    if (a !== RuleAction.Lookup) return ctx.action(i, a);
    const t = r.tables[i];
    if (t === null || t === undefined) continue;
    const route = t.v6.lookup(dst);
    if (route < 0) continue;
    const hot = store.hot;
    const h = route << 2;
    const type = hot[h + HOT_TYPE]!;
    if (type === RouteType.Throw) continue;
    ctx.type = type;
    ctx.port = hot[h + HOT_PORT]!;
    const nh = ctx.nexthop6;
    if (hot[h + HOT_HAS_GW] === 1) {
      const g = route << 2;
      nh[0] = store.gw6[g]!;
      nh[1] = store.gw6[g + 1]!;
      nh[2] = store.gw6[g + 2]!;
      nh[3] = store.gw6[g + 3]!;
    } else {
      nh[0] = dst[0]!;
      nh[1] = dst[1]!;
      nh[2] = dst[2]!;
      nh[3] = dst[3]!;
    }
    ctx.rule = i;
    ctx.table = t.id;
    ctx.route = route;
    return type === RouteType.Unicast || type === RouteType.Local;
  }
  return ctx.miss();
}
