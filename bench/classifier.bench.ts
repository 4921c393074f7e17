/**
 * Classifier benchmark: 64-byte UDP frames through a prerouting chain of 10 rules with mixed
 * matches (ports, 100-prefix set, port lists and ranges, marks, ct state, DSCP), the last one
 * matching (counter, mark set, accept).
 *
 *  - "chain only": the compiled base chain run directly over a 256-packet batch (what the hook
 *    pays per packet for this chain).
 *  - "router": the whole RouterEngine forwarding the same frames lan → wan, without and with the
 *    chain attached (ports that count and drop what they are given, so nothing allocates outside
 *    the engine); the frames' bytes are restored before each batch (TTL, MACs).
 *
 * Run: `npx tsx bench/classifier.bench.ts`. Prints a Markdown table; "GCs during timing" = 0 shows
 * the path allocates nothing per packet.
 */
import '../src/dataplane/v8-tuning.js';
import type { ChainConfig, ChainRule, Match, SetConfig } from '../src/control/config/types.js';
import { CT_ESTABLISHED, CT_RELATED } from '../src/control/config/types.js';
import { PacketBatch } from '../src/dataplane/batch.js';
import { attachRuleset, compileRuleset, rulesetDeps } from '../src/dataplane/classifier/index.js';
import { RouterEngine } from '../src/dataplane/engine/router-engine.js';
import type { PacketMeta } from '../src/dataplane/pipeline/packet-meta.js';
import { newPortStats, type Port } from '../src/dataplane/ports/port.js';
import type { RouteResolver, RouteResult } from '../src/dataplane/stages/route-result.js';
import { RT_UNICAST } from '../src/dataplane/stages/route-result.js';
import { parseIpv4, setU16, setU32 } from '../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV4 } from '../src/dataplane/wire/checksum.js';
import { bench, table } from './harness.js';

const BATCH = 256;
const ip = (s: string): number => parseIpv4(s)!;

const ROUTER_LAN_MAC = 0x020000000001;
const ROUTER_WAN_MAC = 0x020000000002;
const HOST_MAC = 0x0a0000000033;
const GW_MAC = 0x0a0000000001;

/** A port that counts what it is asked to send and keeps nothing. */
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
  transmit(_b: PacketBatch, _m: PacketMeta, _slots: Uint16Array, n: number): void {
    this.stats.txPackets += n;
  }
  close(): void {}
}

/** lan 10.1.0.0/24 on port 0, everything else via 192.0.2.1 on port 1. */
class TwoRoutes implements RouteResolver {
  private readonly lanNet = ip('10.1.0.0') >>> 8;
  private readonly gateway = ip('192.0.2.1');
  lookup4(dst: number, _src: number, _mark: number, _iif: number, out: RouteResult): boolean {
    const lan = dst >>> 8 === this.lanNet;
    out.port = lan ? 0 : 1;
    out.nextHop = lan ? 0 : this.gateway;
    out.type = RT_UNICAST;
    out.table = 254;
    out.rule = -1;
    return true;
  }
}

function setMac(b: Uint8Array, o: number, mac: number): void {
  setU16(b, o, Math.floor(mac / 0x1_0000_0000));
  setU32(b, o + 2, mac % 0x1_0000_0000);
}

/** Ethernet + IPv4 + UDP 40000 → 5201 from 192.168.0.3 to 192.168.1.30, 64 bytes in all. */
function frame(): Uint8Array {
  const f = new Uint8Array(64);
  setMac(f, 0, ROUTER_LAN_MAC);
  setMac(f, 6, HOST_MAC);
  setU16(f, 12, 0x0800);
  const l3 = 14;
  f.set([0x45, 0, 0, 50, 0x12, 0x34, 0, 0, 64, 17, 0, 0], l3);
  setU32(f, l3 + 12, ip('192.168.0.3'));
  setU32(f, l3 + 16, ip('192.168.1.30'));
  setU16(f, l3 + 10, checksum(f, l3, 20));
  const l4 = l3 + 20;
  setU16(f, l4, 40000);
  setU16(f, l4 + 2, 5201);
  setU16(f, l4 + 4, 30);
  for (let i = l4 + 8; i < 64; i++) f[i] = i;
  setU16(f, l4 + 6, checksum(f, l4, 30, pseudoSumV4(ip('192.168.0.3'), ip('192.168.1.30'), 17, 30)));
  return f;
}

const ANY: Match = {
  iif: null,
  oif: null,
  src: null,
  dst: null,
  proto: -1,
  sport: null,
  dport: null,
  dscp: -1,
  mark: null,
  ctMark: null,
  ctState: 0,
};
const v4 = (a: string, len: number) => ({ family: 4 as const, addr: ip(a), len });
const r = (m: Partial<Match>, ...actions: ChainRule['actions'][number][]): ChainRule => ({
  match: { ...ANY, ...m },
  actions,
  comment: null,
});
const ports = (...list: [number, number][]) => ({
  negate: false,
  set: -1,
  ranges: list.map(([min, max]) => ({ min, max })),
});

const bogons: SetConfig = {
  index: 0,
  name: 'bogons',
  type: 'ipv4',
  prefixes: Array.from({ length: 100 }, (_, i) => v4(`203.0.${i}.0`, 24)),
  ports: [],
};

/** Ten rules; only the last matches the benchmark's packets. */
const chains: ChainConfig[] = [
  {
    index: 0,
    name: 'mangle-prerouting',
    hook: 'prerouting',
    type: 'filter',
    priority: -150,
    policy: 'accept',
    rules: [
      r({ iif: { negate: false, ports: [1] } }, { kind: 'drop' }),
      r({ dst: { negate: false, set: 0, family: 4, prefixes: bogons.prefixes } }, { kind: 'drop' }),
      r({ proto: 6, dport: ports([22, 22], [80, 80], [443, 443]) }, { kind: 'accept' }),
      r({ mark: { value: 0x10, mask: 0xff } }, { kind: 'accept' }),
      r({ ctState: CT_ESTABLISHED | CT_RELATED }, { kind: 'accept' }),
      r({ src: { negate: false, set: -1, family: 4, prefixes: [v4('172.16.0.0', 12)] } }, { kind: 'drop' }),
      r({ proto: 17, dport: ports([1000, 2000]) }, { kind: 'counter' }, { kind: 'accept' }),
      r({ dscp: 46 }, { kind: 'mark', value: 0x2e, mask: 0xffffffff }),
      r({ proto: 17, sport: ports([53, 53]) }, { kind: 'accept' }),
      r(
        {
          src: { negate: false, set: -1, family: 4, prefixes: [v4('192.168.0.0', 16)] },
          dst: { negate: false, set: -1, family: 4, prefixes: [v4('192.168.1.0', 24)] },
          proto: 17,
          dport: ports([5201, 5201]),
        },
        { kind: 'counter' },
        { kind: 'mark', value: 1, mask: 0xffffffff },
        { kind: 'accept' },
      ),
    ],
  },
];

function engine(withChain: boolean) {
  const lan = new SinkPort('lan', ROUTER_LAN_MAC);
  const wan = new SinkPort('wan', ROUTER_WAN_MAC);
  const e = new RouterEngine([lan, wan], new TwoRoutes());
  e.addAddress(ip('10.1.0.1'), 24, 0);
  e.addAddress(ip('192.0.2.2'), 24, 1);
  // Learn the gateway's MAC from its ARP request.
  const arp = new PacketBatch(1, 2048);
  const a = arp.data;
  setMac(a, 0, 0xffffffffffff);
  setMac(a, 6, GW_MAC);
  setU16(a, 12, 0x0806);
  a.set([0, 1, 8, 0, 6, 4, 0, 1], 14);
  setMac(a, 22, GW_MAC);
  setU32(a, 28, ip('192.0.2.1'));
  setU32(a, 38, ip('192.0.2.2'));
  arp.count = 1;
  arp.length[0] = 60;
  arp.port[0] = 1;
  e.receive(arp, 1000);
  const compiled = compileRuleset(chains, [bogons], 2, rulesetDeps(e));
  if (withChain) attachRuleset(e, compiled);
  return { e, wan, compiled };
}

function fill(b: PacketBatch, f: Uint8Array): void {
  for (let i = 0; i < BATCH; i++) {
    b.offset[i] = i * 64;
    b.length[i] = 64;
    b.wireLength[i] = 64;
    b.port[i] = 0;
    b.data.set(f, i * 64);
  }
  b.count = BATCH;
}

const template = frame();
const slab = new Uint8Array(BATCH * 64);
for (let i = 0; i < BATCH; i++) slab.set(template, i * 64);

// ---- chain only: the compiled program over a batch, metadata as ip4-input leaves it ----
const direct = engine(false);
const prog = direct.compiled.hooks.prerouting[0]!;
const hook = direct.e.hooks.prerouting;
const pipe = direct.e.pipe;
const cb = new PacketBatch(BATCH, BATCH * 64);
fill(cb, template);
pipe.batch = cb;
for (let i = 0; i < BATCH; i++) {
  pipe.meta.admit(i, 0, i * 64);
  pipe.meta.etherType[i] = 0x0800;
  pipe.meta.l3Off[i] = i * 64 + 14;
  pipe.meta.l4Off[i] = i * 64 + 34;
  pipe.meta.l3Len[i] = 50;
}

function chainOnly(iterations: number): number {
  let accepted = 0;
  const m = pipe.meta;
  for (let k = 0; k < iterations; k++) {
    const s = k & (BATCH - 1);
    if (prog.run(pipe, s, hook) === 0) accepted++;
    m.mark[s] = 0;
  }
  return accepted;
}

// ---- the router, without and with the chain ----
function routerCase(withChain: boolean): (iterations: number) => number {
  const { e, wan } = engine(withChain);
  const b = new PacketBatch(BATCH, BATCH * 64);
  fill(b, template);
  return (iterations) => {
    const before = wan.stats.txPackets;
    for (let n = 0; n < iterations; n += BATCH) {
      b.data.set(slab);
      b.count = BATCH;
      e.receive(b, 1000);
    }
    return wan.stats.txPackets - before;
  };
}

const rows = [];
rows.push(await bench('chain only: 10 rules, last matches, 64 B udp', chainOnly, { inner: 2_000_000 }));
const plain = routerCase(false);
const ruled = routerCase(true);
const sanity = ruled(BATCH);
if (sanity !== BATCH) throw new Error(`router forwarded ${sanity} of ${BATCH} packets`);
if (direct.compiled.ruleset.packets[9] === 0) throw new Error('the last rule never matched');
rows.push(await bench('router lan → wan, no chain, 64 B udp', plain, { inner: 1_048_576 }));
rows.push(await bench('router lan → wan, 10-rule prerouting chain, 64 B udp', ruled, { inner: 1_048_576 }));
console.log(`## classifier — node ${process.version}, ${new Date().toISOString()}\n`);
console.log(table(rows));
