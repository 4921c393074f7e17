/**
 * `ferry run` with `offloads: vnet` on both AF_PACKET ports, masquerading, between two namespaces
 * whose veths keep their offloads on (TSO/GSO send 64 KiB super-frames with partial checksums, GRO
 * aggregates on receive). ferry must forward the super-frames whole with their virtio-net header
 * and keep every partial checksum a valid seed through the NAT rewrite, or TCP stalls.
 *
 *   ns client: c0 10.71.1.2/24 ──veth── eth0 [ferry 10.71.1.1 | 10.71.2.1, masquerade] eth1 ──veth── s0 10.71.2.2/24 :ns server
 *
 * A functional check: the transfers complete and the data arrives intact; the iperf3 rate is
 * logged, not asserted (the machine is shared).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsSandbox, needsRoot } from '../helpers/netns.js';

const reason = needsRoot('python3', 'curl', 'iperf3', 'ethtool', 'ss');
const REPO = resolve(import.meta.dirname, '../..');

const CONFIG = `ports:
  - { name: eth0, kind: afpacket, offloads: vnet, addresses: [10.71.1.1/24] }
  - { name: eth1, kind: afpacket, offloads: vnet, addresses: [10.71.2.1/24] }
chains:
  nat-postrouting:
    hook: postrouting
    type: nat
    priority: srcnat
    rules:
      - match: { oif: eth1 }
        action: masquerade
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(reason)('ferry run with offloads vnet: GSO super-frames through masquerade', () => {
  const sb = new NetnsSandbox();
  let client = '';
  let server = '';
  let box = '';
  let dir = '';
  let ferry: ResultPromise | null = null;
  let ferryLog = '';

  async function listening(ns: string, port: number): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const r = await sb.exec(ns, 'ss', ['-ltnH', `sport = :${port}`], { reject: false });
      if (String(r.stdout).includes(`:${port}`)) return;
      await sleep(100);
    }
    throw new Error(`nothing listens on ${port} in ${ns}`);
  }

  beforeAll(async () => {
    client = await sb.ns();
    server = await sb.ns();
    box = await sb.ns();
    await sb.veth(client, 'c0', box, 'eth0');
    await sb.veth(box, 'eth1', server, 's0');
    for (const [ns, dev] of [
      [client, 'c0'],
      [box, 'eth0'],
      [box, 'eth1'],
      [server, 's0'],
    ] as const) {
      await sb.exec(ns, 'ethtool', ['-K', dev, 'tx', 'on', 'tso', 'on', 'gso', 'on', 'gro', 'on']);
    }
    await sb.exec(client, 'ip', ['addr', 'add', '10.71.1.2/24', 'dev', 'c0']);
    await sb.exec(client, 'ip', ['route', 'add', 'default', 'via', '10.71.1.1']);
    await sb.exec(server, 'ip', ['addr', 'add', '10.71.2.2/24', 'dev', 's0']);
    await sb.exec(box, 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
    dir = await mkdtemp(join(tmpdir(), 'ferry-vnet-'));
    await writeFile(join(dir, 'blob'), randomBytes(48 << 20));
    sb.spawn(server, 'python3', ['-m', 'http.server', '8000', '--bind', '10.71.2.2', '--directory', dir]);
    sb.spawn(server, 'iperf3', ['-s', '-1', '-B', '10.71.2.2', '-p', '5201']);
    for (const port of [8000, 5201]) await listening(server, port);
    await writeFile(join(dir, 'ferry.yaml'), CONFIG);
    ferry = execa(
      'ip',
      [
        'netns',
        'exec',
        box,
        'node',
        'bin/ferry.js',
        'run',
        '-c',
        join(dir, 'ferry.yaml'),
        '--metrics',
        'off',
        '--control',
        join(dir, 'ferry.sock'),
        '--state-dir',
        join(dir, 'state'),
      ],
      { cwd: REPO, reject: false, timeout: 90_000, all: true },
    );
    ferry.all!.on('data', (b: Buffer) => {
      ferryLog += b.toString();
    });
    for (let i = 0; i < 300 && !ferryLog.includes('"running"'); i++) {
      if (ferry.exitCode !== null) break;
      await sleep(100);
    }
    if (!ferryLog.includes('"running"')) throw new Error(`ferry run did not start:\n${ferryLog}`);
  }, 60_000);

  afterAll(async () => {
    if (ferry && ferry.exitCode === null) {
      ferry.kill('SIGTERM');
      await Promise.race([ferry, sleep(5000)]);
      if (ferry.exitCode === null) ferry.kill('SIGKILL');
    }
    await sb.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a 48 MiB download from the server arrives intact', async () => {
    const r = await sb.exec(
      client,
      'curl',
      ['-sS', '-m', '30', '-o', join(dir, 'got'), 'http://10.71.2.2:8000/blob'],
      { reject: false, timeout: 40_000 },
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const sha = async (f: string) =>
      createHash('sha256')
        .update(await readFile(join(dir, f)))
        .digest('hex');
    expect(await sha('got')).toBe(await sha('blob'));
  }, 60_000);

  it('iperf3 -t 5 -P 2 through ferry completes (the rate is logged)', async () => {
    const r = await sb.exec(client, 'iperf3', ['-c', '10.71.2.2', '-p', '5201', '-t', '5', '-P', '2', '-J'], {
      reject: false,
      timeout: 40_000,
    });
    expect(r.exitCode, `${String(r.stdout).slice(0, 2000)}\n${ferryLog}`).toBe(0);
    const res = JSON.parse(String(r.stdout)) as {
      end: { sum_received: { bytes: number; bits_per_second: number }; sum_sent: { retransmits?: number } };
    };
    expect(res.end.sum_received.bytes).toBeGreaterThan(0);
    console.log(
      `ferry offloads vnet, masquerade, iperf3 -P 2: ${(res.end.sum_received.bits_per_second / 1e9).toFixed(2)} Gbit/s ` +
        `(${res.end.sum_sent.retransmits ?? 0} retransmits)`,
    );
  }, 60_000);
});
