/**
 * Attaching to a TUN another daemon owns: wireguard-go's interface, through an AF_PACKET port in
 * L3 mode. Two namespaces, a wireguard-go tunnel between them; ferry sends into the overlay and
 * reads what comes out of it, and exchanges pings with the kernel on the far side.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AfPacketPort } from '../../src/dataplane/io/afpacket-port.js';
import { PACKET_HOST } from '../../src/dataplane/io/port-meta.js';
import { TunPort } from '../../src/dataplane/io/tun-port.js';
import { NetnsSandbox, needsRoot, uniqueName } from '../helpers/netns.js';
import { batchOf, collect, sleep } from './fixtures/frames.js';
import { icmpEcho, parseIcmp } from './fixtures/ip-packets.js';

const reason = needsRoot('wireguard-go', 'wg', 'ping');

describe.skipIf(reason)('AF_PACKET L3 port on a wireguard-go TUN', () => {
  const sb = new NetnsSandbox();
  const keys = mkdtempSync(join(tmpdir(), 'ferry-wg-'));
  let A = '';
  let B = '';
  const wgA = uniqueName('a');
  const wgB = uniqueName('b');

  async function up(
    ns: string,
    dev: string,
    addr: string,
    key: string,
    peerPub: string,
    peerAllowed: string,
    endpoint: string,
  ) {
    sb.spawn(ns, 'wireguard-go', ['-f', dev], { env: { LOG_LEVEL: 'error' } });
    for (let i = 0; i < 50; i++) {
      const r = await sb.exec(ns, 'ip', ['link', 'show', dev], { reject: false });
      if (r.exitCode === 0) break;
      await sleep(100);
    }
    const keyFile = join(keys, dev);
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    await sb.exec(ns, 'wg', [
      'set',
      dev,
      'private-key',
      keyFile,
      'listen-port',
      '51820',
      'peer',
      peerPub,
      'allowed-ips',
      peerAllowed,
      'endpoint',
      endpoint,
    ]);
    await sb.exec(ns, 'ip', ['addr', 'add', addr, 'dev', dev]);
    await sb.exec(ns, 'ip', ['link', 'set', dev, 'up']);
  }

  beforeAll(async () => {
    A = await sb.ns();
    B = await sb.ns();
    await sb.veth(A, 'ua', B, 'ub');
    await sb.exec(A, 'ip', ['addr', 'add', '10.99.0.1/24', 'dev', 'ua']);
    await sb.exec(B, 'ip', ['addr', 'add', '10.99.0.2/24', 'dev', 'ub']);
    const gen = async () => {
      const priv = (await execa('wg', ['genkey'])).stdout.trim();
      const pub = (await execa('wg', ['pubkey'], { input: priv })).stdout.trim(); // key on stdin, never argv
      return { priv, pub };
    };
    const ka = await gen();
    const kb = await gen();
    await up(A, wgA, '10.66.0.1/24', ka.priv, kb.pub, '10.66.0.2/32', '10.99.0.2:51820');
    await up(B, wgB, '10.66.0.2/24', kb.priv, ka.pub, '10.66.0.1/32', '10.99.0.1:51820');
    // the tunnel works for the kernels before ferry joins (this also completes the handshake)
    const ping = await sb.exec(A, 'ping', ['-c', '2', '-W', '3', '10.66.0.2'], { reject: false });
    expect(ping.exitCode, String(ping.stdout)).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await sb.cleanup();
    rmSync(keys, { recursive: true, force: true });
  });

  it('sends into the overlay and reads the answer that comes out of it', async () => {
    const port = AfPacketPort.open({ ifname: wgA, netns: A, mode: 'l3' });
    try {
      expect(port.l2).toBe(false);
      const got = collect(port, 3, 5000, (d, o, len) => parseIcmp(d, o, len)?.id === 0x5151);
      const payload = Uint8Array.from({ length: 32 }, (_, i) => 100 + i);
      const reqs = [1, 2, 3].map((seq) => icmpEcho('10.66.0.1', '10.66.0.2', 8, 0x5151, seq, payload));
      expect(port.sendBatch(batchOf(reqs))).toBe(3);
      const r = await got;
      expect(r.frames.length).toBe(3);
      r.frames.forEach((f, i) => {
        expect(parseIcmp(f, 0, f.length)).toEqual({
          src: '10.66.0.2',
          dst: '10.66.0.1',
          type: 0,
          id: 0x5151,
          seq: i + 1,
          ipOk: true,
          icmpOk: true,
        });
        expect(r.info[i]![4]).toBe(PACKET_HOST);
      });
    } finally {
      port.close();
    }
  });

  it("sees the far kernel's pings arrive through the tunnel while the near kernel answers them", async () => {
    const port = AfPacketPort.open({ ifname: wgA, netns: A, mode: 'l3' });
    try {
      const got = collect(port, 3, 8000, (d, o, len) => {
        const e = parseIcmp(d, o, len);
        return e?.type === 8 && e.src === '10.66.0.2';
      });
      const ping = await sb.exec(B, 'ping', ['-c', '3', '-i', '0.2', '-W', '3', '10.66.0.1'], {
        reject: false,
      });
      const r = await got;
      expect(ping.exitCode, String(ping.stdout)).toBe(0);
      expect(r.frames.length).toBe(3);
      for (const f of r.frames) expect(parseIcmp(f, 0, f.length)?.icmpOk).toBe(true);
    } finally {
      port.close();
    }
  });

  it('cannot take the TUN from wireguard-go, and says how to attach instead', () => {
    expect(() => TunPort.open({ name: wgA, netns: A })).toThrow(
      new RegExp(
        `${wgA} is already attached by another process .*AfPacketPort\\.open\\(\\{ ifname: '${wgA}', mode: 'l3' \\}\\)`,
      ),
    );
    expect(() => AfPacketPort.open({ ifname: wgA, netns: A })).toThrow(/no link-layer header/);
  });
});
