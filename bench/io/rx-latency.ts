/**
 * RX wake-up latency per RX mode, one frame at a time: the time from `sendBatch` of one frame on
 * a veth peer to the RX callback of the port on the other end, in one process (same clock).
 * It isolates what the RX design adds to every hop: the TPACKET_V3 block-retire timer versus
 * per-frame wake-ups (TPACKET_V2 ring, recvmmsg). Part of `npm run bench:io`; also runs alone:
 *   tsx bench/io/rx-latency.ts [samples]      (root)
 */
import { type AfPacketOptions, AfPacketPort } from '../../src/dataplane/io/afpacket-port.js';
import { NetnsSandbox } from '../../test/helpers/netns.js';
import { batchOf, macBytes, testFrame } from '../../test/netns/fixtures/frames.js';

export interface LatencyRow {
  mode: string;
  samples: number;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
}

const CASES: [string, Partial<AfPacketOptions>][] = [
  ['v2 ring', { rx: 'v2' }],
  ['recvmmsg', { rx: 'mmsg' }],
  ['v3 ring, tov 1 ms', { rx: 'v3', ring: { blockTimeoutMs: 1 } }],
  ['v3 ring, tov 4 ms', { rx: 'v3', ring: { blockTimeoutMs: 4 } }],
];

export async function rxLatency(samples = 150): Promise<LatencyRow[]> {
  const sb = new NetnsSandbox();
  const rows: LatencyRow[] = [];
  try {
    const a = await sb.ns();
    const b = await sb.ns();
    await sb.veth(a, 'va', b, 'vb');
    const frame = batchOf([
      testFrame(macBytes(await sb.mac(a, 'va')), macBytes(await sb.mac(b, 'vb')), 1, 64),
    ]);
    for (const [mode, o] of CASES) {
      const port = AfPacketPort.open({ ifname: 'va', netns: a, offloads: 'keep', ...o });
      const inj = AfPacketPort.open({ ifname: 'vb', netns: b, offloads: 'keep' });
      const lat: number[] = [];
      let t0 = 0;
      port.start(() => {
        if (t0) lat.push(performance.now() - t0);
        t0 = 0;
      });
      for (let i = 0; i < samples; i++) {
        t0 = performance.now();
        inj.sendBatch(frame);
        await new Promise((r) => setTimeout(r, 7)); // longer than any retire timeout used here
      }
      port.close();
      inj.close();
      lat.sort((x, y) => x - y);
      const q = (p: number) => lat[Math.floor(p * (lat.length - 1))] ?? Number.NaN;
      rows.push({ mode, samples: lat.length, medianMs: q(0.5), p90Ms: q(0.9), maxMs: q(1) });
    }
  } finally {
    await sb.cleanup();
  }
  return rows;
}

export function latencyTable(rows: LatencyRow[]): string {
  return [
    '| RX mode | samples | median ms | p90 ms | max ms |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.mode} | ${r.samples} | ${r.medianMs.toFixed(3)} | ${r.p90Ms.toFixed(3)} | ${r.maxMs.toFixed(3)} |`,
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(latencyTable(await rxLatency(Number(process.argv[2] ?? 150))));
}
