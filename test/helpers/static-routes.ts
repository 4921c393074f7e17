/** A linear route list for router tests (the real LPM tables have their own tests). */
import type {
  HostRouteLearner,
  RouteResolver,
  RouteResult,
} from '../../src/dataplane/stages/route-result.js';
import { RT_UNICAST } from '../../src/dataplane/stages/route-result.js';

interface R {
  net: number;
  len: number;
  port: number;
  via: number;
  table: number;
  type: number;
}

export class StaticRoutes implements RouteResolver, HostRouteLearner {
  readonly routes: R[] = [];
  /** fwmark → table rules, checked before the main table (priority order = insertion order). */
  readonly rules: { mark: number; table: number }[] = [];
  readonly hosts = new Map<number, number>();

  add(net: number, len: number, port: number, via = 0, table = 254, type = RT_UNICAST): this {
    this.routes.push({ net, len, port, via, table, type });
    return this;
  }

  lookup4(dst: number, _src: number, mark: number, _iif: number, out: RouteResult): boolean {
    for (const [i, r] of this.rules.entries()) {
      if (r.mark === mark && this.inTable(dst, r.table, out)) {
        out.rule = i;
        return true;
      }
    }
    const host = this.hosts.get(dst);
    if (host !== undefined) {
      Object.assign(out, { port: host, nextHop: 0, type: RT_UNICAST, table: 254, rule: -1 });
      return true;
    }
    if (this.inTable(dst, 254, out)) {
      out.rule = -1;
      return true;
    }
    return false;
  }

  private inTable(dst: number, table: number, out: RouteResult): boolean {
    let best: R | null = null;
    for (const r of this.routes) {
      if (r.table !== table) continue;
      const mask = r.len === 0 ? 0 : (0xffffffff << (32 - r.len)) >>> 0;
      if ((dst & mask) >>> 0 === (r.net & mask) >>> 0 && (!best || r.len > best.len)) best = r;
    }
    if (!best) return false;
    Object.assign(out, { port: best.port, nextHop: best.via, type: best.type, table: best.table });
    return true;
  }

  learnHost4(addr: number, port: number): void {
    this.hosts.set(addr, port);
  }

  hostPort4(addr: number): number {
    return this.hosts.get(addr) ?? -1;
  }
}
