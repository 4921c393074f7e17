/**
 * Connects the router stages to the routing information base: IPv4 policy routing through
 * `routeLookup`, and the brouter's learned host routes (`addr/32 dev port` in the main table, as
 * parprouted adds them) kept in step with where neighbours are heard.
 */

import { NO_PORT } from '../pipeline/packet-meta.js';
import { RouteContext, routeLookup } from '../route/lookup.js';
import type { Rib } from '../route/rib.js';
import { RouteCache } from '../route/route-cache.js';
import { RouteType } from '../route/store.js';
import {
  type HostRouteLearner,
  type RouteResolver,
  type RouteResult,
  RT_BLACKHOLE,
  RT_PROHIBIT,
  RT_UNICAST,
  RT_UNREACHABLE,
} from '../stages/route-result.js';

/** Metric of learned host routes: below configured routes of the same prefix is irrelevant (a /32 wins by length). */
const HOST_ROUTE_METRIC = 0;

export class RibResolver implements RouteResolver, HostRouteLearner {
  private readonly q: RouteContext;
  /** Learned host routes: address → route index and port (changes only when a host is heard on a new side). */
  private readonly hosts = new Map<number, { route: number; port: number }>();
  /** Decisions by (dst, src, mark, iif), valid for one RIB generation (route-cache.ts). */
  private readonly cache = new RouteCache();

  constructor(readonly rib: Rib) {
    this.q = new RouteContext(rib);
  }

  lookup4(dst: number, src: number, mark: number, iif: number, out: RouteResult): boolean {
    const cache = this.cache;
    const gen = this.rib.generation;
    const at = cache.slot(dst, src, mark, iif);
    if (cache.holds(at, dst, src, mark, iif, gen)) return cache.load(at, out);
    const found = this.resolve4(dst, src, mark, iif, out);
    cache.store(at, dst, src, mark, iif, gen, found, out);
    return found;
  }

  /** The policy-routing lookup itself (routeLookup), translated into a RouteResult. */
  private resolve4(dst: number, src: number, mark: number, iif: number, out: RouteResult): boolean {
    const q = this.q;
    q.dst = dst;
    q.src = src;
    q.mark = mark;
    q.iif = iif === NO_PORT ? -1 : iif;
    const found = routeLookup(q);
    switch (q.type) {
      case RouteType.Unicast:
      case RouteType.Local:
        if (!found || q.port < 0) return false;
        out.type = RT_UNICAST;
        out.port = q.port;
        out.nextHop = q.nexthop === dst ? 0 : q.nexthop;
        break;
      case RouteType.Blackhole:
        out.type = RT_BLACKHOLE;
        break;
      case RouteType.Unreachable:
        out.type = RT_UNREACHABLE;
        break;
      case RouteType.Prohibit:
        out.type = RT_PROHIBIT;
        break;
      default:
        return false;
    }
    out.table = q.table;
    out.rule = q.rule;
    return true;
  }

  learnHost4(addr: number, port: number): void {
    const main = this.rib.main;
    const old = this.hosts.get(addr);
    if (old) {
      if (old.port === port) return;
      main.remove(old.route);
    }
    const existing = main.find(4, addr, 32, HOST_ROUTE_METRIC);
    // A configured /32 for this address wins over what we hear.
    if (existing >= 0 && !old) return;
    const route = main.add({
      family: 4,
      dst: addr,
      len: 32,
      type: RouteType.Unicast,
      port,
      gateway: null,
      metric: HOST_ROUTE_METRIC,
    });
    this.hosts.set(addr, { route, port });
  }

  hostPort4(addr: number): number {
    return this.hosts.get(addr)?.port ?? -1;
  }

  /** Learned host routes, for `ferry status`. */
  learnedHosts(): { addr: number; port: number }[] {
    return [...this.hosts].map(([addr, h]) => ({ addr, port: h.port }));
  }
}
