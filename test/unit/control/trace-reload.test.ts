/**
 * `ferry trace --live` and `ferry reload` against a router on memory ports behind a real control
 * socket: the trace captures exactly the packets its filter takes after it was armed, tells their
 * stories stage by stage, and leaves the engine unarmed when it ends however it ends; a reload's
 * success and failure reach the command line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLiveTrace } from '../../../src/control/cli/trace.js';
import { type ControlServer, startControlServer } from '../../../src/control/control-socket/server.js';
import type { TraceRecord } from '../../../src/control/trace/record.js';
import { icmpEcho, udp } from '../../helpers/frames.js';
import { ControlRig, SERVER, WAN_IP } from './control-rig.js';
import { capture, cli, recordingLog, TempDirs, until } from './helpers.js';

const tmp = new TempDirs();
let rig: ControlRig;
let server: ControlServer;
let sock: string;

const ping = (src: string, seq: number) => icmpEcho({ src, dst: SERVER }, seq);

let log: ReturnType<typeof recordingLog>;

beforeEach(async () => {
  const dir = tmp.make();
  rig = new ControlRig(dir);
  rig.learnNeighbours();
  sock = join(dir, 'ferry.sock');
  log = recordingLog();
  server = await startControlServer(rig, sock, log);
});

afterEach(async () => {
  await server.close();
  // Nothing a client did here is the daemon's fault.
  expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
  tmp.cleanup();
});

function expectDisarmed(r: ControlRig): void {
  const t = r.engine.pipe.tracer;
  expect(t.remaining).toBe(0);
  expect(t.filter).toBeNull();
  expect(t.onRunDone).toBeNull();
}

const armed = () => until(() => rig.engine.pipe.tracer.remaining > 0, 'the trace to be armed');

describe('ferry trace --live', () => {
  it('tells the stories of exactly the packets the filter takes, sent after it was armed', async () => {
    rig.fromLan('10.1.0.34', ping('10.1.0.34', 9)); // before arming: not traced
    const run = cli('trace', '--live', 'host', '10.1.0.34', 'and', 'icmp', '--count', '2', '--control', sock);
    await armed();
    rig.fromLan('10.1.0.33', ping('10.1.0.33', 1));
    rig.fromLan('10.1.0.34', ping('10.1.0.34', 2));
    rig.fromLan('10.1.0.34', udp({ src: '10.1.0.34', dst: SERVER }, 40000, 53));
    rig.fromLan('10.1.0.34', ping('10.1.0.34', 3));
    rig.fromLan('10.1.0.34', ping('10.1.0.34', 4)); // after the count: not traced
    const r = await run;
    expect(r.code).toBe(0);
    expect(r.err).toBe('ferry trace: 2 packets traced\n');
    const stories = r.out.trim().split('\n\n');
    expect(stories).toHaveLength(2);
    stories.forEach((s, i) => {
      expect(s).toMatch(/^#\d+ {2}\d+\.\d{9} {2}in lan, 98 bytes$/m);
      expect(s).toContain(`ip 10.1.0.34 → 198.51.100.7 ttl 64 · icmp echo request id 119 seq ${i + 2}`);
      for (const stage of [
        'eth-input',
        'ip4-input',
        'conntrack-in',
        'ip4-lookup',
        'forward',
        'nat-src',
        'port-output',
      ])
        expect(s).toMatch(new RegExp(`^ +\\d+ ${stage} +\\S`, 'm'));
      expect(s).toMatch(/⇒ sent on wan$/);
    });
    expectDisarmed(rig);
  });

  it('prints trace-file lines with --json, router-originated packets included when they match', async () => {
    const run = cli('trace', '--live', 'icmp', '--count', '2', '--json', '--control', sock);
    await armed();
    // TTL 1: the router answers with an ICMP time exceeded (quoting the whole 84-byte ping),
    // which the filter takes too.
    rig.fromLan('10.1.0.33', icmpEcho({ src: '10.1.0.33', dst: SERVER, ttl: 1 }));
    const r = await run;
    expect(r.code).toBe(0);
    const recs = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TraceRecord);
    expect(recs.map((x) => x.port)).toEqual(['lan', '(router)']);
    expect(recs[0]!.steps.map((s) => s.stage)).toContain('ip4-forward');
    expect(recs[0]!.steps.at(-1)!.text).toMatch(/^drop: /);
    expect(recs[1]!.link).toBe('raw-ip');
    expect(recs[1]!.steps.at(-1)).toMatchObject({
      stage: 'port-output',
      text: 'transmitted on lan (126 bytes)',
    });
    expectDisarmed(rig);
  });

  it('filters on the arrival port, ports, and negation', async () => {
    const run = cli(
      'trace',
      '--live',
      'iif',
      'wan',
      'and',
      'udp',
      'and',
      'not',
      'src',
      'port',
      '53',
      '--count',
      '1',
      '--json',
      '--control',
      sock,
    );
    await armed();
    rig.fromLan('10.1.0.33', udp({ src: '10.1.0.33', dst: SERVER }, 40000, 53));
    rig.fromWan(udp({ src: SERVER, dst: WAN_IP }, 53, 40000));
    rig.fromWan(udp({ src: SERVER, dst: WAN_IP }, 5353, 40000));
    const r = await run;
    const recs = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TraceRecord);
    expect(recs).toHaveLength(1);
    expect(recs[0]!.port).toBe('wan');
    expect(Buffer.from(recs[0]!.head, 'hex').readUInt16BE(34)).toBe(5353);
  });

  it('stops at the timeout and disarms', async () => {
    const r = await cli(
      'trace',
      '--live',
      'host',
      '10.9.9.9',
      '--count',
      '5',
      '--timeout',
      '0.2',
      '--control',
      sock,
    );
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(r.err).toBe('ferry trace: 0 packets traced; stopped at the 0.2 s timeout\n');
    expectDisarmed(rig);
  });

  it('Ctrl-C (the abort signal) closes the connection and the daemon disarms', async () => {
    const ac = new AbortController();
    const c = capture();
    const run = runLiveTrace('udp', { count: '3', control: sock }, c.io, ac.signal);
    await armed();
    rig.fromLan('10.1.0.33', udp({ src: '10.1.0.33', dst: SERVER }, 40000, 53));
    await until(() => c.out().includes('⇒ sent on wan'), 'the first story');
    ac.abort();
    expect(await run).toBe(0);
    expect(c.err()).toBe('ferry trace: stopped after 1 packet\n');
    await until(() => rig.engine.pipe.tracer.onRunDone === null, 'the daemon to disarm');
    expectDisarmed(rig);
  });

  it('refuses a second trace while one runs, and a filter that names no port', async () => {
    const run = cli('trace', '--live', '--count', '1', '--control', sock);
    await armed();
    const busy = await cli('trace', '--live', '--count', '1', '--control', sock);
    expect(busy.code).toBe(1);
    expect(busy.err).toBe('ferry trace: another trace is running on this engine; try again when it ends\n');
    rig.fromLan('10.1.0.33', ping('10.1.0.33', 1));
    expect((await run).code).toBe(0);
    const badPort = await cli('trace', '--live', 'iif', 'eth9', '--control', sock);
    expect(badPort.code).toBe(1);
    expect(badPort.err).toBe('ferry trace: iif eth9: no such port (ports: lan, wan)\n');
    expectDisarmed(rig);
  });

  it('checks the filter and the numbers before asking the daemon', async () => {
    const nowhere = join(tmp.make(), 'none.sock');
    const syntax = await cli('trace', '--live', 'host', '10.1.0.300', '--control', nowhere);
    expect(syntax).toMatchObject({ code: 2, err: 'ferry trace: "10.1.0.300" is not an IPv4 address\n' });
    const or = await cli('trace', '--live', 'tcp', 'or', 'udp', '--control', nowhere);
    expect(or.err).toBe('ferry trace: "or" is not supported: primitives combine with "and" only\n');
    const count = await cli('trace', '--live', '--count', '0', '--control', nowhere);
    expect(count).toMatchObject({
      code: 2,
      err: 'ferry trace: --count 0: a whole number of packets, 1-1024\n',
    });
    const mixed = await cli('trace', '--live', '--dropped', '--control', nowhere);
    expect(mixed.code).toBe(2);
    const fileMode = await cli('trace', '--count', '3', 'file.json');
    expect(fileMode).toMatchObject({ code: 2, err: 'ferry trace: --count need --live\n' });
  });

  it('ends when a reload replaces the engine', async () => {
    const run = cli('trace', '--live', 'arp', '--count', '1', '--control', sock);
    await armed();
    const old = rig.engine;
    expect((await rig.reload()).ok).toBe(true);
    const r = await run;
    expect(r.err).toBe(
      'ferry trace: 0 packets traced; stopped: the config was reloaded (start the trace again)\n',
    );
    expect(old.pipe.tracer.remaining).toBe(0);
    expect(old.pipe.tracer.onRunDone).toBeNull();
  });

  it('still reads trace files (the file mode)', async () => {
    const file = join(tmp.make(), 'trace.json');
    const run = cli('trace', '--live', 'udp', '--count', '1', '--json', '--control', sock);
    await armed();
    rig.fromLan('10.1.0.33', udp({ src: '10.1.0.33', dst: SERVER }, 40000, 53));
    writeFileSync(file, (await run).out);
    const r = await cli('trace', file, '--port', 'lan');
    expect(r.code).toBe(0);
    expect(r.out).toContain('udp 40000 → 53');
    expect(r.out).toContain('⇒ sent on wan');
  });
});

describe('ferry reload', () => {
  it('prints the summary when the new config is valid', async () => {
    const path = rig.configPath;
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace(
        'rules:\n  - { priority: 1000',
        'rules:\n  - { priority: 900, fwmark: 0x8, table: 100 }\n  - { priority: 1000',
      ),
    );
    const before = rig.engine;
    const r = await cli('reload', '--control', sock);
    expect(r).toEqual({ code: 0, out: 'ferry reload: reloaded: 2 chains, 2 rules\n', err: '' });
    expect(rig.engine).not.toBe(before);
    const s = await cli('status', '--json', '--control', sock);
    expect(JSON.parse(s.out).rules.map((x: { text: string }) => x.text)).toContain(
      'from all fwmark 0x8 lookup 100',
    );
  });

  it('passes the validation error through and exits 1', async () => {
    writeFileSync(rig.configPath, readFileSync(rig.configPath, 'utf8').replace('dev: wan }', 'dev: wan9 }'));
    const r = await cli('reload', '--control', sock);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      /^ferry reload: the new config was not applied \(ferry keeps running the old one\):\n.*ferry\.yaml:\d+:\d+: tables\.main\[0\]\.dev: .*wan9/,
    );
    expect(rig.reloads).toBe(0);
  });
});
