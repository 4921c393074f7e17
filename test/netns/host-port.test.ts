/**
 * The host port live (host-delivery.ts): in a "box" namespace with kernel forwarding off, ferry
 * runs on an AF_PACKET port on a veth (its NIC) and gives the kernel a TAP (made with the addon)
 * carrying the box's address, 10.77.0.125/24, which is also the NIC port's address, with a
 * default route via the gateway 10.77.0.1 -- the brouter's shape. A peer namespace on the veth
 * pings the box (ferry answers) and fetches a page from an HTTP server bound in the box's kernel
 * stack (ferry delivers to the TAP and carries the replies out); the box pings the peer (its own
 * traffic out through ferry, the echo replies back in through the TAP).
 *
 *   ns peer: p0 10.77.0.1 <-veth-> f0 [ferry: eth0 10.77.0.125 | host ──TAP── kernel 10.77.0.125] :ns box
 *
 * As with linux-cp, where the kernel never sees the NIC (DPDK owns it), the box's kernel must not
 * answer on f0 itself (it would: Linux accepts packets for any of its addresses on any interface,
 * RFC 1122's weak host model, and ferry's NIC port shares f0's MAC). f0 has no address, never
 * answers ARP and drops by strict reverse-path filtering; the AF_PACKET socket still gets every
 * frame.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRouter } from '../../src/control/build-router.js';
import { parseConfig } from '../../src/control/config/loader.js';
import { LiveDriver } from '../../src/dataplane/engine/live-driver.js';
import { AfPacketPort } from '../../src/dataplane/io/afpacket-port.js';
import { TunPort } from '../../src/dataplane/io/tun-port.js';
import { NetnsSandbox, needsRoot, uniqueName } from '../helpers/netns.js';
import { sleep } from './fixtures/frames.js';

const reason = needsRoot('ping', 'curl', 'ss', 'ethtool', 'python3');

/** ferry's side of the TAP (the kernel's side keeps the MAC the TAP was created with). */
const FERRY_HOST_MAC = 0x02_00_00_77_00_f0;

describe.skipIf(reason)('host port: the box reachable through ferry with ip_forward=0', () => {
  const sb = new NetnsSandbox();
  let box = '';
  let peer = '';
  let www = '';
  let nic: AfPacketPort | null = null;
  let tap: TunPort | null = null;
  let driver: LiveDriver | null = null;

  beforeAll(async () => {
    box = await sb.ns();
    peer = await sb.ns();
    await sb.veth(box, 'f0', peer, 'p0', { offloadsOff: true });
    await sb.exec(peer, 'ip', ['addr', 'add', '10.77.0.1/24', 'dev', 'p0']);
    await sb.exec(box, 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
    // The kernel ignores the NIC ferry owns (see the header): it never answers ARP there
    // (arp_ignore 8) and drops what arrives there for its address, whose source it routes through
    // the TAP (strict reverse-path filter, RFC 3704 §2.2).
    await sb.exec(box, 'sysctl', ['-qw', 'net.ipv4.conf.f0.arp_ignore=8', 'net.ipv4.conf.f0.rp_filter=1']);

    // The TAP, configured as ferry configures the kernel side: address, link up, default route.
    tap = TunPort.open({ name: uniqueName('h'), type: 'tap', netns: box, up: true });
    await sb.exec(box, 'ip', ['addr', 'add', '10.77.0.125/24', 'dev', tap.name]);
    await sb.exec(box, 'ip', ['route', 'add', 'default', 'via', '10.77.0.1', 'dev', tap.name]);
    tap.mac = FERRY_HOST_MAC;
    nic = AfPacketPort.open({ ifname: 'f0', netns: box });

    const cfg = parseConfig(
      [
        'ports:',
        '  - name: eth0',
        '    kind: afpacket',
        '    device: f0',
        '    addresses: [10.77.0.125/24]',
        '  - name: host',
        '    kind: host',
        `    device: ${tap.name}`,
        '    addresses: [10.77.0.125/24]',
        '    gateway: 10.77.0.1',
        '',
      ].join('\n'),
      'host-port-netns.yaml',
    );
    const { engine } = buildRouter(cfg, [nic, tap]);
    driver = new LiveDriver(engine, [nic, tap]);
    engine.announce(Date.now() / 1000);
    driver.start();

    www = await mkdtemp(join(tmpdir(), 'ferry-host-port-'));
    await writeFile(join(www, 'hello.txt'), 'served by the box kernel behind ferry\n');
    sb.spawn(box, 'python3', ['-m', 'http.server', '8080', '--bind', '10.77.0.125', '--directory', www]);
    // Bounded wait for the server to listen (up to 10 s).
    for (let i = 0; i < 100; i++) {
      const ss = await sb.exec(box, 'ss', ['-ltnH', 'sport = :8080'], { reject: false });
      if (String(ss.stdout).includes('10.77.0.125:8080')) break;
      await sleep(100);
    }
  }, 60_000);

  afterAll(async () => {
    driver?.stop();
    nic?.close();
    tap?.close();
    await sb.cleanup();
    if (www) await rm(www, { recursive: true, force: true });
  });

  it('kernel forwarding is off in the box', async () => {
    const r = await sb.exec(box, 'sysctl', ['-n', 'net.ipv4.ip_forward']);
    expect(String(r.stdout).trim()).toBe('0');
  });

  it("the peer pings the box's address: answered by ferry", async () => {
    const r = await sb.exec(peer, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.77.0.125'], {
      reject: false,
    });
    expect(r.exitCode, String(r.stdout)).toBe(0);
    expect(String(r.stdout)).toMatch(/3 packets transmitted, 3 received/);
  });

  it('the peer fetches a page from the HTTP server in the box kernel: TCP through the TAP both ways', async () => {
    const tx0 = tap!.stats.txPackets;
    const rx0 = tap!.stats.rxPackets;
    const r = await sb.exec(peer, 'curl', ['-sS', '--max-time', '10', 'http://10.77.0.125:8080/hello.txt'], {
      reject: false,
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    // execa strips the final newline.
    expect(String(r.stdout)).toBe('served by the box kernel behind ferry');
    // Handshake, request and teardown went to the kernel through the TAP; its answers came back.
    expect(tap!.stats.txPackets - tx0).toBeGreaterThanOrEqual(3);
    expect(tap!.stats.rxPackets - rx0).toBeGreaterThanOrEqual(3);
  });

  it('the box pings the peer: its own traffic out through ferry (proxy-ARP for the gateway), replies back in', async () => {
    const r = await sb.exec(box, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.77.0.1'], { reject: false });
    expect(r.exitCode, String(r.stdout)).toBe(0);
    expect(String(r.stdout)).toMatch(/3 packets transmitted, 3 received/);
    // The kernel resolved its gateway to ferry's side of the TAP.
    const neigh = await sb.exec(box, 'ip', ['neigh', 'show', '10.77.0.1', 'dev', tap!.name]);
    expect(String(neigh.stdout)).toContain('02:00:00:77:00:f0');
    expect(driver!.errors).toEqual([]);
  });
});
