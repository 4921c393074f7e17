/**
 * Idle latency micro-benchmark: how long one packet takes through the seed-000 brouter router
 * (examples/brouter.yaml over discard ports) when packets come 10 ms apart, as pings do, instead
 * of back to back. At light load V8 has not tiered the pipeline up and caches are cold, so this
 * is what a live ping sees in-process. Reports p50/p90 of `engine.receive` of one ICMP echo frame
 * (client on eth1 → ISP router on eth0) over 300 samples, for a fresh router, and for a fresh router
 * after the `ferry run` JIT warm-up (src/control/run/warm-up.ts) ran on the same config.
 *
 * Run: `npx tsx bench/latency-idle.bench.ts` (an argument `cold` or `warm` runs only that case; run
 * them in separate processes to compare, since the warm-up's effect lasts for the process; after
 * `warm`, a number overrides the warm-up's batch count).
 */
import '../src/dataplane/v8-tuning.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildRouter } from '../src/control/build-router.js';
import { loadConfig } from '../src/control/config/loader.js';
import { warmUp } from '../src/control/run/warm-up.js';
import { PacketBatch } from '../src/dataplane/batch.js';
import { DiscardPort } from '../src/dataplane/ports/discard-port.js';
import { arpReply, icmpEcho, ipFrame } from '../test/helpers/frames.js';

const SAMPLES = 300;
const GAP_MS = 10;
const ETH0_MAC = '02:00:00:00:00:e0';
const ETH1_MAC = '02:00:00:00:00:e1';
const CLIENT = '0a:00:00:00:00:35';
const ISP = '0a:00:00:00:00:01';
const MACS: Record<string, number> = { eth0: 0x0200000000e0, eth1: 0x0200000000e1 };

const cfg = await loadConfig('examples/brouter.yaml');

/** Loads frames as a live port's batch: one port, kernel receive timestamps (the engine's clock). */
function load(batch: PacketBatch, frames: readonly Uint8Array[], port: number): void {
  let used = 0;
  const now = Date.now() / 1000;
  frames.forEach((f, i) => {
    batch.tsSec[i] = Math.floor(now);
    batch.tsNsec[i] = Math.floor((now % 1) * 1e9);
    batch.data.set(f, used);
    batch.offset[i] = used;
    batch.length[i] = f.length;
    batch.port[i] = port;
    used += 2048;
  });
  batch.count = frames.length;
}

/** p50/p90 in µs of one echo frame through a fresh router, one every GAP_MS. */
async function measure(): Promise<{ p50: number; p90: number }> {
  const ports = cfg.ports.map(
    (p) => new DiscardPort(p.name, p.kind !== 'tun', MACS[p.name] ?? 0x02fe00000001),
  );
  const { engine } = buildRouter(cfg, ports, { dhcpClient: false });
  const batch = new PacketBatch(4);
  load(batch, [arpReply(ISP, '192.168.0.1', ETH0_MAC, '192.168.0.125')], 0);
  engine.receive(batch);
  load(batch, [arpReply(CLIENT, '192.168.0.53', ETH1_MAC, '192.168.0.126')], 1);
  engine.receive(batch);
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    await sleep(GAP_MS);
    load(batch, [ipFrame(ETH1_MAC, CLIENT, icmpEcho({ src: '192.168.0.53', dst: '192.168.0.1' }, i, 56))], 1);
    const t0 = process.hrtime.bigint();
    engine.receive(batch);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  if (ports[0]!.stats.txPackets !== SAMPLES) throw new Error(`eth0 sent ${ports[0]!.stats.txPackets}`);
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(SAMPLES / 2)]!, p90: times[Math.floor(SAMPLES * 0.9)]! };
}

const only = process.argv[2] ?? '';
const fmt = (r: { p50: number; p90: number }) => `p50 ${r.p50.toFixed(1)} µs, p90 ${r.p90.toFixed(1)} µs`;
if (only === '' || only === 'cold') {
  console.log(`cold (no warm-up), ${SAMPLES} echoes ${GAP_MS} ms apart: ${fmt(await measure())}`);
}
if (only === '' || only === 'warm') {
  const maxBatches = process.argv[3] ? Number(process.argv[3]) : undefined;
  const w = warmUp(cfg, maxBatches ? { maxBatches } : {});
  console.log(`warm-up: ${w.packets} packets in ${w.batches} batches, ${w.ms.toFixed(0)} ms`);
  console.log(`after warm-up, ${SAMPLES} echoes ${GAP_MS} ms apart: ${fmt(await measure())}`);
}
