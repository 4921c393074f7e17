/**
 * startOverlays() on real tools: namespace A brings its WireGuard interface up from a config
 * (wireguard-go, as this kernel has no module), namespace B runs a peer set up by hand. The
 * test gives both interfaces kernel addresses and pings across: it tests the overlay module, not
 * ferry's forwarding.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/control/config/loader.js';
import { KeyFileError, type Overlays, startOverlays } from '../../src/control/overlay/index.js';
import { NetnsSandbox, needsRoot, uniqueName } from '../helpers/netns.js';

const reason = needsRoot('wireguard-go', 'wg', 'ping', 'python3');

/** pids of wireguard-go processes serving `dev` (read from /proc: no pgrep pattern games). */
function wireguardGoPids(dev: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      const i = argv.findIndex((a) => a.endsWith('wireguard-go'));
      if (i >= 0 && argv[i + 1] === dev) out.push(Number(e));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

async function linkExists(ns: string, dev: string): Promise<boolean> {
  return (await execa('ip', ['-n', ns, 'link', 'show', 'dev', dev], { reject: false })).exitCode === 0;
}

function memoryLog() {
  const lines: string[] = [];
  const put = (level: string) => (o: object, msg?: string) =>
    lines.push(`${level} ${msg ?? ''} ${JSON.stringify(o)}`);
  return { lines, info: put('info'), warn: put('warn') };
}

function configText(dev: string, keyFile: string, listenPort: number, peerPub: string): string {
  return `
ports:
  - { name: wg0, kind: tun, device: ${dev}, mtu: 1420 }
overlay:
  wireguard:
    - port: wg0
      private-key-file: ${keyFile}
      listen-port: ${listenPort}
      peers:
        - public-key: ${peerPub}
          endpoint: 10.99.0.2:51820
          allowed-ips: [10.66.0.2/32, 10.77.0.0/16]
          persistent-keepalive: 1
`;
}

describe.skipIf(reason)('WireGuard overlay from the config (wireguard-go in a namespace)', () => {
  const sb = new NetnsSandbox();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-ovl-'));
  const devA = uniqueName('a');
  const devB = uniqueName('b');
  const devs = [devA, devB, uniqueName('c'), uniqueName('d')];
  let A = '';
  let B = '';
  let bPub = '';
  const started: Overlays[] = [];

  beforeAll(async () => {
    A = await sb.ns();
    B = await sb.ns();
    await sb.veth(A, 'ua', B, 'ub');
    await sb.exec(A, 'ip', ['addr', 'add', '10.99.0.1/24', 'dev', 'ua']);
    await sb.exec(B, 'ip', ['addr', 'add', '10.99.0.2/24', 'dev', 'ub']);
    const priv = (await execa('wg', ['genkey'])).stdout.trim();
    bPub = (await execa('wg', ['pubkey'], { input: priv })).stdout.trim(); // key on stdin, never argv
    writeFileSync(join(dir, 'b.key'), `${priv}\n`, { mode: 0o600 });
  }, 30_000);

  afterAll(async () => {
    for (const o of started) await o.stop().catch(() => {});
    await sb.cleanup();
    // a namespace outlives `ip netns del` while a process holds it: make sure none of ours is left
    for (const d of devs) for (const pid of wireguardGoPids(d)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('brings A up from the config, pings B across the tunnel, reports the peer, stops clean', async () => {
    const keyFile = join(dir, 'keys', 'a', 'wg0.key');
    const cfg = parseConfig(configText(devA, keyFile, 51820, bPub), join(dir, 'ferry.yaml'));
    const log = memoryLog();
    const overlays = await startOverlays(cfg, { log, netns: A });
    started.push(overlays);

    // the key was generated: 0600 in a 0700 directory, its public key logged, the private one never
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys', 'a')).mode & 0o777).toBe(0o700);
    const aPriv = readFileSync(keyFile, 'utf8').trim();
    const aPub = (await execa('wg', ['pubkey'], { input: aPriv })).stdout.trim();
    expect(log.lines.join('\n')).toContain(aPub);
    expect(log.lines.join('\n')).not.toContain(aPriv);
    expect(wireguardGoPids(devA)).toHaveLength(1);
    expect(await overlays.interfaces()).toEqual([
      {
        interface: devA,
        port: 'wg0',
        driver: 'wireguard-go',
        running: true,
        publicKey: aPub,
        listenPort: 51820,
        fwmark: 0,
        peers: 1,
      },
    ]);
    const link = await sb.exec(A, 'ip', ['link', 'show', 'dev', devA]);
    expect(String(link.stdout)).toMatch(/mtu 1420 .*state (UP|UNKNOWN)/);

    // B by hand
    sb.spawn(B, 'wireguard-go', [devB], { env: { WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' } });
    for (let i = 0; i < 50 && !(await linkExists(B, devB)); i++) await new Promise((r) => setTimeout(r, 100));
    // biome-ignore format: argument pairs
    await sb.exec(B, 'wg', [
      'set', devB, 'private-key', join(dir, 'b.key'), 'listen-port', '51820',
      'peer', aPub, 'allowed-ips', '10.66.0.1/32', 'endpoint', '10.99.0.1:51820',
    ]);
    await sb.exec(B, 'ip', ['addr', 'add', '10.66.0.2/24', 'dev', devB]);
    await sb.exec(B, 'ip', ['link', 'set', devB, 'up']);
    await sb.exec(A, 'ip', ['addr', 'add', '10.66.0.1/24', 'dev', devA]);

    // B initiates: A's own first handshake (keepalive 1, at `wg set`) went out before B knew A's
    // key, and WireGuard waits 5 s (REKEY_TIMEOUT) before A tries again
    for (const [ns, to] of [
      [B, '10.66.0.1'],
      [A, '10.66.0.2'],
    ] as const) {
      const ping = await sb.exec(ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '3', to], { reject: false });
      expect(ping.exitCode, String(ping.stdout)).toBe(0);
    }

    const now = Date.now() / 1000;
    const peers = await overlays.peers();
    expect(peers).toHaveLength(1);
    const p = peers[0]!;
    expect(p).toMatchObject({
      interface: devA,
      publicKey: bPub,
      endpoint: '10.99.0.2:51820',
      allowedIps: ['10.66.0.2/32', '10.77.0.0/16'],
      persistentKeepalive: 1,
      interfacePublicKey: aPub,
      listenPort: 51820,
    });
    expect(p.latestHandshake).toBeGreaterThan(now - 30);
    expect(p.latestHandshake).toBeLessThanOrEqual(now + 1);
    // three echo requests and replies at least: 3 × (84 + 32 bytes of WireGuard overhead)
    expect(p.rxBytes).toBeGreaterThan(3 * 84);
    expect(p.txBytes).toBeGreaterThan(3 * 84);

    await overlays.stop();
    expect(wireguardGoPids(devA)).toEqual([]);
    expect(await linkExists(A, devA)).toBe(false);
    await overlays.stop(); // idempotent
    expect(await overlays.peers()).toEqual([]);
    expect(log.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
  }, 30_000);

  it('a garbage key file: a clear error naming it, nothing started', async () => {
    const dev = devs[2]!;
    const bad = join(dir, 'garbage.key');
    writeFileSync(bad, 'PrivateKey = not-a-key\n', { mode: 0o600 });
    const cfg = parseConfig(configText(dev, bad, 51821, bPub), join(dir, 'ferry.yaml'));
    const err = await startOverlays(cfg, { log: memoryLog(), netns: A }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyFileError);
    expect((err as Error).message).toBe(
      `private key file ${bad} does not hold a WireGuard key (44 characters of base64, as \`wg genkey\` writes)`,
    );
    expect(await linkExists(A, dev)).toBe(false);
    expect(wireguardGoPids(dev)).toEqual([]);
  });

  it('a failure after wireguard-go started (listen port taken) is undone: no process, no link', async () => {
    const dev = devs[3]!;
    const holder = sb.spawn(A, 'python3', [
      '-c',
      "import socket,sys,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('0.0.0.0',51822))\nprint('bound',flush=True)\ntime.sleep(30)",
    ]);
    await new Promise<void>((resolve, reject) => {
      holder.stdout?.once('data', () => resolve());
      setTimeout(() => reject(new Error('python3 did not bind UDP 51822 in time')), 5000);
    });
    const keyFile = join(dir, 'd.key');
    const cfg = parseConfig(configText(dev, keyFile, 51822, bPub), join(dir, 'ferry.yaml'));
    const log = memoryLog();
    await expect(startOverlays(cfg, { log, netns: A })).rejects.toThrow(
      new RegExp(
        `^configuring WireGuard on ${dev}: \`wg set ${dev} private-key ${keyFile} listen-port 51822 .*\` exited 1: .*in use`,
      ),
    );
    expect(wireguardGoPids(dev)).toEqual([]);
    expect(await linkExists(A, dev)).toBe(false);
    holder.kill('SIGTERM');
  }, 20_000);
});
