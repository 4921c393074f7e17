/**
 * Pipeline benchmark (replay from memory): packets through the seed-000 brouter config
 * (examples/brouter.yaml: proxy-ARP legs, a mark rule at prerouting, fwmark policy route into the
 * overlay port, the masquerade statement), 64-byte frames and an IMIX, half to the overlay and
 * half forwarded upstream. Reports Mpps, ns/packet, per-stage ns (VPP's `show runtime`) and GCs
 * during timing. Run: `npm run bench:pipeline`; an argument keeps only the cases whose label contains
 * it (`npx tsx bench/pipeline.bench.ts masquerade`), e.g. to profile one of them.
 */
import '../src/dataplane/v8-tuning.js';
import { buildRouter } from '../src/control/build-router.js';
import { loadConfig } from '../src/control/config/loader.js';
import { PacketBatch } from '../src/dataplane/batch.js';
import { DiscardPort } from '../src/dataplane/ports/discard-port.js';
import { arpReply, icmpEcho, ipFrame, udp } from '../test/helpers/frames.js';
import { bench, table } from './harness.js';

const full = await loadConfig('examples/brouter.yaml');
/** The same router without its masquerade chain: no NAT, so no connection tracking either. */
const noNat = { ...full, chains: full.chains.filter((c) => c.type !== 'nat') };
let cfg = full;
const ETH1_MAC = '02:00:00:00:00:e1';
const ETH0_MAC = '02:00:00:00:00:e0';
const CLIENT = '0a:00:00:00:00:35';
const ISP = '0a:00:00:00:00:01';

function router() {
  const ports = cfg.ports.map(
    (p) =>
      new DiscardPort(
        p.name,
        p.kind !== 'tun',
        p.name === 'eth1' ? 0x0200000000e1 : p.name === 'eth0' ? 0x0200000000e0 : 0x02fe00000001,
      ),
  );
  const { engine } = buildRouter(cfg, ports);
  // Teach it both neighbours, as their ARP traffic would.
  const warm = new PacketBatch(4);
  const put = (i: number, f: Uint8Array, port: number) => {
    warm.data.set(f, i * 2048);
    warm.offset[i] = i * 2048;
    warm.length[i] = f.length;
    warm.port[i] = port;
  };
  put(0, arpReply(ISP, '192.168.0.1', ETH0_MAC, '192.168.0.125'), 0);
  put(1, arpReply(CLIENT, '192.168.0.53', ETH1_MAC, '192.168.0.126'), 1);
  warm.count = 2;
  engine.receive(warm, 1);
  return { engine, ports };
}

/** A batch of `n` frames from the client on eth1: even slots to the overlay, odd ones upstream. */
function traffic(n: number, sizes: number[]) {
  const batch = new PacketBatch(n, n * 2048);
  let used = 0;
  for (let i = 0; i < n; i++) {
    const size = sizes[i % sizes.length]!;
    const dst = i % 2 === 0 ? `192.168.1.${30 + (i % 7)}` : '192.168.0.1';
    const pkt =
      size <= 64
        ? udp({ src: '192.168.0.53', dst }, 40000 + i, 5201, 18)
        : icmpEcho({ src: '192.168.0.53', dst }, i, size - 14 - 28);
    const f = ipFrame(ETH1_MAC, CLIENT, pkt);
    batch.data.set(f, used);
    batch.offset[i] = used;
    batch.length[i] = f.length;
    batch.port[i] = 1;
    used += (f.length + 63) & ~63;
  }
  batch.count = n;
  return {
    batch,
    pristine: batch.data.slice(0, used),
    offsets: batch.offset.slice(),
    lengths: batch.length.slice(),
  };
}

function run(sizes: number[], label: string) {
  const { engine, ports } = router();
  const { batch, pristine, offsets, lengths } = traffic(256, sizes);
  const t = { sec: 2 };
  const step = (iterations: number): number => {
    // Each call processes `iterations` packets in batches of 256; the frames and descriptors are
    // restored (TTL, MACs, offsets) before each batch, as a port's refill would (included in the time).
    const batches = Math.ceil(iterations / 256);
    for (let b = 0; b < batches; b++) {
      batch.data.set(pristine);
      batch.offset.set(offsets);
      batch.length.set(lengths);
      batch.count = 256;
      batch.tsSec.fill(t.sec);
      engine.receive(batch);
      t.sec += 1e-6;
    }
    return ports[0]!.stats.txPackets + ports[2]!.stats.txPackets;
  };
  return { engine, ports, step, label };
}

const rows = [];
const imix = [64, 64, 64, 64, 64, 64, 64, 576, 576, 576, 576, 1500];
const only = process.argv[2] ?? '';
for (const [config, sizes, label] of [
  [noNat, [64], '64-byte UDP, mark rule + policy route (no NAT)'],
  [full, [64], '64-byte UDP, + masquerade (conntrack on)'],
  [full, imix, 'IMIX 7:4:1 (64/576/1500), + masquerade'],
] as const) {
  if (!label.includes(only)) continue;
  cfg = config;
  const r = run([...sizes], label);
  rows.push(await bench(`brouter pipeline, ${label}`, r.step, { inner: 256 * 2000, samples: 7 }));
  r.engine.pipe.resetRuntime();
  r.engine.pipe.profile = true;
  r.step(256 * 2000);
  const rt = r.engine.pipe.runtime().filter((x) => x.packets > 0);
  console.log(`\n### per stage, ${label} (profiled run; timing adds ~2 calls per stage per batch)\n`);
  console.log('| stage | packets | avg vector | ns/packet |\n|---|---:|---:|---:|');
  for (const x of rt)
    console.log(`| ${x.stage} | ${x.packets} | ${x.vector.toFixed(1)} | ${x.nsPerPacket.toFixed(1)} |`);
  const sent = r.ports.map((p) => `${p.name} ${p.stats.txPackets}`).join(', ');
  console.log(`\nsent: ${sent}; drops: ${JSON.stringify(r.engine.drops())}`);
}
console.log(`\n## pipeline — node ${process.version}, ${new Date().toISOString()}\n`);
console.log(table(rows).replace('ns/op', 'ns/packet'));
for (const r of rows) console.log(`${r.name}: ${(r.opsPerSec / 1e6).toFixed(2)} Mpps`);
const plain = rows.find((r) => r.name.includes('no NAT'));
const nat = rows.find((r) => r.name.includes('64-byte UDP, + masquerade'));
if (plain && nat)
  console.log(
    `64-byte masquerade vs no NAT: ${((nat.opsPerSec / plain.opsPerSec - 1) * 100).toFixed(1)} % (same run)`,
  );
