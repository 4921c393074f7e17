/**
 * `ferry status` and live `ferry conntrack` against a router built from a config over memory
 * ports, served by a real control socket in a temp dir: the figures the CLI prints are the ones
 * the engine counted for frames sent through its ports.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CtRecord } from '../../../src/control/conntrack/records.js';
import { type ControlServer, startControlServer } from '../../../src/control/control-socket/server.js';
import type { StatusSnapshot } from '../../../src/control/status/types.js';
import { icmpEcho, udp } from '../../helpers/frames.js';
import { CONFIG, ControlRig, SERVER, WAN_IP } from './control-rig.js';
import { cli, recordingLog, TempDirs } from './helpers.js';

const tmp = new TempDirs();
let rig: ControlRig;
let server: ControlServer;
let sock: string;

/** A masqueraded DNS query and its answer, an unanswered ping, and a frame with a broken IP checksum. */
function traffic(r: ControlRig): void {
  r.learnNeighbours();
  r.fromLan('10.1.0.33', udp({ src: '10.1.0.33', dst: SERVER }, 40000, 53));
  r.fromWan(udp({ src: SERVER, dst: WAN_IP }, 53, 40000));
  r.fromLan('10.1.0.34', icmpEcho({ src: '10.1.0.34', dst: SERVER }));
  const bad = udp({ src: '10.1.0.33', dst: SERVER }, 40001, 53);
  bad[10]! ^= 0xff; // IP header checksum
  r.fromLan('10.1.0.33', bad);
}

beforeEach(async () => {
  const dir = tmp.make();
  rig = new ControlRig(dir);
  traffic(rig);
  sock = join(dir, 'run', 'ferry.sock');
  server = await startControlServer(rig, sock, recordingLog());
});

afterEach(async () => {
  await server.close();
  tmp.cleanup();
});

describe('ferry status --json', () => {
  it('reports the counters the engine kept for real frames', async () => {
    const r = await cli('status', '--json', '--control', sock);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as StatusSnapshot;
    expect(s.ferry).toMatchObject({ configPath: rig.configPath, pid: process.pid, startedAt: rig.startedAt });
    expect(s.ferry.uptime).toBeGreaterThanOrEqual(3600);
    for (const [i, p] of rig.ports.entries()) {
      expect(s.ports[i]).toMatchObject({
        name: p.name,
        kind: 'memory',
        mac: i === 0 ? '02:00:00:00:00:01' : '02:00:00:00:00:02',
        rx: { packets: p.stats.rxPackets, bytes: p.stats.rxBytes },
        tx: { packets: p.stats.txPackets, bytes: p.stats.txBytes },
        drops: { 'tx-error': 0 },
        link: null,
      });
    }
    // ARP from the gateway, then the answer; ARP from two hosts, the query, the ping, the bad frame.
    expect(s.ports.map((p) => p.rx.packets)).toEqual([5, 2]);
    expect(s.drops).toEqual(rig.engine.drops());
    expect(Object.values(s.drops).reduce((a, b) => a + b, 0)).toBe(1);
    expect(s.conntrack).toMatchObject({
      flows: 2,
      capacity: 1024,
      natBindings: 2,
      earlyDrops: 0,
      byState: [
        { proto: 'icmp', state: 'UNREPLIED', flows: 1 },
        { proto: 'udp', state: 'REPLIED', flows: 1 },
      ],
    });
    expect(s.chains?.rules.map((x) => [x.chain, x.rule, x.comment, x.packets, x.bytes])).toEqual([
      ['filter-forward', 1, 'dns', 1, 46],
      ['filter-forward', 2, null, 1, 84],
    ]);
    expect(s.neighbours.map((n) => [n.address, n.port, n.mac])).toEqual([
      ['10.1.0.33', 'lan', '0a:00:00:00:00:33'],
      ['10.1.0.34', 'lan', '0a:00:00:00:00:34'],
      ['192.0.2.1', 'wan', '0a:00:00:00:00:01'],
    ]);
    expect(s.routes.find((t) => t.name === 'main')?.routes.map((x) => x.text)).toEqual([
      'default via 192.0.2.1 dev wan',
      '10.1.0.0/24 dev lan',
      '192.0.2.0/24 dev wan',
    ]);
    expect(s.routes.find((t) => t.id === 100)?.routes.map((x) => x.text)).toEqual([
      '203.0.113.0/24 via 192.0.2.1 dev wan',
    ]);
    expect(s.rules.map((x) => `${x.priority}: ${x.text}`)).toContain('1000: from all fwmark 0x7 lookup 100');
    expect(s.dhcpRelay).toEqual({ counters: {}, messages: [] });
    expect(s.dhcpClients).toEqual([]);
    expect(s.overlays).toEqual([]);
  });

  it('gives rates between two requests and overlay peers with their handshake age', async () => {
    const now = Date.now() / 1000;
    rig.peers.push({
      interface: 'wg0',
      publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
      endpoint: '203.0.113.5:51820',
      allowedIps: ['10.9.0.0/24'],
      latestHandshake: Math.floor(now) - 30,
      rxBytes: 1234,
      txBytes: 5678,
      persistentKeepalive: 25,
    });
    rig.errors.push('wan: link down');
    const first = JSON.parse((await cli('status', '--json', '--control', sock)).out) as StatusSnapshot;
    // Rates since the server started (it took a sample then).
    expect(first.ports[0]!.rate).not.toBeNull();
    rig.fromLan('10.1.0.33', udp({ src: '10.1.0.33', dst: SERVER }, 40000, 53));
    const second = JSON.parse((await cli('status', '--json', '--control', sock)).out) as StatusSnapshot;
    const rate = second.ports[0]!.rate!;
    expect(rate.seconds).toBeGreaterThan(0);
    expect(rate.rxPacketsPerSec * rate.seconds).toBeCloseTo(1, 6);
    expect(rate.rxBitsPerSec * rate.seconds).toBeCloseTo(8 * 60, 6);
    expect(second.overlays[0]).toMatchObject({
      interface: 'wg0',
      rxBytes: 1234,
      txBytes: 5678,
      endpoint: '203.0.113.5:51820',
    });
    expect(second.overlays[0]!.handshakeAge).toBeGreaterThanOrEqual(29);
    expect(second.overlays[0]!.handshakeAge).toBeLessThan(120);
    expect(second.portErrors).toEqual(['wan: link down']);
  });
});

describe('ferry status', () => {
  it('prints ports, neighbours, routes, rules, rule counters, flows and drops in aligned columns', async () => {
    rig.peers.push({
      interface: 'wg0',
      publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
      endpoint: null,
      allowedIps: [],
      latestHandshake: 0,
      rxBytes: 0,
      txBytes: 0,
      persistentKeepalive: null,
    });
    const r = await cli('status', '--control', sock);
    expect(r.code).toBe(0);
    const text = r.out;
    expect(text).toMatch(/^ferry \S+, pid \d+, up 1h 0\dm, config .*ferry\.yaml$/m);
    const lines = text.split('\n');
    const head = lines.findIndex((l) => /^\s+NAME\s+KIND\s+LINK\s+MAC\s+MTU\s+RX PACKETS/.test(l));
    expect(head).toBeGreaterThan(0);
    const lan = lines[head + 1]!;
    const wan = lines[head + 2]!;
    expect(lan).toMatch(/^\s+lan\s+memory\s+-\s+02:00:00:00:00:01\s+1500\s+5\s+\d+ B\s+\d+/);
    expect(wan).toMatch(/^\s+wan\s+memory\s+-\s+02:00:00:00:00:02\s+1500\s+2\s+/);
    // Columns line up: each header word ends where its right-aligned numbers end.
    const rxEnd = lines[head]!.indexOf('RX PACKETS') + 'RX PACKETS'.length;
    expect(lan.slice(0, rxEnd)).toMatch(/ 5$/);
    expect(wan.slice(0, rxEnd)).toMatch(/ 2$/);
    expect(text).toMatch(/^\s+10\.1\.0\.33\s+lan\s+0a:00:00:00:00:33\s+\w+/m);
    expect(text).toMatch(/^\s+192\.0\.2\.1\s+wan\s+0a:00:00:00:00:01\s+/m);
    expect(text).toContain('  default via 192.0.2.1 dev wan');
    expect(text).toContain('  1000:  from all fwmark 0x7 lookup 100');
    expect(text).toMatch(
      /^\s+filter-forward\s+1\s+1\s+46 B\s+\(proto udp dport 53\): counter, accept {2}# dns$/m,
    );
    expect(text).toContain('conntrack: 2 flows of 1024 (0.2%), 2 NAT bindings, 0 early drops');
    expect(text).toMatch(/^\s+udp\s+REPLIED\s+1$/m);
    expect(text).toMatch(/^\s+ip4-bad-checksum\s+1$/m);
    expect(text).toMatch(/^\s+wg0\s+xTIBA5rb\S+\s+\(none\)\s+\(none\)\s+never\s+0 B\s+0 B$/m);
  });

  it('says no ferry is running when nobody listens on the path', async () => {
    const missing = join(tmp.make(), 'none.sock');
    const r = await cli('status', '--control', missing);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      `ferry status: no ferry is running (no control socket at ${missing}; start one with \`ferry run -c FILE\`, or pass --control)\n`,
    );
  });
});

describe('ferry conntrack (live)', () => {
  it('lists the running engine’s flows with their NAT rewrite, like conntrack -L', async () => {
    const r = await cli('conntrack', '--control', sock);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toEqual([
      'udp      17 299 src=10.1.0.33 dst=198.51.100.7 sport=40000 dport=53 src=198.51.100.7 dst=192.0.2.2 sport=53 dport=40000 [ASSURED] mark=0 ctmark=0 snat=192.0.2.2:40000',
      'icmp     1 59 src=10.1.0.34 dst=198.51.100.7 type=8 code=0 id=119 [UNREPLIED] src=198.51.100.7 dst=192.0.2.2 type=0 code=0 id=119 mark=0 ctmark=0 snat=192.0.2.2',
    ]);
    expect(r.err).toBe('ferry conntrack: 2 flow entries shown (of 2)\n');
  });

  it('applies the filters and prints JSON records', async () => {
    const icmp = await cli('conntrack', '--control', sock, '-p', 'icmp', '--json');
    expect(icmp.code).toBe(0);
    const recs = JSON.parse(icmp.out) as CtRecord[];
    expect(recs.map((x) => [x.proto, x.original.src, x.nat])).toEqual([
      ['icmp', '10.1.0.34', { snat: '192.0.2.2' }],
    ]);
    const bySrc = await cli('conntrack', '--control', sock, '--src', '10.1.0.33', '--dport', '53');
    expect(bySrc.out).toContain('sport=40000 dport=53');
    expect(bySrc.err).toBe('ferry conntrack: 1 flow entries shown (of 2)\n');
    const none = await cli('conntrack', '--control', sock, '--dst', '10.9.9.9');
    expect(none.out).toBe('');
    const bad = await cli('conntrack', '--control', sock, '--sport', 'x');
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('ferry conntrack: --sport x: not a port (0-65535)\n');
  });

  it('says so when the running config does not track connections', async () => {
    const dir = tmp.make();
    const plain = new ControlRig(dir, CONFIG.replace(/ {2}nat-postrouting:[\s\S]*?masquerade\n/, ''));
    const path = join(dir, 'plain.sock');
    const s2 = await startControlServer(plain, path, recordingLog());
    try {
      const r = await cli('conntrack', '--control', path);
      expect(r.code).toBe(1);
      expect(r.err).toBe(
        `ferry conntrack: connection tracking is off: no rule of ${plain.configPath} needs it (NAT, ct state, ct mark)\n`,
      );
    } finally {
      await s2.close();
    }
  });
});

describe('ferry status with a failing overlay', () => {
  it('still answers, with the overlays’ error in its place', async () => {
    rig.overlayPeers = async () => {
      throw new Error('wg show wg0 dump: exit 1');
    };
    const json = JSON.parse((await cli('status', '--json', '--control', sock)).out) as StatusSnapshot;
    expect(json.overlaysError).toBe('wg show wg0 dump: exit 1');
    expect(json.ports).toHaveLength(2);
    const text = (await cli('status', '--control', sock)).out;
    expect(text).toContain('overlay peers: cannot read them: wg show wg0 dump: exit 1');
  });
});
