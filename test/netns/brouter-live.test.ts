/**
 * Seed 000's transparent brouter, live: ferry on AF_PACKET ports in a namespace with no kernel
 * addresses and forwarding off, between an "ISP router" and a LAN client that share one subnet.
 * The client reaches the ISP router (ping, HTTP) only because ferry answers ARP for each side on
 * the other (proxy-ARP, after learning which leg each host is on) and forwards between the legs.
 *
 *   ns isp: i0 192.168.0.1/24 ──veth── eth0 [ ferry: 192.168.0.125/24 ] eth1 ──veth── c0 192.168.0.53/24 :ns client
 *                                         (ns brouter: no addresses, ip_forward=0)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRouter } from '../../src/control/build-router.js';
import { parseConfig } from '../../src/control/config/loader.js';
import { LiveDriver } from '../../src/dataplane/engine/live-driver.js';
import { AfPacketPort } from '../../src/dataplane/io/afpacket-port.js';
import { NetnsSandbox, needsRoot } from '../helpers/netns.js';

const reason = needsRoot('python3', 'curl', 'ping');

const CONFIG = `
ports:
  - { name: eth0, kind: afpacket, addresses: [192.168.0.125/24], proxy-arp: true }
  - { name: eth1, kind: afpacket, addresses: [192.168.0.126/24], proxy-arp: true }
tables:
  main:
    - { to: default, via: 192.168.0.1, dev: eth0 }
`;

describe.skipIf(reason)('live brouter: proxy-ARP + forwarding between real hosts', () => {
  const sb = new NetnsSandbox();
  let isp = '';
  let client = '';
  let brouter = '';
  let ports: AfPacketPort[] = [];
  let driver: LiveDriver | null = null;

  beforeAll(async () => {
    isp = await sb.ns();
    client = await sb.ns();
    brouter = await sb.ns();
    await sb.veth(isp, 'i0', brouter, 'eth0', { offloadsOff: true });
    await sb.veth(brouter, 'eth1', client, 'c0', { offloadsOff: true });
    await sb.exec(isp, 'ip', ['addr', 'add', '192.168.0.1/24', 'dev', 'i0']);
    await sb.exec(client, 'ip', ['addr', 'add', '192.168.0.53/24', 'dev', 'c0']);
    await sb.exec(client, 'ip', ['route', 'add', 'default', 'via', '192.168.0.1']);
    await sb.exec(brouter, 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
    // A web server on the ISP router (loopback-free: bound to its LAN address).
    sb.spawn(isp, 'python3', [
      '-m',
      'http.server',
      '8000',
      '--bind',
      '192.168.0.1',
      '--directory',
      '/usr/share',
    ]);

    const cfg = parseConfig(CONFIG, 'brouter-live.yaml');
    ports = cfg.ports.map((p) => AfPacketPort.open({ ifname: p.name, netns: brouter }));
    const { engine } = buildRouter(cfg, ports);
    driver = new LiveDriver(engine, ports);
    driver.start();
    engine.announce(Date.now() / 1000);
    // The web server needs a moment to bind.
    for (let i = 0; i < 50; i++) {
      const r = await sb.exec(isp, 'curl', ['-s', '-o', '/dev/null', '-m', '1', 'http://192.168.0.1:8000/'], {
        reject: false,
      });
      if (r.exitCode === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
  }, 60_000);

  afterAll(async () => {
    driver?.stop();
    for (const p of ports) p.close();
    await sb.cleanup();
  });

  it('the client pings the ISP router across the brouter (ARP answered by proxy after side discovery)', async () => {
    // Linux retries ARP once a second: the first request teaches ferry to ask on eth0.
    const r = await sb.exec(client, 'ping', ['-c', '3', '-i', '0.3', '-W', '3', '192.168.0.1'], {
      reject: false,
    });
    expect(r.stdout).toMatch(/[1-3] received/);
    // What the client believes: the ISP router is at ferry's eth1 MAC.
    const eth1Mac = ports[1]!.link().mac;
    const neigh = await sb.exec(client, 'ip', ['neigh', 'show', '192.168.0.1']);
    expect(neigh.stdout).toContain(eth1Mac);
  }, 30_000);

  it('the ISP router pings the client back (proxy-ARP on the other leg), TTL decremented once', async () => {
    const r = await sb.exec(isp, 'ping', ['-c', '2', '-i', '0.3', '-W', '3', '192.168.0.53'], {
      reject: false,
    });
    expect(r.stdout).toMatch(/2 received/);
    expect(r.stdout).toMatch(/ttl=63/);
  }, 30_000);

  it('HTTP from the client to the ISP router works through ferry', async () => {
    const r = await sb.exec(client, 'curl', [
      '-s',
      '-m',
      '5',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      'http://192.168.0.1:8000/',
    ]);
    expect(r.stdout).toBe('200');
  }, 30_000);

  it('forwarding happened in ferry, not in the kernel (forwarding off, no addresses)', async () => {
    const fwd = await sb.exec(brouter, 'sysctl', ['-n', 'net.ipv4.ip_forward']);
    expect(String(fwd.stdout).trim()).toBe('0');
    const addrs = await sb.exec(brouter, 'ip', ['-4', 'addr', 'show', 'dev', 'eth0']);
    expect(addrs.stdout).not.toContain('inet ');
    expect(ports[0]!.stats.txPackets).toBeGreaterThan(3);
    expect(ports[1]!.stats.txPackets).toBeGreaterThan(3);
  });
});
