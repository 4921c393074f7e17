import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RibResolver } from '../../../src/dataplane/engine/rib-resolver.js';
import { Rib } from '../../../src/dataplane/route/rib.js';
import { RouteCache } from '../../../src/dataplane/route/route-cache.js';
import { RuleAction } from '../../../src/dataplane/route/rules.js';
import { type RouteSpec, RouteType } from '../../../src/dataplane/route/store.js';
import { newRouteResult, RT_BLACKHOLE, RT_UNICAST } from '../../../src/dataplane/stages/route-result.js';
import { parseIpv4 } from '../../../src/dataplane/wire/bytes.js';

const ip = (s: string) => parseIpv4(s)!;

function route(dst: number, len: number, port: number, gateway: number | null = null, metric = 0): RouteSpec {
  return { family: 4, dst, len, type: RouteType.Unicast, port, gateway, metric };
}

/** seed 000's shape: main default via the ISP on port 0, table 100 default into port 2, fwmark 1 → 100. */
function brouterRib(): Rib {
  const rib = new Rib();
  rib.main.add(route(0, 0, 0, ip('192.168.0.1')));
  rib.ensureTable(100).add(route(0, 0, 2));
  rib.rules.add({
    priority: 32765,
    family: 0,
    mark: 1,
    markMask: 0xffffffff,
    from: 0,
    fromLen: 0,
    to: 0,
    toLen: 0,
    iif: -1,
    action: RuleAction.Lookup,
    table: 100,
  });
  return rib;
}

function cached(r: RibResolver, dst: number, src: number, mark: number, iif: number) {
  const out = newRouteResult();
  if (!r.lookup4(dst, src, mark, iif, out)) return null;
  return { type: out.type, port: out.port, nextHop: out.nextHop, table: out.table, rule: out.rule };
}

/** What the resolver must answer: a resolver that has cached nothing yet, over the RIB as it is now. */
function uncached(rib: Rib, dst: number, src: number, mark: number, iif: number) {
  return cached(new RibResolver(rib), dst, src, mark, iif);
}

describe('route decision cache', () => {
  it('answers by the whole key: mark, source and input port are part of it', () => {
    const rib = brouterRib();
    const r = new RibResolver(rib);
    const dst = ip('192.168.1.30');
    const src = ip('192.168.0.53');
    expect(cached(r, dst, src, 1, 1)).toMatchObject({ port: 2, table: 100 });
    expect(cached(r, dst, src, 0, 1)).toMatchObject({ port: 0, nextHop: ip('192.168.0.1'), table: 254 });
    // Asked again, in the other order: each key keeps its own decision.
    expect(cached(r, dst, src, 1, 1)).toMatchObject({ port: 2, table: 100 });
    expect(cached(r, dst, src, 0, 1)).toMatchObject({ port: 0, table: 254 });
  });

  it('forgets its decisions when a route, a rule or a learned host route changes', () => {
    const rib = brouterRib();
    const r = new RibResolver(rib);
    const dst = ip('192.168.0.53');
    expect(cached(r, dst, 0, 0, 0)).toMatchObject({ type: RT_UNICAST, port: 0 });
    r.learnHost4(dst, 1);
    expect(cached(r, dst, 0, 0, 0)).toMatchObject({ type: RT_UNICAST, port: 1, nextHop: 0 });
    const host = rib.main.add(route(dst, 32, 3, null, 1));
    const blackhole = rib.main.add({ ...route(dst, 32, -1), type: RouteType.Blackhole, metric: 5 });
    // The learned route (metric 0) still wins; then the configured one, then the blackhole.
    expect(cached(r, dst, 0, 0, 0)).toMatchObject({ port: 1 });
    r.learnHost4(dst, 3);
    expect(cached(r, dst, 0, 0, 0)).toMatchObject({ type: RT_UNICAST, port: 3 });
    rib.main.remove(host);
    expect(cached(r, dst, 0, 0, 0)).toMatchObject({ type: RT_UNICAST, port: 3 });
    rib.main.remove(rib.main.find(4, dst, 32, 0));
    expect(cached(r, dst, 0, 0, 0)).toMatchObject({ type: RT_BLACKHOLE });
    rib.main.remove(blackhole);
    expect(cached(r, dst, 0, 0, 0)).toMatchObject({ type: RT_UNICAST, port: 0 });
    rib.rules.add({
      priority: 100,
      family: 4,
      mark: 0,
      markMask: 0,
      from: 0,
      fromLen: 0,
      to: dst,
      toLen: 32,
      iif: -1,
      action: RuleAction.Lookup,
      table: 100,
    });
    expect(cached(r, dst, 0, 0, 0)).toMatchObject({ port: 2, table: 100 });
  });

  it('agrees with the uncached lookup through any sequence of lookups and changes', () => {
    const addrs = ['10.0.0.1', '10.0.0.9', '192.168.1.30', '192.168.0.1', '172.16.5.5'].map(ip);
    const prefixes = [
      [ip('10.0.0.0'), 8],
      [ip('10.0.0.0'), 29],
      [ip('192.168.1.0'), 24],
      [ip('192.168.0.1'), 32],
    ] as const;
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('lookup' as const),
        dst: fc.constantFrom(...addrs),
        src: fc.constantFrom(0, ...addrs),
        mark: fc.constantFrom(0, 1, 2),
        iif: fc.constantFrom(-1, 0, 1),
      }),
      fc.record({
        kind: fc.constant('add' as const),
        p: fc.integer({ min: 0, max: 3 }),
        port: fc.integer({ min: 0, max: 3 }),
      }),
      fc.record({ kind: fc.constant('remove' as const), p: fc.integer({ min: 0, max: 3 }) }),
      fc.record({
        kind: fc.constant('rule' as const),
        mark: fc.constantFrom(1, 2),
        table: fc.constantFrom(100, 254),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const rib = brouterRib();
        const r = new RibResolver(rib);
        const live = new Map<number, number>();
        let priority = 1000;
        for (const o of ops) {
          if (o.kind === 'lookup') {
            expect(cached(r, o.dst, o.src, o.mark, o.iif)).toEqual(
              uncached(rib, o.dst, o.src, o.mark, o.iif),
            );
          } else if (o.kind === 'add') {
            if (live.has(o.p)) continue;
            const [dst, len] = prefixes[o.p]!;
            live.set(o.p, rib.main.add(route(dst, len, o.port)));
          } else if (o.kind === 'remove') {
            const idx = live.get(o.p);
            if (idx === undefined) continue;
            rib.main.remove(idx);
            live.delete(o.p);
          } else {
            rib.rules.add({
              priority: priority++,
              family: 0,
              mark: o.mark,
              markMask: 0xffffffff,
              from: 0,
              fromLen: 0,
              to: 0,
              toLen: 0,
              iif: -1,
              action: RuleAction.Lookup,
              table: o.table,
            });
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keeps keys that share an entry apart (a two-entry cache)', () => {
    const c = new RouteCache(1);
    const out = newRouteResult();
    const keys = Array.from({ length: 16 }, (_, i) => [ip(`10.0.0.${i}`), 0, i & 1, -1] as const);
    for (const [i, [dst, src, mark, iif]] of keys.entries()) {
      const at = c.slot(dst, src, mark, iif);
      c.store(at, dst, src, mark, iif, 7, true, { port: i, nextHop: dst, type: 0, table: 254, rule: i });
      expect(c.holds(at, dst, src, mark, iif, 7)).toBe(true);
      expect(c.holds(at, dst, src, mark, iif, 8)).toBe(false);
      expect(c.load(at, out)).toBe(true);
      expect(out).toMatchObject({ port: i, nextHop: dst, rule: i });
    }
    // Only the last key stored in each entry is still held; the others miss instead of aliasing.
    const held = keys.filter(([dst, src, mark, iif]) =>
      c.holds(c.slot(dst, src, mark, iif), dst, src, mark, iif, 7),
    );
    expect(held.length).toBeLessThanOrEqual(2);
    expect(held.length).toBeGreaterThanOrEqual(1);
  });
});
