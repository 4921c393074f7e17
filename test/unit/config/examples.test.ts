import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/control/config/loader.js';
import { TABLE_MAIN } from '../../../src/control/config/types.js';
import { parseIpv4 } from '../../../src/dataplane/wire/bytes.js';

const dir = fileURLToPath(new URL('../../../examples/', import.meta.url));
const file = (name: string) => `${dir}${name}`;
const ip = (s: string) => parseIpv4(s)!;

describe('examples', () => {
  const names = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it('has one example per seed scenario', () => {
    expect(names).toEqual(
      expect.arrayContaining([
        'brouter.yaml',
        'bypass.yaml',
        'dnat-vpn-return.yaml',
        'dual-wan.yaml',
        'l2tp-broker.yaml',
      ]),
    );
  });

  it.each(names)('%s passes validation', async (name) => {
    await expect(loadConfig(file(name))).resolves.toMatchObject({ file: file(name) });
  });

  it('brouter.yaml is seed 000: proxy-ARP legs, fwmark 1 → table 100 → tailscale0, masquerade, relay', async () => {
    const c = await loadConfig(file('brouter.yaml'));
    const port = (n: string) => c.ports.findIndex((p) => p.name === n);
    expect(c.ports.map((p) => [p.name, p.kind, p.proxyArp, p.attach])).toEqual([
      ['eth0', 'afpacket', true, false],
      ['eth1', 'afpacket', true, false],
      ['tailscale0', 'tun', false, true],
      ['host', 'host', false, false],
    ]);
    expect(c.ports[port('eth0')]!.addresses).toEqual([{ family: 4, addr: ip('192.168.0.125'), len: 24 }]);
    expect(c.ports[port('eth1')]!.addresses).toEqual([{ family: 4, addr: ip('192.168.0.126'), len: 24 }]);
    expect(c.ports[port('tailscale0')]!.addresses).toEqual([
      { family: 4, addr: ip('100.120.7.128'), len: 32 },
    ]);
    expect(c.ports[port('host')]!.gateways).toEqual([{ family: 4, addr: ip('192.168.0.1') }]);

    expect(c.rules).toEqual([
      {
        priority: 32765,
        family: 0,
        fwmark: { value: 1, mask: 0xffffffff },
        from: null,
        to: null,
        iif: -1,
        action: 'lookup',
        table: 100,
      },
    ]);
    expect(c.tables.find((t) => t.id === 100)!.routes).toEqual([
      {
        to: { family: 4, addr: 0, len: 0 },
        via: null,
        port: port('tailscale0'),
        metric: 0,
        type: 'unicast',
        onlink: false,
      },
    ]);
    expect(c.tables.find((t) => t.id === TABLE_MAIN)!.routes).toEqual([
      {
        to: { family: 4, addr: 0, len: 0 },
        via: { family: 4, addr: ip('192.168.0.1') },
        port: port('eth0'),
        metric: 0,
        type: 'unicast',
        onlink: false,
      },
    ]);

    const mangle = c.chains.find((ch) => ch.name === 'mangle-prerouting')!;
    expect([mangle.hook, mangle.type, mangle.priority]).toEqual(['prerouting', 'filter', -150]);
    expect(mangle.rules[0]!.match.dst).toEqual({
      negate: false,
      set: -1,
      family: 4,
      prefixes: [{ family: 4, addr: ip('192.168.1.0'), len: 24 }],
    });
    expect(mangle.rules[0]!.actions).toEqual([{ kind: 'mark', value: 1, mask: 0xffffffff }]);
    const nat = c.chains.find((ch) => ch.name === 'nat-postrouting')!;
    expect([nat.hook, nat.type, nat.priority]).toEqual(['postrouting', 'nat', 100]);
    expect(nat.rules[0]!.match.oif).toEqual({ negate: false, ports: [port('tailscale0')] });
    expect(nat.rules[0]!.actions).toEqual([{ kind: 'masquerade' }]);

    expect(c.dhcpRelay).toEqual({
      listen: [port('eth1')],
      servers: [ip('192.168.0.1')],
      hopLimit: 10,
      option82: null,
    });
  });

  it('dual-wan.yaml is seed 003: connmark chains, three ISP rules, failover steering', async () => {
    const c = await loadConfig(file('dual-wan.yaml'));
    expect(c.rules.map((r) => [r.priority, r.fwmark?.value, r.table])).toEqual([
      [40001, 1, 101],
      [40002, 2, 102],
      [60001, 16, 101],
    ]);
    const dyn = c.chains.findIndex((ch) => ch.name === 'set-connmark-dynamic');
    expect(c.failover).toMatchObject({
      steerRule: { priority: 50000, fwmark: { value: 16 } },
      steerChain: dyn,
    });
    expect(
      c.failover!.wans.map((w) => [w.name, w.table, w.ctMark, w.check.interval, w.check.recoverAfter]),
    ).toEqual([
      ['isp1', 101, 1, 5000, 5],
      ['isp2', 102, 2, 5000, 5],
    ]);
    const dnat = c.chains.find((ch) => ch.name === 'nat-prerouting')!.rules[0]!;
    expect(dnat.match.dst?.set).toBe(c.sets.findIndex((s) => s.name === 'isp-local-ips'));
    expect(dnat.actions).toEqual([
      { kind: 'dnat', addr: { family: 4, addr: ip('10.100.0.53') }, ports: { min: 22000, max: 22000 } },
    ]);
    expect(c.ports.find((p) => p.name === 'brwan1')!.dhcp).toEqual({ table: 101 });
    expect(c.overlay.wireguard[0]).toMatchObject({ listenPort: 51820, peers: [{ keepalive: 0 }] });
  });

  it("l2tp-broker.yaml is seed 004: the exit side of the gist's tunnel, and the broker", async () => {
    const c = await loadConfig(file('l2tp-broker.yaml'));
    const t = c.l2tp!.tunnels[0]!;
    expect([t.tunnelId, t.peerTunnelId, t.encap]).toEqual([2000, 1000, 'ip']);
    expect([t.sessions[0]!.sessionId, t.sessions[0]!.peerSessionId, t.sessions[0]!.mtu]).toEqual([
      3000, 4000, 1280,
    ]);
    expect(c.l2tp!.broker).toMatchObject({
      tunnelIds: { min: 10000, max: 19999 },
      lease: 3_600_000,
      isolate: true,
    });
  });
});
