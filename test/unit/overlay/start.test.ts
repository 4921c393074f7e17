import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/control/config/loader.js';
import { KeyFileError, MissingToolError, startOverlaysOn } from '../../../src/control/overlay/index.js';
import { FakeHost, memoryLog } from './fake-host.js';

// Test keys made with `wg genkey` for these tests only.
const PRIV = 'ENmisNpg/QP7Wx1A+58/m9Yb0JlraH3WmD5hAjTf4E8=';
const PUB = 'QLs61g8OdZC6i1AjXTTsQPl2mZaNlZ8PaOVoEdzaUyk=';
const PEER = 'azB5ysLG82dFsYBfauJzecLIZ55f285RbUoF8yyQtHw=';
const PEER2 = 'GttFoFbjML50vVssEgLbW8y7123VbdlqN629TRZi11s=';

const dir = mkdtempSync(join(tmpdir(), 'ferry-overlay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(keyFile: string, extra = ''): ReturnType<typeof parseConfig> {
  return parseConfig(
    `
ports:
  - { name: wg0, kind: tun, device: fywg0, mtu: 1420 }
  - { name: wg1, kind: tun, device: fywg1 }
overlay:
  wireguard:
    - port: wg0
      private-key-file: ${keyFile}
      listen-port: 51820
      peers:
        - { public-key: ${PEER}, endpoint: "10.99.0.2:51820", allowed-ips: [10.66.0.2/32], persistent-keepalive: 1 }
${extra}`,
    join(dir, 'ferry.yaml'),
  );
}

const SECOND = `    - port: wg1
      private-key-file: ${join(dir, 'second.key')}
      peers:
        - { public-key: ${PEER2}, allowed-ips: [10.67.0.0/16] }
`;

const DUMP = [
  ['(hidden)', PUB, 51820, 'off'].join('\t'),
  [PEER, '(none)', '10.99.0.2:51820', '10.66.0.2/32', 1700000000, 92, 180, 1].join('\t'),
].join('\n');

let host: FakeHost;
let log: ReturnType<typeof memoryLog>;
let keyFile: string;
let n = 0;

beforeEach(() => {
  host = new FakeHost();
  host.genkey = PRIV;
  host.pubkey = PUB;
  host.dump = DUMP;
  log = memoryLog();
  keyFile = join(dir, `k${++n}`, 'wg0.key');
});

function existingKey(mode = 0o600): string {
  const f = join(dir, `existing${++n}.key`);
  writeFileSync(f, `${PRIV}\n`, { mode });
  chmodSync(f, mode);
  return f;
}

const WG_SET = `wg set fywg0 private-key KEY listen-port 51820 peer ${PEER} endpoint 10.99.0.2:51820 allowed-ips 10.66.0.2/32 persistent-keepalive 1`;

describe('bringing an overlay up', () => {
  it('with the kernel module: ip link add, wg set, MTU and up; no wireguard-go', async () => {
    host.kernelModule = true;
    const key = existingKey();
    const o = await startOverlaysOn(host, config(key), log);
    expect(host.lines()).toEqual([
      'ip link show dev fywg0',
      'ip link add dev fywg0 type wireguard',
      WG_SET.replace('KEY', key),
      'ip link set dev fywg0 mtu 1420 up',
      'wg show fywg0 dump',
    ]);
    expect(host.daemons).toEqual([]);
    expect(log.entries.at(-1)).toMatchObject({
      level: 'info',
      fields: {
        interface: 'fywg0',
        port: 'wg0',
        driver: 'kernel',
        publicKey: PUB,
        listenPort: 51820,
        peers: 1,
      },
    });
    await o.stop();
    expect(host.links.has('fywg0')).toBe(false);
  });

  it('without it: wireguard-go in the foreground, then the same wg set', async () => {
    const key = existingKey();
    const o = await startOverlaysOn(host, config(key), log);
    expect(host.lines()).toEqual([
      'ip link show dev fywg0',
      'ip link add dev fywg0 type wireguard',
      'wireguard-go fywg0',
      'ip link show dev fywg0',
      'wg show fywg0 listen-port',
      WG_SET.replace('KEY', key),
      'ip link set dev fywg0 mtu 1420 up',
      'wg show fywg0 dump',
    ]);
    expect(host.calls[2]!.env).toEqual({ WG_PROCESS_FOREGROUND: '1' });
    expect(log.entries.at(-1)?.fields).toMatchObject({ driver: 'wireguard-go', pid: 4242 });
    await o.stop();
    expect(host.daemons[0]!.signals).toEqual(['SIGTERM']);
    expect(host.links.size).toBe(0);
  });

  it('forwards wireguard-go output to the log, errors as warnings', async () => {
    const o = await startOverlaysOn(host, config(existingKey()), log);
    host.daemons[0]!.line(
      'stdout',
      'DEBUG: (fywg0) 2024/01/01 Interface state was Down, requested Up, now Up',
    );
    host.daemons[0]!.line('stdout', 'ERROR: (fywg0) 2024/01/01 Failed to send handshake initiation');
    const fw = log.entries.filter((e) => (e.fields as { source?: string }).source === 'wireguard-go');
    expect(fw.map((e) => [e.level, e.msg.slice(0, 5)])).toEqual([
      ['info', 'DEBUG'],
      ['warn', 'ERROR'],
    ]);
    await o.stop();
  });

  it('generates a missing private key: 0600 file, 0700 directory, the public key logged, never the private', async () => {
    await startOverlaysOn(host, config(keyFile), log);
    expect(readFileSync(keyFile, 'utf8')).toBe(`${PRIV}\n`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(keyFile, '..')).mode & 0o777).toBe(0o700);
    expect(host.lines().slice(0, 2)).toEqual(['wg genkey', 'wg pubkey']);
    expect(host.calls[1]!.input).toBe(`${PRIV}\n`);
    expect(log.entries[0]).toMatchObject({ level: 'info', fields: { publicKey: PUB, file: keyFile } });
    expect(JSON.stringify(log.entries)).not.toContain(PRIV);
    for (const c of host.calls) expect(c.args.join(' ')).not.toContain(PRIV);
  });

  it('warns about a key file others can read, as wg does', async () => {
    const key = existingKey(0o644);
    await startOverlaysOn(host, config(key), log);
    expect(log.entries[0]).toMatchObject({ level: 'warn', fields: { file: key, mode: '0644' } });
    expect(log.entries[0]!.msg).toContain('chmod 600');
  });
});

describe('failures', () => {
  it('a garbage key file: an error naming it, before anything is created', async () => {
    const bad = join(dir, 'garbage.key');
    writeFileSync(bad, 'this is not a key\n', { mode: 0o600 });
    const err = await startOverlaysOn(host, config(bad), log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyFileError);
    expect((err as Error).message).toContain(`private key file ${bad} does not hold a WireGuard key`);
    expect(host.calls).toEqual([]);
  });

  it('a missing preshared key file is an error (only private keys are generated)', async () => {
    const psk = join(dir, 'absent.psk');
    const cfg = parseConfig(
      `
ports: [{ name: wg0, kind: tun, device: fywg0 }]
overlay:
  wireguard:
    - port: wg0
      private-key-file: ${existingKey()}
      peers: [{ public-key: ${PEER}, preshared-key-file: ${psk}, allowed-ips: 10.66.0.2 }]
`,
      join(dir, 'psk.yaml'),
    );
    await expect(startOverlaysOn(host, cfg, log)).rejects.toThrow(`preshared key file ${psk} does not exist`);
    expect(host.calls).toEqual([]);
  });

  it('missing tools name the Debian package', async () => {
    host.tools.delete('wg');
    const e1 = await startOverlaysOn(host, config(existingKey()), log).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(MissingToolError);
    expect((e1 as Error).message).toMatch(
      /^wg is not installed .*install the Debian package wireguard-tools/,
    );

    host = new FakeHost();
    host.tools.delete('wireguard-go');
    await expect(startOverlaysOn(host, config(existingKey()), log)).rejects.toThrow(
      /wireguard-go is not installed \(this kernel has no WireGuard module.*apt-get install wireguard-go/,
    );
    // with the module, wireguard-go is not needed
    host = new FakeHost();
    host.tools.delete('wireguard-go');
    host.kernelModule = true;
    host.dump = DUMP;
    await expect(startOverlaysOn(host, config(existingKey()), log)).resolves.toBeDefined();
  });

  it('an interface that already exists is not taken over (nor deleted)', async () => {
    host.links.add('fywg0');
    await expect(startOverlaysOn(host, config(existingKey()), log)).rejects.toThrow(
      'interface fywg0 in namespace fyfake already exists: ferry creates its WireGuard interfaces itself',
    );
    expect(host.links.has('fywg0')).toBe(true);
    expect(host.lines()).toEqual(['ip link show dev fywg0']);
  });

  it('wg set failing after wireguard-go started: wireguard-go stopped, the link gone, stderr in the error', async () => {
    host.failing.set('wg set', 'Unable to modify interface: Address already in use');
    await expect(startOverlaysOn(host, config(existingKey()), log)).rejects.toThrow(
      /configuring WireGuard on fywg0: `wg set fywg0 .*` exited 1: Unable to modify interface: Address already in use$/,
    );
    expect(host.daemons[0]!.signals).toEqual(['SIGTERM']);
    expect(host.links.size).toBe(0);
  });

  it('with the kernel module, a failure after ip link add deletes the link', async () => {
    host.kernelModule = true;
    host.failing.set('wg set', 'Unable to modify interface: Protocol not supported');
    await expect(startOverlaysOn(host, config(existingKey()), log)).rejects.toThrow(/Protocol not supported/);
    expect(host.lines().slice(-2)).toEqual(['ip link show dev fywg0', 'ip link del dev fywg0']);
    expect(host.links.size).toBe(0);
  });

  it('wireguard-go dying at start: its last words in the error', async () => {
    host.daemonWorks = false;
    await expect(startOverlaysOn(host, config(existingKey()), log)).rejects.toThrow(
      /^wireguard-go for fywg0 exited \(exit code 1\) before it was ready: ERROR: .*Failed to create TUN device/,
    );
  });

  it('an ip link add failure other than "no module" is reported, not papered over with wireguard-go', async () => {
    host.failing.set('ip link', 'RTNETLINK answers: Operation not permitted');
    // "ip link show" fails too here, so the link counts as absent
    await expect(startOverlaysOn(host, config(existingKey()), log)).rejects.toThrow(
      'creating WireGuard interface fywg0: `ip link add dev fywg0 type wireguard` exited 1: RTNETLINK answers: Operation not permitted',
    );
    expect(host.daemons).toEqual([]);
  });

  it('the second overlay failing stops the first', async () => {
    const cfg = config(existingKey(), SECOND);
    writeFileSync(join(dir, 'second.key'), 'garbage', { mode: 0o600 });
    await expect(startOverlaysOn(host, cfg, log)).rejects.toThrow(
      /second\.key does not hold a WireGuard key/,
    );
    expect(host.daemons.map((d) => d.signals)).toEqual([['SIGTERM']]);
    expect(host.links.size).toBe(0);
  });
});

describe('running', () => {
  it('peers() and interfaces() read wg show dump; a dead wireguard-go is reported, not read', async () => {
    const o = await startOverlaysOn(host, config(existingKey()), log);
    expect(await o.peers()).toEqual([
      {
        interface: 'fywg0',
        publicKey: PEER,
        endpoint: '10.99.0.2:51820',
        allowedIps: ['10.66.0.2/32'],
        latestHandshake: 1700000000,
        rxBytes: 92,
        txBytes: 180,
        persistentKeepalive: 1,
        interfacePublicKey: PUB,
        listenPort: 51820,
      },
    ]);
    expect(await o.interfaces()).toEqual([
      {
        interface: 'fywg0',
        port: 'wg0',
        driver: 'wireguard-go',
        running: true,
        publicKey: PUB,
        listenPort: 51820,
        fwmark: 0,
        peers: 1,
      },
    ]);
    host.daemons[0]!.exit({ exitCode: 2, signal: null });
    await host.daemons[0]!.exited;
    expect(log.entries.at(-1)).toMatchObject({ level: 'warn', fields: { interface: 'fywg0', exitCode: 2 } });
    expect(await o.peers()).toEqual([]);
    expect(await o.interfaces()).toEqual([
      expect.objectContaining({ interface: 'fywg0', running: false, publicKey: PUB, listenPort: 0 }),
    ]);
  });

  it('stop() is idempotent and stops in reverse order', async () => {
    host.dump = DUMP;
    const secondKey = join(dir, 'second.key');
    writeFileSync(secondKey, `${PRIV}\n`, { mode: 0o600 });
    const o = await startOverlaysOn(host, config(existingKey(), SECOND), log);
    expect(host.links).toEqual(new Set(['fywg0', 'fywg1']));
    host.calls.length = 0;
    await Promise.all([o.stop(), o.stop()]);
    await o.stop();
    expect(host.daemons.map((d) => d.signals)).toEqual([['SIGTERM'], ['SIGTERM']]);
    expect(host.lines()).toEqual(['ip link show dev fywg1', 'ip link show dev fywg0']);
    expect(host.links.size).toBe(0);
    expect(log.entries.slice(-2).map((e) => e.msg)).toEqual([
      'WireGuard fywg1 stopped',
      'WireGuard fywg0 stopped',
    ]);
    // a stop is not a death: no "exited" warning
    expect(log.entries.some((e) => e.msg.includes('the overlay is down'))).toBe(false);
  });

  it('no overlays: nothing runs, no tool is needed', async () => {
    host.tools.clear();
    const o = await startOverlaysOn(host, parseConfig('ports: [{ name: a, kind: tun }]\n', 'x.yaml'), log);
    expect(await o.peers()).toEqual([]);
    expect(await o.interfaces()).toEqual([]);
    await o.stop();
    expect(host.calls).toEqual([]);
  });
});
