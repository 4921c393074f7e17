import { describe, expect, it } from 'vitest';
import { type RouteSpec, RouteStore, RouteType } from '../../../src/dataplane/route/store.js';
import { RouteExistsError, RoutingTable } from '../../../src/dataplane/route/table.js';
import { parseIpv4, parseIpv6 } from '../../../src/dataplane/wire/bytes.js';

const ip = (s: string) => parseIpv4(s)!;

function v4(dst: string, len: number, port: number, metric = 0, gateway: string | null = null): RouteSpec {
  return {
    family: 4,
    dst: ip(dst),
    len,
    type: RouteType.Unicast,
    port,
    gateway: gateway ? ip(gateway) : null,
    metric,
  };
}

describe('RoutingTable', () => {
  it('the lowest metric wins; deleting it exposes the next (fib aliases)', () => {
    const store = new RouteStore(2);
    const t = new RoutingTable(254, 'main', store);
    const a = t.add(v4('0.0.0.0', 0, 1, 100, '192.168.1.1'));
    const b = t.add(v4('0.0.0.0', 0, 2, 50, '192.168.2.1'));
    const c = t.add(v4('0.0.0.0', 0, 3, 200, '192.168.3.1'));
    expect(t.v4.lookup(ip('1.1.1.1'))).toBe(b);
    expect(t.size).toBe(3);
    t.remove(b);
    expect(t.v4.lookup(ip('1.1.1.1'))).toBe(a);
    t.remove(c);
    expect(t.v4.lookup(ip('1.1.1.1'))).toBe(a);
    t.remove(a);
    expect(t.v4.lookup(ip('1.1.1.1'))).toBe(-1);
    expect(store.count).toBe(0);
  });

  it('refuses a second route with the same prefix and metric, unless appended behind the first', () => {
    const store = new RouteStore();
    const t = new RoutingTable(254, 'main', store);
    const eth0 = t.add(v4('192.168.0.0', 24, 0));
    expect(() => t.add(v4('192.168.0.0', 24, 1))).toThrow(RouteExistsError);
    const eth1 = t.add(v4('192.168.0.0', 24, 1), true);
    expect(t.v4.lookup(ip('192.168.0.3'))).toBe(eth0);
    t.remove(eth0);
    expect(t.v4.lookup(ip('192.168.0.3'))).toBe(eth1);
  });

  it('stores entry fields in the typed arrays and masks host bits', () => {
    const store = new RouteStore();
    const t = new RoutingTable(100, '100', store);
    const r = t.add(v4('10.1.2.3', 8, 4, 7, '192.168.0.1'));
    expect(store.dst4[r]).toBe(ip('10.0.0.0'));
    expect(store.port[r]).toBe(4);
    expect(store.metric[r]).toBe(7);
    expect(store.gw4[r]).toBe(ip('192.168.0.1'));
    expect(store.hasGw[r]).toBe(1);
    expect(store.table[r]).toBe(100);
    expect(t.find(4, ip('10.0.0.0'), 8, 7)).toBe(r);
    expect(t.find(4, ip('10.0.0.0'), 8, 8)).toBe(-1);
  });

  it('IPv6 routes, and removing a route that is not the head of its chain', () => {
    const store = new RouteStore();
    const t = new RoutingTable(254, 'main', store);
    const dst = parseIpv6('2001:db8:0:a1::')!;
    const base = { family: 6 as const, dst, len: 64, type: RouteType.Unicast, gateway: null };
    const a = t.add({ ...base, port: 1, metric: 256 });
    const b = t.add({ ...base, port: 2, metric: 1024 });
    t.remove(b);
    expect(t.v6.lookupBytes(parseIpv6('2001:db8:0:a1::5')!)).toBe(a);
    expect(() => t.remove(b)).toThrow(RangeError);
  });

  it('refuses to remove a route of another table', () => {
    const store = new RouteStore();
    const t1 = new RoutingTable(1, 'a', store);
    const t2 = new RoutingTable(2, 'b', store);
    const r = t1.add(v4('10.0.0.0', 8, 0));
    expect(() => t2.remove(r)).toThrow(RangeError);
  });
});
