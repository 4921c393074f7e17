/**
 * `ferry run` with an `overlay.wireguard` section, the real CLI as a subprocess in a namespace:
 * ferry brings wireguard-go up on its tun port (generating the private key it was pointed at),
 * the box's own kernel carries wireguard-go's encrypted UDP through ferry's host port, and ferry
 * forwards between the overlay and a LAN behind it.
 *
 *   ns peer: p0 192.168.50.2/24 ──veth── eth0 [ferry 192.168.50.1] eth1 ──veth── l0 10.10.0.2/24 :ns lan
 *            wgP 10.66.0.2/24              wgX [ferry 10.66.0.1]  (wireguard-go in box, UDP 51820)
 *                                          TAP = the box kernel, 192.168.50.1/24 via 192.168.50.2
 *
 * ns box: no kernel addresses on eth0/eth1, ip_forward=0. The peer's encrypted UDP reaches
 * 192.168.50.1 on eth0, which ferry hands to the box kernel through the host port (no rule of
 * ferry's consumes it), and wireguard-go's answers come back through the TAP and out eth0.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryRun, REPO } from '../helpers/ferry-run.js';
import { NetnsSandbox, needsRoot, uniqueName } from '../helpers/netns.js';
import { sleep } from './fixtures/frames.js';

const reason = needsRoot('wireguard-go', 'wg', 'ping');

/** pids of wireguard-go processes serving `dev` (read from /proc: no pgrep pattern games). */
function wireguardGoPids(dev: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      const i = argv.findIndex((a) => a.endsWith('wireguard-go'));
      if (i >= 0 && argv.slice(i + 1).includes(dev)) out.push(Number(e));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

interface StatusJson {
  overlays: {
    interface: string;
    publicKey: string;
    endpoint: string | null;
    allowedIps: string[];
    latestHandshake: number;
    handshakeAge: number | null;
    rxBytes: number;
    txBytes: number;
  }[];
  overlaysError: string | null;
}

describe.skipIf(reason)('ferry run with a WireGuard overlay (wireguard-go behind the host port)', () => {
  const sb = new NetnsSandbox();
  const wgX = uniqueName('w');
  const wgP = uniqueName('p');
  const tap = uniqueName('h');
  let box = '';
  let peer = '';
  let lan = '';
  let dir = '';
  let keyFile = '';
  let sock = '';
  let ferry: FerryRun | null = null;
  let ferryPub = '';
  let peerPub = '';

  const ping = (ns: string, to: string, n = 3) =>
    sb.exec(ns, 'ping', ['-c', String(n), '-i', '0.2', '-W', '3', to], { reject: false });
  const linkIn = async (ns: string, dev: string) =>
    (await sb.exec(ns, 'ip', ['link', 'show', 'dev', dev], { reject: false })).exitCode === 0;

  beforeAll(async () => {
    box = await sb.ns();
    peer = await sb.ns();
    lan = await sb.ns();
    await sb.veth(peer, 'p0', box, 'eth0', { offloadsOff: true });
    await sb.veth(box, 'eth1', lan, 'l0', { offloadsOff: true });
    await sb.exec(peer, 'ip', ['addr', 'add', '192.168.50.2/24', 'dev', 'p0']);
    await sb.exec(lan, 'ip', ['addr', 'add', '10.10.0.2/24', 'dev', 'l0']);
    await sb.exec(lan, 'ip', ['route', 'add', 'default', 'via', '10.10.0.1']);
    await sb.exec(box, 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);

    dir = await mkdtemp(join(tmpdir(), 'ferry-run-ovl-'));
    keyFile = join(dir, 'keys', 'wg.key'); // neither the file nor its directory exists yet
    sock = join(dir, 'ferry.sock');
    const peerPriv = (await execa('wg', ['genkey'])).stdout.trim();
    peerPub = (await execa('wg', ['pubkey'], { input: peerPriv })).stdout.trim(); // key on stdin, never argv
    await writeFile(join(dir, 'peer.key'), `${peerPriv}\n`, { mode: 0o600 });

    const cfgPath = join(dir, 'ferry.yaml');
    await writeFile(
      cfgPath,
      `ports:
  - { name: eth0, kind: afpacket, addresses: [192.168.50.1/24] }
  - { name: eth1, kind: afpacket, addresses: [10.10.0.1/24] }
  - { name: wg, kind: tun, device: ${wgX}, mtu: 1420, addresses: [10.66.0.1/32] }
  - { name: host, kind: host, device: ${tap}, addresses: [192.168.50.1/24], gateway: 192.168.50.2 }
tables:
  main:
    - { to: 10.66.0.0/24, dev: wg }
overlay:
  wireguard:
    - port: wg
      private-key-file: ${keyFile}
      listen-port: 51820
      peers:
        - public-key: ${peerPub}
          endpoint: 192.168.50.2:51820
          allowed-ips: [10.66.0.2/32]
`,
    );
    ferry = new FerryRun(box, [
      '-c',
      cfgPath,
      '--control',
      sock,
      '--metrics',
      'off',
      '--state-dir',
      join(dir, 'state'),
    ]);
    const running = await ferry.waitFor((l) => l.msg === 'running', 30_000);
    expect(running.ports).toEqual(['eth0', 'eth1', 'wg', 'host']);
    const generated = await ferry.waitFor((l) => /^generated a WireGuard private key/.test(l.msg), 1000);
    ferryPub = String(generated.publicKey);

    // The peer, by hand: wireguard-go, its key, ferry as its peer at ferry's eth0 address.
    sb.spawn(peer, 'wireguard-go', ['-f', wgP], { env: { LOG_LEVEL: 'error' } });
    for (let i = 0; i < 50 && !(await linkIn(peer, wgP)); i++) await sleep(100);
    // biome-ignore format: argument pairs
    await sb.exec(peer, 'wg', [
      'set', wgP, 'private-key', join(dir, 'peer.key'), 'listen-port', '51820',
      'peer', ferryPub, 'allowed-ips', '10.66.0.1/32,10.10.0.0/24', 'endpoint', '192.168.50.1:51820',
    ]);
    await sb.exec(peer, 'ip', ['addr', 'add', '10.66.0.2/24', 'dev', wgP]);
    await sb.exec(peer, 'ip', ['link', 'set', wgP, 'mtu', '1420', 'up']);
    await sb.exec(peer, 'ip', ['route', 'add', '10.10.0.0/24', 'dev', wgP]);
  }, 45_000);

  afterAll(async () => {
    if (ferry) await ferry.stop();
    await sb.cleanup();
    // A namespace outlives `ip netns del` while a process holds it: none of ours may be left.
    for (const d of [wgX, wgP]) for (const pid of wireguardGoPids(d)) process.kill(pid, 'SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('generates the missing private key (0600), logs its public key, never the private one', async () => {
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const priv = (await readFile(keyFile, 'utf8')).trim();
    expect((await execa('wg', ['pubkey'], { input: priv })).stdout.trim()).toBe(ferryPub);
    expect(ferry!.logs.map((l) => JSON.stringify(l)).join('\n')).not.toContain(priv);
    const up = await ferry!.waitFor(
      (l) => typeof l.msg === 'string' && l.msg.startsWith(`WireGuard ${wgX} up`),
      1000,
    );
    expect(up).toMatchObject({ driver: 'wireguard-go', listenPort: 51820, publicKey: ferryPub });
  });

  it('the peer reaches ferry’s overlay address, and the LAN behind ferry reaches the peer', async () => {
    // The peer initiates the handshake (ferry's side has no keepalive); its UDP reaches the box
    // kernel's wireguard-go through eth0 and the host port.
    const toFerry = await ping(peer, '10.66.0.1');
    expect(toFerry.exitCode, String(toFerry.stdout)).toBe(0);
    const fromLan = await ping(lan, '10.66.0.2');
    expect(fromLan.exitCode, String(fromLan.stdout)).toBe(0);
    expect(String(fromLan.stdout)).toMatch(/3 packets transmitted, 3 received/);
    // The box kernel forwarded none of it and owns no address on eth0.
    const addrs = await sb.exec(box, 'ip', ['-4', 'addr', 'show', 'dev', 'eth0']);
    expect(String(addrs.stdout)).not.toContain('inet ');
  }, 20_000);

  it('`ferry status --json` shows the overlay peer with a recent handshake', async () => {
    const r = await execa('node', ['bin/ferry.js', 'status', '--json', '--control', sock], {
      cwd: REPO,
      reject: false,
      timeout: 15_000,
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const s = JSON.parse(String(r.stdout)) as StatusJson;
    expect(s.overlaysError).toBeNull();
    expect(s.overlays).toHaveLength(1);
    const p = s.overlays[0]!;
    expect(p).toMatchObject({
      interface: wgX,
      publicKey: peerPub,
      endpoint: '192.168.50.2:51820',
      allowedIps: ['10.66.0.2/32'],
    });
    expect(p.latestHandshake).toBeGreaterThan(0);
    expect(p.handshakeAge).not.toBeNull();
    expect(p.handshakeAge!).toBeLessThan(30);
    // Six echo requests and six replies at least, each 84 bytes inside the tunnel.
    expect(p.rxBytes).toBeGreaterThan(6 * 84);
    expect(p.txBytes).toBeGreaterThan(6 * 84);
  }, 20_000);

  it('SIGTERM: exit 0, no wireguard-go left, no WireGuard link, no TAP', async () => {
    expect(wireguardGoPids(wgX)).toHaveLength(1);
    expect(await linkIn(box, tap)).toBe(true);
    const code = await ferry!.stop();
    expect(code).toBe(0);
    await ferry!.waitFor((l) => l.msg === 'stopped', 1000);
    expect(wireguardGoPids(wgX)).toEqual([]);
    expect(await linkIn(box, wgX)).toBe(false);
    expect(await linkIn(box, tap)).toBe(false);
    expect(existsSync(`/var/run/wireguard/${wgX}.sock`)).toBe(false);
    const warnings = ferry!.logs.filter(
      (l) => l.level === 'warn' || l.level === 'error' || l.level === 'fatal',
    );
    expect(warnings).toEqual([]);
  }, 20_000);
});
