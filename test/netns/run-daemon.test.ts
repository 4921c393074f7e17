/**
 * `ferry run`, the real CLI as a subprocess in a namespace, on seed 000's brouter shape plus a
 * host port. The client's connections leaving eth0 are source-NATed to a random port of a range,
 * so an established flow lives only while conntrack keeps its binding: a reload that lost the
 * flow table would re-map the next packet to another port (or hand the server's reply to the
 * box's kernel, which resets it), and the transfer would die.
 *
 *   ns server: i0 192.168.0.1/24 ──veth── eth0 [ferry: 192.168.0.125 | 192.168.0.126] eth1 ──veth── c0 192.168.0.53/24 :ns client
 *                                          (ns box: no kernel addresses, ip_forward=0; TAP ferry0 = the box, 192.168.0.125)
 *
 * Covers forwarding and the host port, a reload under a running TCP transfer, a rejected reload,
 * a flood of malformed frames (memory stays flat), a clean SIGTERM that leaves the namespace as
 * it found it, and a missing interface failing with exit 2 and nothing left behind.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/control-socket/client.js';
import { AfPacketPort } from '../../src/dataplane/io/afpacket-port.js';
import { FerryRun } from '../helpers/ferry-run.js';
import { NetnsSandbox, needsRoot } from '../helpers/netns.js';
import { batchOf, fill, macBytes, sleep } from './fixtures/frames.js';

const reason = needsRoot('python3', 'curl', 'ping', 'iperf3', 'ethtool', 'sysctl', 'ss');

const CONFIG = `ports:
  - { name: eth0, kind: afpacket, addresses: [192.168.0.125/24], proxy-arp: true }
  - { name: eth1, kind: afpacket, addresses: [192.168.0.126/24], proxy-arp: true }
  - { name: host, kind: host, device: ferry0, addresses: [192.168.0.125/24], gateway: 192.168.0.1 }
tables:
  main:
    - { to: default, via: 192.168.0.1, dev: eth0 }
chains:
  nat-postrouting:
    hook: postrouting
    type: nat
    priority: srcnat
    rules:
      - match: { oif: eth0, src: 192.168.0.53/32 }
        action: { snat: "192.168.0.125:20000-29999" }
`;

/** The reload: one more chain, rejecting the client's connections to port 8001. */
const RELOADED = `${CONFIG}  block-8001:
    hook: forward
    type: filter
    rules:
      - match: { proto: tcp, dport: 8001 }
        action: { reject: tcp-reset }
`;

const BROADCAST = macBytes('ff:ff:ff:ff:ff:ff');

/**
 * Frame i of the flood (seeded garbage under an Ethernet header): IPv4 cut after the Ethernet
 * header, IHL below 5, total length past the frame, a bad header checksum, ARP cut short, a
 * fragment of garbage, a short ARP body, an unknown EtherType.
 */
function malformed(i: number, dst: Uint8Array, src: Uint8Array): Uint8Array {
  const kind = i % 8;
  const f = new Uint8Array([14, 34, 60, 60, 20, 54, 42, 100][kind]!);
  fill(f, i + 1);
  f.set(dst, 0);
  f.set(src, 6);
  const arp = kind === 4 || kind === 6;
  if (kind !== 7) f.set(arp ? [0x08, 0x06] : [0x08, 0x00], 12);
  if (kind === 1) f[14] = 0x43;
  if (kind === 2) f.set([0x45, 0, 0x05, 0xdc], 14);
  if (kind === 3)
    f.set([0x45, 0, 0, 46, 0, 0, 0, 0, 64, 6, 0xde, 0xad, 192, 168, 0, 53, 192, 168, 0, 126], 14);
  if (kind === 5) f.set([0x45, 0, 0, 40, 0, 1, 0x20, 0, 64, 17, 0, 0, 192, 168, 0, 53, 192, 168, 0, 1], 14);
  return f;
}

describe.skipIf(reason)('ferry run: the live daemon', () => {
  const sb = new NetnsSandbox();
  let box = '';
  let server = '';
  let client = '';
  let dir = '';
  let cfgPath = '';
  let ferry: FerryRun | null = null;
  let before = '';
  /** Frames the flood test sent. */
  let floodSent = 0;

  /** What ferry may change in the box, as text: links, addresses, routes, sysctls, offloads. */
  async function snapshot(): Promise<string> {
    const out: string[] = [];
    for (const args of [
      ['ip', '-d', 'link'],
      ['ip', 'addr'],
      ['ip', 'route', 'show', 'table', 'all'],
      ['ethtool', '-k', 'eth0'],
      ['ethtool', '-k', 'eth1'],
    ]) {
      out.push(String((await sb.exec(box, args[0]!, args.slice(1))).stdout));
    }
    const keys = ['net.ipv4.ip_forward'];
    for (const dev of ['all', 'eth0', 'eth1'])
      for (const k of ['arp_ignore', 'rp_filter', 'forwarding']) keys.push(`net.ipv4.conf.${dev}.${k}`);
    out.push(String((await sb.exec(box, 'sysctl', keys)).stdout));
    return out.join('\n');
  }

  const ping = (ns: string, to: string, n: number) =>
    sb.exec(ns, 'ping', ['-c', String(n), '-i', '0.2', '-W', '2', to], { reject: false });
  const get = (port: number) =>
    sb.exec(
      client,
      'curl',
      ['-sS', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://192.168.0.1:${port}/`],
      {
        reject: false,
      },
    );

  async function listening(ns: string, port: number): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const r = await sb.exec(ns, 'ss', ['-ltnH', `sport = :${port}`], { reject: false });
      if (String(r.stdout).includes(`:${port}`)) return;
      await sleep(100);
    }
    throw new Error(`nothing listens on ${port} in ${ns}`);
  }

  beforeAll(async () => {
    server = await sb.ns();
    client = await sb.ns();
    box = await sb.ns();
    await sb.veth(server, 'i0', box, 'eth0', { offloadsOff: true });
    await sb.veth(box, 'eth1', client, 'c0', { offloadsOff: true });
    await sb.exec(server, 'ip', ['addr', 'add', '192.168.0.1/24', 'dev', 'i0']);
    await sb.exec(client, 'ip', ['addr', 'add', '192.168.0.53/24', 'dev', 'c0']);
    await sb.exec(client, 'ip', ['route', 'add', 'default', 'via', '192.168.0.1']);
    await sb.exec(box, 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
    dir = await mkdtemp(join(tmpdir(), 'ferry-run-'));
    for (const port of [8000, 8001]) {
      sb.spawn(server, 'python3', [
        '-m',
        'http.server',
        String(port),
        '--bind',
        '192.168.0.1',
        '--directory',
        dir,
      ]);
    }
    sb.spawn(server, 'iperf3', ['-s', '-1', '-B', '192.168.0.1', '-p', '5201']);
    for (const port of [8000, 8001, 5201]) await listening(server, port);
    // The snapshot must not catch a veth before its carrier is up (bounded wait, 5 s).
    for (let i = 0; i < 50; i++) {
      const r = await sb.exec(box, 'ip', ['-br', 'link']);
      if ((String(r.stdout).match(/ UP /g) ?? []).length >= 2) break;
      await sleep(100);
    }
    before = await snapshot();

    cfgPath = join(dir, 'ferry.yaml');
    await writeFile(cfgPath, CONFIG);
    ferry = new FerryRun(box, [
      '-c',
      cfgPath,
      '--metrics',
      '127.0.0.1:9477', // the box namespace's own loopback
      '--control',
      join(dir, 'ferry.sock'),
      '--state-dir',
      join(dir, 'state'),
    ]);
    const running = await ferry.waitFor((l) => l.msg === 'running', 30_000);
    expect(running.ports).toEqual(['eth0', 'eth1', 'host']);
  }, 60_000);

  afterAll(async () => {
    if (ferry && ferry.proc.exitCode === null) {
      ferry.proc.kill('SIGTERM');
      await Promise.race([ferry.proc, sleep(5000)]);
      if (ferry.proc.exitCode === null) ferry.proc.kill('SIGKILL');
    }
    await sb.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('forwards between the legs (ping, HTTP) and carries the box through its host port', async () => {
    const p = await ping(client, '192.168.0.1', 3);
    expect(String(p.stdout)).toMatch(/3 packets transmitted, [23] received/); // the first ARP teaches sides
    expect(String((await get(8000)).stdout)).toBe('200');
    expect(String((await get(8001)).stdout)).toBe('200');
    const own = await ping(box, '192.168.0.1', 3);
    expect(String(own.stdout)).toMatch(/3 packets transmitted, 3 received/);
    // The kernel forwards nothing and owns no address on the legs.
    const addrs = await sb.exec(box, 'ip', ['-4', 'addr', 'show', 'dev', 'eth0']);
    expect(String(addrs.stdout)).not.toContain('inet ');
  }, 30_000);

  it('a TCP transfer runs on across a SIGHUP reload that adds a chain; the reload is logged and applied', async () => {
    const iperf = sb.exec(
      client,
      'iperf3',
      ['-c', '192.168.0.1', '-p', '5201', '-t', '8', '-b', '200M', '-J'],
      {
        reject: false,
        timeout: 30_000,
      },
    );
    await sleep(2500);
    await writeFile(cfgPath, RELOADED);
    const from = ferry!.logs.length;
    ferry!.signal('SIGHUP');
    const done = await ferry!.waitFor((l) => l.msg === 'reloaded', 10_000, from);
    expect(done.summary).toBe('chain block-8001 added');
    expect(done.flows as number).toBeGreaterThanOrEqual(2); // iperf3's control and data connections
    const r = await iperf;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const j = JSON.parse(String(r.stdout)) as {
      intervals: { sum: { bytes: number } }[];
      end: { sum_received: { bytes: number } };
    };
    // Every one-second interval moved data: no stall at the swap.
    const perSecond = j.intervals.map((i) => i.sum.bytes);
    expect(perSecond.length).toBeGreaterThanOrEqual(7);
    for (const b of perSecond) expect(b).toBeGreaterThan(1_000_000);
    expect(j.end.sum_received.bytes).toBeGreaterThan(50_000_000);
    // The new chain is live: 8001 is refused by ferry's TCP reset, 8000 still served.
    const refused = await get(8001);
    expect(refused.exitCode).toBe(7);
    expect(String((await get(8000)).stdout)).toBe('200');
  }, 40_000);

  it('a bad config sent with SIGHUP is rejected with its file:line and the running config stays', async () => {
    const text = `${RELOADED}bogus-key: 1\n`;
    const line = text.split('\n').length - 1;
    await writeFile(cfgPath, text);
    const from = ferry!.logs.length;
    ferry!.signal('SIGHUP');
    const rej = await ferry!.waitFor((l) => l.msg === 'reload rejected, running config kept', 10_000, from);
    expect(rej.level).toBe('error');
    expect(String(rej.error)).toContain(`${cfgPath}:${line}:1: unknown key "bogus-key"`);
    expect(String((await ping(client, '192.168.0.1', 3)).stdout)).toMatch(
      /3 packets transmitted, 3 received/,
    );
    expect((await get(8001)).exitCode).toBe(7);
    expect(String((await get(8000)).stdout)).toBe('200');
    await writeFile(cfgPath, RELOADED);
  }, 30_000);

  it('answers on its control socket (hello, reload) and serves /metrics in its namespace', async () => {
    const sock = join(dir, 'ferry.sock');
    const hello = await controlRequest(sock, 'hello', {}, { timeoutMs: 5000 });
    expect(hello).toMatchObject({ pid: ferry!.pid, configPath: cfgPath });
    const from = ferry!.logs.length;
    const r = await controlRequest(sock, 'reload', {}, { timeoutMs: 10_000 });
    expect(r).toEqual({ ok: true, summary: 'no changes' });
    await ferry!.waitFor((l) => l.msg === 'reloaded' && l.summary === 'no changes', 5000, from);
    const m = await sb.exec(box, 'curl', ['-sS', '-m', '5', 'http://127.0.0.1:9477/metrics']);
    expect(String(m.stdout)).toMatch(/^ferry_port_rx_packets_total\{port="eth1"[^}]*\} [1-9]/m);
  }, 30_000);

  it('keeps forwarding through 200k malformed frames from the client, its memory flat', async () => {
    const ferryMac = macBytes(await sb.mac(box, 'eth1'));
    const clientMac = macBytes(await sb.mac(client, 'c0'));
    const frames = Array.from({ length: 256 }, (_, i) =>
      malformed(i, i % 3 === 0 ? BROADCAST : ferryMac, clientMac),
    );
    const batch = batchOf(frames);
    const flood = AfPacketPort.open({ ifname: 'c0', netns: client });
    const rss0 = await ferry!.rssKiB();
    let sent = 0;
    try {
      const during = ping(client, '192.168.0.1', 10);
      for (const end = Date.now() + 20_000; sent < 200_000 && Date.now() < end; ) {
        sent += flood.sendBatch(batch);
        await new Promise((r) => setImmediate(r));
      }
      const d = await during;
      expect(String(d.stdout)).toMatch(/10 packets transmitted, (9|10) received/);
    } finally {
      flood.close();
    }
    expect(sent).toBeGreaterThanOrEqual(200_000);
    floodSent = sent;
    const after = await ping(client, '192.168.0.1', 3);
    expect(String(after.stdout)).toMatch(/3 packets transmitted, 3 received/);
    expect(String((await get(8000)).stdout)).toBe('200');
    const rss1 = await ferry!.rssKiB();
    console.log(`ferry VmRSS before the flood ${rss0} KiB, after ${sent} frames ${rss1} KiB`);
    expect(rss1 - rss0).toBeLessThan(16 * 1024);
    expect(ferry!.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toHaveLength(1); // the rejected reload
  }, 40_000);

  it('SIGTERM: exit 0, every host-side change undone', async () => {
    ferry!.signal('SIGTERM');
    const r = await Promise.race([ferry!.proc, sleep(10_000).then(() => null)]);
    expect(r, 'ferry did not exit within 10 s').not.toBeNull();
    expect(r!.exitCode).toBe(0);
    // The last line counts what ferry saw: the flood's frames dropped as malformed, by reason
    // (plus those the kernel dropped when eth1's ring was full).
    const stopped = await ferry!.waitFor((l) => l.msg === 'stopped', 1000);
    const drops = stopped.drops as Record<string, number>;
    const malformed = Object.entries(drops)
      .filter(([r]) => /truncated|bad-|unknown-ethertype|unsupported/.test(r))
      .reduce((n, [, v]) => n + v, 0);
    const ringFull = (stopped.ports as Record<string, { kernelDrops: number }>).eth1!.kernelDrops;
    console.log(
      `flood: ${floodSent} sent, ${malformed} dropped as malformed, ${ringFull} dropped by the kernel (ring full)`,
    );
    expect(malformed + ringFull).toBeGreaterThanOrEqual(floodSent * 0.95);
    expect(await snapshot()).toBe(before);
  }, 20_000);

  it('a missing interface: exit 2, a message naming it, nothing left behind', async () => {
    const bad = join(dir, 'missing.yaml');
    // The host port opens before the missing device is found: its TAP must go again.
    await writeFile(
      bad,
      `ports:
  - { name: eth0, kind: afpacket, addresses: [192.168.0.125/24], proxy-arp: true }
  - { name: host, kind: host, device: ferry0, addresses: [192.168.0.125/24], gateway: 192.168.0.1 }
  - { name: eth1, kind: afpacket, device: fynosuch0, addresses: [192.168.0.126/24], proxy-arp: true }
`,
    );
    const run = new FerryRun(box, ['-c', bad, '--metrics', 'off', '--control', join(dir, 'm.sock')]);
    const r = await run.proc;
    expect(r.exitCode).toBe(2);
    const err = String(r.stderr).trim();
    expect(err.split('\n')).toHaveLength(1);
    expect(err).toBe(
      'ferry run: port eth1 (afpacket on fynosuch0): interface fynosuch0 does not exist; list the interfaces with `ip link`',
    );
    // The host port (opened before the failing port) was taken down again.
    expect(run.logs.some((l) => l.msg === 'host port up')).toBe(true);
    expect(await snapshot()).toBe(before);
  }, 30_000);
});
