/**
 * Seed 000 end to end, live: the real `ferry run -c examples/brouter.yaml` (a subprocess) on a
 * brouter namespace whose kernel has no address on its legs and forwarding off, between an ISP
 * router (dnsmasq, masquerade to the Internet), a LAN client (udhcpc), and the parents' site
 * behind WireGuard (wireguard-go on both ends; the brouter's is tailscaled's part, its UDP
 * carried by ferry's host port). The topology is scripts/seed000/topology.ts, the same one
 * `npm run demo` shows.
 *
 * Checked: the client's lease comes from dnsmasq through ferry's relay (giaddr 192.168.0.126 on
 * the ISP router's wire); it pings the ISP router and a host beyond it; it fetches Jellyfin's page
 * over the overlay and the parents' side sees only 100.120.7.128; the box's own traffic goes out
 * through the host port; `ferry status` shows the relay's counters and the flows; after SIGTERM, ferry has removed its TAP and routes and restored the
 * sysctls it changed.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BEYOND_ISP,
  BROUTER_ETH0,
  GIADDR,
  HOST_TAP,
  ISP_LAN,
  inLeaseRange,
  TAILSCALE_ADDR,
} from '../../scripts/seed000/addresses.js';
import { type FerryProcess, startFerry } from '../../scripts/seed000/ferry-process.js';
import {
  brouterKernel,
  dhcpOnIspWire,
  fetchJellyfin,
  type Lease,
  obtainLease,
  ping,
  remoteView,
} from '../../scripts/seed000/scenario.js';
import { SEED000_TOOLS } from '../../scripts/seed000/tools.js';
import { buildTopology, type Topology } from '../../scripts/seed000/topology.js';
import type { StatusSnapshot } from '../../src/control/status/types.js';
import { needsRoot } from '../helpers/netns.js';

const reason = needsRoot(...SEED000_TOOLS);

/** The sysctls `ferry run` sets on the NICs it owns (host-setup.ts quietKernelOn), and must restore. */
const QUIET_SYSCTLS = ['eth0', 'eth1'].flatMap((d) => [
  `net.ipv4.conf.${d}.arp_ignore`,
  `net.ipv4.conf.${d}.rp_filter`,
]);

describe.skipIf(reason)('seed 000 live: `ferry run -c examples/brouter.yaml` between real hosts', () => {
  let topo: Topology | null = null;
  let ferry: FerryProcess | null = null;
  let lease: Lease | null = null;
  const sysctlsBefore: string[] = [];

  const sysctls = async (t: Topology) =>
    String((await t.exec(t.ns.brouter, 'sysctl', ['-n', ...QUIET_SYSCTLS])).stdout)
      .trim()
      .split('\n');

  /** What to look at when the client's traffic goes nowhere: its neighbours and ferry's status. */
  const clientView = async () => {
    const neigh = await topo!.exec(topo!.ns.client, 'ip', ['neigh'], { reject: false });
    const st = await ferry!.cli(['status']);
    return `client's neighbours:\n${neigh.stdout}\nferry status:\n${st.stdout}${st.stderr}`;
  };

  beforeAll(async () => {
    topo = await buildTopology({ lifetimeMs: 90_000 });
    sysctlsBefore.push(...(await sysctls(topo)));
    ferry = await startFerry(topo);
  }, 45_000);

  afterAll(async () => {
    try {
      await ferry?.stop();
    } finally {
      await topo?.teardown();
    }
  }, 30_000);

  it("the brouter's kernel: no address on eth0/eth1, forwarding off, 192.168.0.125 only on ferry's TAP", async () => {
    const k = await brouterKernel(topo!);
    expect(k.ipForward).toBe('0');
    expect(k.hostTap).toBe(true);
    const withAddr = k.addresses
      .split('\n')
      .filter((l) => /\d+\.\d+\.\d+\.\d+\//.test(l))
      .map((l) => l.split(/\s+/)[0]);
    expect(withAddr.sort()).toEqual([HOST_TAP, 'lo'].sort());
    expect(k.addresses).toContain(`${BROUTER_ETH0}/24`);
    expect(k.routes).toMatch(new RegExp(`^default via ${ISP_LAN} dev ${HOST_TAP}`, 'm'));
    // ferry quietened the kernel on the NICs it owns (the TAP's address is also ferry's, on their MACs).
    expect(await sysctls(topo!)).toEqual(['8', '1', '8', '1']);
  });

  it('the client gets a lease from dnsmasq through the relay (giaddr 192.168.0.126)', async () => {
    lease = await obtainLease(topo!);
    expect(inLeaseRange(lease.address), lease.address).toBe(true);
    expect(lease.prefixLen).toBe(24);
    expect(lease.router).toBe(ISP_LAN);
    expect(lease.serverId).toBe(ISP_LAN);
    expect(lease.ipAddr).toContain(`${lease.address}/24`);
    expect(lease.ipRoute).toMatch(new RegExp(`^default via ${ISP_LAN} dev c0`, 'm'));
    // On the ISP router's wire: requests relayed from ferry's eth0 address with giaddr = eth1's,
    // replies unicast back to the relay (RFC 2131 §4.1) — none of it broadcast from the client.
    const wire = await dhcpOnIspWire(topo!);
    const requests = wire.filter((w) => w.kind === 'Request');
    const replies = wire.filter((w) => w.kind === 'Reply');
    expect(requests.map((w) => w.messageType)).toEqual(expect.arrayContaining(['Discover', 'Request']));
    expect(replies.map((w) => w.messageType)).toEqual(expect.arrayContaining(['Offer', 'ACK']));
    for (const w of requests) expect([w.src, w.dst, w.gatewayIp]).toEqual([BROUTER_ETH0, ISP_LAN, GIADDR]);
    for (const w of replies) expect([w.src, w.dst]).toEqual([ISP_LAN, GIADDR]);
  }, 30_000);

  it('the client pings the ISP router and a host beyond it', async () => {
    expect(lease).not.toBeNull();
    for (const addr of [ISP_LAN, BEYOND_ISP]) {
      const p = await ping(topo!, topo!.ns.client, addr);
      if (p.received < 2) expect.fail(`${p.output}\n${await clientView()}`);
    }
  }, 30_000);

  it("the client fetches Jellyfin's page over the overlay; the parents' side sees only 100.120.7.128", async () => {
    expect(lease).not.toBeNull();
    const f = await fetchJellyfin(topo!);
    if (f.error) expect.fail(`${f.error}\n${await clientView()}`);
    expect(f.status).toBe(200);
    expect(f.body).toBe(topo!.webBody);
    const remote = await remoteView(topo!);
    expect(remote.webClients).toEqual([TAILSCALE_ADDR]);
    expect(remote.tunSources).toEqual([TAILSCALE_ADDR]);
    expect(remote.tunDump.join('\n')).not.toContain(lease!.address);
  }, 30_000);

  it("the box's own traffic goes through the host port: ping, and wireguard-go's handshake", async () => {
    for (const addr of [ISP_LAN, BEYOND_ISP]) {
      const p = await ping(topo!, topo!.ns.brouter, addr);
      expect(p.received, p.output).toBeGreaterThanOrEqual(2);
    }
    // The tunnel came up with its UDP going kernel → ferry0 → ferry → eth0 (the only way out).
    expect((await brouterKernel(topo!)).latestHandshake).toBeGreaterThan(0);
  }, 30_000);

  it('`ferry status` over the control socket: the relayed exchange, the client learned on eth1, the masquerade', async () => {
    const r = await ferry!.cli(['status', '--json']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const st = JSON.parse(String(r.stdout)) as StatusSnapshot;
    const relayed = (type: string, direction: string) =>
      st.dhcpRelay?.messages.find((m) => m.type === type && m.direction === direction)?.count ?? 0;
    expect(relayed('DISCOVER', 'to-server')).toBeGreaterThanOrEqual(1);
    expect(relayed('REQUEST', 'to-server')).toBeGreaterThanOrEqual(1);
    expect(relayed('OFFER', 'to-client')).toBeGreaterThanOrEqual(1);
    expect(relayed('ACK', 'to-client')).toBeGreaterThanOrEqual(1);
    expect(st.neighbours).toContainEqual(expect.objectContaining({ address: lease!.address, port: 'eth1' }));
    expect(st.conntrack?.natBindings).toBeGreaterThanOrEqual(1);
    expect(st.portErrors).toEqual([]);
  }, 20_000);

  it('SIGTERM: ferry exits 0, its TAP, routes and control socket are gone, the sysctls are back', async () => {
    const r = await ferry!.stop();
    expect(r.exitCode).toBe(0);
    expect(ferry!.log.at(-1)?.msg).toBe('stopped');
    expect(ferry!.log.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
    const k = await brouterKernel(topo!);
    expect(k.hostTap).toBe(false);
    expect(k.routes).toBe('');
    expect(k.addresses).not.toContain(BROUTER_ETH0);
    expect(await sysctls(topo!)).toEqual(sysctlsBefore);
    expect(existsSync(ferry!.control)).toBe(false);
  }, 20_000);
});
