/**
 * Seed 000's DHCP relay, live, against real DHCP software only: dnsmasq serves leases on the
 * "ISP router", busybox udhcpc and ISC dhclient ask for them from two LAN namespaces, and ferry —
 * AF_PACKET ports, no kernel addresses, ip_forward=0 — relays between them (RFC 1542 §4, RFC
 * 2131 §4.1) and then forwards the clients' traffic as the brouter (proxy-ARP + host routes
 * learned from the relayed DHCPACKs).
 *
 *   ns srv: s0 192.168.0.1/24 (dnsmasq) ──veth── eth0 [ ferry 192.168.0.125/24 ]
 *                                                eth1 [ ferry 192.168.0.126/24 ] ──veth── c0 (udhcpc)  :ns c1
 *                                                eth2 [ ferry 192.168.0.127/24 ] ──veth── c0 (dhclient):ns c2
 *   dhcp-relay: { listen: [eth1, eth2], servers: [192.168.0.1] }
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRouter } from '../../src/control/build-router.js';
import { parseConfig } from '../../src/control/config/loader.js';
import type { DhcpRelay } from '../../src/dataplane/dhcp-relay/index.js';
import { LiveDriver } from '../../src/dataplane/engine/live-driver.js';
import type { RouterEngine } from '../../src/dataplane/engine/router-engine.js';
import { AfPacketPort } from '../../src/dataplane/io/afpacket-port.js';
import { startDnsmasq } from '../helpers/dnsmasq.js';
import { NetnsSandbox, needsRoot } from '../helpers/netns.js';

const reason = needsRoot('dnsmasq', 'udhcpc', 'dhclient', 'python3', 'ping', 'ethtool');

const CONFIG = `
ports:
  - { name: eth0, kind: afpacket, addresses: [192.168.0.125/24], proxy-arp: true }
  - { name: eth1, kind: afpacket, addresses: [192.168.0.126/24], proxy-arp: true }
  - { name: eth2, kind: afpacket, addresses: [192.168.0.127/24], proxy-arp: true }
dhcp-relay: { listen: [eth1, eth2], servers: [192.168.0.1] }
`;

const UDHCPC_SCRIPT = resolve('scripts/fixtures/udhcpc-script.sh');
const DHCLIENT_SCRIPT = resolve('scripts/fixtures/dhclient-script.sh');
/** The leased range: 192.168.0.100–150. */
const LEASED = /inet (192\.168\.0\.1(?:[0-4]\d|50))\/24/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 100 ms for at most `ms`; returns whether it became true. */
async function waitFor(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (let t = 0; t < ms; t += 100) {
    if (await cond()) return true;
    await sleep(100);
  }
  return cond();
}

function relayDrops(engine: RouterEngine): number {
  let n = 0;
  for (const [k, v] of Object.entries(engine.drops())) if (k.startsWith('dhcp-relay-')) n += v;
  return n;
}

describe.skipIf(reason)('live DHCP relay: dnsmasq ↔ ferry ↔ udhcpc / dhclient', () => {
  const sb = new NetnsSandbox();
  let srv = '';
  let fy = '';
  let c1 = '';
  let c2 = '';
  let dir = '';
  let ports: AfPacketPort[] = [];
  let driver: LiveDriver | null = null;
  let engine: RouterEngine | null = null;
  let relay: DhcpRelay | null = null;
  let udhcpc: ReturnType<NetnsSandbox['spawn']> | null = null;
  let mac1 = '';
  let mac2 = '';
  let dhclientArgs: string[] = [];

  const leases = () => {
    try {
      return readFileSync(join(dir, 'dnsmasq.leases'), 'utf8');
    } catch {
      return '';
    }
  };
  const log = () => readFileSync(join(dir, 'dnsmasq.log'), 'utf8');
  const events = () => {
    try {
      return readFileSync(join(dir, 'udhcpc.events'), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  const leasedAddr = async (ns: string): Promise<string | null> => {
    const r = await sb.exec(ns, 'ip', ['-4', 'addr', 'show', 'dev', 'c0']);
    return LEASED.exec(String(r.stdout))?.[1] ?? null;
  };
  const runDhclient = () =>
    sb.exec(c2, 'timeout', ['20', 'dhclient', '-1', ...dhclientArgs], { reject: false, timeout: 25_000 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-relay-'));
    srv = await sb.ns();
    fy = await sb.ns();
    c1 = await sb.ns();
    c2 = await sb.ns();
    await sb.veth(srv, 's0', fy, 'eth0', { offloadsOff: true });
    await sb.veth(fy, 'eth1', c1, 'c0', { offloadsOff: true });
    await sb.veth(fy, 'eth2', c2, 'c0', { offloadsOff: true });
    mac1 = await sb.mac(c1, 'c0');
    mac2 = await sb.mac(c2, 'c0');
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
      ],
      300_000,
    );
    const up = await waitFor(() => {
      try {
        return /started/.test(log());
      } catch {
        return false;
      }
    }, 10_000);
    if (!up) throw new Error('dnsmasq did not start');

    const cfg = parseConfig(CONFIG, 'dhcp-relay-live.yaml');
    ports = cfg.ports.map((p) => AfPacketPort.open({ ifname: p.name, netns: fy }));
    ({ engine, relay } = buildRouter(cfg, ports));
    driver = new LiveDriver(engine, ports);
    driver.start();
    engine.announce(Date.now() / 1000);

    writeFileSync(
      join(dir, 'dhclient.conf'),
      'send host-name "ferry-relay-live";\nrequest subnet-mask, broadcast-address, routers;\n',
    );
    dhclientArgs = [
      '-cf',
      join(dir, 'dhclient.conf'),
      '-lf',
      join(dir, 'dhclient.leases'),
      '-pf',
      join(dir, 'dhclient.pid'),
      '-sf',
      DHCLIENT_SCRIPT,
      'c0',
    ];
  }, 60_000);

  afterAll(async () => {
    try {
      if (c2) {
        await sb.exec(c2, 'timeout', ['5', 'dhclient', '-x', ...dhclientArgs], {
          reject: false,
          timeout: 10_000,
        });
      }
    } finally {
      driver?.stop();
      for (const p of ports) p.close();
      await sb.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('udhcpc and dhclient, at once on two relayed ports, both get a lease from dnsmasq', async () => {
    // -R: release on exit; -t/-T/-A: bounded retries. Runs in the foreground until the test ends it.
    udhcpc = sb.spawn(
      c1,
      'udhcpc',
      ['-f', '-R', '-t', '5', '-T', '2', '-A', '1', '-i', 'c0', '-s', UDHCPC_SCRIPT],
      {
        env: { FIXTURE_EVENTS: join(dir, 'udhcpc.events') },
        timeout: 300_000,
      },
    );
    // dhclient -1: one attempt, backgrounds itself once bound.
    const dh = await runDhclient();
    expect(dh.exitCode, String(dh.stderr)).toBe(0);
    expect(await waitFor(() => events().includes('bound'), 20_000)).toBe(true);

    const a1 = await leasedAddr(c1);
    const a2 = await leasedAddr(c2);
    expect(a1).not.toBeNull();
    expect(a2).not.toBeNull();
    expect(a1).not.toBe(a2);
    // dnsmasq saw both through the relay: its lease file names both clients.
    expect(leases()).toContain(mac1);
    expect(leases()).toContain(mac2);
    expect(leases()).toContain(a1!);
    expect(leases()).toContain(a2!);
    // Relayed by ferry: DISCOVER and REQUEST of both clients went up, OFFER and ACK came down, and
    // both ACKs taught the brouter where the clients live.
    const c = relay!.counters.snapshot();
    expect(c['request-DISCOVER']).toBeGreaterThanOrEqual(2);
    expect(c['request-REQUEST']).toBeGreaterThanOrEqual(2);
    expect(c['reply-OFFER']).toBeGreaterThanOrEqual(2);
    expect(c['reply-ACK']).toBeGreaterThanOrEqual(2);
    expect(c['learned-host-routes']).toBeGreaterThanOrEqual(2);
    expect(relayDrops(engine!)).toBe(0);
  }, 60_000);

  it('after the lease, both clients ping the server through ferry (learned host routes + proxy-ARP)', async () => {
    for (const ns of [c1, c2]) {
      const r = await sb.exec(ns, 'ping', ['-c', '3', '-i', '0.3', '-W', '3', '192.168.0.1'], {
        reject: false,
      });
      expect(r.stdout).toMatch(/[1-3] received/);
    }
    // The server reaches the clients back (ferry answers ARP for them on eth0).
    const a1 = await leasedAddr(c1);
    const r = await sb.exec(srv, 'ping', ['-c', '2', '-i', '0.3', '-W', '3', a1!], { reject: false });
    expect(r.stdout).toMatch(/[12] received/);
    expect(r.stdout).toMatch(/ttl=63/);
  }, 60_000);

  it('udhcpc renews its lease (SIGUSR1: unicast DHCPREQUEST, forwarded by ferry, ACKed)', async () => {
    const acksBefore = (log().match(new RegExp(`DHCPACK\\([^)]*\\) \\S+ ${mac1}`, 'g')) ?? []).length;
    expect(acksBefore).toBeGreaterThan(0);
    udhcpc!.kill('SIGUSR1');
    expect(await waitFor(() => events().includes('renew'), 15_000)).toBe(true);
    const acksAfter = (log().match(new RegExp(`DHCPACK\\([^)]*\\) \\S+ ${mac1}`, 'g')) ?? []).length;
    expect(acksAfter).toBeGreaterThan(acksBefore);
    expect(await leasedAddr(c1)).not.toBeNull();
  }, 30_000);

  it('a burst of garbage to UDP 67 is dropped and counted; the relay keeps serving', async () => {
    const before = relayDrops(engine!);
    const N = 40;
    // Broadcast garbage from the leased client: lengths 1..N (all shorter than a BOOTP header).
    const py = [
      'import socket, time, os',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
      's.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)',
      "s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'c0')",
      `for i in range(1, ${N + 1}):`,
      "    s.sendto(os.urandom(i), ('255.255.255.255', 67))",
      '    time.sleep(0.005)',
    ].join('\n');
    await sb.exec(c1, 'python3', ['-c', py]);
    expect(await waitFor(() => relayDrops(engine!) - before >= N, 5_000)).toBe(true);
    expect(relayDrops(engine!) - before).toBe(N);
    expect(engine!.drops()['dhcp-relay-truncated'] ?? 0).toBeGreaterThanOrEqual(N);

    // Still relaying: dhclient releases (unicast DHCPRELEASE through ferry) and starts over with a
    // full DISCOVER/OFFER/REQUEST/ACK through the relay.
    const rel = await sb.exec(c2, 'timeout', ['10', 'dhclient', '-r', ...dhclientArgs], {
      reject: false,
      timeout: 15_000,
    });
    expect(rel.exitCode, String(rel.stderr)).toBe(0);
    expect(await waitFor(() => !leases().includes(mac2), 10_000)).toBe(true);
    expect(log()).toMatch(new RegExp(`DHCPRELEASE\\(s0\\) \\S+ ${mac2}`));
    expect(await leasedAddr(c2)).toBeNull();

    const again = await runDhclient();
    expect(again.exitCode, String(again.stderr)).toBe(0);
    expect(await leasedAddr(c2)).not.toBeNull();
    expect(leases()).toContain(mac2);
  }, 60_000);

  it('udhcpc releases on exit (-R): dnsmasq forgets the lease', async () => {
    expect(leases()).toContain(mac1);
    udhcpc!.kill('SIGTERM');
    await Promise.race([udhcpc, sleep(5000)]);
    expect(await waitFor(() => !leases().includes(mac1), 10_000)).toBe(true);
    expect(log()).toMatch(new RegExp(`DHCPRELEASE\\(s0\\) \\S+ ${mac1}`));
    expect(relayDrops(engine!)).toBe(40);
  }, 30_000);
});
