/**
 * TUN/TAP ports inside a namespace: round trips with the kernel in both directions, batched
 * reads, TAP frames, multi-queue, and the errors for busy or mismatched devices.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacketBatch } from '../../src/dataplane/batch.js';
import { AfPacketPort } from '../../src/dataplane/io/afpacket-port.js';
import { ARPHRD_NONE, linkInfo } from '../../src/dataplane/io/link.js';
import { TunPort } from '../../src/dataplane/io/tun-port.js';
import { NetnsSandbox, needsRoot } from '../helpers/netns.js';
import { batchOf, collect, ETHERTYPE_TEST, sleep } from './fixtures/frames.js';
import { answerEchoInPlace, icmpEcho, parseIcmp } from './fixtures/ip-packets.js';

const reason = needsRoot('ping');

describe.skipIf(reason)('TUN/TAP port', () => {
  const sb = new NetnsSandbox();
  let A = '';
  beforeAll(async () => {
    A = await sb.ns();
  });
  afterAll(() => sb.cleanup());

  /** A TUN up with 10.9.<n>.1/24 in namespace A. */
  async function tun(n: number): Promise<TunPort> {
    const t = TunPort.open({ name: 'fytun%d', netns: A, up: true });
    await sb.exec(A, 'ip', ['addr', 'add', `10.9.${n}.1/24`, 'dev', t.name]);
    return t;
  }

  it('an ICMP echo request written into the TUN is answered by the kernel and read back', async () => {
    const t = await tun(1);
    try {
      expect(t.name).toMatch(/^fytun\d+$/);
      expect(t.l2).toBe(false);
      const info = linkInfo(t.name, { netns: A });
      expect(info.hwType).toBe(ARPHRD_NONE);
      expect(info.up).toBe(true);
      const isIcmp = (d: Uint8Array, o: number, len: number) => parseIcmp(d, o, len) !== undefined;
      const got = collect(t, 3, 3000, isIcmp);
      const payload = Uint8Array.from({ length: 56 }, (_, i) => i);
      const reqs = [1, 2, 3].map((seq) => icmpEcho('10.9.1.2', '10.9.1.1', 8, 0x4242, seq, payload));
      expect(t.sendBatch(batchOf(reqs))).toBe(3);
      const r = await got;
      expect(r.frames.length).toBe(3);
      r.frames.forEach((f, i) => {
        expect(parseIcmp(f, 0, f.length)).toEqual({
          src: '10.9.1.1',
          dst: '10.9.1.2',
          type: 0,
          id: 0x4242,
          seq: i + 1,
          ipOk: true,
          icmpOk: true,
        });
        expect(Buffer.compare(f.subarray(28), payload)).toBe(0);
      });
      expect(t.stats.txPackets).toBe(3);
    } finally {
      t.close();
    }
  });

  it("the kernel's ping is read from the TUN and the reply ferry writes back completes it", async () => {
    const t = await tun(2);
    try {
      const out = new Uint16Array(t.batchSize);
      t.start((b) => {
        let k = 0;
        for (let i = 0; i < b.count; i++) {
          const e = parseIcmp(b.data, b.offset[i]!, b.length[i]!);
          if (e?.type !== 8 || e.dst !== '10.9.2.2') continue;
          answerEchoInPlace(b.data, b.offset[i]!); // rewritten in the RX slab, sent from there
          out[k++] = i;
        }
        if (k) t.sendBatch(b, out, k);
      });
      const ping = await sb.exec(A, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.9.2.2'], {
        reject: false,
      });
      expect(ping.exitCode, String(ping.stdout)).toBe(0);
      expect(String(ping.stdout)).toMatch(/3 packets transmitted, 3 received/);
    } finally {
      t.close();
    }
  });

  it('drains a queued burst in few batches (one JS call per batch)', async () => {
    const t = await tun(3);
    try {
      // 200 datagrams queue up in the TUN while nobody reads; then one wake-up drains them
      await sb.exec(A, 'bash', ['-c', 'for i in $(seq 1 200); do printf x > /dev/udp/10.9.3.2/9; done']);
      const r = await collect(t, 200, 3000, (d, o) => d[o + 9] === 17);
      expect(r.frames.length).toBe(200);
      expect(r.batches).toBeLessThanOrEqual(2);
      expect(r.maxBatch).toBeGreaterThan(100);
    } finally {
      t.close();
    }
  });

  it('a TAP carries Ethernet frames both ways', async () => {
    const t = TunPort.open({ name: 'fytap%d', type: 'tap', netns: A, up: true });
    try {
      expect(t.l2).toBe(true);
      expect(t.mac).toBeGreaterThan(0);
      await sb.exec(A, 'ip', ['addr', 'add', '10.9.9.1/24', 'dev', t.name]);
      // the kernel has to ARP for 10.9.9.2 through the TAP
      const arp = collect(t, 1, 3000, (d, o) => d[o + 12] === 0x08 && d[o + 13] === 0x06);
      const ping = sb.exec(A, 'ping', ['-c', '1', '-W', '1', '10.9.9.2'], { reject: false });
      const r = await arp;
      await ping;
      expect(r.frames.length).toBe(1);
      const f = r.frames[0]!;
      expect((f[20]! << 8) | f[21]!).toBe(1); // ARP request
      expect(Array.from(f.subarray(38, 42)).join('.')).toBe('10.9.9.2');
      // a frame written into the TAP is received by the kernel on the device
      const rxBefore = Number(
        (await sb.exec(A, 'cat', [`/sys/class/net/${t.name}/statistics/rx_packets`])).stdout,
      );
      const frame = new Uint8Array(60).fill(0xff, 0, 6);
      frame[12] = ETHERTYPE_TEST >> 8;
      frame[13] = ETHERTYPE_TEST & 0xff;
      expect(t.sendBatch(batchOf([frame, frame]))).toBe(2);
      const rxAfter = Number(
        (await sb.exec(A, 'cat', [`/sys/class/net/${t.name}/statistics/rx_packets`])).stdout,
      );
      expect(rxAfter - rxBefore).toBe(2);
    } finally {
      t.close();
    }
  });

  it('multi-queue: every port adds a queue; a held single-queue TUN is EBUSY with a hint', async () => {
    const q1 = TunPort.open({ name: 'fymq0', multiQueue: true, netns: A });
    const q2 = TunPort.open({ name: 'fymq0', multiQueue: true, netns: A });
    const single = TunPort.open({ name: 'fysq0', netns: A });
    try {
      expect(q2.name).toBe('fymq0');
      expect(String((await sb.exec(A, 'ip', ['-d', 'link', 'show', 'fymq0'])).stdout)).toMatch(/multi_queue/);
      expect(() => TunPort.open({ name: 'fysq0', netns: A })).toThrow(
        "fysq0 is already attached by another process (for example wireguard-go): attach to it through AF_PACKET instead, AfPacketPort.open({ ifname: 'fysq0', mode: 'l3' })",
      );
      // an AF_PACKET port in L2 mode cannot parse a device without a link-layer header
      expect(() => AfPacketPort.open({ ifname: 'fysq0', netns: A })).toThrow(
        /no link-layer header.*mode: 'l3'/,
      );
    } finally {
      q1.close();
      q2.close();
      single.close();
    }
  });

  it('exclusive, type mismatch and persistence behave and say so', async () => {
    const p = TunPort.open({ name: 'fyper0', persist: true, netns: A });
    p.close();
    try {
      expect(linkInfo('fyper0', { netns: A }).ifindex).toBeGreaterThan(0); // persisted
      expect(() => TunPort.open({ name: 'fyper0', type: 'tap', netns: A })).toThrow(
        /fyper0 exists but is not a tap device/,
      );
      expect(() => TunPort.open({ name: 'fyper0', exclusive: true, netns: A })).toThrow(/already exists/);
      const again = TunPort.open({ name: 'fyper0', netns: A });
      again.close();
    } finally {
      await sb.exec(A, 'ip', ['link', 'del', 'fyper0']);
    }
  });

  it('open/close cycles leak no fds; close is idempotent and empties the RX view', () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 5; i++) TunPort.open({ name: 'fyleak0', netns: A }).close();
    const before = fds();
    for (let i = 0; i < 100; i++) {
      const t = TunPort.open({ name: 'fyleak0', netns: A });
      t.start(() => {});
      t.close();
      t.close();
      expect(t.rx.data.byteLength).toBe(0);
    }
    expect(fds()).toBe(before);
  });

  it('sends from a foreign batch with prepended heads (gather) in one call', async () => {
    const t = await tun(4);
    try {
      const payload = new Uint8Array(16).fill(7);
      const req = icmpEcho('10.9.4.2', '10.9.4.1', 8, 7, 1, payload);
      const b = new PacketBatch(4, 256);
      b.data.set(req.subarray(20), 0); // ICMP part in the batch, IPv4 header as the head
      b.offset[2] = 0;
      b.length[2] = req.length - 20;
      const head = new Uint8Array(4 * 96);
      const headLen = new Uint8Array(4);
      head.set(req.subarray(0, 20), 2 * 96);
      headLen[2] = 20;
      const got = collect(t, 1, 3000, (d, o, len) => parseIcmp(d, o, len)?.type === 0);
      expect(t.sendBatch(b, Uint16Array.of(2), 1, { head, headLen })).toBe(1);
      const r = await got;
      expect(parseIcmp(r.frames[0]!, 0, r.frames[0]!.length)?.id).toBe(7);
      await sleep(10);
    } finally {
      t.close();
    }
  });
});
