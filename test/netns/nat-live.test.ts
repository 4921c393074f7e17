/**
 * NAT with real peers: ferry on AF_PACKET ports in a namespace with no kernel addresses and
 * forwarding off, between a LAN host and an Internet host, masquerading out its WAN port and
 * forwarding TCP 8080 on its WAN address to the LAN host's web server.
 *
 *   ns inside: c0 10.9.0.2/24 ──veth── lan [ ferry: 10.9.0.1/24 | 203.0.113.1/24 ] wan ──veth── o0 203.0.113.10/24 :ns outside
 *              (web server :8000)          (ns ferry: no addresses, ip_forward=0)            (web server :8000, UDP echo :9000)
 *
 * Checked: 20 concurrent HTTP connections through masquerade, each answered, the outside server
 * seeing only ferry's WAN address, on 20 distinct translated ports; UDP flows echoed back through
 * their mappings; ping; the port forward reached from outside with the outside client's address
 * preserved (the inside server logs 203.0.113.10); and the flows as `ferry conntrack` lists them.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRouter } from '../../src/control/build-router.js';
import { parseConfig } from '../../src/control/config/loader.js';
import { type CtRecord, formatRecord, snapshotConntrack } from '../../src/control/conntrack/records.js';
import type { Conntrack } from '../../src/dataplane/conntrack/conntrack.js';
import { LiveDriver } from '../../src/dataplane/engine/live-driver.js';
import { AfPacketPort } from '../../src/dataplane/io/afpacket-port.js';
import { NetnsSandbox, needsRoot } from '../helpers/netns.js';

const reason = needsRoot('python3', 'curl', 'ping', 'ethtool');

const WAN = '203.0.113.1';
const OUTSIDE = '203.0.113.10';
const INSIDE = '10.9.0.2';

const CONFIG = `
ports:
  - { name: lan, kind: afpacket, addresses: [10.9.0.1/24] }
  - { name: wan, kind: afpacket, addresses: [${WAN}/24] }
chains:
  nat-prerouting:
    hook: prerouting
    type: nat
    priority: dstnat
    rules:
      - match: { iif: wan, dst: ${WAN}, proto: tcp, dport: 8080 }
        action: { dnat: "${INSIDE}:8000" }
  nat-postrouting:
    hook: postrouting
    type: nat
    priority: srcnat
    rules:
      - match: { oif: wan }
        action: masquerade
`;

/** Echoes every datagram on :9000 and logs "addr port" of its sender, one line each. */
const UDP_ECHO = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('${OUTSIDE}', 9000))
log = open(sys.argv[1], 'a', buffering=1)
while True:
    d, a = s.recvfrom(2048)
    log.write('%s %d\\n' % a)
    s.sendto(d, a)
`;

/** Five UDP flows (five sockets), three datagrams each; prints how many echoes came back per flow. */
const UDP_CLIENT = `
import socket, json
got = []
for i in range(5):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('${INSIDE}', 41000 + i))
    s.settimeout(2)
    n = 0
    for k in range(3):
        msg = b'flow %d datagram %d' % (i, k)
        s.sendto(msg, ('${OUTSIDE}', 9000))
        try:
            d, a = s.recvfrom(2048)
            if d == msg and a == ('${OUTSIDE}', 9000):
                n += 1
        except socket.timeout:
            pass
    got.append(n)
print(json.dumps(got))
`;

const delay = (ms: number) => new Promise((res) => setTimeout(res, ms));

describe.skipIf(reason)('live NAT: masquerade and a port forward between real hosts', () => {
  const sb = new NetnsSandbox();
  let inside = '';
  let outside = '';
  let ferry = '';
  let dir = '';
  let ports: AfPacketPort[] = [];
  let driver: LiveDriver | null = null;
  let ct: Conntrack | null = null;

  async function waitHttp(ns: string, url: string): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const r = await sb.exec(ns, 'curl', ['-s', '-o', '/dev/null', '-m', '1', url], { reject: false });
      if (r.exitCode === 0) return;
      await delay(100);
    }
    throw new Error(`${url} did not come up in ${ns}`);
  }

  beforeAll(async () => {
    try {
      dir = await mkdtemp(join(tmpdir(), 'ferry-nat-live-'));
      await writeFile(join(dir, 'index.html'), 'hello through ferry\n');
      await writeFile(join(dir, 'echo.py'), UDP_ECHO);
      await writeFile(join(dir, 'udp-client.py'), UDP_CLIENT);
      inside = await sb.ns();
      outside = await sb.ns();
      ferry = await sb.ns();
      await sb.veth(inside, 'c0', ferry, 'lan', { offloadsOff: true });
      await sb.veth(ferry, 'wan', outside, 'o0', { offloadsOff: true });
      await sb.exec(inside, 'ip', ['addr', 'add', `${INSIDE}/24`, 'dev', 'c0']);
      await sb.exec(inside, 'ip', ['route', 'add', 'default', 'via', '10.9.0.1']);
      await sb.exec(outside, 'ip', ['addr', 'add', `${OUTSIDE}/24`, 'dev', 'o0']);
      await sb.exec(ferry, 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
      // Web servers log each request on stderr ("ADDR - - [date] "GET / …" 200 -"), kept in files.
      for (const [ns, addr, log] of [
        [outside, OUTSIDE, 'outside-http.log'],
        [inside, INSIDE, 'inside-http.log'],
      ] as const) {
        sb.spawn(ns, 'sh', [
          '-c',
          `exec python3 -u -m http.server 8000 --bind ${addr} --directory ${dir} 2>>${join(dir, log)}`,
        ]);
      }
      sb.spawn(outside, 'python3', ['-u', join(dir, 'echo.py'), join(dir, 'udp-echo.log')]);

      const cfg = parseConfig(CONFIG, 'nat-live.yaml');
      ports = cfg.ports.map((p) => AfPacketPort.open({ ifname: p.name, netns: ferry }));
      const { engine } = buildRouter(cfg, ports);
      ct = engine.conntrack;
      driver = new LiveDriver(engine, ports);
      driver.start();
      engine.announce(Date.now() / 1000);
      await waitHttp(outside, `http://${OUTSIDE}:8000/`);
      await waitHttp(inside, `http://${INSIDE}:8000/`);
    } catch (e) {
      driver?.stop();
      for (const p of ports) p.close();
      await sb.cleanup();
      throw e;
    }
  }, 60_000);

  afterAll(async () => {
    driver?.stop();
    for (const p of ports) p.close();
    await sb.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function flows(): CtRecord[] {
    return snapshotConntrack(ct!, Date.now()).flows;
  }

  it('the config tracks connections (masquerade and dnat need it)', () => {
    expect(ct).not.toBeNull();
  });

  it('ping from inside reaches the Internet host through masquerade', async () => {
    const r = await sb.exec(inside, 'ping', ['-c', '3', '-i', '0.3', '-W', '3', OUTSIDE], { reject: false });
    expect(r.stdout).toMatch(/3 received/);
    const echo = flows().find((f) => f.proto === 'icmp' && f.original.src === INSIDE);
    expect(echo).toMatchObject({ reply: { src: OUTSIDE, dst: WAN }, nat: { snat: WAN } });
  }, 30_000);

  it('20 concurrent HTTP connections through masquerade all succeed; the server sees only the WAN address', async () => {
    const url = `http://${OUTSIDE}:8000/index.html`;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        sb.exec(inside, 'curl', ['-s', '-m', '10', '-w', ' %{http_code} %{local_port}', url], {
          reject: false,
        }),
      ),
    );
    const codes = results.map((r) => String(r.stdout).trim().split(' ').slice(-2)[0]);
    expect(codes).toEqual(Array(20).fill('200'));
    for (const r of results) expect(String(r.stdout)).toMatch(/^hello through ferry/);
    const localPorts = new Set(results.map((r) => String(r.stdout).trim().split(' ').at(-1)));
    expect(localPorts.size).toBe(20);
    // The server's log: one GET per connection, every one from ferry's WAN address.
    let lines: string[] = [];
    for (let i = 0; i < 20 && lines.length < 20; i++) {
      lines = (await readFile(join(dir, 'outside-http.log'), 'utf8'))
        .split('\n')
        .filter((l) => l.includes('"GET /index.html'));
      if (lines.length < 20) await delay(100);
    }
    expect(lines).toHaveLength(20);
    expect(new Set(lines.map((l) => l.split(' ')[0]))).toEqual(new Set([WAN]));
    // ferry's flows for them: 20 TCP flows to :8000, each with its own translated port.
    const tcp = flows().filter((f) => f.proto === 'tcp' && f.original.dport === 8000);
    expect(tcp).toHaveLength(20);
    for (const f of tcp) {
      expect(f.original.src).toBe(INSIDE);
      expect(f.reply).toMatchObject({ src: OUTSIDE, dst: WAN, sport: 8000 });
      expect(f.nat.snat).toBe(`${WAN}:${f.reply.dport}`);
      expect(formatRecord(f)).toMatch(
        new RegExp(`^tcp {6}6 \\d+ \\w+ src=${INSIDE} dst=${OUTSIDE} sport=\\d+ dport=8000 src=${OUTSIDE}`),
      );
    }
    expect(new Set(tcp.map((f) => f.reply.dport)).size).toBe(20);
  }, 60_000);

  it('UDP flows are echoed back through their mappings; the echo server sees the WAN address', async () => {
    const r = await sb.exec(inside, 'python3', [join(dir, 'udp-client.py')], { timeout: 40_000 });
    const got = JSON.parse(String(r.stdout)) as number[];
    // Datagrams may be lost on a busy box; each flow must get at least one echo back.
    expect(got).toHaveLength(5);
    for (const n of got) expect(n).toBeGreaterThanOrEqual(1);
    const log = (await readFile(join(dir, 'udp-echo.log'), 'utf8')).trim().split('\n');
    expect(new Set(log.map((l) => l.split(' ')[0]))).toEqual(new Set([WAN]));
    // Port preservation (RFC 4787 REQ-1 with Linux-like preservation): the inside ports were free.
    expect(new Set(log.map((l) => Number(l.split(' ')[1])))).toEqual(
      new Set([41000, 41001, 41002, 41003, 41004]),
    );
    const udp = flows().filter((f) => f.proto === 'udp' && f.original.dport === 9000);
    expect(udp).toHaveLength(5);
    for (const f of udp) expect(f.flags).toContain('ASSURED');
  }, 60_000);

  it('the port forward is reached from outside and the inside server sees the real client address', async () => {
    const r = await sb.exec(
      outside,
      'curl',
      ['-s', '-m', '10', '-w', ' %{http_code}', `http://${WAN}:8080/index.html`],
      {
        reject: false,
      },
    );
    expect(String(r.stdout)).toBe('hello through ferry\n 200');
    const lines = (await readFile(join(dir, 'inside-http.log'), 'utf8'))
      .split('\n')
      .filter((l) => l.includes('"GET /index.html'));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.split(' ')[0]).toBe(OUTSIDE);
    const fwd = flows().find((f) => f.proto === 'tcp' && f.original.dport === 8080);
    expect(fwd).toMatchObject({
      original: { src: OUTSIDE, dst: WAN, dport: 8080 },
      reply: { src: INSIDE, sport: 8000, dst: OUTSIDE },
      nat: { dnat: `${INSIDE}:8000` },
    });
  }, 30_000);

  it('forwarding happened in ferry, not in the kernel (forwarding off, no addresses)', async () => {
    const fwd = await sb.exec(ferry, 'sysctl', ['-n', 'net.ipv4.ip_forward']);
    expect(String(fwd.stdout).trim()).toBe('0');
    for (const dev of ['lan', 'wan']) {
      const addrs = await sb.exec(ferry, 'ip', ['-4', 'addr', 'show', 'dev', dev]);
      expect(addrs.stdout).not.toContain('inet ');
    }
  });
});
