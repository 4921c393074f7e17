/**
 * A JS L2 forwarder between two veths on the addon: frames from a paced sender in one namespace
 * cross it to a checking sink in another with zero loss, byte-exact, in order -- 200,000 frames by
 * default, 1,000,000 with FERRY_SOAK=1 -- and the forwarder's RSS and fd count do not grow.
 *
 *   ns snd: a0 <-veth-> f0 [ JS forwarder, this process ] f1 <-veth-> b0 :ns rcv
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PacketBatch } from '../../src/dataplane/batch.js';
import { AfPacketPort } from '../../src/dataplane/io/afpacket-port.js';
import { NetnsSandbox, needsRoot } from '../helpers/netns.js';
import { ETHERTYPE_TEST } from './fixtures/frames.js';

const reason = needsRoot();
const SOAK = process.env.FERRY_SOAK === '1';
const COUNT = SOAK ? 1_000_000 : 200_000;
const RATE = SOAK ? 150_000 : 100_000;

interface Report {
  sink: unknown;
  sender: unknown;
  sent: number;
  received: number;
  missing: number;
  duplicates: number;
  corrupt: number;
  reordered: number;
  seconds: number;
}

describe.skipIf(reason)('JS L2 forwarder on the addon', () => {
  const sb = new NetnsSandbox();
  let snd = '';
  let fwd = '';
  let rcv = '';
  let dstMac = '';
  let f0: AfPacketPort;
  let f1: AfPacketPort;
  let forwarded = 0;
  const nice0 = getPriority();

  beforeAll(async () => {
    // The machine may be shared with other test files and benchmarks: zero loss is about ferry,
    // so the forwarder and its traffic run ahead of unrelated load (nice -10, root only).
    setPriority(-10);
    snd = await sb.ns();
    fwd = await sb.ns();
    rcv = await sb.ns();
    await sb.veth(snd, 'a0', fwd, 'f0');
    await sb.veth(fwd, 'f1', rcv, 'b0');
    dstMac = await sb.mac(rcv, 'b0');
    // 16384-frame RX ring (32 MiB): absorbs 160 ms of scheduling stalls at 100 kpps on a shared machine
    f0 = AfPacketPort.open({ ifname: 'f0', netns: fwd, ring: { blockCount: 512 } });
    f1 = AfPacketPort.open({ ifname: 'f1', netns: fwd });
    // per frame: check the EtherType, collect the slot; then ONE send for the batch, zero-copy
    // out of f0's RX ring
    const slots = new Uint16Array(f0.batchSize);
    f0.start((b: PacketBatch) => {
      const d = b.data;
      let k = 0;
      for (let i = 0; i < b.count; i++) {
        const o = b.offset[i]!;
        if (d[o + 12] === ETHERTYPE_TEST >> 8 && d[o + 13] === (ETHERTYPE_TEST & 0xff)) slots[k++] = i;
      }
      if (k) forwarded += f1.sendBatch(b, slots, k);
    });
  });

  afterAll(async () => {
    setPriority(nice0);
    f0?.close();
    f1?.close();
    await sb.cleanup();
  });

  async function traffic(count: number, rate: number): Promise<Report> {
    const r = await execa(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/netns/fixtures/traffic.ts',
        snd,
        'a0',
        rcv,
        'b0',
        dstMac,
        String(count),
        String(rate),
      ],
      { timeout: ((count / rate) * 3 + 30) * 1000 },
    );
    return JSON.parse(String(r.stdout).trim().split('\n').pop()!) as Report;
  }

  const fds = () => readdirSync('/proc/self/fd').length;

  it(
    `${COUNT.toLocaleString('en')} frames at ${RATE / 1000} kpps: zero loss, byte-exact, in order; no RSS or fd growth`,
    async () => {
      const warm = await traffic(20_000, RATE); // JIT, ring pages touched once
      expect(warm.missing).toBe(0);
      const rss0 = process.memoryUsage().rss;
      const fd0 = fds();
      const before = forwarded;
      const r = await traffic(COUNT, RATE);
      const where = JSON.stringify({
        forwarderIn: f0.stats,
        forwarderOut: f1.stats,
        sink: r.sink,
        sender: r.sender,
      });
      expect(r, where).toMatchObject({
        sent: COUNT,
        received: COUNT,
        missing: 0,
        duplicates: 0,
        corrupt: 0,
        reordered: 0,
      });
      expect(forwarded - before).toBe(COUNT);
      const s0 = f0.stats;
      const s1 = f1.stats;
      expect(s0.kernelDrops).toBe(0);
      expect(s1.txErrors + s1.txEagain).toBe(0);
      expect(s0.rxBatches).toBeLessThan(s0.rxPackets); // batched, not one call per frame
      expect(fds()).toBe(fd0);
      expect(process.memoryUsage().rss - rss0).toBeLessThan(16 << 20);
      console.log(
        `l2-forward: ${COUNT} frames in ${r.seconds.toFixed(1)} s, ` +
          `${(s0.rxPackets / s0.rxBatches).toFixed(1)} frames per batch, rss +${((process.memoryUsage().rss - rss0) / 1048576).toFixed(1)} MiB`,
      );
    },
    SOAK ? 180_000 : 90_000,
  );
});
