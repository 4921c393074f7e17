/**
 * ferry's DHCP client (src/control/dhcp-client) live against dnsmasq: ferry on an AF_PACKET port
 * in its own namespace (no kernel addresses) gets a lease for `wan1` into table wanisp1, renews it
 * at T1, and when the server goes away rebinds at T2 and, at expiry, removes address and routes.
 *
 *   ns srv: s0 192.168.0.1/24 (dnsmasq: 2 min lease — its minimum —, T1 8 s, T2 14 s, option 121)
 *      ──veth── wan1 [ ferry: dhcp { table: wanisp1 } ]   (ns fy: no addresses, ip_forward=0)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRouter } from '../../src/control/build-router.js';
import { parseConfig } from '../../src/control/config/loader.js';
import type { DhcpClients, DhcpEvent } from '../../src/control/dhcp-client/index.js';
import { LiveDriver } from '../../src/dataplane/engine/live-driver.js';
import type { RouterEngine } from '../../src/dataplane/engine/router-engine.js';
import { AfPacketPort } from '../../src/dataplane/io/afpacket-port.js';
import type { Rib } from '../../src/dataplane/route/rib.js';
import { formatIpv4, parseIpv4 } from '../../src/dataplane/wire/bytes.js';
import { startDnsmasq } from '../helpers/dnsmasq.js';
import { NetnsSandbox, needsRoot } from '../helpers/netns.js';

const reason = needsRoot('dnsmasq', 'ping', 'ethtool');

const CONFIG = `
ports:
  - { name: wan1, kind: afpacket, dhcp: { client: true, table: wanisp1 } }
tables:
  wanisp1: { id: 101, routes: [] }
rules:
  # The lease's routes live only in wanisp1 (seed 003); ferry's own replies to the WAN subnet
  # (the ping below) find them through this rule, as the article's marked traffic does.
  - { priority: 1000, to: 192.168.0.0/24, table: wanisp1 }
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  for (let t = 0; t < ms; t += 100) {
    if (cond()) return true;
    await sleep(100);
  }
  return cond();
}

const ip = (s: string) => parseIpv4(s)!;

describe.skipIf(reason)('live DHCP client: ferry ↔ dnsmasq', () => {
  const sb = new NetnsSandbox();
  let srv = '';
  let fy = '';
  let dir = '';
  let ports: AfPacketPort[] = [];
  let driver: LiveDriver | null = null;
  let engine: RouterEngine | null = null;
  let rib: Rib | null = null;
  let clients: DhcpClients | null = null;
  const events: DhcpEvent[] = [];
  const kinds = () => events.map((e) => e.kind);
  const log = () => {
    try {
      return readFileSync(join(dir, 'dnsmasq.log'), 'utf8');
    } catch {
      return '';
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-dhcpc-'));
    srv = await sb.ns();
    fy = await sb.ns();
    await sb.veth(srv, 's0', fy, 'wan1', { offloadsOff: true });
    await sb.exec(srv, 'ip', ['addr', 'add', '192.168.0.1/24', 'dev', 's0']);
    await sb.exec(fy, 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
    startDnsmasq(
      sb,
      srv,
      's0',
      dir,
      [
        '--dhcp-range=192.168.0.100,192.168.0.150,255.255.255.0,2m',
        '--dhcp-option=option:router,192.168.0.1',
        '--dhcp-option=option:T1,8',
        '--dhcp-option=option:T2,14',
        '--dhcp-option=option:classless-static-route,10.9.0.0/16,192.168.0.1,0.0.0.0/0,192.168.0.1',
      ],
      300_000,
    );
    if (!(await waitFor(() => /started/.test(log()), 10_000))) throw new Error('dnsmasq did not start');

    const cfg = parseConfig(CONFIG, 'dhcp-client-live.yaml');
    ports = cfg.ports.map((p) => AfPacketPort.open({ ifname: p.name, netns: fy }));
    const built = buildRouter(cfg, ports, {
      dhcpClient: {
        startDelay: [0, 0.5],
        // Retransmit every few seconds while renewing/rebinding so the test sees them in its window.
        minRenewRetransmit: 2,
        leaseFile: () => join(dir, 'state', 'dhcp-wan1.json'),
        onEvent: (e) => events.push(e),
      },
    });
    engine = built.engine;
    rib = built.routes.rib;
    clients = built.dhcpClients;
    driver = new LiveDriver(engine, ports);
    driver.start();
  }, 60_000);

  afterAll(async () => {
    driver?.stop();
    for (const p of ports) p.close();
    await sb.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('gets a lease: address on wan1, connected route and option 121 routes in wanisp1 (option 3 ignored)', async () => {
    expect(await waitFor(() => kinds().includes('bound'), 20_000)).toBe(true);
    const lease = clients!.client('wan1')!.lease!;
    expect(lease.address >>> 8).toBe(ip('192.168.0.0') >>> 8);
    expect(lease.address & 255).toBeGreaterThanOrEqual(100);
    expect(lease.address & 255).toBeLessThanOrEqual(150);
    expect(engine!.ctx.local.find(lease.address)).toBeGreaterThanOrEqual(0);
    const t = rib!.table(101)!;
    expect(t.v4.get(ip('192.168.0.0'), 24)).toBeGreaterThanOrEqual(0);
    const net = t.v4.get(ip('10.9.0.0'), 16);
    expect(rib!.store.gw4[net]).toBe(ip('192.168.0.1'));
    const def = t.v4.get(0, 0);
    expect(rib!.store.gw4[def]).toBe(ip('192.168.0.1'));
    expect(rib!.store.next[def]).toBe(-1);
    // dnsmasq agrees, and the persisted lease names the address.
    expect(readFileSync(join(dir, 'dnsmasq.leases'), 'utf8')).toContain(formatIpv4(lease.address));
    expect(readFileSync(join(dir, 'state', 'dhcp-wan1.json'), 'utf8')).toContain(formatIpv4(lease.address));
    // The address answers: the server pings ferry.
    const r = await sb.exec(srv, 'ping', ['-c', '2', '-i', '0.3', '-W', '3', formatIpv4(lease.address)], {
      reject: false,
    });
    expect(r.stdout).toMatch(/[12] received/);
  }, 40_000);

  it('renews at T1 (unicast REQUEST, dnsmasq ACKs)', async () => {
    expect(await waitFor(() => kinds().includes('renewed'), 20_000)).toBe(true);
    const c = clients!.client('wan1')!;
    expect(c.state).toBe('bound');
    expect(log()).toMatch(
      /DHCPREQUEST\(s0\)[\s\S]*DHCPACK\(s0\)[\s\S]*DHCPREQUEST\(s0\)[\s\S]*DHCPACK\(s0\)/,
    );
  }, 30_000);

  it('server gone: rebinding broadcasts after T2, then expiry removes address and routes', async () => {
    const c = clients!.client('wan1')!;
    const pid = readFileSync(join(dir, 'dnsmasq.pid'), 'utf8').trim();
    await sb.exec(srv, 'kill', [pid]);
    expect(await waitFor(() => c.state === 'rebinding', 30_000)).toBe(true);
    const addr = c.lease!.address;
    expect(await waitFor(() => kinds().includes('expired'), 130_000)).toBe(true);
    expect(c.counters.sent.REQUEST).toBeGreaterThan(4);
    expect(engine!.ctx.local.find(addr)).toBe(-1);
    const t = rib!.table(101)!;
    expect(t.v4.get(0, 0)).toBe(-1);
    expect(t.v4.get(ip('10.9.0.0'), 16)).toBe(-1);
    expect(t.v4.get(ip('192.168.0.0'), 24)).toBe(-1);
    expect(events.find((e) => e.kind === 'expired')!.text).toMatch(/expired.*removed/);
    // Back to INIT: DISCOVERs go out again.
    expect(await waitFor(() => c.state === 'selecting', 5_000)).toBe(true);
  }, 180_000);
});
