/**
 * `ferry conntrack`: flows listed like `conntrack -L`, from a replay's OUTDIR/conntrack.json and
 * from a live Conntrack (the records the formatter takes are the same), with the filters.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/control/cli/program.js';
import {
  type CtSnapshot,
  formatRecord,
  parseFilter,
  snapshotConntrack,
} from '../../../src/control/conntrack/records.js';
import { udp } from '../../helpers/frames.js';
import { dnat, echo, fromLan, fromWan, natRig, out, tcp, WAN_IP } from '../nat/nat-rig.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER = '198.51.100.7';

async function run(...argv: string[]) {
  let outText = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (outText += t), err: (t) => (err += t) });
  return { code, out: outText, err };
}

/** A masqueraded TCP handshake, an unanswered UDP flow, a ping and a port-forwarded UDP flow. */
function busyRouter() {
  const r = natRig({ forward: { port: 22000, to: dnat('10.1.0.53', 22000) } });
  fromLan(r, '10.1.0.33', tcp({ src: '10.1.0.33', dst: SERVER }, 40000, 8096, { seq: 1000, flags: 0x02 }));
  out(r, 'wan');
  fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 8096, 40000, { seq: 5000, ack: 1001, flags: 0x12 }));
  out(r, 'lan');
  fromLan(
    r,
    '10.1.0.33',
    tcp({ src: '10.1.0.33', dst: SERVER }, 40000, 8096, { seq: 1001, ack: 5001, flags: 0x10 }),
  );
  fromLan(r, '10.1.0.34', udp({ src: '10.1.0.34', dst: SERVER }, 40000, 53));
  fromLan(r, '10.1.0.35', echo('10.1.0.35', SERVER, 0x77));
  fromWan(r, udp({ src: '203.0.113.9', dst: WAN_IP }, 5555, 22000));
  out(r, 'wan');
  out(r, 'lan');
  return r;
}

describe('conntrack records from a live Conntrack', () => {
  it('prints each flow as conntrack -L does: tuples, state, seconds left, flags, marks, NAT', () => {
    const r = busyRouter();
    const now = Math.round(r.engine.ctx.now * 1000);
    const lines = snapshotConntrack(r.engine.conntrack!, now).flows.map(formatRecord);
    expect(lines).toEqual([
      'tcp      6 7439 ESTABLISHED src=10.1.0.33 dst=198.51.100.7 sport=40000 dport=8096 src=198.51.100.7 dst=192.0.2.2 sport=8096 dport=40000 [ASSURED] mark=0 ctmark=0 snat=192.0.2.2:40000',
      // UDP ports are mapped apart from TCP's: 40000 is free for this host's UDP flow.
      'udp      17 119 src=10.1.0.34 dst=198.51.100.7 sport=40000 dport=53 [UNREPLIED] src=198.51.100.7 dst=192.0.2.2 sport=53 dport=40000 mark=0 ctmark=0 snat=192.0.2.2:40000',
      'icmp     1 59 src=10.1.0.35 dst=198.51.100.7 type=8 code=0 id=119 [UNREPLIED] src=198.51.100.7 dst=192.0.2.2 type=0 code=0 id=119 mark=0 ctmark=0 snat=192.0.2.2',
      'udp      17 120 src=203.0.113.9 dst=192.0.2.2 sport=5555 dport=22000 [UNREPLIED] src=10.1.0.53 dst=203.0.113.9 sport=22000 dport=5555 mark=0 ctmark=0 dnat=10.1.0.53:22000',
    ]);
  });

  it('counts seconds left from the engine clock and leaves out flows past their deadline', () => {
    const r = busyRouter();
    const ct = r.engine.conntrack!;
    const now = Math.round(r.engine.ctx.now * 1000);
    expect(snapshotConntrack(ct, now + 100_500).flows.map((f) => [f.proto, f.timeout])).toEqual([
      ['tcp', 7339],
      ['udp', 19],
      ['udp', 19],
    ]);
    expect(snapshotConntrack(ct, now + 120_000).flows.map((f) => f.proto)).toEqual(['tcp']);
  });

  it('records counters and status per direction in the JSON form', () => {
    const r = busyRouter();
    const [t] = snapshotConntrack(r.engine.conntrack!, Math.round(r.engine.ctx.now * 1000)).flows;
    expect(t).toMatchObject({
      proto: 'tcp',
      protonum: 6,
      state: 'ESTABLISHED',
      flags: ['ASSURED'],
      original: { src: '10.1.0.33', sport: 40000, packets: 2, bytes: 80 },
      reply: { dst: WAN_IP, dport: 40000, packets: 1, bytes: 40 },
      nat: { snat: '192.0.2.2:40000' },
    });
  });
});

describe('ferry conntrack --from', () => {
  let dir = '';
  let file = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-ct-'));
    file = join(dir, 'conntrack.json');
    const r = busyRouter();
    const snap = snapshotConntrack(r.engine.conntrack!, Math.round(r.engine.ctx.now * 1000));
    await writeFile(file, JSON.stringify(snap));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every flow, one line each, and says how many on stderr', async () => {
    const r = await run('conntrack', '--from', file);
    expect(r.code).toBe(0);
    expect(r.out.split('\n').filter(Boolean)).toHaveLength(4);
    expect(r.out).toMatch(/^tcp {6}6 7439 ESTABLISHED src=10\.1\.0\.33 /);
    expect(r.err).toBe('ferry conntrack: 4 flow entries shown (of 4)\n');
  });

  it.each([
    [
      ['--proto', 'udp'],
      ['udp', 'udp'],
    ],
    [['-p', '17', '--dport', '22000'], ['udp']],
    [['--src', '10.1.0.35'], ['icmp']],
    [['--dst', '192.0.2.2'], ['udp']],
    [
      ['--sport', '40000'],
      ['tcp', 'udp'],
    ],
    [['--state', 'established'], ['tcp']],
    [['--state', 'SYN_SENT'], []],
    [['--proto', 'tcp', '--dst', SERVER, '--dport', '8096'], ['tcp']],
  ])('filters %j', async (args, protos) => {
    const r = await run('conntrack', '--from', file, ...args);
    expect(r.code).toBe(0);
    expect(
      r.out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ')[0]),
    ).toEqual(protos);
  });

  it('--json prints the records that pass the filters', async () => {
    const r = await run('conntrack', '--from', file, '--json', '--proto', 'icmp');
    expect(r.code).toBe(0);
    const recs = JSON.parse(r.out);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      proto: 'icmp',
      original: { src: '10.1.0.35', type: 8, code: 0, id: 0x77 },
      reply: { dst: WAN_IP, type: 0 },
      flags: ['UNREPLIED'],
    });
  });

  it('rejects bad filters, a missing file and a file that is not a snapshot', async () => {
    expect(await run('conntrack', '--from', file, '--src', '10.1.0')).toMatchObject({
      code: 2,
      err: 'ferry conntrack: --src 10.1.0: not an IPv4 address\n',
    });
    expect((await run('conntrack', '--from', file, '--dport', '70000')).err).toMatch(/not a port/);
    expect((await run('conntrack', '--from', file, '--proto', 'sctpx')).err).toMatch(/not a protocol/);
    expect((await run('conntrack', '--from', file, '--state', 'OPEN')).err).toMatch(/not a TCP state/);
    expect(await run('conntrack', '--from', join(dir, 'nope.json'))).toMatchObject({
      code: 2,
      err: `ferry conntrack: ${join(dir, 'nope.json')}: no such file\n`,
    });
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"flows": 3}');
    expect((await run('conntrack', '--from', bad)).err).toMatch(/not a conntrack snapshot/);
    await writeFile(bad, '{"now": 1, "flows": [{"proto": "tcp"}]}');
    expect((await run('conntrack', '--from', bad)).err).toMatch(/flows\[0\] is not a flow record/);
    // Without --from the flows come from the running ferry (test/unit/control covers that).
    expect((await run('conntrack', '--control', join(dir, 'none.sock'))).err).toMatch(
      /^ferry conntrack: no ferry is running/,
    );
  });

  it('parseFilter normalises what was typed', () => {
    expect(parseFilter({ proto: '6', state: 'time_wait', src: '10.1.0.1', sport: '0443' })).toEqual({
      proto: 'tcp',
      state: 'TIME_WAIT',
      src: '10.1.0.1',
      sport: 443,
    });
  });
});

describe('ferry replay writes OUTDIR/conntrack.json', () => {
  it('seed 000: the flows left after the replay, listed by ferry conntrack', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-ct-replay-'));
    try {
      const inDir = `${root}fixtures/replay/brouter/in`;
      const rep = await run(
        'replay',
        '-c',
        `${root}examples/brouter.yaml`,
        `eth0=${inDir}/eth0.pcap`,
        `eth1=${inDir}/eth1.pcap`,
        `tailscale0=${inDir}/tailscale0.pcap`,
        '--mac',
        'eth0=02:00:00:00:00:e0',
        '--mac',
        'eth1=02:00:00:00:00:e1',
        '--no-progress',
        '-o',
        dir,
      );
      expect(rep.code).toBe(0);
      const snap = JSON.parse(await readFile(join(dir, 'conntrack.json'), 'utf8')) as CtSnapshot;
      expect(snap.now).toBe(1_700_000_001_600);
      const r = await run('conntrack', '--from', join(dir, 'conntrack.json'), '--dst', '192.168.1.30');
      expect(r.out).toBe(
        [
          'icmp     1 59 src=192.168.0.53 dst=192.168.1.30 type=8 code=0 id=119 src=192.168.1.30 dst=100.120.7.128 type=0 code=0 id=119 [ASSURED] mark=0 ctmark=0 snat=100.120.7.128',
          'udp      17 119 src=192.168.0.53 dst=192.168.1.30 sport=50000 dport=8096 [UNREPLIED] src=192.168.1.30 dst=100.120.7.128 sport=8096 dport=50000 mark=0 ctmark=0 snat=100.120.7.128:50000',
          '',
        ].join('\n'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes none when the config does not track connections', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-ct-replay-'));
    try {
      const rep = await run(
        'replay',
        '-c',
        `${root}fixtures/replay/routing/config.yaml`,
        `lan=${root}fixtures/replay/routing/in/lan.pcap`,
        '--no-progress',
        '-o',
        dir,
      );
      expect(rep.code).toBe(0);
      await expect(readFile(join(dir, 'conntrack.json'), 'utf8')).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
