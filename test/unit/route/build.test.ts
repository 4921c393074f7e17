import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig as load } from '../../../src/control/config/loader.js';
import type { FerryConfig } from '../../../src/control/config/types.js';
import { buildRib } from '../../../src/dataplane/route/build.js';
import { RouteContext, routeLookup, routeLookup6 } from '../../../src/dataplane/route/lookup.js';
import { RouteType } from '../../../src/dataplane/route/store.js';
import { parseIpv4, parseIpv6 } from '../../../src/dataplane/wire/bytes.js';

const ip = (s: string) => parseIpv4(s)!;
const loadConfig = (rel: string) => load(fileURLToPath(new URL(`../../../${rel}`, import.meta.url)));
const portOf = (c: FerryConfig, name: string) => c.ports.findIndex((p) => p.name === name);

function lookup(c: FerryConfig, dst: string, mark = 0) {
  const ctx = new RouteContext(buildRib(c));
  ctx.dst = ip(dst);
  ctx.mark = mark;
  routeLookup(ctx);
  return { type: ctx.type, port: c.ports[ctx.port]?.name ?? null, nexthop: ctx.nexthop, table: ctx.table };
}

describe('routing built from the example configs', () => {
  it('brouter (seed 000): marked traffic to 192.168.1.0/24 goes to tailscale0, the rest to the ISP router', async () => {
    const c = await loadConfig('examples/brouter.yaml');
    expect(lookup(c, '192.168.1.30', 1)).toEqual({
      type: RouteType.Unicast,
      port: 'tailscale0',
      nexthop: ip('192.168.1.30'),
      table: 100,
    });
    expect(lookup(c, '192.168.1.30')).toEqual({
      type: RouteType.Unicast,
      port: 'eth0',
      nexthop: ip('192.168.0.1'),
      table: 254,
    });
    // The connected 192.168.0.0/24 exists on both legs; eth0's (first) is used until it goes away.
    expect(lookup(c, '192.168.0.53').port).toBe('eth0');
    expect(lookup(c, '192.168.0.126')).toMatchObject({ type: RouteType.Local, port: 'eth1', table: 255 });
    expect(lookup(c, '100.120.7.128')).toMatchObject({ type: RouteType.Local, port: 'tailscale0' });
  });

  it('dnat-vpn-return (seed 002): mark 42 returns through tun0, everything else via the home router', async () => {
    const c = await loadConfig('examples/dnat-vpn-return.yaml');
    expect(lookup(c, '198.51.100.20', 42)).toMatchObject({ port: 'tun0', table: 42 });
    expect(lookup(c, '198.51.100.20')).toMatchObject({
      port: 'eth0',
      nexthop: ip('192.168.100.1'),
      table: 254,
    });
    expect(lookup(c, '192.168.200.2')).toMatchObject({ port: 'tun0', table: 254 });
  });

  it('dual-wan (seed 003): the ISP tables start empty (DHCP fills them) so marked traffic finds no route yet', async () => {
    const c = await loadConfig('examples/dual-wan.yaml');
    expect(lookup(c, '1.1.1.1', 1).type).toBe(RouteType.None);
    expect(lookup(c, '10.100.0.53', 1)).toMatchObject({ port: 'brlan', table: 254 });
    const rib = buildRib(c);
    // The failover steering rule starts on the preferred WAN's table.
    const steer = rib.rules.list().find((r) => r.priority === 50000);
    expect(steer?.table).toBe(101);
    rib.table(101)!.add({
      family: 4,
      dst: 0,
      len: 0,
      type: RouteType.Unicast,
      port: portOf(c, 'brwan1'),
      gateway: ip('192.168.1.1'),
      metric: 0,
    });
    const ctx = new RouteContext(rib);
    ctx.dst = ip('1.1.1.1');
    ctx.mark = 0x10;
    routeLookup(ctx);
    expect([ctx.port, ctx.nexthop, rib.rules.priority[ctx.rule]]).toEqual([
      portOf(c, 'brwan1'),
      ip('192.168.1.1'),
      50000,
    ]);
  });

  it('bypass (seed 001): IPv6 default via the primary router, the LAN /64 is connected', async () => {
    const c = await loadConfig('examples/bypass.yaml');
    const ctx = new RouteContext(buildRib(c));
    ctx.setDst6(parseIpv6('2606:4700:4700::1111')!, 0);
    expect(routeLookup6(ctx)).toBe(true);
    expect(c.ports[ctx.port]!.name).toBe('wan');
    expect([...ctx.nexthop6]).toEqual([0x20010db8, 0x000000a0, 0, 1]);
    ctx.setDst6(parseIpv6('2001:db8:0:a1::42')!, 0);
    routeLookup6(ctx);
    expect(c.ports[ctx.port]!.name).toBe('lan');
    expect(ctx.type).toBe(RouteType.Unicast);
  });

  it('l2tp-broker (seed 004): the cjdns address is local, the rest of fc00::/8 is on tun0', async () => {
    const c = await loadConfig('examples/l2tp-broker.yaml');
    const ctx = new RouteContext(buildRib(c));
    ctx.setDst6(parseIpv6('fc12:3456:7890:1234:5678:9012:3456:7890')!, 0);
    routeLookup6(ctx);
    expect([ctx.type, c.ports[ctx.port]!.name]).toEqual([RouteType.Local, 'tun0']);
    ctx.setDst6(parseIpv6('fc98:7654:3210:9876:5432:1098:7654:3210')!, 0);
    routeLookup6(ctx);
    expect([ctx.type, c.ports[ctx.port]!.name]).toEqual([RouteType.Unicast, 'tun0']);
  });
});
