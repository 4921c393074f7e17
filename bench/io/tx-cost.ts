/**
 * TX cost per frame, TPACKET_V2 TX ring versus sendmmsg: one process sends N 64-byte frames in
 * batches onto a veth whose peer drops them (unknown EtherType), and measures its own CPU time
 * (process.cpuUsage: user + system, which includes the peer's receive path, run synchronously by
 * veth in the sender's syscall -- the same for both modes). CPU time, not wall time, so other
 * load on the machine matters little. Modes alternate over several rounds; the median is kept.
 * Part of `npm run bench:io`; also runs alone: tsx bench/io/tx-cost.ts [frames]   (root)
 */
import { PacketBatch } from '../../src/dataplane/batch.js';
import { AfPacketPort, type TxMode } from '../../src/dataplane/io/afpacket-port.js';
import { NetnsSandbox } from '../../test/helpers/netns.js';
import { macBytes, testFrame } from '../../test/netns/fixtures/frames.js';

export interface TxCostRow {
  mode: TxMode;
  batch: number;
  frameBytes: number;
  /** Median CPU microseconds per frame (user / system / total). */
  userUs: number;
  sysUs: number;
  totalUs: number;
  /** Frames the kernel refused (ring or socket full), of all rounds. */
  eagain: number;
}

export async function txCost(frames = 200_000, rounds = 3): Promise<TxCostRow[]> {
  const sb = new NetnsSandbox();
  const rows: TxCostRow[] = [];
  try {
    const a = await sb.ns();
    const b = await sb.ns();
    await sb.veth(a, 'va', b, 'vb');
    const dst = macBytes(await sb.mac(b, 'vb'));
    const src = macBytes(await sb.mac(a, 'va'));
    for (const [batch, size] of [
      [64, 64],
      [256, 64],
      [64, 1500],
    ] as const) {
      const tx = new PacketBatch(batch, batch * 1536);
      for (let i = 0; i < batch; i++) {
        tx.data.set(testFrame(dst, src, i, size), i * 1536);
        tx.offset[i] = i * 1536;
        tx.length[i] = size;
      }
      tx.count = batch;
      const samples: Record<TxMode, { u: number; s: number }[]> = { ring: [], mmsg: [] };
      const eagain: Record<TxMode, number> = { ring: 0, mmsg: 0 };
      for (let r = 0; r < rounds; r++) {
        for (const mode of ['ring', 'mmsg'] as TxMode[]) {
          const port = AfPacketPort.open({ ifname: 'va', netns: a, tx: mode, offloads: 'keep', rx: 'mmsg' });
          const c0 = process.cpuUsage();
          let sent = 0;
          while (sent < frames) {
            sent += port.sendBatch(tx);
            if (port.stats.txEagain > eagain[mode] + 1000) break; // give up on a stuck ring
          }
          const c = process.cpuUsage(c0);
          eagain[mode] += port.stats.txEagain;
          port.close();
          samples[mode].push({ u: c.user / sent, s: c.system / sent });
        }
      }
      for (const mode of ['ring', 'mmsg'] as TxMode[]) {
        const m = samples[mode].sort((x, y) => x.u + x.s - (y.u + y.s))[Math.floor(rounds / 2)]!;
        rows.push({
          mode,
          batch,
          frameBytes: size,
          userUs: m.u,
          sysUs: m.s,
          totalUs: m.u + m.s,
          eagain: eagain[mode],
        });
      }
    }
  } finally {
    await sb.cleanup();
  }
  return rows;
}

export function txCostTable(rows: TxCostRow[]): string {
  return [
    '| TX mode | batch | frame bytes | CPU us/frame (user + sys = total) | refused frames |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.mode === 'ring' ? 'TPACKET_V2 TX ring, 1 kick' : 'sendmmsg'} | ${r.batch} | ${r.frameBytes} | ` +
        `${r.userUs.toFixed(3)} + ${r.sysUs.toFixed(3)} = ${r.totalUs.toFixed(3)} | ${r.eagain} |`,
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(txCostTable(await txCost(Number(process.argv[2] ?? 200_000))));
}
