/**
 * Routing benchmark: longest-prefix-match lookups with 100k routes (IPv4 and IPv6), the full
 * policy lookup (`routeLookup`: rules, then the table), and insert/delete rates.
 *
 *   npx tsx bench/route.bench.ts
 *
 * Route sets are random but seeded (same tables every run):
 * - IPv4 "BGP-like": prefix lengths weighted like the public IPv4 table (mostly /24, then /22–/23,
 *   /16–/21, a few /8–/15);
 * - IPv4 "uniform": lengths uniform over /1–/32, the worst case for the trie's memory (many
 *   prefixes longer than /24, each needing its own third-level ply);
 * - IPv6: lengths weighted like the public IPv6 table (mostly /48 and /32–/47, some /64, a few
 *   /128) under 2000::/3.
 * Lookup keys are precomputed (half inside a random route's prefix, half uniformly random) and
 * read in a fixed random order, so the loop measures the lookup, not key generation.
 */

import { RouteContext, routeLookup, routeLookup6 } from '../src/dataplane/route/lookup.js';
import { Lpm4 } from '../src/dataplane/route/lpm4.js';
import { Lpm6 } from '../src/dataplane/route/lpm6.js';
import { Rib } from '../src/dataplane/route/rib.js';
import { RuleAction } from '../src/dataplane/route/rules.js';
import { RouteType } from '../src/dataplane/route/store.js';
import { bench, type CaseResult, table } from './harness.js';

const N = 100_000;
const KEYS = 1 << 20;
const KMASK = KEYS - 1;

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick(r: () => number, weights: readonly [number, number][]): number {
  const total = weights.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of weights) {
    x -= w;
    if (x < 0) return v;
  }
  return weights[weights.length - 1]![0];
}

const BGP4: [number, number][] = [
  [24, 60],
  [23, 7],
  [22, 13],
  [21, 4],
  [20, 5],
  [19, 3],
  [18, 2],
  [17, 1],
  [16, 3],
  [15, 0.5],
  [14, 0.5],
  [13, 0.3],
  [12, 0.2],
  [11, 0.1],
  [10, 0.1],
  [9, 0.05],
  [8, 0.05],
];

const BGP6: [number, number][] = [
  [48, 45],
  [47, 2],
  [46, 3],
  [44, 8],
  [40, 6],
  [36, 4],
  [32, 15],
  [29, 4],
  [56, 3],
  [64, 7],
  [128, 3],
];

interface V4Set {
  addr: Uint32Array;
  len: Uint8Array;
}

function v4Routes(seed: number, lenOf: (r: () => number) => number): V4Set {
  const r = rng(seed);
  const s: V4Set = { addr: new Uint32Array(N), len: new Uint8Array(N) };
  for (let i = 0; i < N; i++) {
    s.len[i] = lenOf(r);
    s.addr[i] = Math.floor(r() * 4294967296) >>> 0;
  }
  return s;
}

function v4Keys(seed: number, s: V4Set): Uint32Array {
  const r = rng(seed);
  const k = new Uint32Array(KEYS);
  for (let i = 0; i < KEYS; i++) {
    const rand = Math.floor(r() * 4294967296) >>> 0;
    if (i & 1) {
      const j = Math.floor(r() * N);
      const len = s.len[j]!;
      const m = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      k[i] = ((s.addr[j]! & m) | (rand & ~m)) >>> 0;
    } else k[i] = rand;
  }
  return k;
}

interface V6Set {
  addr: Uint8Array[];
  len: Uint8Array;
}

function v6Routes(seed: number): V6Set {
  const r = rng(seed);
  const s: V6Set = { addr: [], len: new Uint8Array(N) };
  for (let i = 0; i < N; i++) {
    s.len[i] = pick(r, BGP6);
    const a = new Uint8Array(16);
    for (let b = 0; b < 16; b++) a[b] = Math.floor(r() * 256);
    a[0] = 0x20 | (a[0]! & 0x1f); // 2000::/3
    s.addr.push(a);
  }
  return s;
}

/** Keys as 4 words each, in one Uint32Array. */
function v6Keys(seed: number, s: V6Set): Uint32Array {
  const r = rng(seed);
  const k = new Uint32Array(KEYS * 4);
  for (let i = 0; i < KEYS; i++) {
    const a = new Uint8Array(16);
    for (let b = 0; b < 16; b++) a[b] = Math.floor(r() * 256);
    if (i & 1) {
      const j = Math.floor(r() * N);
      const p = s.addr[j]!;
      const len = s.len[j]!;
      for (let b = 0; b < 16; b++) {
        const bits = Math.max(0, Math.min(8, len - 8 * b));
        const m = (0xff00 >> bits) & 0xff;
        a[b] = (p[b]! & m) | (a[b]! & ~m & 0xff);
      }
    } else a[0] = 0x20 | (a[0]! & 0x1f);
    for (let w = 0; w < 4; w++) {
      k[i * 4 + w] = ((a[4 * w]! << 24) | (a[4 * w + 1]! << 16) | (a[4 * w + 2]! << 8) | a[4 * w + 3]!) >>> 0;
    }
  }
  return k;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

function timeIt(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const rows: CaseResult[] = [];
  const notes: string[] = [];

  for (const [label, lenOf] of [
    ['IPv4 BGP-like', (r: () => number) => pick(r, BGP4)],
    ['IPv4 uniform /1-/32', (r: () => number) => 1 + Math.floor(r() * 32)],
  ] as const) {
    const set = v4Routes(label.length, lenOf);
    const keys = v4Keys(7, set);
    const lpm = new Lpm4();
    const tIns = timeIt(() => {
      for (let i = 0; i < N; i++) lpm.insert(set.addr[i]!, set.len[i]!, i);
    });
    notes.push(
      `${label}: ${lpm.size} distinct prefixes, ${lpm.plyCount} plies, ${mib(lpm.bytes)}; insert ${((N / tIns) * 1000).toFixed(0)} routes/s`,
    );
    rows.push(
      await bench(`${label}: Lpm4.lookup, ${N / 1000}k routes`, (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += lpm.lookup(keys[i & KMASK]!);
        return s;
      }),
    );
    // Each key depends on the previous result, so lookups cannot overlap: latency, not throughput.
    rows.push(
      await bench(`${label}: Lpm4.lookup latency (dependent chain)`, (n) => {
        let v = 0;
        for (let i = 0; i < n; i++) v = lpm.lookup(keys[(i + (v & 1)) & KMASK]!);
        return v;
      }),
    );
    const tDel = timeIt(() => {
      for (let i = 0; i < N; i++) lpm.delete(set.addr[i]!, set.len[i]!);
    });
    notes.push(`${label}: delete ${((N / tDel) * 1000).toFixed(0)} routes/s, ${lpm.plyCount} plies left`);
  }

  // Full policy lookup: local/main/default plus two fwmark rules, 100k routes in main.
  {
    const set = v4Routes(11, (r) => pick(r, BGP4));
    const keys = v4Keys(13, set);
    const rib = new Rib();
    for (let i = 0; i < N; i++) {
      const len = set.len[i]!;
      if (rib.main.v4.get(set.addr[i]!, len) >= 0) continue;
      rib.main.add({
        family: 4,
        dst: set.addr[i]!,
        len,
        type: RouteType.Unicast,
        port: i & 3,
        gateway: 0x0a000001,
        metric: 0,
      });
    }
    rib
      .ensureTable(100)
      .add({ family: 4, dst: 0, len: 0, type: RouteType.Unicast, port: 5, gateway: null, metric: 0 });
    const base = {
      family: 0 as const,
      from: 0,
      fromLen: 0,
      to: 0,
      toLen: 0,
      iif: -1,
      action: RuleAction.Lookup,
    };
    rib.rules.add({ ...base, priority: 100, mark: 1, markMask: 0xffffffff, table: 100 });
    rib.rules.add({ ...base, priority: 200, mark: 2, markMask: 0xffffffff, table: 100 });
    const ctx = new RouteContext(rib);
    rows.push(
      await bench('IPv4 routeLookup (5 rules, 100k routes in main, unmarked)', (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) {
          ctx.dst = keys[i & KMASK]!;
          routeLookup(ctx);
          s += ctx.port;
        }
        return s;
      }),
    );
  }

  {
    const set = v6Routes(17);
    const keys = v6Keys(19, set);
    const lpm = new Lpm6();
    const tIns = timeIt(() => {
      for (let i = 0; i < N; i++) lpm.insert(set.addr[i]!, set.len[i]!, i);
    });
    notes.push(
      `IPv6 BGP-like: ${lpm.size} distinct prefixes, ${lpm.nodeCount} nodes, ${mib(lpm.bytes)}; insert ${((N / tIns) * 1000).toFixed(0)} routes/s`,
    );
    const q = new Uint32Array(4);
    rows.push(
      await bench(
        `IPv6 BGP-like: Lpm6.lookup, ${N / 1000}k routes`,
        (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) {
            const o = (i & KMASK) << 2;
            q[0] = keys[o]!;
            q[1] = keys[o + 1]!;
            q[2] = keys[o + 2]!;
            q[3] = keys[o + 3]!;
            s += lpm.lookup(q);
          }
          return s;
        },
        { inner: 500_000 },
      ),
    );
    rows.push(
      await bench(
        'IPv6 BGP-like: Lpm6.lookup latency (dependent chain)',
        (n) => {
          let v = 0;
          for (let i = 0; i < n; i++) {
            const o = ((i + (v & 1)) & KMASK) << 2;
            q[0] = keys[o]!;
            q[1] = keys[o + 1]!;
            q[2] = keys[o + 2]!;
            q[3] = keys[o + 3]!;
            v = lpm.lookup(q);
          }
          return v;
        },
        { inner: 500_000 },
      ),
    );
    const rib = new Rib();
    for (let i = 0; i < N; i++) {
      if (rib.main.v6.get(set.addr[i]!, set.len[i]!) >= 0) continue;
      rib.main.add({
        family: 6,
        dst: set.addr[i]!,
        len: set.len[i]!,
        type: RouteType.Unicast,
        port: 1,
        gateway: null,
        metric: 0,
      });
    }
    const ctx = new RouteContext(rib);
    rows.push(
      await bench(
        'IPv6 routeLookup6 (3 implicit rules, 100k routes in main)',
        (n) => {
          let s = 0;
          const d = ctx.dst6;
          for (let i = 0; i < n; i++) {
            const o = (i & KMASK) << 2;
            d[0] = keys[o]!;
            d[1] = keys[o + 1]!;
            d[2] = keys[o + 2]!;
            d[3] = keys[o + 3]!;
            routeLookup6(ctx);
            s += ctx.port;
          }
          return s;
        },
        { inner: 500_000 },
      ),
    );
    const tDel = timeIt(() => {
      for (let i = 0; i < N; i++) lpm.delete(set.addr[i]!, set.len[i]!);
    });
    notes.push(
      `IPv6 BGP-like: delete ${((N / tDel) * 1000).toFixed(0)} routes/s, ${lpm.nodeCount} nodes left`,
    );
  }

  // A homelab-sized table: the routing of examples/brouter.yaml plus a few dozen routes.
  {
    const rib = new Rib();
    const r = rng(23);
    rib.local.add({
      family: 4,
      dst: 0xc0a8007d,
      len: 32,
      type: RouteType.Local,
      port: 0,
      gateway: null,
      metric: 0,
    });
    rib.main.add({
      family: 4,
      dst: 0xc0a80000,
      len: 24,
      type: RouteType.Unicast,
      port: 0,
      gateway: null,
      metric: 0,
    });
    rib.main.add({
      family: 4,
      dst: 0,
      len: 0,
      type: RouteType.Unicast,
      port: 0,
      gateway: 0xc0a80001,
      metric: 0,
    });
    for (let i = 0; i < 30; i++) {
      const dst = Math.floor(r() * 4294967296) >>> 0;
      if (rib.main.v4.get(dst, 24) < 0) {
        rib.main.add({ family: 4, dst, len: 24, type: RouteType.Unicast, port: 1, gateway: null, metric: 0 });
      }
    }
    rib
      .ensureTable(100)
      .add({ family: 4, dst: 0, len: 0, type: RouteType.Unicast, port: 2, gateway: null, metric: 0 });
    const base = {
      family: 0 as const,
      from: 0,
      fromLen: 0,
      to: 0,
      toLen: 0,
      iif: -1,
      action: RuleAction.Lookup,
    };
    rib.rules.add({ ...base, priority: 32765, mark: 1, markMask: 0xffffffff, table: 100 });
    const keys = new Uint32Array(KEYS);
    const marks = new Uint32Array(KEYS);
    for (let i = 0; i < KEYS; i++) {
      keys[i] = Math.floor(r() * 4294967296) >>> 0;
      marks[i] = r() < 0.5 ? 1 : 0;
    }
    const ctx = new RouteContext(rib);
    rows.push(
      await bench('IPv4 routeLookup, brouter-sized (4 rules, 33 routes, half marked)', (n) => {
        let s = 0;
        for (let i = 0; i < n; i++) {
          ctx.dst = keys[i & KMASK]!;
          ctx.mark = marks[i & KMASK]!;
          routeLookup(ctx);
          s += ctx.port;
        }
        return s;
      }),
    );
  }

  console.log(`# route lookups (node ${process.version})\n`);
  console.log(table(rows));
  console.log('');
  for (const n of notes) console.log(`- ${n}`);
}

await main();
