import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RouteContext, routeLookup, routeLookup6 } from '../../../src/dataplane/route/lookup.js';
import { mask4 } from '../../../src/dataplane/route/lpm4.js';
import { Rib } from '../../../src/dataplane/route/rib.js';
import { RuleAction, type RuleSpec } from '../../../src/dataplane/route/rules.js';
import { type RouteSpec, RouteType } from '../../../src/dataplane/route/store.js';
import { parseIpv4, parseIpv6 } from '../../../src/dataplane/wire/bytes.js';

const ip = (s: string) => parseIpv4(s)!;

function route(
  dst: string,
  len: number,
  port: number,
  gateway: string | null = null,
  type = RouteType.Unicast,
  metric = 0,
): RouteSpec {
  return { family: 4, dst: ip(dst), len, type, port, gateway: gateway ? ip(gateway) : null, metric };
}

function rule(p: Partial<RuleSpec> & { priority: number }): RuleSpec {
  return {
    family: 0,
    mark: 0,
    markMask: 0,
    from: 0,
    fromLen: 0,
    to: 0,
    toLen: 0,
    iif: -1,
    action: RuleAction.Lookup,
    table: 254,
    ...p,
  };
}

function query(
  rib: Rib,
  dst: string,
  opts: { mark?: number; src?: string; iif?: number } = {},
): RouteContext {
  const ctx = new RouteContext(rib);
  ctx.dst = ip(dst);
  ctx.mark = opts.mark ?? 0;
  ctx.src = opts.src ? ip(opts.src) : 0;
  ctx.iif = opts.iif ?? -1;
  routeLookup(ctx);
  return ctx;
}

// Port numbering for the scenarios.
const ETH0 = 0;
const ETH1 = 1;
const TUN = 2;

describe('policy routing (ip rule semantics)', () => {
  it('starts with the implicit rules 0 local, 32766 main, 32767 default', () => {
    const rib = new Rib();
    expect(rib.rules.list().map((r) => [r.priority, r.table])).toEqual([
      [0, 255],
      [32766, 254],
      [32767, 253],
    ]);
  });

  it('seed 000: fwmark 1 → table 100 → tailscale0; unmarked traffic uses main; local addresses win first', () => {
    const rib = new Rib();
    rib.local.add(route('192.168.0.125', 32, ETH0, null, RouteType.Local));
    rib.main.add(route('192.168.0.0', 24, ETH0));
    rib.main.add(route('192.168.0.0', 24, ETH1), true);
    rib.main.add(route('0.0.0.0', 0, ETH0, '192.168.0.1'));
    rib.ensureTable(100).add(route('0.0.0.0', 0, TUN));
    rib.rules.add(rule({ priority: 32765, mark: 1, markMask: 0xffffffff, table: 100 }));

    const marked = query(rib, '192.168.1.30', { mark: 1 });
    expect([marked.type, marked.port, marked.nexthop, marked.table]).toEqual([
      RouteType.Unicast,
      TUN,
      ip('192.168.1.30'),
      100,
    ]);
    expect(rib.rules.priority[marked.rule]).toBe(32765);

    const plain = query(rib, '192.168.1.30');
    expect([plain.port, plain.nexthop, plain.table]).toEqual([ETH0, ip('192.168.0.1'), 254]);

    const onLink = query(rib, '192.168.0.3');
    expect([onLink.port, onLink.nexthop]).toEqual([ETH0, ip('192.168.0.3')]);

    const self = query(rib, '192.168.0.125', { mark: 1 });
    expect([self.type, self.table, rib.rules.priority[self.rule]]).toEqual([RouteType.Local, 255, 0]);
  });

  it('seed 002: fwmark 42 → table 42 via the tunnel; when table 42 is flushed the lookup falls through to main', () => {
    const rib = new Rib();
    rib.main.add(route('192.168.100.0', 24, ETH0));
    rib.main.add(route('0.0.0.0', 0, ETH0, '192.168.100.1'));
    const t42 = rib.ensureTable(42);
    const r = t42.add(route('0.0.0.0', 0, TUN));
    rib.rules.add(rule({ priority: 32765, mark: 42, markMask: 0xffffffff, table: 42 }));

    expect(query(rib, '203.0.113.7', { mark: 42 }).port).toBe(TUN);
    expect(query(rib, '203.0.113.7', { mark: 41 }).port).toBe(ETH0);
    // `ip -4 route flush table 42` (the tunnel went down): the rule still matches, the table is empty.
    t42.remove(r);
    const ctx = query(rib, '203.0.113.7', { mark: 42 });
    expect([ctx.port, ctx.table, rib.rules.priority[ctx.rule]]).toEqual([ETH0, 254, 32766]);
  });

  it('seed 003: per-ISP tables by connmark, the movable rule at 50000 follows failover, unmatched marks find no route', () => {
    const rib = new Rib();
    const isp1 = rib.ensureTable(101, 'wanisp1');
    const isp2 = rib.ensureTable(102, 'wanisp2');
    isp1.add(route('0.0.0.0', 0, ETH0, '192.168.1.1'));
    isp2.add(route('0.0.0.0', 0, ETH1, '192.168.2.1'));
    rib.main.add(route('10.100.0.0', 24, TUN));
    rib.rules.add(rule({ priority: 40001, mark: 0x1, markMask: 0xffffffff, table: 101 }));
    rib.rules.add(rule({ priority: 40002, mark: 0x2, markMask: 0xffffffff, table: 102 }));
    rib.rules.add(rule({ priority: 60001, mark: 0x10, markMask: 0xffffffff, table: 101 }));

    expect(query(rib, '1.1.1.1', { mark: 1 }).nexthop).toBe(ip('192.168.1.1'));
    expect(query(rib, '1.1.1.1', { mark: 2 }).nexthop).toBe(ip('192.168.2.1'));
    expect(query(rib, '1.1.1.1', { mark: 0x10 }).nexthop).toBe(ip('192.168.1.1'));
    // LAN destinations are in main, whose rule (32766) comes before the ISP rules.
    expect(query(rib, '10.100.0.53', { mark: 2 }).port).toBe(TUN);
    // No main default route: unmarked traffic to the Internet is unreachable ("ping: connect: Network is unreachable").
    const none = query(rib, '1.1.1.1');
    expect([none.type, none.port, none.rule]).toEqual([RouteType.None, -1, -1]);

    // switch_isp.sh isp2: ip rule add priority 50000 fwmark 0x10 lookup wanisp2
    rib.rules.add(rule({ priority: 50000, mark: 0x10, markMask: 0xffffffff, table: 102 }));
    expect(query(rib, '1.1.1.1', { mark: 0x10 }).nexthop).toBe(ip('192.168.2.1'));
    rib.rules.remove(50000);
    expect(query(rib, '1.1.1.1', { mark: 0x10 }).nexthop).toBe(ip('192.168.1.1'));

    // ISP1's DHCP lease is gone: its table empties and fwmark 1 falls through to the end.
    isp1.remove(isp1.find(4, 0, 0, 0));
    expect(query(rib, '1.1.1.1', { mark: 1 }).type).toBe(RouteType.None);
  });

  it('a throw route ends the table and the next rule is tried; an unreachable route stops the lookup', () => {
    const rib = new Rib();
    const vpn = rib.ensureTable(100);
    vpn.add(route('0.0.0.0', 0, TUN));
    vpn.add(route('192.168.0.0', 16, -1, null, RouteType.Throw));
    vpn.add(route('10.0.0.0', 8, -1, null, RouteType.Unreachable));
    rib.main.add(route('0.0.0.0', 0, ETH0, '192.168.0.1'));
    rib.rules.add(rule({ priority: 100, table: 100 }));
    expect(query(rib, '8.8.8.8').port).toBe(TUN);
    const thrown = query(rib, '192.168.5.5');
    expect([thrown.port, thrown.table]).toEqual([ETH0, 254]);
    const stop = query(rib, '10.1.1.1');
    expect([stop.type, stop.table, stop.port]).toEqual([RouteType.Unreachable, 100, -1]);
    expect(routeLookup(stop)).toBe(false);
  });

  it('rule actions blackhole/unreachable/prohibit end the lookup without a table', () => {
    const rib = new Rib();
    rib.main.add(route('0.0.0.0', 0, ETH0, '192.168.0.1'));
    rib.rules.add(rule({ priority: 10, from: ip('10.66.0.0'), fromLen: 16, action: RuleAction.Prohibit }));
    rib.rules.add(rule({ priority: 11, to: ip('198.51.100.0'), toLen: 24, action: RuleAction.Blackhole }));
    rib.rules.add(rule({ priority: 12, iif: ETH1, action: RuleAction.Unreachable }));
    expect(query(rib, '8.8.8.8', { src: '10.66.1.1' }).type).toBe(RouteType.Prohibit);
    expect(query(rib, '198.51.100.9').type).toBe(RouteType.Blackhole);
    expect(query(rib, '8.8.8.8', { iif: ETH1 }).type).toBe(RouteType.Unreachable);
    const ok = query(rib, '8.8.8.8', { iif: ETH0, src: '10.67.0.1' });
    expect([ok.type, ok.port]).toEqual([RouteType.Unicast, ETH0]);
  });

  it('fwmark with a mask matches only the masked bits', () => {
    const rib = new Rib();
    rib.ensureTable(7).add(route('0.0.0.0', 0, TUN));
    rib.rules.add(rule({ priority: 5, mark: 0x10, markMask: 0xf0, table: 7 }));
    expect(query(rib, '1.2.3.4', { mark: 0x13 }).table).toBe(7);
    expect(query(rib, '1.2.3.4', { mark: 0xff13 }).table).toBe(7);
    expect(query(rib, '1.2.3.4', { mark: 0x23 }).type).toBe(RouteType.None);
    rib.rules.add(rule({ priority: 6, mark: 0x80000000, markMask: 0x80000000, table: 7 }));
    expect(query(rib, '1.2.3.4', { mark: 0x80000001 }).table).toBe(7);
  });

  it('a rule pointing at a table that does not exist yet never matches, and starts matching once it does', () => {
    const rib = new Rib();
    rib.rules.add(rule({ priority: 5, table: 9 }));
    expect(query(rib, '1.2.3.4').type).toBe(RouteType.None);
    rib.ensureTable(9).add(route('0.0.0.0', 0, TUN));
    expect(query(rib, '1.2.3.4').port).toBe(TUN);
  });

  it('IPv6: rules bound to a family by their prefixes; the next hop is copied out as words', () => {
    const rib = new Rib();
    const gw = parseIpv6('2001:db8:0:a0::1')!;
    rib.main.add({
      family: 6,
      dst: new Uint8Array(16),
      len: 0,
      type: RouteType.Unicast,
      port: ETH0,
      gateway: gw,
      metric: 1024,
    });
    const t = rib.ensureTable(6);
    t.add({
      family: 6,
      dst: new Uint8Array(16),
      len: 0,
      type: RouteType.Unicast,
      port: TUN,
      gateway: null,
      metric: 0,
    });
    rib.rules.add(rule({ priority: 10, from: parseIpv6('2001:db8:0:a1::')!, fromLen: 64, table: 6 }));
    rib.rules.add(rule({ priority: 11, to: ip('0.0.0.0'), toLen: 1, action: RuleAction.Blackhole }));
    const ctx = new RouteContext(rib);
    ctx.setDst6(parseIpv6('2606:4700::1111')!, 0);
    ctx.setSrc6(parseIpv6('2001:db8:0:a2::5')!, 0);
    expect(routeLookup6(ctx)).toBe(true);
    expect([ctx.port, ctx.table]).toEqual([ETH0, 254]);
    expect([...ctx.nexthop6]).toEqual([0x20010db8, 0x000000a0, 0, 1]);
    ctx.setSrc6(parseIpv6('2001:db8:0:a1::5')!, 0);
    routeLookup6(ctx);
    expect([ctx.port, ctx.table]).toEqual([TUN, 6]);
    expect([...ctx.nexthop6]).toEqual([0x26064700, 0, 0, 0x1111]);
  });
});

// ---- property: routeLookup agrees with a direct reading of the ip-rule/ip-route semantics ----

interface RefRoute {
  idx: number;
  a: number;
  len: number;
  type: RouteType;
  metric: number;
  seq: number;
}

const TABLE_IDS = [255, 254, 253, 10, 20];

function refLookup(
  rules: RuleSpec[],
  tables: Map<number, RefRoute[]>,
  dst: number,
  src: number,
  mark: number,
  iif: number,
) {
  const sorted = rules.map((r, k) => ({ r, k })).sort((x, y) => x.r.priority - y.r.priority || x.k - y.k);
  for (const { r } of sorted) {
    if (r.iif >= 0 && r.iif !== iif) continue;
    if (((mark ^ r.mark) & r.markMask) >>> 0 !== 0) continue;
    if (r.fromLen > 0 && ((src ^ (r.from as number)) & mask4(r.fromLen)) >>> 0 !== 0) continue;
    if (r.toLen > 0 && ((dst ^ (r.to as number)) & mask4(r.toLen)) >>> 0 !== 0) continue;
    if (r.action !== RuleAction.Lookup)
      return {
        type: [0, 0, RouteType.Blackhole, RouteType.Unreachable, RouteType.Prohibit][r.action],
        route: -1,
        priority: r.priority,
      };
    const rs = (tables.get(r.table) ?? []).filter((x) => ((dst ^ x.a) & mask4(x.len)) >>> 0 === 0);
    if (rs.length === 0) continue;
    const maxLen = Math.max(...rs.map((x) => x.len));
    const best = rs.filter((x) => x.len === maxLen).sort((x, y) => x.metric - y.metric || x.seq - y.seq)[0]!;
    if (best.type === RouteType.Throw) continue;
    return { type: best.type, route: best.idx, priority: r.priority };
  }
  return { type: RouteType.None, route: -1, priority: -1 };
}

const addr = fc.constantFrom(0x0a000000, 0x0a010000, 0x0a010200, 0xc0a80000, 0xc0a80101, 0x08080808, 0);
const plen = fc.constantFrom(0, 8, 16, 24, 32);

describe('policy routing against a reference model', () => {
  it('agrees on type, route, and matched rule for random rules, tables and packets', () => {
    const routeArb = fc.record({
      table: fc.constantFrom(...TABLE_IDS),
      a: addr,
      len: plen,
      type: fc.constantFrom(
        RouteType.Unicast,
        RouteType.Unicast,
        RouteType.Throw,
        RouteType.Blackhole,
        RouteType.Unreachable,
      ),
      metric: fc.constantFrom(0, 10, 100),
    });
    const ruleArb = fc.record({
      priority: fc.integer({ min: 1, max: 40000 }).filter((p) => p !== 32766 && p !== 32767),
      mark: fc.constantFrom(0, 1, 2, 0x10),
      markMask: fc.constantFrom(0, 0xffffffff, 0xf0, 0x0f),
      from: addr,
      fromLen: plen,
      to: addr,
      toLen: plen,
      iif: fc.constantFrom(-1, 0, 1),
      action: fc.constantFrom(
        RuleAction.Lookup,
        RuleAction.Lookup,
        RuleAction.Lookup,
        RuleAction.Blackhole,
        RuleAction.Prohibit,
      ),
      table: fc.constantFrom(...TABLE_IDS, 30),
      family: fc.constant(0 as const),
    });
    const pkt = fc.record({
      dst: addr,
      src: addr,
      mark: fc.constantFrom(0, 1, 2, 0x10, 0x12),
      iif: fc.constantFrom(-1, 0, 1),
    });
    fc.assert(
      fc.property(
        fc.array(routeArb, { maxLength: 25 }),
        fc.array(ruleArb, { maxLength: 6 }),
        fc.array(pkt, { minLength: 1, maxLength: 20 }),
        (routes, rules, pkts) => {
          const rib = new Rib();
          for (const id of [10, 20]) rib.ensureTable(id);
          const ref = new Map<number, RefRoute[]>();
          routes.forEach((r, seq) => {
            const list = ref.get(r.table) ?? [];
            if (
              list.some(
                (x) => x.len === r.len && ((x.a ^ r.a) & mask4(r.len)) >>> 0 === 0 && x.metric === r.metric,
              )
            )
              return;
            const idx = rib.table(r.table)!.add({
              family: 4,
              dst: r.a,
              len: r.len,
              type: r.type,
              port: r.type === RouteType.Unicast ? 1 : -1,
              gateway: null,
              metric: r.metric,
            });
            list.push({
              idx,
              a: (r.a & mask4(r.len)) >>> 0,
              len: r.len,
              type: r.type,
              metric: r.metric,
              seq,
            });
            ref.set(r.table, list);
          });
          const all = [
            rule({ priority: 0, table: 255 }),
            rule({ priority: 32766, table: 254 }),
            rule({ priority: 32767, table: 253 }),
            ...rules,
          ];
          for (const r of rules) rib.rules.add(r);
          const ctx = new RouteContext(rib);
          for (const p of pkts) {
            ctx.dst = p.dst;
            ctx.src = p.src;
            ctx.mark = p.mark;
            ctx.iif = p.iif;
            routeLookup(ctx);
            const want = refLookup(all, ref, p.dst, p.src, p.mark, p.iif);
            expect({
              type: ctx.type,
              route: ctx.route,
              priority: ctx.rule < 0 ? -1 : rib.rules.priority[ctx.rule],
            }).toEqual(want);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
