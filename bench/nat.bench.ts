/**
 * NAT benchmark: 64-byte UDP frames through the whole IPv4 router (ingress → … → port output) in
 * batches of 256, on ports that only count what they transmit.
 *
 *   npx --no -- tsx bench/nat.bench.ts
 *
 * Cases:
 * - plain forwarding (no conntrack stages);
 * - masquerade, established flows (256 flows, every packet a known flow: conntrack lookup, UDP
 *   refresh, source rewrite with incremental checksums);
 * - masquerade, new flows (every packet a new source port: propose, port allocation, confirm;
 *   the table is kept full so early drop and port release run too).
 * The masquerade request comes from a one-line chain program equal to `oif wan masquerade`, so
 * the figures measure conntrack + NAT, not the classifier. The frames are restored from a
 * template before each batch in every case (the pipeline rewrites them in place).
 * GCs counted while timing must be 0.
 */
import '../src/dataplane/v8-tuning.js';
import { DEFAULT_TIMEOUTS } from '../src/control/config/semantic/services.js';
import { PacketBatch } from '../src/dataplane/batch.js';
import { RouterEngine } from '../src/dataplane/engine/router-engine.js';
import { NAT_MASQUERADE, type PacketMeta } from '../src/dataplane/pipeline/packet-meta.js';
import type { Pipeline } from '../src/dataplane/pipeline/pipeline.js';
import { newPortStats, type Port } from '../src/dataplane/ports/port.js';
import { VERDICT_ACCEPT } from '../src/dataplane/stages/hook.js';
import { type RouteResolver, type RouteResult, RT_UNICAST } from '../src/dataplane/stages/route-result.js';
import { setU16, setU32, setU48 } from '../src/dataplane/wire/bytes.js';
import { checksum } from '../src/dataplane/wire/checksum.js';
import { bench, type CaseResult, table } from './harness.js';

const BATCH = 256;
const FRAME = 64;
const LAN_MAC = 0x020000000001;
const WAN_MAC = 0x020000000002;
const GW = 0xc0000201; // 192.0.2.1
const WAN_IP = 0xc0000202;

class SinkPort implements Port {
  index = -1;
  readonly kind = 'memory' as const;
  readonly stats = newPortStats();
  constructor(
    readonly name: string,
    public mac: number,
    public mtu = 1500,
    readonly l2 = true,
  ) {}
  transmit(_b: PacketBatch, _m: PacketMeta, _s: Uint16Array, n: number): void {
    this.stats.txPackets += n;
  }
  close(): void {}
}

/** lan 10.0.0.0/8 on port 0, everything else via 192.0.2.1 on port 1. */
class TwoRoutes implements RouteResolver {
  lookup4(dst: number, _src: number, _mark: number, _iif: number, out: RouteResult): boolean {
    out.type = RT_UNICAST;
    out.table = 254;
    out.rule = -1;
    if (dst >>> 24 === 10) {
      out.port = 0;
      out.nextHop = 0;
    } else {
      out.port = 1;
      out.nextHop = GW;
    }
    return true;
  }
}

function arpFrom(b: Uint8Array, at: number, mac: number, ip: number, target: number): number {
  setU48(b, at, 0xffffffffffff);
  setU48(b, at + 6, mac);
  setU16(b, at + 12, 0x0806);
  setU16(b, at + 14, 1);
  setU16(b, at + 16, 0x0800);
  b[at + 18] = 6;
  b[at + 19] = 4;
  setU16(b, at + 20, 1);
  setU48(b, at + 22, mac);
  setU32(b, at + 28, ip);
  setU48(b, at + 32, 0);
  setU32(b, at + 38, target);
  return 42;
}

function makeEngine(nat: boolean, capacity: number): RouterEngine {
  const ports = [new SinkPort('lan', LAN_MAC), new SinkPort('wan', WAN_MAC)];
  const e = new RouterEngine(ports, new TwoRoutes(), {
    conntrack: nat ? { capacity, liberal: false, timeouts: DEFAULT_TIMEOUTS } : null,
  });
  e.addAddress(0x0a000001, 8, 0);
  e.addAddress(WAN_IP, 24, 1);
  if (nat && !process.env.NAT_BENCH_NO_MASQ)
    e.hooks.postrouting.programs.push({
      run(pipe: Pipeline, s: number): number {
        if (pipe.meta.outPort[s] === 1) pipe.meta.natKind[s] = NAT_MASQUERADE;
        return VERDICT_ACCEPT;
      },
    });
  const b = new PacketBatch(1, 2048);
  b.count = 1;
  b.offset[0] = 0;
  b.length[0] = arpFrom(b.data, 0, 0x0a0000000001, GW, WAN_IP);
  b.port[0] = 1;
  e.receive(b, 1);
  return e;
}

/** 256 UDP frames lan → 198.51.100.7:53, host 10.1.x.y:sport (UDP checksum 0: none). */
function template(): PacketBatch {
  const b = new PacketBatch(BATCH, BATCH * FRAME);
  for (let i = 0; i < BATCH; i++) {
    const at = i * FRAME;
    const d = b.data;
    setU48(d, at, LAN_MAC);
    setU48(d, at + 6, 0x0a0000000033);
    setU16(d, at + 12, 0x0800);
    const l3 = at + 14;
    d[l3] = 0x45;
    setU16(d, l3 + 2, 50);
    d[l3 + 8] = 64;
    d[l3 + 9] = 17;
    setU32(d, l3 + 12, 0x0a010000 + i);
    setU32(d, l3 + 16, 0xc6336407);
    setU16(d, l3 + 10, checksum(d, l3, 20));
    setU16(d, l3 + 20, 40000);
    setU16(d, l3 + 22, 53);
    setU16(d, l3 + 24, 30);
    b.offset[i] = at;
    b.length[i] = FRAME;
    b.port[i] = 0;
  }
  b.count = BATCH;
  return b;
}

async function run(name: string, nat: boolean, fresh: boolean): Promise<CaseResult> {
  const e = makeEngine(nat, fresh ? 32768 : 65536);
  const t = template();
  const work = new PacketBatch(BATCH, BATCH * FRAME);
  work.count = BATCH;
  work.offset.set(t.offset);
  work.length.set(t.length);
  work.port.set(t.port);
  let now = 2;
  let sport = 1024;
  const r = await bench(
    name,
    (iters) => {
      for (let it = 0; it < iters; it++) {
        if (fresh) {
          sport = sport === 65535 ? 1024 : sport + 1;
          for (let i = 0; i < BATCH; i++) setU16(t.data, i * FRAME + 34, sport);
        }
        work.data.set(t.data);
        for (let i = 0; i < BATCH; i++) work.length[i] = FRAME;
        now += 0.00005;
        e.receive(work, now);
      }
      return iters;
    },
    { inner: fresh ? 2_000 : 10_000, samples: 7, warmup: 2 },
  );
  const drops = e.drops();
  const bad = Object.keys(drops).filter((k) => k !== 'ip4-no-route');
  if (bad.length) console.log(`  ${name}: drops ${JSON.stringify(drops)}`);
  return {
    ...r,
    name,
    nsPerOp: r.nsPerOp / BATCH,
    minNs: r.minNs / BATCH,
    maxNs: r.maxNs / BATCH,
    opsPerSec: r.opsPerSec * BATCH,
  };
}

const only = process.env.NAT_BENCH_CASE;
const rows = only
  ? [await run(only, only !== 'plain', only === 'new')]
  : [
      await run('plain forwarding, 64 B UDP (per packet)', false, false),
      await run('masquerade, established flows (per packet)', true, false),
      await run('masquerade, a new flow per packet (per packet)', true, true),
    ];
console.log(table(rows));
