/**
 * Mutation campaign over every decoder in src/dataplane/wire/ (`npm run fuzz`).
 *
 * Takes every packet of every capture in fixtures/pcap/ plus frames built with the codecs' emit
 * functions (test/helpers/view-registry.ts), derives mutated frames from them, and drives each
 * through the dissector (src/dataplane/wire/dissect.ts), through every decoder directly (the
 * registry's FrameWalker: Ethernet, ARP, IPv4, IPv6, TCP, UDP, ICMP, ICMPv6/NDP, DHCPv4 with
 * options 121/82, L2TPv3, pseudowire inner frames, the packets ICMP errors quote) and through
 * checksum verification. Every view that wraps Ok is probed (all
 * getters and walkers, bounds, emit(parse()) round trip). An exception anywhere is a crash: the
 * campaign prints the frame in hex and stops. Decoder results must not depend on the bytes around
 * the frame: each frame is decoded twice, between filler bytes and between their complement.
 *
 * Mutations: bit flips (1–8 bits), boundary bytes (0x00, 0xff, 0x7f, 0x80), truncation at header
 * boundaries (±1) and at random lengths, length-field lies (IPv4 IHL/total length/option lengths,
 * IPv6 payload length/extension lengths, UDP length, TCP data offset/option lengths, ICMP RFC 4884
 * length, NDP/DHCP option lengths, option 121 widths, option 82 sub-option lengths, L2TP control
 * length) set to 0, 1, max, or the real value ±1, and header-chain lies (EtherType, IP version,
 * protocol/next header, ports, ICMP types, option codes, L2TP session/flags swapped).
 *
 *   npm run fuzz -- [--frames N] [--seed S] [--time-limit SEC] [--no-fixtures] [--json]
 *
 * Exit status 1 on any crash or invariant violation.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setU16, setU32, toHex, u16, u32 } from '../src/dataplane/wire/bytes.js';
import { checksum, sum16, verify } from '../src/dataplane/wire/checksum.js';
import { type DissectLayer, dissectFrame } from '../src/dataplane/wire/dissect.js';
import {
  buildCorpus,
  type CorpusFrame,
  type FieldRef,
  type FrameMap,
  FrameWalker,
  loadFixtureFrames,
  ProbeError,
  Trace,
} from '../test/helpers/view-registry.js';

export const MUTATION_KINDS = [
  'bit-flip',
  'boundary-byte',
  'truncate-boundary',
  'truncate-random',
  'length-lie',
  'chain-lie',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface CampaignOptions {
  frames: number;
  seed: number;
  timeLimitSec: number;
  /** Read fixtures/pcap/ (default true). */
  fixtures?: boolean;
  /** Progress and summary lines (default: none). */
  log?: (line: string) => void;
  /** Test hook: sees every mutated frame before the decoders; an exception counts as a crash. */
  onFrame?: (frame: Uint8Array) => void;
}

export interface FrameReport {
  /** Frame number in the run (with the seed, enough to reproduce it). */
  index: number;
  source: string;
  kinds: string[];
  hex: string;
}

export interface CrashReport extends FrameReport {
  error: string;
  stack: string;
}

export interface Finding {
  message: string;
  count: number;
  example: FrameReport;
}

export interface CampaignResult {
  seed: number;
  frames: number;
  seconds: number;
  framesPerSec: number;
  corpus: { built: number; fixtures: number; captures: number; captureErrors: string[] };
  mutations: Record<string, number>;
  /** How often each field was lied about (length-lie and chain-lie), by field name. */
  fields: Record<string, number>;
  /** Layer → result (WireError name, or valid/invalid/…) → count. */
  outcomes: Record<string, Record<string, number>>;
  crashes: CrashReport[];
  /** Invariant violations that did not throw (bounds, round trip, isolation): decoder bugs too. */
  findings: Finding[];
  stoppedBy: 'frames' | 'time' | 'crash';
}

// ---------------------------------------------------------------------------- PRNG

/** sfc32 seeded by splitmix32: fast, deterministic, good enough for choosing mutations. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** 0 ≤ result < n. */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 4294967296) * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
}

// ---------------------------------------------------------------------------- mutations

const BOUNDARY = [0x00, 0xff, 0x7f, 0x80];

/** Values worth swapping into the fields that choose the next header. */
const CHAIN_VALUES: Readonly<Record<string, readonly number[]>> = {
  ethertype: [0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x9100, 0x0000, 0xffff],
  'ip.version': [4, 6, 0, 5, 15],
  'ip.proto': [0, 1, 2, 4, 6, 17, 41, 43, 44, 50, 51, 58, 59, 60, 115, 132, 255],
  'ipv4.opt.type': [0, 1, 7, 68, 131, 137, 148, 255],
  'tcp.opt.kind': [0, 1, 2, 3, 4, 5, 8, 34, 255],
  'udp.port': [67, 68, 1701, 53, 0, 65535],
  'icmpv4.type': [0, 3, 4, 5, 8, 11, 12, 13, 14, 255],
  'icmpv6.type': [0, 1, 2, 3, 4, 128, 129, 133, 134, 135, 136, 137, 255],
  'ndp.opt.type': [0, 1, 2, 3, 4, 5, 25, 255],
  'dhcp.code': [0, 1, 3, 6, 12, 52, 53, 55, 61, 82, 121, 255],
  'l2tp.session': [0, 1, 0x1000, 0x1234, 0x3000, 0x5678, 0xabcdef01],
  'l2tp.flags': [0x0003, 0x0002, 0x4803, 0x8003, 0xc803, 0xffff],
};

function fieldMax(f: FieldRef): number {
  switch (f.size) {
    case 1:
      return 0xff;
    case 2:
      return 0xffff;
    case 4:
      return 0xffffffff;
    default:
      return 0xf;
  }
}

function fieldBytes(f: FieldRef): number {
  return typeof f.size === 'number' ? f.size : 1;
}

function readField(b: Uint8Array, f: FieldRef): number {
  switch (f.size) {
    case 1:
      return b[f.off]!;
    case 2:
      return u16(b, f.off);
    case 4:
      return u32(b, f.off);
    case 'hi4':
      return b[f.off]! >>> 4;
    case 'lo4':
      return b[f.off]! & 0xf;
  }
}

function writeField(b: Uint8Array, f: FieldRef, v: number): void {
  const x = v & fieldMax(f);
  switch (f.size) {
    case 1:
      b[f.off] = x;
      break;
    case 2:
      setU16(b, f.off, x);
      break;
    case 4:
      setU32(b, f.off, x >>> 0);
      break;
    case 'hi4':
      b[f.off] = (b[f.off]! & 0x0f) | (x << 4);
      break;
    case 'lo4':
      b[f.off] = (b[f.off]! & 0xf0) | x;
      break;
  }
}

interface Seed {
  frame: CorpusFrame;
  map: FrameMap;
  lengths: FieldRef[];
  chains: FieldRef[];
}

/**
 * Applies one mutation of `kind` to b[0..len); returns the new length, or -1 when the frame has
 * nothing for this kind (no length fields, empty frame).
 */
function mutate(
  kind: MutationKind,
  rng: Rng,
  b: Uint8Array,
  len: number,
  seed: Seed,
  fields: Map<string, number>,
): number {
  switch (kind) {
    case 'bit-flip': {
      if (len === 0) return -1;
      const bits = 1 + rng.int(8);
      for (let i = 0; i < bits; i++) {
        const p = rng.int(len * 8);
        b[p >>> 3]! ^= 1 << (p & 7);
      }
      return len;
    }
    case 'boundary-byte': {
      if (len === 0) return -1;
      const n = 1 + rng.int(4);
      for (let i = 0; i < n; i++) {
        const f = seed.lengths.length && rng.chance(0.5) ? rng.pick(seed.lengths) : null;
        const p = f && f.off < len ? f.off : rng.int(len);
        b[p] = rng.pick(BOUNDARY);
      }
      return len;
    }
    case 'truncate-boundary': {
      const cuts = seed.map.boundaries.filter((x) => x <= len);
      if (cuts.length === 0) return -1;
      const at = rng.pick(cuts) + rng.pick([-1, 0, 0, 1]);
      return Math.max(0, Math.min(len, at));
    }
    case 'truncate-random':
      return len === 0 ? -1 : rng.int(len);
    case 'length-lie':
    case 'chain-lie': {
      const all = kind === 'length-lie' ? seed.lengths : seed.chains;
      const usable = all.filter((f) => f.off + fieldBytes(f) <= len);
      if (usable.length === 0) return -1;
      const f = rng.pick(usable);
      const cur = readField(b, f);
      let v: number;
      if (kind === 'length-lie') v = rng.pick([0, 1, fieldMax(f), cur - 1, cur + 1]);
      else {
        const values = CHAIN_VALUES[f.name];
        v = values && rng.chance(0.8) ? rng.pick(values) : rng.u32();
      }
      writeField(b, f, v);
      const key = `${kind === 'length-lie' ? 'length' : 'chain'} ${f.name}`;
      fields.set(key, (fields.get(key) ?? 0) + 1);
      return len;
    }
  }
}

// ---------------------------------------------------------------------------- the campaign

const PAD = 61;

/** Groups similar findings: numbers in the message do not make a new kind of finding. */
function findingKey(msg: string): string {
  return msg.replace(/-?\d+/g, '#').replace(/0x[0-9a-f]+/g, '#');
}

/** Counts the dissector's verdict on each layer it produced (quoted packets included). */
function countDissection(
  layers: readonly DissectLayer[],
  count: (layer: string, result: string) => void,
): void {
  for (const l of layers) {
    count(`dissect:${l.name}`, l.error ?? 'ok');
    if (l.quoted) countDissection(l.quoted, count);
  }
}

function firstDifference(a: Trace, b: Trace): string {
  const ea = a.entries ?? [];
  const eb = b.entries ?? [];
  for (let i = 0; i < Math.max(ea.length, eb.length); i++) {
    if (ea[i] !== eb[i]) return `${ea[i] ?? '(nothing)'} vs ${eb[i] ?? '(nothing)'}`;
  }
  return 'same entries, different hash';
}

export function runCampaign(opts: CampaignOptions): CampaignResult {
  const log = opts.log ?? (() => {});
  const rng = new Rng(opts.seed);
  const built = buildCorpus().frames;
  const fx = opts.fixtures === false ? null : loadFixtureFrames();
  const fixtures = fx?.frames ?? [];
  const mapOf = (frame: CorpusFrame): Seed => {
    const map: FrameMap = { fields: [], boundaries: [], layers: [] };
    new FrameWalker().walk(frame.bytes, 0, frame.bytes.length, frame.link, { map, l2tp: frame.l2tp });
    map.boundaries = [...new Set([0, ...map.boundaries, frame.bytes.length])].sort((x, y) => x - y);
    return {
      frame,
      map,
      lengths: map.fields.filter((f) => f.kind === 'length'),
      chains: map.fields.filter((f) => f.kind === 'chain'),
    };
  };
  const builtSeeds = built.map(mapOf);
  const fixtureSeeds = fixtures.map(mapOf);
  const maxLen = Math.max(...[...builtSeeds, ...fixtureSeeds].map((s) => s.frame.bytes.length));

  const mutations: Record<string, number> = { unmutated: 0 };
  for (const k of MUTATION_KINDS) mutations[k] = 0;
  const fields = new Map<string, number>();
  const outcomes = new Map<string, Map<string, number>>();
  const count = (layer: string, result: string) => {
    let m = outcomes.get(layer);
    if (!m) {
      m = new Map();
      outcomes.set(layer, m);
    }
    m.set(result, (m.get(result) ?? 0) + 1);
  };
  const crashes: CrashReport[] = [];
  const findings = new Map<string, Finding>();
  const walker = new FrameWalker();

  // Filler around the frame: random bytes, and their complement for the second decode.
  const fillA = new Uint8Array(maxLen + 2 * PAD);
  for (let i = 0; i < fillA.length; i++) fillA[i] = rng.u32() & 0xff;
  const fillB = fillA.map((x) => ~x & 0xff);
  const work = new Uint8Array(maxLen);

  const t0 = performance.now();
  const deadline = t0 + opts.timeLimitSec * 1000;
  let lastLog = t0;
  let n = 0;
  let stoppedBy: CampaignResult['stoppedBy'] = 'frames';
  const kinds: string[] = [];

  for (; n < opts.frames; n++) {
    if ((n & 255) === 0) {
      const now = performance.now();
      if (now > deadline) {
        stoppedBy = 'time';
        break;
      }
      if (now - lastLog > 10_000) {
        lastLog = now;
        log(`  … ${n} frames, ${Math.round((n * 1000) / (now - t0))} frames/s`);
      }
    }
    const seed = fixtureSeeds.length && rng.chance(0.5) ? rng.pick(fixtureSeeds) : rng.pick(builtSeeds);
    const src = seed.frame.bytes;
    work.set(src);
    let len = src.length;
    kinds.length = 0;
    if (rng.chance(0.03)) {
      mutations.unmutated!++;
      kinds.push('unmutated');
    } else {
      const r = rng.u32() % 100;
      const want = r < 70 ? 1 : r < 90 ? 2 : 3 + (r & 1);
      for (let tries = 0; kinds.length < want && tries < 20; tries++) {
        const k = rng.pick(MUTATION_KINDS);
        const l2 = mutate(k, rng, work, len, seed, fields);
        if (l2 < 0) continue;
        len = l2;
        kinds.push(k);
        mutations[k]!++;
      }
    }
    const frame = work.subarray(0, len);
    const a = fillA.slice(0, len + 2 * PAD);
    a.set(frame, PAD);
    const b = fillB.slice(0, len + 2 * PAD);
    b.set(frame, PAD);
    const report = (): FrameReport => ({
      index: n,
      source: seed.frame.name,
      kinds: [...kinds],
      hex: toHex(frame),
    });
    try {
      opts.onFrame?.(frame);
      const l2 = seed.frame.l2tp;
      countDissection(
        dissectFrame(frame, seed.frame.link, l2 ? { l2tpCookieLen: l2[0], l2tpSublayer: l2[1] } : {}),
        count,
      );
      const ta = new Trace(false);
      const tb = new Trace(false);
      walker.walk(a, PAD, len, seed.frame.link, { outcome: count, trace: ta, l2tp: seed.frame.l2tp });
      walker.walk(b, PAD, len, seed.frame.link, { trace: tb, l2tp: seed.frame.l2tp });
      // Checksum primitives over the whole frame and a random range of it.
      const x = rng.int(len + 1);
      const y = rng.int(len + 1);
      const lo = Math.min(x, y);
      const hi = Math.max(x, y);
      if (!Number.isFinite(sum16(frame, lo, hi - lo)) || typeof verify(frame, 0, len) !== 'boolean') {
        throw new Error('checksum primitive returned garbage');
      }
      const c = checksum(frame, lo, hi - lo);
      if (c < 0 || c > 0xffff) throw new Error(`checksum ${c}`);
      const problems = [...ta.problems];
      if (ta.hash !== tb.hash || ta.count !== tb.count) {
        // Decode again keeping every entry, to say where the answers part.
        const da = new Trace(true);
        const db = new Trace(true);
        walker.walk(a, PAD, len, seed.frame.link, { trace: da, l2tp: seed.frame.l2tp });
        walker.walk(b, PAD, len, seed.frame.link, { trace: db, l2tp: seed.frame.l2tp });
        problems.push(`isolation: a decoder read outside its bytes (${firstDifference(da, db)})`);
      }
      for (const p of problems) {
        const key = findingKey(p);
        const f = findings.get(key);
        if (f) f.count++;
        else {
          findings.set(key, { message: p, count: 1, example: report() });
          log(
            `INVARIANT VIOLATED: ${p}\n  frame ${n} (${seed.frame.name}, ${kinds.join('+')}): ${toHex(frame)}`,
          );
        }
      }
    } catch (e) {
      const err = e instanceof ProbeError ? e : e instanceof Error ? e : new Error(String(e));
      const stack =
        e instanceof ProbeError && e.original instanceof Error ? (e.original.stack ?? '') : (err.stack ?? '');
      crashes.push({ ...report(), error: err.message, stack });
      stoppedBy = 'crash';
      n++;
      break;
    }
  }

  const seconds = (performance.now() - t0) / 1000;
  return {
    seed: opts.seed >>> 0,
    frames: n,
    seconds,
    framesPerSec: n / seconds,
    corpus: {
      built: built.length,
      fixtures: fixtures.length,
      captures: fx?.files.length ?? 0,
      captureErrors: fx?.errors ?? [],
    },
    mutations,
    fields: Object.fromEntries([...fields].sort((p, q) => q[1] - p[1])),
    outcomes: Object.fromEntries(
      [...outcomes]
        .sort(([p], [q]) => p.localeCompare(q))
        .map(([k, m]) => [k, Object.fromEntries([...m].sort((p, q) => q[1] - p[1]))]),
    ),
    crashes,
    findings: [...findings.values()],
    stoppedBy,
  };
}

// ---------------------------------------------------------------------------- CLI

const fmt = (x: number) => x.toLocaleString('en-US');

export function formatSummary(r: CampaignResult): string {
  const lines: string[] = [];
  lines.push(`mutation-fuzz: seed ${r.seed} (0x${r.seed.toString(16)}); reproduce with --seed ${r.seed}`);
  lines.push(
    `corpus: ${r.corpus.built} emitted frames, ${r.corpus.fixtures} packets from ${r.corpus.captures} captures in fixtures/pcap`,
  );
  for (const e of r.corpus.captureErrors) lines.push(`  capture not read to the end: ${e}`);
  lines.push(
    `frames: ${fmt(r.frames)} in ${r.seconds.toFixed(1)} s = ${fmt(Math.round(r.framesPerSec))} frames/s ` +
      `(each decoded twice: between filler bytes and their complement); stopped by ${r.stoppedBy}`,
  );
  lines.push('mutations by kind (a frame gets 1–4; 3% go through unmutated):');
  for (const [k, v] of Object.entries(r.mutations)) lines.push(`  ${k.padEnd(18)} ${fmt(v).padStart(12)}`);
  lines.push('fields lied about (top 20):');
  for (const [k, v] of Object.entries(r.fields).slice(0, 20))
    lines.push(`  ${k.padEnd(28)} ${fmt(v).padStart(10)}`);
  lines.push('outcomes per layer (WireError name, or checksum/kind result):');
  const width = Math.max(...Object.keys(r.outcomes).map((k) => k.length));
  for (const [layer, m] of Object.entries(r.outcomes)) {
    lines.push(
      `  ${layer.padEnd(width)}  ${Object.entries(m)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(' · ')}`,
    );
  }
  const errorNames = new Set<string>();
  for (const m of Object.values(r.outcomes)) for (const k of Object.keys(m)) errorNames.add(k);
  lines.push(`distinct results: ${[...errorNames].sort().join(', ')}`);
  lines.push(`crashes: ${r.crashes.length}`);
  for (const c of r.crashes) {
    lines.push(`  CRASH at frame ${c.index} (${c.source}, ${c.kinds.join('+')}): ${c.error}`);
    lines.push(`  frame hex: ${c.hex}`);
    lines.push(
      c.stack
        .split('\n')
        .slice(0, 8)
        .map((l) => `    ${l}`)
        .join('\n'),
    );
  }
  lines.push(`invariant violations: ${r.findings.length}`);
  for (const f of r.findings) {
    lines.push(`  ${f.count}× ${f.message}`);
    lines.push(
      `    e.g. frame ${f.example.index} (${f.example.source}, ${f.example.kinds.join('+')}): ${f.example.hex}`,
    );
  }
  return lines.join('\n');
}

function parseArgs(argv: readonly string[]): CampaignOptions & { json: boolean } {
  const o = {
    frames: 1_000_000,
    seed: (Date.now() ^ (process.pid << 16)) >>> 0,
    timeLimitSec: 600,
    fixtures: true,
    json: false,
  };
  const num = (flag: string, s: string | undefined): number => {
    const v = s === undefined ? Number.NaN : Number(s);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${flag} needs a non-negative number, got ${s}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--frames':
        o.frames = Math.floor(num(flag, value()));
        break;
      case '--seed':
        o.seed = num(flag, value()) >>> 0;
        break;
      case '--time-limit':
        o.timeLimitSec = num(flag, value());
        break;
      case '--no-fixtures':
        o.fixtures = false;
        break;
      case '--json':
        o.json = true;
        break;
      case '-h':
      case '--help':
        console.log(
          'usage: npm run fuzz -- [--frames N] [--seed S] [--time-limit SEC] [--no-fixtures] [--json]',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return o;
}

function main(): void {
  let opts: ReturnType<typeof parseArgs>;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`mutation-fuzz: ${(e as Error).message}`);
    process.exit(2);
  }
  console.log(
    `mutation-fuzz: seed ${opts.seed}, up to ${fmt(opts.frames)} frames, time limit ${opts.timeLimitSec} s`,
  );
  const r = runCampaign({ ...opts, log: (l) => console.log(l) });
  console.log(formatSummary(r));
  if (opts.json) console.log(JSON.stringify(r));
  process.exitCode = r.crashes.length > 0 || r.findings.length > 0 ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
