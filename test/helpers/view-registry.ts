/**
 * Every decoder of src/dataplane/wire/ described once, for the robustness property tests
 * (test/unit/wire/robustness.test.ts) and the mutation campaign (scripts/mutation-fuzz.ts):
 *
 * - `SPECS`: each View class (and the view-like readers: NDP option cursor, option 121 reader,
 *   option 82 view) with how to wrap it, which getters apply in which state, which methods walk
 *   (options, extension headers, quoted packets), which mutate, and how `emit(parse(view))`
 *   compares with the original bytes. Getters are found by reflection, so a getter added later is
 *   probed without touching this file; a new method or View class makes the coverage test fail
 *   until it is classified here.
 * - `probe()`: runs every getter and walker of a wrapped view and records the results in a
 *   `Trace`, flagging values that are not integers/booleans, offsets and lengths outside the
 *   view, and round-trip mismatches.
 * - `buildCorpus()`: valid frames for every protocol, built with the codecs' `emit*` functions.
 * - `FrameWalker`: a small dissector that drives every decoder over a whole frame, counts the
 *   outcome of each layer, and can map the frame's length and header-chain fields (for mutation).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCaptureBuffer } from '../../src/dataplane/pcap/index.js';
import * as arp from '../../src/dataplane/wire/arp.js';
import { setU16, setU32, setU48, u16 } from '../../src/dataplane/wire/bytes.js';
import { pseudoSumV4, pseudoSumV6, verify } from '../../src/dataplane/wire/checksum.js';
import * as dhcp from '../../src/dataplane/wire/dhcpv4.js';
import * as dhcpo from '../../src/dataplane/wire/dhcpv4-options.js';
import { WireError, wireErrorName } from '../../src/dataplane/wire/errors.js';
import * as eth from '../../src/dataplane/wire/ethernet.js';
import * as icmp4 from '../../src/dataplane/wire/icmpv4.js';
import * as icmp6 from '../../src/dataplane/wire/icmpv6.js';
import * as ip4 from '../../src/dataplane/wire/ipv4.js';
import * as ip6 from '../../src/dataplane/wire/ipv6.js';
import * as l2tp from '../../src/dataplane/wire/l2tpv3.js';
import * as ndp from '../../src/dataplane/wire/ndp.js';
import * as tcp from '../../src/dataplane/wire/tcp.js';
import * as udp from '../../src/dataplane/wire/udp.js';

/** The wire modules, for the check that every class with a `wrap()` has a spec. */
export const WIRE_MODULES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  arp,
  dhcpv4: dhcp,
  'dhcpv4-options': dhcpo,
  ethernet: eth,
  icmpv4: icmp4,
  icmpv6: icmp6,
  ipv4: ip4,
  ipv6: ip6,
  l2tpv3: l2tp,
  ndp,
  tcp,
  udp,
};

/** Every WireError code. */
export const WIRE_ERRORS: ReadonlySet<number> = new Set(
  Object.values(WireError).filter((x): x is number => typeof x === 'number'),
);

export interface AnyView {
  buf: Uint8Array;
  off: number;
  len: number;
}

// ------------------------------------------------------------------------------------------
// Trace: what a probe saw, kept in full (tests) or as a hash (the campaign's isolation check)
// ------------------------------------------------------------------------------------------

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

export class Trace {
  /** "name=value" lines, in probe order (null in hash-only mode). */
  readonly entries: string[] | null;
  hash = 0x811c9dc5;
  count = 0;
  readonly problems: string[] = [];

  constructor(keep: boolean) {
    this.entries = keep ? [] : null;
  }

  add(name: string, v: unknown): void {
    this.count++;
    if (this.entries) this.entries.push(`${name}=${show(v)}`);
    if (typeof v === 'number') {
      if (Number.isNaN(v)) this.mix(0x7ff80000);
      else {
        this.mix(v % 4294967296);
        this.mix(Math.floor(v / 4294967296));
      }
    } else if (typeof v === 'boolean') this.mix(v ? 0x101 : 0x100);
    else if (v instanceof Uint8Array) {
      this.mix(v.length);
      for (let i = 0; i < v.length; i++) this.mix(v[i]!);
    } else if (typeof v === 'string') {
      this.mix(v.length);
      for (let i = 0; i < v.length; i++) this.mix(v.charCodeAt(i));
    } else this.mix(v === null ? 0x200 : 0x201);
  }

  problem(msg: string): void {
    if (this.problems.length < 100) this.problems.push(msg);
  }

  private mix(x: number): void {
    this.hash = Math.imul(this.hash ^ (x | 0), 16777619);
  }
}

/** An exception thrown by a decoder while probed, with the getter or walker that threw. */
export class ProbeError extends Error {
  constructor(
    readonly where: string,
    readonly original: unknown,
  ) {
    super(
      `${where} threw ${original instanceof Error ? `${original.name}: ${original.message}` : String(original)}`,
    );
    this.name = 'ProbeError';
  }
}

// ------------------------------------------------------------------------------------------
// Specs
// ------------------------------------------------------------------------------------------

export interface Mutator<V> {
  name: string;
  when?: (v: V) => boolean;
  /** `r` is a random 32-bit number; `room` is how many bytes the caller has after the view. */
  apply(v: V, r: number, room: number): void;
  /** The view's own checksum (`checksumOk`) holds afterwards when it held before. */
  keeps?: boolean;
  /** The view's checksum holds afterwards, whatever it was before. */
  makes?: boolean;
  /** The transport checksum (`l4ChecksumOk`) holds afterwards when it held before (NAT rewrites). */
  keepsL4?: boolean;
  /** Wrapping the same bytes again (with the view's new `len`) must still give Ok. */
  rewrap?: boolean;
  /** The mutator may write up to `room` bytes past the view (DHCP option 82 insertion). */
  grows?: boolean;
}

/** A mutator that assigns `value(r)` through the view's setter `prop`. */
function setter<V>(
  prop: keyof V & string,
  value: (r: number) => unknown,
  flags: Omit<Mutator<V>, 'name' | 'apply'> = {},
): Mutator<V> {
  return {
    name: `${prop}=`,
    apply: (v, r) => {
      (v as Record<string, unknown>)[prop] = value(r);
    },
    ...flags,
  };
}

/** Keeps the view's checksum valid, and the packet still wraps. */
const KEEP = { keeps: true, rewrap: true } as const;

export interface ViewSpec<V extends object> {
  /** Unique: the class name, with the wrap flavour when one class has two (`Ipv4View.wrapQuoted`). */
  name: string;
  cls: abstract new () => V;
  module: string;
  /** Corpus layer whose packets seed the property tests for this view. */
  seedLayer: string;
  create(): V;
  /** Names of the ways to wrap (extra wrap arguments); `wrap` gets the index. */
  variants: readonly string[];
  wrap(v: V, buf: Uint8Array, off: number, len: number, variant: number): WireError;
  /** Getters that are valid only in some states (an L2TP control message has no cookie, …). */
  when?: Readonly<Record<string, (v: V) => boolean>>;
  /** Fields only meaningful after a walker call (DHCP `optOff` after `findOption`). */
  stateful?: readonly string[];
  /** …Off / …Len names that are not offsets or lengths inside the view. */
  unbounded?: readonly string[];
  /** Other fields holding absolute offsets (a cursor's position): recorded relative to the view. */
  relative?: readonly string[];
  /** An option cursor: `off`/`len` describe the current option, getters are probed per option. */
  cursor?: boolean;
  methods: {
    wraps: readonly string[];
    walked: readonly string[];
    mutators: readonly string[];
    internal: readonly string[];
  };
  roundTrip?: { exact: boolean; note: string; check(v: V, c: Checker): void };
  walk?(v: V, c: Checker): void;
  /** The view's own checksum is valid (pseudo-header sum 0 where there is one). */
  checksumOk?(v: V): boolean;
  /** IP views: the TCP/UDP/ICMPv6 checksum of a complete transport segment verifies. */
  l4ChecksumOk?(v: V): boolean;
  mutators?: readonly Mutator<V>[];
}

function spec<V extends object>(s: ViewSpec<V>): ViewSpec<object> {
  return s as unknown as ViewSpec<object>;
}

interface ClassShape {
  getters: string[];
  methods: string[];
}
const shapes = new Map<unknown, ClassShape>();

/** Getters and methods of an object's class, base classes included (by reflection, cached). */
export function classShape(v: object): ClassShape {
  const ctor = v.constructor;
  let s = shapes.get(ctor);
  if (s) return s;
  const getters: string[] = [];
  const methods: string[] = [];
  const seen = new Set<string>();
  for (let p = Object.getPrototypeOf(v); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (name === 'constructor' || seen.has(name)) continue;
      seen.add(name);
      if (d.get) getters.push(name);
      else if (typeof d.value === 'function') methods.push(name);
    }
  }
  s = { getters, methods };
  shapes.set(ctor, s);
  return s;
}

/** What walkers get: checked recording into the trace, bounded by the view [base, limit). */
export class Checker {
  constructor(
    readonly t: Trace,
    readonly prefix: string,
    readonly base: number,
    readonly limit: number,
  ) {}

  check(cond: boolean, msg: string): void {
    if (!cond) this.t.problem(`${this.prefix}: ${msg}`);
  }

  /** A scalar result: an integer or a boolean. */
  value(name: string, x: unknown): void {
    if (typeof x !== 'boolean' && (typeof x !== 'number' || !Number.isInteger(x))) {
      this.t.problem(`${this.prefix}.${name} = ${show(x)}: not an integer or boolean`);
    }
    this.t.add(`${this.prefix}.${name}`, x);
  }

  err(name: string, e: unknown): void {
    if (typeof e !== 'number' || !WIRE_ERRORS.has(e)) {
      this.t.problem(`${this.prefix}.${name} = ${show(e)}: not a WireError`);
      this.t.add(`${this.prefix}.${name}`, e);
    } else this.t.add(`${this.prefix}.${name}`, wireErrorName(e));
  }

  /** An absolute offset (-1 = absent) whose `n` bytes must lie in the view; recorded relative. */
  offset(name: string, x: number, n = 0): void {
    if (x === -1) {
      this.t.add(`${this.prefix}.${name}`, -1);
      return;
    }
    if (!Number.isInteger(x) || !Number.isInteger(n) || n < 0 || x < this.base || x + n > this.limit) {
      this.t.problem(
        `${this.prefix}.${name}: [${x - this.base}, +${n}) is outside the view [0, ${this.limit - this.base})`,
      );
    }
    this.t.add(`${this.prefix}.${name}`, x - this.base);
  }

  bytes(name: string, b: Uint8Array | null): void {
    this.t.add(`${this.prefix}.${name}`, b);
  }

  text(name: string, s: string | null): void {
    this.t.add(`${this.prefix}.${name}`, s);
  }

  /** Compares emitted bytes with the view's bytes from `at`, skipping the given indices. */
  sameBytes(name: string, at: number, out: Uint8Array, skip: readonly number[] = []): void {
    const b = this.t;
    const src = currentBuf;
    if (at + out.length > this.limit) {
      b.problem(`${this.prefix}.${name}: emitted ${out.length} bytes, the view has ${this.limit - at}`);
      return;
    }
    for (let i = 0; i < out.length; i++) {
      if (skip.includes(i)) continue;
      if (src[at + i] !== out[i]) {
        b.problem(
          `${this.prefix}.${name}: byte ${at + i - this.base} is ${hex2(out[i]!)} after emit(parse()), ` +
            `${hex2(src[at + i]!)} before`,
        );
        return;
      }
    }
  }

  /** Probes another view (a quoted packet, an option value) inside this one. */
  nested(s: ViewSpec<object>, v: object, off: number, len: number, variant: number, name: string): WireError {
    this.offset(`${name}.at`, off, len);
    const buf = currentBuf;
    const e = s.wrap(v, buf, off, len, variant);
    this.err(`${name}.wrap`, e);
    if (e === WireError.Ok) probeWrapped(s, v, this.t, `${this.prefix}.${name}`, buf, off, off + len);
    return e;
  }
}

function hex2(x: number): string {
  return `0x${x.toString(16).padStart(2, '0')}`;
}

/** The buffer being probed (walkers compare against it; set by probeWrapped). */
let currentBuf: Uint8Array = new Uint8Array(0);

function recordField<V extends object>(
  s: ViewSpec<V>,
  c: Checker,
  name: string,
  x: unknown,
  vals: Map<string, number>,
): void {
  const len = c.limit - c.base;
  if (typeof x === 'number' && s.relative?.includes(name)) {
    c.value(name, x - c.base);
    return;
  }
  if (typeof x === 'number' && Number.isInteger(x)) {
    const unbounded = s.unbounded?.includes(name) ?? false;
    if (!unbounded && name !== 'off' && name.endsWith('Off')) {
      c.offset(name, x);
      vals.set(name, x);
      return;
    }
    if (!unbounded && name !== 'len' && name.endsWith('Len')) {
      c.check(x >= 0 && x <= len, `${name} = ${x} is not a length within the view (0..${len})`);
      vals.set(name, x);
    }
  }
  c.value(name, x);
}

/** Runs the generic part of a probe: own fields and getters (with their guards), bounds checks. */
function probeGetters<V extends object>(s: ViewSpec<V>, v: V, c: Checker): void {
  const vals = new Map<string, number>();
  const rec = v as unknown as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    if (k === 'buf' || k === 'off' || s.stateful?.includes(k)) continue;
    const x = rec[k];
    if (typeof x === 'object' && x !== null) continue;
    recordField(s, c, k, x, vals);
  }
  for (const g of classShape(v).getters) {
    if (s.stateful?.includes(g)) continue;
    const guard = s.when?.[g];
    if (guard && !guard(v)) continue;
    let x: unknown;
    try {
      x = rec[g];
    } catch (e) {
      throw new ProbeError(`${c.prefix}.${g}`, e);
    }
    recordField(s, c, g, x, vals);
  }
  // An offset and its length (payloadOff + payloadLen, sllaOff + sllaLen, …) end inside the view.
  for (const [name, o] of vals) {
    if (!name.endsWith('Off') || o === -1) continue;
    const n = vals.get(`${name.slice(0, -3)}Len`);
    if (n !== undefined && o + n > c.limit) {
      c.t.problem(
        `${c.prefix}: ${name} + ${name.slice(0, -3)}Len = ${o + n - c.base} runs past the view end ${c.limit - c.base}`,
      );
    }
  }
}

function probeWrapped<V extends object>(
  s: ViewSpec<V>,
  v: V,
  t: Trace,
  prefix: string,
  buf: Uint8Array,
  base: number,
  limit: number,
): void {
  const saved = currentBuf;
  currentBuf = buf;
  const c = new Checker(t, prefix, base, limit);
  try {
    if (!s.cursor) {
      const w = v as unknown as AnyView;
      c.check(
        w.buf === buf && w.off === base && w.len === limit - base,
        `wrap() left off/len at ${w.off - base}/${w.len}`,
      );
      probeGetters(s, v, c);
    }
    if (s.roundTrip) {
      try {
        s.roundTrip.check(v, c);
      } catch (e) {
        if (e instanceof ProbeError) throw e;
        throw new ProbeError(`${prefix}.emit(parse())`, e);
      }
    }
    if (s.walk) {
      try {
        s.walk(v, c);
      } catch (e) {
        if (e instanceof ProbeError) throw e;
        throw new ProbeError(`${prefix}.walk`, e);
      }
    }
  } finally {
    currentBuf = saved;
  }
}

/**
 * Probes a view that `wrap()` accepted over buf[off..off+len): every getter and walker, bounds,
 * and the round trip. Problems go to `t.problems`; an exception comes out as a ProbeError.
 */
export function probe(
  s: ViewSpec<object>,
  v: object,
  t: Trace,
  buf: Uint8Array,
  off: number,
  len: number,
): void {
  probeWrapped(s, v, t, s.name, buf, off, off + len);
}

// ------------------------------------------------------------------------------------------
// The specs, one per view
// ------------------------------------------------------------------------------------------

const scratch16 = new Uint8Array(16);

const ethernetSpec = spec<eth.EthernetView>({
  name: 'EthernetView',
  cls: eth.EthernetView,
  module: 'ethernet',
  seedLayer: 'ethernet',
  create: () => new eth.EthernetView(),
  variants: ['wrap'],
  wrap: (v, b, o, n) => v.wrap(b, o, n),
  methods: {
    wraps: ['wrap'],
    walked: ['tagTpid', 'tagTci', 'tagVid', 'tagPcp', 'tagDei'],
    mutators: ['setTagTci'],
    internal: [],
  },
  walk(v, c) {
    c.check(v.tags >= 0 && v.tags <= eth.MAX_VLAN_TAGS, `tags = ${v.tags}`);
    for (let i = 0; i < v.tags; i++) {
      c.value(`tag${i}.tpid`, v.tagTpid(i));
      c.value(`tag${i}.tci`, v.tagTci(i));
      c.value(`tag${i}.vid`, v.tagVid(i));
      c.value(`tag${i}.pcp`, v.tagPcp(i));
      c.value(`tag${i}.dei`, v.tagDei(i));
    }
  },
  roundTrip: {
    exact: true,
    note: 'MACs, VLAN tags and EtherType exactly',
    check(v, c) {
      const r = eth.parseEthernet(v);
      const out = new Uint8Array(eth.ethernetHeaderLen(r));
      eth.emitEthernet(r, out, 0);
      c.check(
        out.length === v.headerLen,
        `emit wrote ${out.length} header bytes, headerLen is ${v.headerLen}`,
      );
      c.sameBytes('roundTrip', v.off, out);
    },
  },
  mutators: [
    setter('etherType', (r) => r & 0xffff),
    {
      name: 'setTagTci',
      when: (v) => v.tags > 0,
      apply: (v, r) => v.setTagTci(r % v.tags, r >>> 16),
      rewrap: true,
    },
  ],
});

const arpSpec = spec<arp.ArpView>({
  name: 'ArpView',
  cls: arp.ArpView,
  module: 'arp',
  seedLayer: 'arp',
  create: () => new arp.ArpView(),
  variants: ['wrap'],
  wrap: (v, b, o, n) => v.wrap(b, o, n),
  methods: { wraps: ['wrap'], walked: [], mutators: ['makeReply'], internal: [] },
  roundTrip: {
    exact: true,
    note: 'the 28-byte message exactly (padding is not part of it)',
    check(v, c) {
      const out = new Uint8Array(arp.ARP_LEN);
      arp.emitArp(arp.parseArp(v), out, 0);
      c.sameBytes('roundTrip', v.off, out);
    },
  },
  mutators: [
    { name: 'makeReply', apply: (v, r) => v.makeReply(r * 0x10000 + (r & 0xffff)), rewrap: true },
    setter('operation', (r) => r & 0xffff, { rewrap: true }),
    setter('senderMac', (r) => r * 0x10000, { rewrap: true }),
    setter('senderIp', (r) => r, { rewrap: true }),
    setter('targetMac', (r) => r, { rewrap: true }),
    setter('targetIp', (r) => r, { rewrap: true }),
  ],
});

function walkIpv4Options(v: ip4.Ipv4View, c: Checker): void {
  c.value('verifyChecksum', v.verifyChecksum());
  const end = v.off + v.headerLen;
  let o = v.firstOption();
  for (let i = 0; o >= 0; i++) {
    if (i > ip4.IPV4_MAX_HEADER_LEN) {
      c.check(false, 'option walk does not end');
      return;
    }
    const n = v.optionLen(o);
    c.offset(`opt${i}`, o, n);
    c.check(o >= v.optionsOff && n >= 1 && o + n <= end, `option ${i} at ${o - v.off} of ${n} bytes`);
    c.value(`opt${i}.type`, v.optionType(o));
    if (n >= 2) c.offset(`opt${i}.data`, v.optionDataOff(o), n - 2);
    const next = v.nextOption(o);
    c.check(next === -1 || next > o, `nextOption(${o - v.off}) = ${next - v.off} does not advance`);
    o = next;
  }
}

const ipv4RoundTrip: ViewSpec<ip4.Ipv4View>['roundTrip'] = {
  exact: false,
  note: 'the header exactly except its checksum, which emit recomputes (and which then verifies)',
  check(v, c) {
    const r = ip4.parseIpv4(v);
    const out = new Uint8Array(ip4.ipv4HeaderLen(r));
    ip4.emitIpv4(r, out, 0);
    c.check(out.length === v.headerLen, `emit wrote ${out.length} header bytes, headerLen is ${v.headerLen}`);
    c.sameBytes('roundTrip', v.off, out, [ip4.IPV4_CHECKSUM, ip4.IPV4_CHECKSUM + 1]);
    c.check(verify(out, 0, out.length), 'the emitted header checksum does not verify');
  },
};

/** Offset of the TCP or UDP checksum in a complete transport segment, or -1. */
function l4CsumAt(proto: number, off: number, len: number, b: Uint8Array): number {
  if (proto === udp.UDP_PROTO && len >= udp.UDP_HEADER_LEN && u16(b, off + udp.UDP_LENGTH) === len) {
    return off + udp.UDP_CHECKSUM;
  }
  if (proto === tcp.TCP_PROTO && len >= tcp.TCP_HEADER_LEN) return off + tcp.TCP_CHECKSUM;
  if (proto === icmp6.ICMPV6_PROTO && len >= icmp6.ICMPV6_MIN_LEN) return off + icmp6.ICMPV6_CHECKSUM;
  return -1;
}

/** IPv4 carrying a whole TCP/UDP segment whose checksum verifies against the real pseudo-header. */
function ipv4L4ChecksumOk(v: ip4.Ipv4View): boolean {
  const b = v.buf;
  const at = l4CsumAt(v.protocol, v.payloadOff, v.payloadLen, b);
  if (at < 0 || v.protocol === icmp6.ICMPV6_PROTO || v.isFragment) return false;
  if (v.protocol === udp.UDP_PROTO && u16(b, at) === 0) return false;
  return verify(b, v.payloadOff, v.payloadLen, pseudoSumV4(v.src, v.dst, v.protocol, v.payloadLen));
}

function ipv4Mutators(): Mutator<ip4.Ipv4View>[] {
  const l4 = (v: ip4.Ipv4View) =>
    (v.protocol === udp.UDP_PROTO || v.protocol === tcp.TCP_PROTO) &&
    l4CsumAt(v.protocol, v.payloadOff, v.payloadLen, v.buf) >= 0;
  const at = (v: ip4.Ipv4View) => l4CsumAt(v.protocol, v.payloadOff, v.payloadLen, v.buf);
  const isUdp = (v: ip4.Ipv4View) => v.protocol === udp.UDP_PROTO;
  const m = (name: string, apply: (v: ip4.Ipv4View, r: number) => void): Mutator<ip4.Ipv4View> => ({
    name,
    apply,
    keeps: true,
    rewrap: true,
  });
  return [
    setter('tos', (r) => r & 0xff, KEEP),
    setter('dscp', (r) => r & 0x3f, KEEP),
    setter('ecn', (r) => r & 3, KEEP),
    setter('id', (r) => r & 0xffff, KEEP),
    setter('flagsFrag', (r) => r & 0xffff, KEEP),
    setter('dontFragment', (r) => (r & 1) === 1, KEEP),
    setter('moreFragments', (r) => (r & 1) === 1, KEEP),
    setter('ttl', (r) => r & 0xff, KEEP),
    setter('protocol', (r) => r & 0xff, KEEP),
    setter('src', (r) => r, KEEP),
    setter('dst', (r) => r, KEEP),
    m('decrementTtl', (v) => void v.decrementTtl()),
    setter('totalLen', (r) => r & 0xffff, { keeps: true }),
    { name: 'fillChecksum', apply: (v) => v.fillChecksum(), makes: true, rewrap: true },
    {
      name: 'rewriteSrc',
      when: l4,
      apply: (v, r) => v.rewriteSrc(r, at(v), isUdp(v)),
      keeps: true,
      keepsL4: true,
      rewrap: true,
    },
    {
      name: 'rewriteDst',
      when: l4,
      apply: (v, r) => v.rewriteDst(r, at(v), isUdp(v)),
      keeps: true,
      keepsL4: true,
      rewrap: true,
    },
  ];
}

const ipv4Methods = {
  walked: ['verifyChecksum', 'firstOption', 'nextOption', 'optionType', 'optionLen', 'optionDataOff'],
  mutators: ['decrementTtl', 'fillChecksum', 'rewriteSrc', 'rewriteDst'],
  internal: ['optionAt', 'patchWord', 'patchAddr'],
};

const ipv4Spec = spec<ip4.Ipv4View>({
  name: 'Ipv4View',
  cls: ip4.Ipv4View,
  module: 'ipv4',
  seedLayer: 'ipv4',
  create: () => new ip4.Ipv4View(),
  variants: ['wrap'],
  wrap: (v, b, o, n) => v.wrap(b, o, n),
  methods: { wraps: ['wrap'], ...ipv4Methods },
  walk: walkIpv4Options,
  roundTrip: ipv4RoundTrip,
  checksumOk: (v) => v.verifyChecksum(),
  l4ChecksumOk: ipv4L4ChecksumOk,
  mutators: ipv4Mutators(),
});

/** The packet an ICMP error quotes: the total length may promise more than is there. */
const ipv4QuotedSpec = spec<ip4.Ipv4View>({
  name: 'Ipv4View.wrapQuoted',
  cls: ip4.Ipv4View,
  module: 'ipv4',
  seedLayer: 'ipv4',
  create: () => new ip4.Ipv4View(),
  variants: ['wrapQuoted'],
  wrap: (v, b, o, n) => v.wrapQuoted(b, o, n),
  unbounded: ['totalLen', 'payloadLen'],
  methods: { wraps: ['wrapQuoted'], ...ipv4Methods },
  walk: walkIpv4Options,
  roundTrip: ipv4RoundTrip,
  checksumOk: (v) => v.verifyChecksum(),
});

function walkIpv6(v: ip6.Ipv6View, c: Checker): void {
  const limit = c.limit;
  c.check(v.upperOff >= v.off + ip6.IPV6_HEADER_LEN && v.upperOff <= limit, `upperOff ${v.upperOff - v.off}`);
  c.check(v.extCount <= ip6.IPV6_MAX_EXT_HEADERS, `extCount ${v.extCount}`);
  if (v.isFragment) {
    c.offset('fragHeader', v.fragHeaderOff, ip6.IPV6_FRAG_HEADER_LEN);
    c.check(
      v.fragHeaderOff + ip6.IPV6_FRAG_HEADER_LEN <= v.upperOff,
      'fragment header runs into the upper layer',
    );
  }
  v.copySrc(scratch16);
  c.check(v.srcEquals(scratch16), 'srcEquals(copySrc()) is false');
  c.bytes('src', scratch16);
  v.copyDst(scratch16);
  c.check(v.dstEquals(scratch16), 'dstEquals(copyDst()) is false');
  c.bytes('dst', scratch16);
  c.value('srcEquals(dst)', v.srcEquals(scratch16));
}

const ipv6RoundTrip: ViewSpec<ip6.Ipv6View>['roundTrip'] = {
  exact: true,
  note: 'fixed header and extension headers exactly',
  check(v, c) {
    const r = ip6.parseIpv6(v);
    const out = new Uint8Array(ip6.ipv6HeaderLen(r));
    ip6.emitIpv6(r, out, 0);
    c.check(
      out.length === v.upperOff - v.off,
      `emit wrote ${out.length} bytes, the headers are ${v.upperOff - v.off}`,
    );
    c.sameBytes('roundTrip', v.off, out);
  },
};

/** IPv6 carrying a whole TCP/UDP/ICMPv6 message whose checksum verifies against the pseudo-header. */
function ipv6L4ChecksumOk(v: ip6.Ipv6View): boolean {
  const b = v.buf;
  if (v.upperOff + v.upperLen > v.off + v.len || v.isFragment) return false;
  const at = l4CsumAt(v.upperProtocol, v.upperOff, v.upperLen, b);
  if (at < 0 || (v.upperProtocol === udp.UDP_PROTO && u16(b, at) === 0)) return false;
  return verify(b, v.upperOff, v.upperLen, pseudoSumV6(b, v.srcOff, v.dstOff, v.upperProtocol, v.upperLen));
}

const ipv6Methods = {
  walked: ['copySrc', 'copyDst', 'srcEquals', 'dstEquals'],
  mutators: ['decrementHopLimit', 'setSrc', 'setDst', 'rewriteSrc', 'rewriteDst'],
  internal: ['wrapFixed', 'walk'],
};
const ipv6When: Record<string, (v: ip6.Ipv6View) => boolean> = {
  fragOffset: (v) => v.isFragment,
  fragMore: (v) => v.isFragment,
  fragId: (v) => v.isFragment,
  fragNextHeader: (v) => v.isFragment,
};

function ipv6Mutators(): Mutator<ip6.Ipv6View>[] {
  const addr = (r: number) => {
    const a = new Uint8Array(16);
    for (let i = 0; i < 16; i += 4) setU32(a, i, Math.imul(r, 0x9e3779b1 + i) >>> 0);
    return a;
  };
  const l4 = (v: ip6.Ipv6View) =>
    v.upperOff + v.upperLen <= v.off + v.len && l4CsumAt(v.upperProtocol, v.upperOff, v.upperLen, v.buf) >= 0;
  const at = (v: ip6.Ipv6View) => l4CsumAt(v.upperProtocol, v.upperOff, v.upperLen, v.buf);
  const isUdp = (v: ip6.Ipv6View) => v.upperProtocol === udp.UDP_PROTO;
  return [
    setter('trafficClass', (r) => r & 0xff, { keepsL4: true, rewrap: true }),
    setter('dscp', (r) => r & 0x3f, { keepsL4: true, rewrap: true }),
    setter('ecn', (r) => r & 3, { keepsL4: true, rewrap: true }),
    setter('flowLabel', (r) => r & 0xfffff, { keepsL4: true, rewrap: true }),
    setter('hopLimit', (r) => r & 0xff, { keepsL4: true, rewrap: true }),
    { name: 'decrementHopLimit', apply: (v) => void v.decrementHopLimit(), keepsL4: true, rewrap: true },
    setter('payloadLen', (r) => r & 0xffff),
    { name: 'setSrc', apply: (v, r) => v.setSrc(addr(r)), rewrap: true },
    { name: 'setDst', apply: (v, r) => v.setDst(addr(r), 0), rewrap: true },
    {
      name: 'rewriteSrc',
      when: l4,
      apply: (v, r) => v.rewriteSrc(addr(r), 0, at(v), isUdp(v)),
      keepsL4: true,
      rewrap: true,
    },
    {
      name: 'rewriteDst',
      when: l4,
      apply: (v, r) => v.rewriteDst(addr(r), 0, at(v), isUdp(v)),
      keepsL4: true,
      rewrap: true,
    },
  ];
}

const ipv6Spec = spec<ip6.Ipv6View>({
  name: 'Ipv6View',
  cls: ip6.Ipv6View,
  module: 'ipv6',
  seedLayer: 'ipv6',
  create: () => new ip6.Ipv6View(),
  variants: ['wrap'],
  wrap: (v, b, o, n) => v.wrap(b, o, n),
  when: ipv6When,
  methods: { wraps: ['wrap'], ...ipv6Methods },
  walk: walkIpv6,
  roundTrip: ipv6RoundTrip,
  l4ChecksumOk: ipv6L4ChecksumOk,
  mutators: ipv6Mutators(),
});

/** The packet an ICMPv6 error or a redirected-header option quotes. */
const ipv6QuotedSpec = spec<ip6.Ipv6View>({
  name: 'Ipv6View.wrapQuoted',
  cls: ip6.Ipv6View,
  module: 'ipv6',
  seedLayer: 'ipv6',
  create: () => new ip6.Ipv6View(),
  variants: ['wrapQuoted'],
  wrap: (v, b, o, n) => v.wrapQuoted(b, o, n),
  when: ipv6When,
  unbounded: ['payloadLen', 'upperLen'],
  methods: { wraps: ['wrapQuoted'], ...ipv6Methods },
  walk: walkIpv6,
  roundTrip: ipv6RoundTrip,
});

const udpSpec = spec<udp.UdpView>({
  name: 'UdpView',
  cls: udp.UdpView,
  module: 'udp',
  seedLayer: 'udp',
  create: () => new udp.UdpView(),
  variants: ['wrap'],
  wrap: (v, b, o, n) => v.wrap(b, o, n),
  methods: {
    wraps: ['wrap'],
    walked: ['verifyChecksum'],
    mutators: ['fillChecksum', 'setSrcPort', 'setDstPort', 'patchAddress32'],
    internal: [],
  },
  walk(v, c) {
    c.check(v.length >= udp.UDP_HEADER_LEN && v.length <= c.limit - c.base, `length ${v.length}`);
    c.value('verifyChecksum(v4)', v.verifyChecksum(0, false));
    c.value('verifyChecksum(v6)', v.verifyChecksum(0, true));
  },
  roundTrip: {
    exact: false,
    note: 'the datagram exactly except a non-zero checksum, which emit recomputes (0 = none stays 0)',
    check(v, c) {
      const r = udp.parseUdp(v);
      const out = new Uint8Array(udp.udpLen(r));
      const none = v.checksum === 0;
      udp.emitUdp(r, out, 0, none ? null : 0);
      c.check(out.length === v.length, `emit wrote ${out.length} bytes, length says ${v.length}`);
      c.sameBytes('roundTrip', v.off, out, none ? [] : [udp.UDP_CHECKSUM, udp.UDP_CHECKSUM + 1]);
      if (!none) c.check(verify(out, 0, out.length, 0), 'the emitted checksum does not verify');
    },
  },
  checksumOk: (v) => v.checksum !== 0 && v.verifyChecksum(0, true),
  mutators: [
    { name: 'setSrcPort', apply: (v, r) => v.setSrcPort(r & 0xffff), keeps: true, rewrap: true },
    { name: 'setDstPort', apply: (v, r) => v.setDstPort(r & 0xffff), keeps: true, rewrap: true },
    setter('srcPort', (r) => r & 0xffff, { rewrap: true }),
    setter('dstPort', (r) => r & 0xffff, { rewrap: true }),
    setter('checksum', (r) => r & 0xffff, { rewrap: true }),
    { name: 'fillChecksum', apply: (v) => v.fillChecksum(0), makes: true, rewrap: true },
    { name: 'patchAddress32', apply: (v, r) => v.patchAddress32(r, ~r >>> 0), rewrap: true },
  ],
});

const tcpSpec = spec<tcp.TcpView>({
  name: 'TcpView',
  cls: tcp.TcpView,
  module: 'tcp',
  seedLayer: 'tcp',
  create: () => new tcp.TcpView(),
  variants: ['wrap'],
  wrap: (v, b, o, n) => v.wrap(b, o, n),
  methods: {
    wraps: ['wrap'],
    walked: ['verifyChecksum', 'parseOptions', 'sackLeft', 'sackRight'],
    mutators: ['fillChecksum', 'setSrcPort', 'setDstPort', 'patchAddress32', 'clampMss'],
    internal: ['walkOptions'],
  },
  walk(v, c) {
    c.value('verifyChecksum', v.verifyChecksum(0));
    const e = v.parseOptions();
    c.err('parseOptions', e);
    c.check(v.parseOptions() === e, 'parseOptions() gives a different answer the second time');
    const hdrEnd = v.off + v.headerLen;
    c.value('mss', v.mss);
    c.value('wscale', v.wscale);
    c.value('sackPermitted', v.sackPermitted);
    c.value('hasTimestamps', v.hasTimestamps);
    c.value('tsVal', v.tsVal);
    c.value('tsEcr', v.tsEcr);
    c.value('sackBlocks', v.sackBlocks);
    if (v.mssOff >= 0)
      c.check(v.mssOff >= v.optionsOff && v.mssOff + 2 <= hdrEnd, 'MSS value outside the options');
    c.offset('mssOff', v.mssOff, v.mssOff >= 0 ? 2 : 0);
    if (e !== WireError.Ok) return;
    c.check(v.mss >= -1 && v.mss <= 0xffff, `mss ${v.mss}`);
    c.check(v.wscale >= -1 && v.wscale <= 0xff, `wscale ${v.wscale}`);
    if (v.sackBlocks > 0) {
      c.offset('sackOff', v.sackOff, v.sackBlocks * tcp.TCP_SACK_BLOCK_LEN);
      c.check(v.sackOff + v.sackBlocks * tcp.TCP_SACK_BLOCK_LEN <= hdrEnd, 'SACK blocks run past the header');
      for (let i = 0; i < v.sackBlocks; i++) {
        c.value(`sack${i}.left`, v.sackLeft(i));
        c.value(`sack${i}.right`, v.sackRight(i));
      }
    } else c.check(v.sackOff === -1, `sackOff ${v.sackOff} without SACK blocks`);
  },
  roundTrip: {
    exact: false,
    note: 'the segment exactly except its checksum, which emit recomputes (and which then verifies)',
    check(v, c) {
      const r = tcp.parseTcp(v);
      const out = new Uint8Array(tcp.tcpLen(r));
      tcp.emitTcp(r, out, 0, 0);
      c.check(out.length === v.len, `emit wrote ${out.length} bytes, the segment is ${v.len}`);
      c.sameBytes('roundTrip', v.off, out, [tcp.TCP_CHECKSUM, tcp.TCP_CHECKSUM + 1]);
      c.check(verify(out, 0, out.length, 0), 'the emitted checksum does not verify');
    },
  },
  checksumOk: (v) => v.verifyChecksum(0),
  mutators: [
    { name: 'setSrcPort', apply: (v, r) => v.setSrcPort(r & 0xffff), keeps: true, rewrap: true },
    { name: 'setDstPort', apply: (v, r) => v.setDstPort(r & 0xffff), keeps: true, rewrap: true },
    { name: 'clampMss', apply: (v, r) => void v.clampMss(r % 1600), keeps: true, rewrap: true },
    { name: 'clampMss(0)', apply: (v) => void v.clampMss(0), keeps: true, rewrap: true },
    setter('srcPort', (r) => r & 0xffff, { rewrap: true }),
    setter('dstPort', (r) => r & 0xffff, { rewrap: true }),
    setter('checksum', (r) => r & 0xffff, { rewrap: true }),
    { name: 'fillChecksum', apply: (v) => v.fillChecksum(0), makes: true, rewrap: true },
    { name: 'patchAddress32', apply: (v, r) => v.patchAddress32(r, ~r >>> 0), rewrap: true },
  ],
});

const icmpv4Spec = spec<icmp4.Icmpv4View>({
  name: 'Icmpv4View',
  cls: icmp4.Icmpv4View,
  module: 'icmpv4',
  seedLayer: 'icmpv4',
  create: () => new icmp4.Icmpv4View(),
  variants: ['wrap'],
  wrap: (v, b, o, n) => v.wrap(b, o, n),
  methods: { wraps: ['wrap'], walked: ['verifyChecksum'], mutators: ['fillChecksum'], internal: [] },
  walk(v, c) {
    c.value('verifyChecksum', v.verifyChecksum());
    if (v.isError) c.nested(ipv4QuotedSpec, quotedV4, v.quotedOff, v.quotedLen, 0, 'quoted');
  },
  roundTrip: {
    exact: false,
    note: 'the message exactly except its checksum, which emit recomputes (and which then verifies)',
    check(v, c) {
      const out = new Uint8Array(v.len);
      const n = icmp4.emitIcmpv4(icmp4.parseIcmpv4(v), out, 0);
      c.check(n === v.len, `emit wrote ${n} bytes, the message is ${v.len}`);
      c.sameBytes('roundTrip', v.off, out, [icmp4.ICMPV4_CHECKSUM, icmp4.ICMPV4_CHECKSUM + 1]);
      c.check(verify(out, 0, n), 'the emitted checksum does not verify');
    },
  },
  checksumOk: (v) => v.verifyChecksum(),
  mutators: [
    setter('type', (r) => r & 0xff, { keeps: true }),
    setter('code', (r) => r & 0xff, { keeps: true, rewrap: true }),
    setter('rest', (r) => r, { keeps: true }),
    setter('id', (r) => r & 0xffff, { keeps: true }),
    setter('seq', (r) => r & 0xffff, { keeps: true, rewrap: true }),
    setter('nextHopMtu', (r) => r & 0xffff, { keeps: true, rewrap: true }),
    { name: 'fillChecksum', apply: (v) => v.fillChecksum(), makes: true, rewrap: true },
  ],
});
const quotedV4 = new ip4.Ipv4View();

const icmp6Type = (v: icmp6.Icmpv6View) => v.buf[v.off]!;
const isEcho6 = (v: icmp6.Icmpv6View) =>
  icmp6Type(v) === icmp6.ICMPV6_ECHO_REQUEST || icmp6Type(v) === icmp6.ICMPV6_ECHO_REPLY;
const isErr6 = (v: icmp6.Icmpv6View) => icmp6Type(v) >= 1 && icmp6Type(v) <= 4;
const is6 =
  (...types: number[]) =>
  (v: icmp6.Icmpv6View) =>
    types.includes(icmp6Type(v));

const icmpv6Spec = spec<icmp6.Icmpv6View>({
  name: 'Icmpv6View',
  cls: icmp6.Icmpv6View,
  module: 'icmpv6',
  seedLayer: 'icmpv6',
  create: () => new icmp6.Icmpv6View(),
  variants: ['wrap'],
  wrap: (v, b, o, n) => v.wrap(b, o, n),
  // Per-message accessors, by the message types their comments name (RFC 4443, RFC 4861).
  when: {
    echoId: isEcho6,
    echoSeq: isEcho6,
    dataOff: (v) => isEcho6(v) || isErr6(v),
    dataLen: (v) => isEcho6(v) || isErr6(v),
    mtu: is6(icmp6.ICMPV6_PACKET_TOO_BIG),
    pointer: is6(icmp6.ICMPV6_PARAM_PROBLEM),
    invokingOff: isErr6,
    invokingLen: isErr6,
    raHopLimit: is6(icmp6.ICMPV6_ROUTER_ADVERT),
    raFlags: is6(icmp6.ICMPV6_ROUTER_ADVERT),
    raManaged: is6(icmp6.ICMPV6_ROUTER_ADVERT),
    raOther: is6(icmp6.ICMPV6_ROUTER_ADVERT),
    routerLifetime: is6(icmp6.ICMPV6_ROUTER_ADVERT),
    reachableTime: is6(icmp6.ICMPV6_ROUTER_ADVERT),
    retransTimer: is6(icmp6.ICMPV6_ROUTER_ADVERT),
    targetOff: is6(icmp6.ICMPV6_NEIGHBOR_SOLICIT, icmp6.ICMPV6_NEIGHBOR_ADVERT, icmp6.ICMPV6_REDIRECT),
    naRouter: is6(icmp6.ICMPV6_NEIGHBOR_ADVERT),
    naSolicited: is6(icmp6.ICMPV6_NEIGHBOR_ADVERT),
    naOverride: is6(icmp6.ICMPV6_NEIGHBOR_ADVERT),
    destinationOff: is6(icmp6.ICMPV6_REDIRECT),
    sourceLinkAddr: (v) => v.sllaOff >= 0,
    targetLinkAddr: (v) => v.tllaOff >= 0,
  },
  methods: {
    wraps: ['wrap'],
    walked: ['verifyChecksum', 'isError', 'isNdp', 'parseOptions'],
    mutators: ['setEchoId', 'fillChecksum'],
    internal: ['resetOptions'],
  },
  walk(v, c) {
    c.value('verifyChecksum', v.verifyChecksum(0));
    c.value('isError', v.isError());
    c.value('isNdp', v.isNdp());
    const e = v.parseOptions();
    c.err('parseOptions', e);
    c.check(
      e === WireError.Ok || e === WireError.Unsupported || e === WireError.BadOption,
      `parseOptions ${e}`,
    );
    c.offset('slla', v.sllaOff, v.sllaOff >= 0 ? v.sllaLen : 0);
    c.offset('tlla', v.tllaOff, v.tllaOff >= 0 ? v.tllaLen : 0);
    if (v.sllaOff >= 0 && v.sllaLen >= 6) c.value('sourceLinkAddr', v.sourceLinkAddr);
    if (v.tllaOff >= 0 && v.tllaLen >= 6) c.value('targetLinkAddr', v.targetLinkAddr);
    c.value('mtuOption', v.mtuOption);
    c.value('prefixCount', v.prefixCount);
    c.offset('firstPrefix', v.firstPrefixOff, v.firstPrefixOff >= 0 ? ndp.NDP_PI_LEN : 0);
    c.value('rdnssCount', v.rdnssCount);
    c.offset('firstRdnss', v.firstRdnssOff, v.firstRdnssOff >= 0 ? 24 : 0);
    c.offset('redirected', v.redirectedOff, v.redirectedOff >= 0 ? v.redirectedLen : 0);
    if (v.isNdp())
      c.nested(ndpSpec, new ndp.NdpOptionView(), v.optionsOff, c.limit - v.optionsOff, 0, 'options');
    if (v.redirectedOff >= 0)
      c.nested(ipv6QuotedSpec, quotedV6, v.redirectedOff, v.redirectedLen, 0, 'redirected');
    if (isErr6(v)) c.nested(ipv6QuotedSpec, quotedV6, v.invokingOff, v.invokingLen, 0, 'invoking');
    // checkNdp walks the options again: from a fresh wrap (parseOptions() accumulates counts).
    if (v.len >= 16) {
      for (const hop of [255, 64]) {
        v.wrap(v.buf, v.off, v.len);
        c.err(`checkNdp(${hop})`, icmp6.checkNdp(v, hop, v.off, v.off + v.len - 16));
      }
    }
  },
  roundTrip: {
    exact: false,
    note: 'the message exactly except its checksum, which emit recomputes (and which then verifies)',
    check(v, c) {
      const r = icmp6.parseIcmpv6(v);
      const n = icmp6.icmpv6Len(r);
      c.check(n === v.len, `the repr is ${n} bytes, the message ${v.len}`);
      const out = new Uint8Array(n);
      icmp6.emitIcmpv6(r, out, 0, 0);
      c.sameBytes('roundTrip', v.off, out, [icmp6.ICMPV6_CHECKSUM, icmp6.ICMPV6_CHECKSUM + 1]);
      c.check(verify(out, 0, n, 0), 'the emitted checksum does not verify');
    },
  },
  checksumOk: (v) => v.verifyChecksum(0),
  mutators: [
    { name: 'setEchoId', when: isEcho6, apply: (v, r) => v.setEchoId(r & 0xffff), keeps: true, rewrap: true },
    setter('checksum', (r) => r & 0xffff, { rewrap: true }),
    { name: 'fillChecksum', apply: (v) => v.fillChecksum(0), makes: true, rewrap: true },
  ],
});
const quotedV6 = new ip6.Ipv6View();

const ndpSpec = spec<ndp.NdpOptionView>({
  name: 'NdpOptionView',
  cls: ndp.NdpOptionView,
  module: 'ndp',
  seedLayer: 'ndp-options',
  create: () => new ndp.NdpOptionView(),
  variants: ['reset'],
  wrap(v, b, o, n) {
    if (o < 0 || n < 0 || o + n > b.length) return WireError.Truncated;
    v.reset(b, o, o + n);
    return WireError.Ok;
  },
  cursor: true,
  relative: ['end', 'pos'],
  when: {
    prefixLength: (v) => v.type === ndp.NDP_OPT_PREFIX_INFO,
    prefixFlags: (v) => v.type === ndp.NDP_OPT_PREFIX_INFO,
    prefixOnLink: (v) => v.type === ndp.NDP_OPT_PREFIX_INFO,
    prefixAutonomous: (v) => v.type === ndp.NDP_OPT_PREFIX_INFO,
    validLifetime: (v) => v.type === ndp.NDP_OPT_PREFIX_INFO,
    preferredLifetime: (v) => v.type === ndp.NDP_OPT_PREFIX_INFO,
    prefixOff: (v) => v.type === ndp.NDP_OPT_PREFIX_INFO,
    rdnssCount: (v) => v.type === ndp.NDP_OPT_RDNSS,
  },
  methods: { wraps: ['reset'], walked: ['next', 'rdnssAddrOff'], mutators: [], internal: ['fail'] },
  walk(v, c) {
    let i = 0;
    while (v.next()) {
      if (i > 1000) {
        c.check(false, 'option walk does not end');
        return;
      }
      const oc = new Checker(c.t, `${c.prefix}.opt${i}`, v.off, v.off + v.len);
      c.offset(`opt${i}`, v.off, v.len);
      c.check(v.len >= 8 && v.len % 8 === 0, `option ${i} of ${v.len} bytes`);
      probeGetters(ndpSpec as unknown as ViewSpec<ndp.NdpOptionView>, v, oc);
      if (v.type === ndp.NDP_OPT_PREFIX_INFO) oc.offset('prefix', v.prefixOff, 16);
      if (v.type === ndp.NDP_OPT_RDNSS) {
        for (let j = 0; j < v.rdnssCount; j++) oc.offset(`server${j}`, v.rdnssAddrOff(j), 16);
      }
      i++;
    }
    c.err('error', v.error);
    c.check(!v.next(), 'next() is true again after the walk ended');
    if (v.error !== WireError.Ok)
      c.check(v.len === 0 && v.off >= c.base && v.off < c.limit, 'failed cursor state');
  },
  roundTrip: {
    exact: true,
    note: 'the whole options area exactly (a malformed tail is carried raw)',
    check(_v, c) {
      const opts = ndp.parseNdpOptionList(currentBuf, c.base, c.limit);
      const n = ndp.ndpOptionListLen(opts);
      c.check(n === c.limit - c.base, `the option list is ${n} bytes, the area ${c.limit - c.base}`);
      const out = new Uint8Array(n);
      ndp.emitNdpOptionList(opts, out, 0);
      c.sameBytes('roundTrip', c.base, out);
    },
  },
});

const RELAY_INFO = Uint8Array.of(1, 4, 0x65, 0x74, 0x68, 0x30, 2, 2, 0xab, 0xcd);
const CODES_ALWAYS = [0, 255, 52, 53, 82, 121];

const dhcpSpec = spec<dhcp.Dhcpv4View>({
  name: 'Dhcpv4View',
  cls: dhcp.Dhcpv4View,
  module: 'dhcpv4',
  seedLayer: 'dhcpv4',
  create: () => new dhcp.Dhcpv4View(),
  variants: ['wrap'],
  wrap: (v, b, o, n) => v.wrap(b, o, n),
  stateful: ['optOff', 'optLen'],
  when: { optionsOff: (v) => v.hasMagic },
  methods: { wraps: ['wrap'], walked: ['findOption'], mutators: [], internal: [] },
  walk(v, c) {
    c.check(v.endOff === -1 || (v.endOff >= v.off + dhcp.DHCP_OPTIONS && v.endOff < c.limit), 'endOff');
    const first = new Map<number, [number, number]>();
    const cur = new dhcp.Dhcpv4OptionCursor();
    cur.start(v);
    let i = 0;
    for (; cur.next(); i++) {
      if (i > 2000) {
        c.check(false, 'option walk does not end');
        return;
      }
      c.value(`opt${i}.code`, cur.code);
      c.value(`opt${i}.area`, cur.area);
      c.offset(`opt${i}`, cur.valueOff, cur.len);
      const [lo, hi] =
        cur.area === dhcp.AREA_FILE
          ? [v.off + dhcp.DHCP_FILE, v.off + dhcp.DHCP_FIXED_LEN]
          : cur.area === dhcp.AREA_SNAME
            ? [v.off + dhcp.DHCP_SNAME, v.off + dhcp.DHCP_FILE]
            : [v.off + dhcp.DHCP_OPTIONS, c.limit];
      c.check(cur.valueOff - 2 >= lo && cur.valueOff + cur.len <= hi, `option ${i} leaves its area`);
      if (!first.has(cur.code)) first.set(cur.code, [cur.valueOff, cur.len]);
    }
    for (const code of [...first.keys(), ...CODES_ALWAYS]) {
      const hit = v.findOption(code);
      const want = first.get(code);
      c.check(hit === (want !== undefined), `findOption(${code}) = ${hit}`);
      if (hit && want)
        c.check(v.optOff === want[0] && v.optLen === want[1], `findOption(${code}) is not the first`);
    }
    const out4 = new Uint32Array(4);
    const out16 = new Uint8Array(16);
    c.value('subnetMask', dhcpo.subnetMask(v));
    c.value('requestedIp', dhcpo.requestedIp(v));
    c.value('leaseTime', dhcpo.leaseTime(v));
    c.value('serverId', dhcpo.serverId(v));
    c.value('renewalTime', dhcpo.renewalTime(v));
    c.value('rebindingTime', dhcpo.rebindingTime(v));
    c.value('routers', dhcpo.routers(v, out4));
    c.value('dnsServers', dhcpo.dnsServers(v, out4));
    c.value('parameterRequestList', dhcpo.parameterRequestList(v, out16));
    c.value('isParameterRequested(1)', dhcpo.isParameterRequested(v, 1));
    c.bytes('optionBytes(82)', dhcpo.optionBytes(v, 82));
    c.text('optionText(15)', dhcpo.optionText(v, 15));
    c.text('hostname', dhcpo.hostname(v));
    c.bytes('clientId', dhcpo.clientId(v));
    c.check(dhcpo.optionList(v).length === i, 'optionList() and the cursor disagree');
    if (v.findOption(dhcp.DHCP_OPT_CLASSLESS_ROUTES)) {
      c.nested(classlessSpec, new dhcpo.ClasslessRouteReader(), v.optOff, v.optLen, 0, 'option121');
    }
    if (v.findOption(dhcp.DHCP_OPT_RELAY_AGENT_INFO)) {
      c.nested(relaySpec, new dhcpo.RelayAgentInfoView(), v.optOff, v.optLen, 0, 'option82');
    }
    relayInsertStrip(v, c, first.has(dhcp.DHCP_OPT_RELAY_AGENT_INFO));
  },
  roundTrip: {
    exact: true,
    note: 'the whole message exactly (options, PAD, END and trailing padding)',
    check(v, c) {
      const r = dhcp.parseDhcpv4(v);
      const out = new Uint8Array(dhcp.dhcpv4Len(r));
      dhcp.emitDhcpv4(r, out, 0);
      c.check(out.length === v.len, `emit wrote ${out.length} bytes, the message is ${v.len}`);
      c.sameBytes('roundTrip', v.off, out);
    },
  },
  mutators: [
    setter('hops', (r) => r & 0xff, { rewrap: true }),
    setter('flags', (r) => r & 0xffff, { rewrap: true }),
    setter('broadcast', (r) => (r & 1) === 1, { rewrap: true }),
    setter('ciaddr', (r) => r, { rewrap: true }),
    setter('yiaddr', (r) => r, { rewrap: true }),
    setter('siaddr', (r) => r, { rewrap: true }),
    setter('giaddr', (r) => r, { rewrap: true }),
    {
      name: 'insertRelayAgentInfo',
      apply: (v, _r, room) =>
        void dhcpo.insertRelayAgentInfo(v, v.len + room, RELAY_INFO, 0, RELAY_INFO.length),
      rewrap: true,
      grows: true,
    },
    { name: 'stripRelayAgentInfo', apply: (v) => void dhcpo.stripRelayAgentInfo(v), rewrap: true },
  ],
});

/** Option 82 insertion then removal, on a copy with room to grow: the message stays valid. */
function relayInsertStrip(v: dhcp.Dhcpv4View, c: Checker, had82: boolean): void {
  const room = 300;
  const copy = new Uint8Array(v.len + room);
  copy.set(v.buf.subarray(v.off, v.off + v.len));
  const w = new dhcp.Dhcpv4View();
  c.check(w.wrap(copy, 0, v.len) === WireError.Ok, 'the same bytes at offset 0 do not wrap');
  const e = dhcpo.insertRelayAgentInfo(w, v.len + room, RELAY_INFO, 0, RELAY_INFO.length);
  c.err('insertRelayAgentInfo', e);
  const again = new dhcp.Dhcpv4View();
  if (e === WireError.Ok) {
    c.value('inserted.len', w.len);
    const e2 = again.wrap(copy, 0, w.len);
    c.check(
      e2 === WireError.Ok,
      `after insertRelayAgentInfo the message does not wrap: ${wireErrorName(e2)}`,
    );
    if (e2 === WireError.Ok) {
      c.check(again.findOption(dhcp.DHCP_OPT_RELAY_AGENT_INFO), 'inserted option 82 is not found');
      c.check(again.endOff === w.endOff, `endOff ${w.endOff} after insert, ${again.endOff} on rewrap`);
    }
  } else if (e === WireError.Duplicate) c.check(had82, 'Duplicate without an option 82');
  else if (e === WireError.Unsupported) c.check(!v.hasMagic, 'Unsupported with a magic cookie');
  else c.check(e === WireError.NoRoom, `insertRelayAgentInfo: ${wireErrorName(e)}`);
  const n0 = w.len;
  if (again.wrap(copy, 0, n0) !== WireError.Ok) return;
  const n = dhcpo.stripRelayAgentInfo(again);
  c.value('stripped.len', n);
  c.check(n <= n0 && n === again.len, `stripRelayAgentInfo returned ${n} from ${n0}`);
  const e3 = again.wrap(copy, 0, n);
  c.check(e3 === WireError.Ok, `after stripRelayAgentInfo the message does not wrap: ${wireErrorName(e3)}`);
  if (e3 !== WireError.Ok) return;
  const cur = new dhcp.Dhcpv4OptionCursor();
  cur.start(again);
  while (cur.next()) {
    if (cur.area === dhcp.AREA_OPTIONS && cur.code === dhcp.DHCP_OPT_RELAY_AGENT_INFO) {
      c.check(false, 'option 82 is still in the options field after stripRelayAgentInfo');
      break;
    }
  }
}

const classlessSpec = spec<dhcpo.ClasslessRouteReader>({
  name: 'ClasslessRouteReader',
  cls: dhcpo.ClasslessRouteReader,
  module: 'dhcpv4-options',
  seedLayer: 'option121',
  create: () => new dhcpo.ClasslessRouteReader(),
  variants: ['wrap'],
  wrap: (v, b, o, n) => v.wrap(b, o, n),
  cursor: true,
  unbounded: ['prefixLen'],
  methods: { wraps: ['wrap'], walked: ['next'], mutators: [], internal: [] },
  walk(v, c) {
    const routes: dhcpo.ClasslessRoute[] = [];
    while (v.next()) {
      if (routes.length > 255) {
        c.check(false, 'route walk does not end');
        return;
      }
      const i = routes.length;
      c.value(`route${i}.prefix`, v.prefix);
      c.value(`route${i}.prefixLen`, v.prefixLen);
      c.value(`route${i}.gateway`, v.gateway);
      c.check(v.prefixLen >= 0 && v.prefixLen <= 32, `prefixLen ${v.prefixLen}`);
      const mask = v.prefixLen === 0 ? 0 : (0xffffffff << (32 - v.prefixLen)) >>> 0;
      c.check((v.prefix & ~mask) >>> 0 === 0, 'host bits set in the prefix');
      routes.push({ prefix: v.prefix, prefixLen: v.prefixLen, gateway: v.gateway });
    }
    // Round trip (normalising): host bits past the width are dropped, everything else is kept.
    const n = dhcpo.classlessRoutesLen(routes);
    c.check(n === c.limit - c.base, `the routes take ${n} bytes, the option ${c.limit - c.base}`);
    const out = new Uint8Array(n);
    dhcpo.emitClasslessRoutes(routes, out, 0);
    const r2 = new dhcpo.ClasslessRouteReader();
    c.check(r2.wrap(out, 0, n) === WireError.Ok, 'emitted routes do not wrap');
    for (const r of routes) {
      if (!r2.next() || r2.prefix !== r.prefix || r2.prefixLen !== r.prefixLen || r2.gateway !== r.gateway) {
        c.check(false, 'emitted routes read back differently');
        return;
      }
    }
    c.check(!r2.next(), 'emitted routes have an extra route');
  },
});

const relaySpec = spec<dhcpo.RelayAgentInfoView>({
  name: 'RelayAgentInfoView',
  cls: dhcpo.RelayAgentInfoView,
  module: 'dhcpv4-options',
  seedLayer: 'option82',
  create: () => new dhcpo.RelayAgentInfoView(),
  variants: ['wrap'],
  wrap: (v, b, o, n) => v.wrap(b, o, n),
  stateful: ['subOff', 'subLen'],
  methods: { wraps: ['wrap'], walked: ['find', 'findCircuitId', 'findRemoteId'], mutators: [], internal: [] },
  walk(v, c) {
    const subs = dhcpo.parseRelayAgentInfo(v);
    const firsts = new Map<number, number>();
    let p = v.off;
    for (const s of subs) {
      if (!firsts.has(s.code)) firsts.set(s.code, p + 2);
      c.offset(`sub${firsts.size}`, p + 2, s.data.length);
      p += 2 + s.data.length;
    }
    c.check(p === c.limit, 'sub-options do not fill the value');
    for (const code of [...firsts.keys(), 1, 2, 0, 255]) {
      const hit = v.find(code);
      c.check(hit === firsts.has(code), `find(${code}) = ${hit}`);
      if (hit) {
        c.check(v.subOff === firsts.get(code), `find(${code}) is not the first`);
        c.offset(`find(${code})`, v.subOff, v.subLen);
      }
    }
    c.value('findCircuitId', v.findCircuitId());
    c.value('findRemoteId', v.findRemoteId());
  },
  roundTrip: {
    exact: true,
    note: 'the sub-option list exactly (when it fits one option, 255 bytes)',
    check(v, c) {
      if (v.len > 255) return;
      const out = new Uint8Array(v.len);
      const n = dhcpo.emitRelayAgentInfo(dhcpo.parseRelayAgentInfo(v), out, 0);
      c.check(n === v.len, `emit wrote ${n} bytes, the value is ${v.len}`);
      c.sameBytes('roundTrip', v.off, out);
    },
  },
});

/** Cookie length and sublayer flag for each wrap variant of the L2TPv3 views. */
export const L2TP_LAYOUTS: ReadonlyArray<readonly [number, boolean]> = [
  [0, false],
  [0, true],
  [4, false],
  [4, true],
  [8, false],
  [8, true],
  [2, false],
];

type L2tpView = l2tp.L2tpv3IpView | l2tp.L2tpv3UdpView;
const isData = (v: L2tpView) => !v.isControl;
const l2tpWhen: Record<string, (v: L2tpView) => boolean> = {
  cookieOff: isData,
  sublayerOff: isData,
  sequenced: (v) => isData(v) && v.hasSublayer,
  sequence: (v) => isData(v) && v.hasSublayer,
  controlOff: (v) => v.isControl,
  controlFlags: (v) => v.isControl,
  controlVersion: (v) => v.isControl,
  controlLength: (v) => v.isControl,
  connectionId: (v) => v.isControl,
  ns: (v) => v.isControl,
  nr: (v) => v.isControl,
};

function l2tpSpec(udpEncap: boolean): ViewSpec<object> {
  const s: ViewSpec<L2tpView> = {
    name: udpEncap ? 'L2tpv3UdpView' : 'L2tpv3IpView',
    cls: udpEncap ? l2tp.L2tpv3UdpView : l2tp.L2tpv3IpView,
    module: 'l2tpv3',
    seedLayer: udpEncap ? 'l2tpv3-udp' : 'l2tpv3-ip',
    create: () => (udpEncap ? new l2tp.L2tpv3UdpView() : new l2tp.L2tpv3IpView()),
    variants: L2TP_LAYOUTS.map(([c, s]) => `cookie ${c}${s ? ' + sublayer' : ''}`),
    wrap: (v, b, o, n, i) => v.wrap(b, o, n, L2TP_LAYOUTS[i]![0], L2TP_LAYOUTS[i]![1]),
    when: udpEncap ? { ...l2tpWhen, dataReserved: isData } : l2tpWhen,
    methods: {
      wraps: ['wrap'],
      walked: ['setLayout', 'cookieWord', 'cookieEquals'],
      mutators: ['setCookieWord'],
      internal: ['checkControl', 'requireSublayer'],
    },
    walk(v, c) {
      if (v.isControl) {
        c.check(v.controlVersion === l2tp.L2TP_VERSION, 'control version');
        c.check(v.payloadLen >= 0, `control payloadLen ${v.payloadLen}`);
      } else {
        for (let i = 0; 4 * i + 4 <= v.cookieLen; i++) c.value(`cookie${i}`, v.cookieWord(i));
        const cookie = v.buf.slice(v.cookieOff, v.cookieOff + v.cookieLen);
        c.check(v.cookieEquals(cookie), 'cookieEquals(own cookie) is false');
      }
      c.check(!v.cookieEquals(new Uint8Array(v.cookieLen + 4)), 'cookieEquals(longer cookie) is true');
      c.check(v.setLayout(3, false) === WireError.BadValue, 'setLayout(3) is not BadValue');
      const e = v.setLayout(8, true);
      c.err('setLayout(8, sublayer)', e);
      if (e === WireError.Ok) probeGetters(s, v, new Checker(c.t, `${c.prefix}.relayout`, c.base, c.limit));
    },
    roundTrip: {
      exact: true,
      note: 'the session or control header exactly',
      check(v, c) {
        const r = l2tp.parseL2tpv3(v);
        const out = new Uint8Array(l2tp.l2tpv3HeaderLen(r, udpEncap));
        if (udpEncap) l2tp.emitL2tpv3Udp(r, out, 0);
        else l2tp.emitL2tpv3Ip(r, out, 0);
        c.check(out.length === v.headerLen, `emit wrote ${out.length} bytes, headerLen is ${v.headerLen}`);
        c.sameBytes('roundTrip', v.off, out);
      },
    },
    mutators: [
      setter('sessionId', (r) => r | 1, { when: isData, rewrap: true }),
      {
        name: 'setCookieWord',
        when: (v) => isData(v) && v.cookieLen >= 4,
        apply: (v, r) => v.setCookieWord(r % (v.cookieLen / 4), r),
        rewrap: true,
      },
      setter('sequenced', (r) => (r & 1) === 1, { when: (v) => isData(v) && v.hasSublayer, rewrap: true }),
      setter('sequence', (r) => r & 0xffffff, { when: (v) => isData(v) && v.hasSublayer, rewrap: true }),
    ],
  };
  return spec(s);
}

export const SPECS: readonly ViewSpec<object>[] = [
  ethernetSpec,
  arpSpec,
  ipv4Spec,
  ipv4QuotedSpec,
  ipv6Spec,
  ipv6QuotedSpec,
  udpSpec,
  tcpSpec,
  icmpv4Spec,
  icmpv6Spec,
  ndpSpec,
  dhcpSpec,
  classlessSpec,
  relaySpec,
  l2tpSpec(false),
  l2tpSpec(true),
];

export const SPEC: Readonly<Record<string, ViewSpec<object>>> = Object.fromEntries(
  SPECS.map((s) => [s.name, s]),
);

// ------------------------------------------------------------------------------------------
// Corpus: valid frames for every protocol, built with the codecs' emit functions
// ------------------------------------------------------------------------------------------

export type LinkKind = 'ethernet' | 'raw-ip';

export interface CorpusFrame {
  name: string;
  link: LinkKind;
  bytes: Uint8Array;
  /** L2TPv3 cookie length and sublayer of sessions not in L2TP_SESSIONS (capture-specific). */
  l2tp?: readonly [number, boolean];
}

export interface Corpus {
  frames: CorpusFrame[];
  /** Bytes of each layer that went into the frames, by layer name (the specs' `seedLayer`). */
  layers: Map<string, Uint8Array[]>;
}

/** Session configuration the frame walker applies to L2TPv3 data messages (cookie, sublayer). */
export const L2TP_SESSIONS: ReadonlyMap<number, readonly [number, boolean]> = new Map([
  [0x1234, [4, true]],
  [0xabcdef01, [8, false]],
  [0x5678, [0, false]],
]);

const MAC_A = 0x02_00_00_00_00_0a;
const MAC_B = 0x02_00_00_00_00_0b;
const MAC_BCAST = 0xffff_ffff_ffff;
const IP_A = 0x0a_00_00_01;
const IP_B = 0x0a_00_00_02;
const IP_SERVER = 0xc0_a8_01_01;

function macBytes(m: number): Uint8Array {
  const b = new Uint8Array(6);
  setU48(b, 0, m);
  return b;
}

function v6(...words: number[]): Uint8Array {
  const b = new Uint8Array(16);
  const head = words.slice(0, -2);
  const tail = words.slice(-2);
  for (let i = 0; i < head.length; i++) setU16(b, 2 * i, head[i]!);
  for (let i = 0; i < tail.length; i++) setU16(b, 12 + 2 * i, tail[i]!);
  return b;
}
const LL_A = v6(0xfe80, 0, 0x000a);
const LL_B = v6(0xfe80, 0, 0x000b);
const GUA_A = v6(0x2001, 0x0db8, 0, 0x000a);
const GUA_B = v6(0x2001, 0x0db8, 0, 0x000b);
const ALL_NODES = v6(0xff02, 0, 1);
const ALL_ROUTERS = v6(0xff02, 0, 2);
const SOLICITED_B = v6(0xff02, 0, 0, 0, 0, 1, 0xff00, 0x000b);
const UNSPEC = new Uint8Array(16);

function ps6(src: Uint8Array, dst: Uint8Array, nh: number, n: number): number {
  const b = new Uint8Array(32);
  b.set(src);
  b.set(dst, 16);
  return pseudoSumV6(b, 0, 16, nh, n);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const ascii = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

class CorpusBuilder {
  readonly frames: CorpusFrame[] = [];
  readonly layers = new Map<string, Uint8Array[]>();

  keep(layer: string, b: Uint8Array): Uint8Array {
    const l = this.layers.get(layer) ?? [];
    this.layers.set(layer, l);
    l.push(b.slice());
    return b;
  }

  frame(
    name: string,
    etherType: number,
    payload: Uint8Array,
    vlans: eth.VlanTag[] = [],
    dst = MAC_B,
  ): Uint8Array {
    const r: eth.EthernetRepr = { dst: macBytes(dst), src: macBytes(MAC_A), vlans, etherType };
    const hl = eth.ethernetHeaderLen(r);
    const out = new Uint8Array(Math.max(60, hl + payload.length));
    eth.emitEthernet(r, out, 0);
    out.set(payload, hl);
    this.frames.push({ name, link: 'ethernet', bytes: this.keep('ethernet', out) });
    return out;
  }

  raw(name: string, packet: Uint8Array): void {
    this.frames.push({ name, link: 'raw-ip', bytes: packet });
  }

  ipv4(
    protocol: number,
    payload: Uint8Array,
    o: {
      src?: number;
      dst?: number;
      options?: Uint8Array;
      flags?: number;
      fragOffset?: number;
      ttl?: number;
    } = {},
  ): Uint8Array {
    const r: ip4.Ipv4Repr = {
      dscp: 10,
      ecn: 0,
      id: 0x1c46,
      flags: o.flags ?? ip4.IPV4_FLAG_DF,
      fragOffset: o.fragOffset ?? 0,
      ttl: o.ttl ?? 64,
      protocol,
      src: o.src ?? IP_A,
      dst: o.dst ?? IP_B,
      options: o.options ?? new Uint8Array(0),
      payloadLen: payload.length,
    };
    const hl = ip4.ipv4HeaderLen(r);
    const out = new Uint8Array(hl + payload.length);
    ip4.emitIpv4(r, out, 0);
    out.set(payload, hl);
    return this.keep('ipv4', out);
  }

  ipv6(
    nh: number,
    ext: Uint8Array,
    upper: Uint8Array,
    src: Uint8Array,
    dst: Uint8Array,
    hopLimit = 64,
  ): Uint8Array {
    const r: ip6.Ipv6Repr = {
      dscp: 0,
      ecn: 1,
      flowLabel: 0x5a5a5,
      nextHeader: nh,
      hopLimit,
      src,
      dst,
      extHeaders: ext,
      upperLen: upper.length,
    };
    const hl = ip6.ipv6HeaderLen(r);
    const out = new Uint8Array(hl + upper.length);
    ip6.emitIpv6(r, out, 0);
    out.set(upper, hl);
    return this.keep('ipv6', out);
  }

  udp(sport: number, dport: number, payload: Uint8Array, pseudo: ((n: number) => number) | null): Uint8Array {
    const r: udp.UdpRepr = { srcPort: sport, dstPort: dport, payload };
    const n = udp.udpLen(r);
    const out = new Uint8Array(n);
    udp.emitUdp(r, out, 0, pseudo ? pseudo(n) : null);
    return this.keep('udp', out);
  }

  tcp(r: Partial<tcp.TcpRepr>, pseudo: (n: number) => number): Uint8Array {
    const full: tcp.TcpRepr = {
      srcPort: 40000,
      dstPort: 80,
      seq: 0xdb0e729f,
      ack: 0,
      flags: tcp.TCP_ACK_FLAG,
      reserved: 0,
      window: 65535,
      urgentPointer: 0,
      options: [],
      payload: new Uint8Array(0),
      ...r,
    };
    const n = tcp.tcpLen(full);
    const out = new Uint8Array(n);
    tcp.emitTcp(full, out, 0, pseudo(n));
    return this.keep('tcp', out);
  }

  icmp4(r: icmp4.Icmpv4Repr): Uint8Array {
    const out = new Uint8Array(icmp4.ICMPV4_HEADER_LEN + r.data.length);
    icmp4.emitIcmpv4(r, out, 0);
    return this.keep('icmpv4', out);
  }

  icmp4Error(type: number, code: number, quoted: Uint8Array, info = 0): Uint8Array {
    const out = new Uint8Array(icmp4.icmpv4ErrorLen(quoted.length));
    icmp4.emitIcmpv4Error(type, code, quoted, 0, quoted.length, out, 0, info);
    return this.keep('icmpv4', out);
  }

  icmp6(r: icmp6.Icmpv6Repr, src: Uint8Array, dst: Uint8Array): Uint8Array {
    const n = icmp6.icmpv6Len(r);
    const out = new Uint8Array(n);
    icmp6.emitIcmpv6(r, out, 0, ps6(src, dst, icmp6.ICMPV6_PROTO, n));
    if ('options' in r) {
      const start = n - icmp6_optionsLen(r.options);
      this.keep('ndp-options', out.subarray(start));
    }
    return this.keep('icmpv6', out);
  }

  dhcp(r: Partial<dhcp.Dhcpv4Repr>): Uint8Array {
    const chaddr = new Uint8Array(16);
    chaddr.set(macBytes(MAC_A));
    const full: dhcp.Dhcpv4Repr = {
      op: dhcp.BOOTREQUEST,
      htype: dhcp.HTYPE_ETHERNET,
      hlen: 6,
      hops: 0,
      xid: 0x3903f326,
      secs: 0,
      flags: dhcp.DHCP_FLAG_BROADCAST,
      ciaddr: 0,
      yiaddr: 0,
      siaddr: 0,
      giaddr: 0,
      chaddr,
      sname: new Uint8Array(64),
      file: new Uint8Array(128),
      hasMagic: true,
      options: [],
      trailer: new Uint8Array(0),
      ...r,
    };
    const n = Math.max(dhcp.dhcpv4Len(full), dhcp.BOOTP_MIN_LEN);
    const out = new Uint8Array(n);
    dhcp.emitDhcpv4(full, out, 0, dhcp.BOOTP_MIN_LEN);
    return this.keep('dhcpv4', out);
  }
}

function icmp6_optionsLen(opts: ndp.NdpOption[]): number {
  return ndp.ndpOptionListLen(opts);
}

/** IPv6 extension headers, outermost first, ending in `upper`; returns the first next-header value. */
function extChain(headers: Array<[number, (nh: number) => Uint8Array]>, upper: number): [number, Uint8Array] {
  let nh = upper;
  const parts: Uint8Array[] = [];
  for (let i = headers.length - 1; i >= 0; i--) {
    const [type, make] = headers[i]!;
    parts.unshift(make(nh));
    nh = type;
  }
  return [nh, concat(...parts)];
}

const optsExt = (nh: number) => Uint8Array.of(nh, 0, 1, 4, 0, 0, 0, 0);
const routingExt = (nh: number) => {
  const b = new Uint8Array(24);
  b[0] = nh;
  b[1] = 2;
  b[2] = 253;
  return b;
};
const fragExt = (offset: number, more: boolean, id: number) => (nh: number) => {
  const b = new Uint8Array(8);
  b[0] = nh;
  setU16(b, 2, (offset & 0xfff8) | (more ? 1 : 0));
  setU32(b, 4, id);
  return b;
};
const ahExt = (nh: number) => {
  const b = new Uint8Array(24);
  b[0] = nh;
  b[1] = 4;
  setU32(b, 4, 0x100);
  setU32(b, 8, 1);
  return b;
};

function ndpRepr(kind: 'rs' | 'ra' | 'ns' | 'dad' | 'na' | 'redirect', quoted: Uint8Array): icmp6.Icmpv6Repr {
  const slla: ndp.NdpOption = { kind: 'source-lla', addr: macBytes(MAC_A) };
  const tlla: ndp.NdpOption = { kind: 'target-lla', addr: macBytes(MAC_B) };
  switch (kind) {
    case 'rs':
      return { kind: 'router-solicit', code: 0, reserved: 0, options: [slla] };
    case 'ra':
      return {
        kind: 'router-advert',
        code: 0,
        hopLimit: 64,
        flags: icmp6.RA_FLAG_OTHER,
        routerLifetime: 1800,
        reachableTime: 0,
        retransTimer: 0,
        options: [
          slla,
          { kind: 'mtu', reserved: 0, mtu: 1500 },
          {
            kind: 'prefix-info',
            prefixLength: 64,
            flags: ndp.NDP_PI_FLAG_ON_LINK | ndp.NDP_PI_FLAG_AUTONOMOUS,
            validLifetime: 86400,
            preferredLifetime: 14400,
            reserved2: 0,
            prefix: v6(0x2001, 0x0db8, 0, 0),
          },
          { kind: 'rdnss', reserved: 0, lifetime: 600, servers: [GUA_A, GUA_B] },
          { kind: 'unknown', type: 24, data: new Uint8Array(14) },
        ],
      };
    case 'ns':
      return { kind: 'neighbor-solicit', code: 0, reserved: 0, target: LL_B, options: [slla] };
    case 'dad':
      return { kind: 'neighbor-solicit', code: 0, reserved: 0, target: LL_B, options: [] };
    case 'na':
      return {
        kind: 'neighbor-advert',
        code: 0,
        flags: icmp6.NA_FLAG_SOLICITED | icmp6.NA_FLAG_OVERRIDE,
        reserved: 0,
        target: LL_B,
        options: [tlla],
      };
    case 'redirect':
      return {
        kind: 'redirect',
        code: 0,
        reserved: 0,
        target: LL_B,
        destination: GUA_B,
        options: [tlla, { kind: 'redirected-header', reserved: 0, packet: quoted }],
      };
  }
}

let corpusCache: Corpus | null = null;

/** Valid frames covering every decoder and its options (cached; treat as read-only). */
export function buildCorpus(): Corpus {
  if (corpusCache) return corpusCache;
  const c = new CorpusBuilder();
  const p4 = (src: number, dst: number, proto: number) => (n: number) => pseudoSumV4(src, dst, proto, n);
  const p6 = (src: Uint8Array, dst: Uint8Array, nh: number) => (n: number) => ps6(src, dst, nh, n);

  // ARP (RFC 826, RFC 5227), also behind 802.1Q and QinQ tags.
  const arpMsg = (op: number, sip: number, tip: number, tha = 0) => {
    const out = new Uint8Array(arp.ARP_LEN);
    arp.emitArp(
      { operation: op, senderMac: macBytes(MAC_A), senderIp: sip, targetMac: macBytes(tha), targetIp: tip },
      out,
      0,
    );
    return c.keep('arp', out);
  };
  c.frame('arp-request', eth.ETHERTYPE_ARP, arpMsg(arp.ARP_OP_REQUEST, IP_A, IP_B), [], MAC_BCAST);
  c.frame('arp-reply', eth.ETHERTYPE_ARP, arpMsg(arp.ARP_OP_REPLY, IP_B, IP_A, MAC_A));
  c.frame('arp-probe', eth.ETHERTYPE_ARP, arpMsg(arp.ARP_OP_REQUEST, 0, IP_B), [], MAC_BCAST);
  c.frame('arp-vlan', eth.ETHERTYPE_ARP, arpMsg(arp.ARP_OP_REQUEST, IP_A, IP_A), [
    { tpid: eth.ETHERTYPE_VLAN, pcp: 5, dei: 0, vid: 100 },
  ]);
  c.frame('arp-qinq', eth.ETHERTYPE_ARP, arpMsg(arp.ARP_OP_REQUEST, IP_A, IP_B), [
    { tpid: eth.ETHERTYPE_QINQ, pcp: 0, dei: 1, vid: 10 },
    { tpid: eth.ETHERTYPE_VLAN, pcp: 3, dei: 0, vid: 4094 },
  ]);

  // IPv4: UDP, options, fragments, TCP with options, ICMP queries and errors.
  const dns = c.udp(
    53000,
    53,
    ascii('\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01'),
    p4(IP_A, IP_B, 17),
  );
  const udp4 = c.ipv4(ip4.IP_PROTO_UDP, dns);
  c.frame('ipv4-udp', eth.ETHERTYPE_IPV4, udp4);
  c.frame('ipv4-udp-vlan', eth.ETHERTYPE_IPV4, udp4, [{ tpid: eth.ETHERTYPE_VLAN, pcp: 0, dei: 0, vid: 7 }]);
  c.raw('rawip-ipv4-udp', udp4);
  const rr = Uint8Array.of(ip4.IPV4_OPT_RR, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0);
  const opts = concat(rr, Uint8Array.of(ip4.IPV4_OPT_NOP, ip4.IPV4_OPT_RA, 4, 0, 0));
  c.frame(
    'ipv4-options',
    eth.ETHERTYPE_IPV4,
    c.ipv4(ip4.IP_PROTO_UDP, c.udp(1, 2, ascii('opts'), null), { options: opts }),
  );
  c.frame(
    'ipv4-options-eol',
    eth.ETHERTYPE_IPV4,
    c.ipv4(ip4.IP_PROTO_IGMP, new Uint8Array(8), {
      options: Uint8Array.of(ip4.IPV4_OPT_RA, 4, 0, 0, 0, 0, 0, 0),
    }),
  );
  const big = c.udp(4000, 5000, new Uint8Array(64).fill(0x61), p4(IP_A, IP_B, 17));
  c.frame(
    'ipv4-frag-first',
    eth.ETHERTYPE_IPV4,
    c.ipv4(17, big.subarray(0, 32), { flags: ip4.IPV4_FLAG_MF }),
  );
  c.frame('ipv4-frag-last', eth.ETHERTYPE_IPV4, c.ipv4(17, big.subarray(32), { flags: 0, fragOffset: 32 }));

  const t4 = p4(IP_A, IP_B, 6);
  const syn = c.tcp(
    {
      flags: tcp.TCP_SYN | tcp.TCP_ECE | tcp.TCP_CWR,
      options: [
        { kind: 'mss', value: 1460 },
        { kind: 'sack-permitted' },
        { kind: 'timestamps', tsVal: 0x348a7440, tsEcr: 0 },
        { kind: 'nop' },
        { kind: 'wscale', shift: 7 },
      ],
    },
    t4,
  );
  c.frame('ipv4-tcp-syn', eth.ETHERTYPE_IPV4, c.ipv4(6, syn));
  const get = ascii('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  c.frame(
    'ipv4-tcp-data',
    eth.ETHERTYPE_IPV4,
    c.ipv4(
      6,
      c.tcp(
        {
          flags: tcp.TCP_ACK_FLAG | tcp.TCP_PSH,
          ack: 0x2cab0e27,
          options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal: 1, tsEcr: 2 }],
          payload: get,
        },
        t4,
      ),
    ),
  );
  const sack = c.tcp(
    {
      options: [
        { kind: 'nop' },
        { kind: 'nop' },
        {
          kind: 'sack',
          blocks: [
            [0xdb0e8000, 0xdb0e9000],
            [0xdb0ea000, 0xdb0eb000],
          ],
        },
      ],
    },
    t4,
  );
  c.frame('ipv4-tcp-sack', eth.ETHERTYPE_IPV4, c.ipv4(6, sack));
  const tfo = c.tcp(
    {
      flags: tcp.TCP_SYN,
      options: [
        { kind: 'mss', value: 8960 },
        { kind: 'unknown', type: 34, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) },
        { kind: 'eol', padding: new Uint8Array(1) },
      ],
    },
    t4,
  );
  c.frame('ipv4-tcp-tfo', eth.ETHERTYPE_IPV4, c.ipv4(6, tfo));
  // MSS at an odd offset: its bytes straddle two checksum words (clampMss swaps them).
  const oddMss = c.tcp(
    {
      flags: tcp.TCP_SYN,
      options: [
        { kind: 'nop' },
        { kind: 'mss', value: 1460 },
        { kind: 'nop' },
        { kind: 'nop' },
        { kind: 'nop' },
      ],
    },
    t4,
  );
  c.frame('ipv4-tcp-mss-odd', eth.ETHERTYPE_IPV4, c.ipv4(6, oddMss));

  const echo = c.icmp4({
    type: icmp4.ICMPV4_ECHO_REQUEST,
    code: 0,
    rest: 0x00170001,
    data: new Uint8Array(56).fill(0x5a),
  });
  c.frame('icmpv4-echo', eth.ETHERTYPE_IPV4, c.ipv4(1, echo));
  c.frame(
    'icmpv4-ts',
    eth.ETHERTYPE_IPV4,
    c.ipv4(1, c.icmp4({ type: 13, code: 0, rest: 0x00010002, data: new Uint8Array(12) })),
  );
  const router = 0x0a000063;
  c.frame('icmpv4-ttl', eth.ETHERTYPE_IPV4, c.ipv4(1, c.icmp4Error(11, 0, udp4), { src: router, dst: IP_A }));
  c.frame(
    'icmpv4-frag-needed',
    eth.ETHERTYPE_IPV4,
    c.ipv4(1, c.icmp4Error(3, icmp4.ICMPV4_UNREACH_FRAG_NEEDED, c.ipv4(6, syn), 1400), {
      src: router,
      dst: IP_A,
    }),
  );
  const withOpts = c.ipv4(17, c.udp(1, 2, ascii('x'), null), { options: opts });
  c.frame(
    'icmpv4-param',
    eth.ETHERTYPE_IPV4,
    c.ipv4(1, c.icmp4Error(12, 0, withOpts, 20), { src: router, dst: IP_A }),
  );
  c.frame(
    'icmpv4-redirect',
    eth.ETHERTYPE_IPV4,
    c.ipv4(1, c.icmp4Error(5, 1, udp4, IP_SERVER), { src: router, dst: IP_A }),
  );
  // RFC 4884: 128 bytes of quote (length 32 words), then an extension structure.
  const quote = new Uint8Array(128);
  quote.set(udp4.subarray(0, Math.min(128, udp4.length)));
  const ext = Uint8Array.of(0x20, 0, 0, 0, 0, 8, 1, 1, 0, 0, 0, 7);
  c.frame(
    'icmpv4-rfc4884',
    eth.ETHERTYPE_IPV4,
    c.ipv4(1, c.icmp4({ type: 3, code: 1, rest: 32 << 16, data: concat(quote, ext) }), {
      src: router,
      dst: IP_A,
    }),
  );

  // DHCPv4: discover, offer (option 121), relayed request (option 82), overload, NAK, BOOTP.
  const bootp = (name: string, msg: Uint8Array, toServer: boolean) => {
    const [sp, dp] = toServer ? [68, 67] : [67, 68];
    c.frame(
      name,
      eth.ETHERTYPE_IPV4,
      c.ipv4(17, c.udp(sp, dp, msg, p4(0, 0xffffffff, 17)), { src: 0, dst: 0xffffffff }),
      [],
      MAC_BCAST,
    );
  };
  const o = (code: number, data: Uint8Array | number[]) => ({ code, data: Uint8Array.from(data) });
  const END = { code: dhcp.DHCP_OPT_END, data: new Uint8Array(0) };
  const PAD = { code: dhcp.DHCP_OPT_PAD, data: new Uint8Array(0) };
  const u32b = (x: number) => {
    const b = new Uint8Array(4);
    setU32(b, 0, x);
    return b;
  };
  bootp(
    'dhcp-discover',
    c.dhcp({
      options: [
        o(53, [dhcp.DHCPDISCOVER]),
        o(61, [1, ...macBytes(MAC_A)]),
        o(55, [1, 3, 6, 15, 121, 42]),
        o(12, ascii('client-a')),
        o(57, [0x05, 0xdc]),
        o(60, ascii('udhcp 1.36.1')),
        END,
      ],
    }),
    true,
  );
  const routes: dhcpo.ClasslessRoute[] = [
    { prefix: 0, prefixLen: 0, gateway: IP_SERVER },
    { prefix: 0x0a000000, prefixLen: 8, gateway: 0xc0a80102 },
    { prefix: 0xc0a80100, prefixLen: 24, gateway: 0 },
    { prefix: 0xac100000, prefixLen: 12, gateway: IP_SERVER },
    { prefix: 0x0a010203, prefixLen: 32, gateway: IP_SERVER },
  ];
  const r121 = new Uint8Array(dhcpo.classlessRoutesLen(routes));
  dhcpo.emitClasslessRoutes(routes, r121, 0);
  c.keep('option121', r121);
  bootp(
    'dhcp-offer',
    c.dhcp({
      op: dhcp.BOOTREPLY,
      yiaddr: 0xc0a80164,
      siaddr: IP_SERVER,
      options: [
        o(53, [dhcp.DHCPOFFER]),
        o(54, u32b(IP_SERVER)),
        o(51, u32b(86400)),
        o(58, u32b(43200)),
        o(59, u32b(75600)),
        o(1, u32b(0xffffff00)),
        o(3, u32b(IP_SERVER)),
        o(6, [...u32b(IP_SERVER), ...u32b(0x08080808)]),
        o(15, ascii('example.org')),
        o(121, r121),
        PAD,
        PAD,
        END,
      ],
    }),
    false,
  );
  const relayValue = new Uint8Array(64);
  const relayLen = dhcpo.emitRelayAgentInfo(
    [o(1, ascii('eth0:100')), o(2, macBytes(MAC_B)), o(9, [0, 0, 0, 9, 1, 2])],
    relayValue,
    0,
  );
  const r82 = c.keep('option82', relayValue.subarray(0, relayLen));
  bootp(
    'dhcp-request-relayed',
    c.dhcp({
      hops: 1,
      giaddr: 0x0a000001,
      options: [
        o(53, [dhcp.DHCPREQUEST]),
        o(50, u32b(0xc0a80164)),
        o(54, u32b(IP_SERVER)),
        o(12, ascii('cl')),
        o(12, ascii('ient')),
        o(82, r82),
        END,
      ],
    }),
    true,
  );
  const file = new Uint8Array(128);
  dhcp.emitDhcpv4Options([o(1, u32b(0xffffff00)), o(3, u32b(IP_SERVER)), END], file, 0);
  const sname = new Uint8Array(64);
  dhcp.emitDhcpv4Options([o(6, u32b(0x01010101)), o(15, ascii('over.load')), END], sname, 0);
  bootp(
    'dhcp-ack-overload',
    c.dhcp({
      op: dhcp.BOOTREPLY,
      yiaddr: 0xc0a80164,
      file,
      sname,
      options: [o(53, [dhcp.DHCPACK]), o(52, [3]), END],
    }),
    false,
  );
  bootp(
    'dhcp-nak',
    c.dhcp({ op: dhcp.BOOTREPLY, options: [o(53, [dhcp.DHCPNAK]), o(56, ascii('no lease'))] }),
    false,
  );
  bootp('bootp', c.dhcp({ hasMagic: false, trailer: new Uint8Array(64) }), true);

  // IPv6: UDP, TCP, extension-header chains, fragments, AH, ICMPv6 and NDP.
  const u6 = p6(GUA_A, GUA_B, 17);
  const udp6 = c.udp(5353, 5353, ascii('mdns-ish payload'), u6);
  const ipv6udp = c.ipv6(17, new Uint8Array(0), udp6, GUA_A, GUA_B);
  c.frame('ipv6-udp', eth.ETHERTYPE_IPV6, ipv6udp);
  c.frame('ipv6-udp-qinq', eth.ETHERTYPE_IPV6, ipv6udp, [
    { tpid: eth.ETHERTYPE_QINQ_OLD, pcp: 1, dei: 0, vid: 20 },
    { tpid: eth.ETHERTYPE_VLAN, pcp: 2, dei: 0, vid: 30 },
  ]);
  c.raw('rawip-ipv6-udp', ipv6udp);
  const syn6 = c.tcp(
    { flags: tcp.TCP_SYN, options: [{ kind: 'mss', value: 1440 }, { kind: 'sack-permitted' }] },
    p6(GUA_A, GUA_B, 6),
  );
  c.frame('ipv6-tcp-syn', eth.ETHERTYPE_IPV6, c.ipv6(6, new Uint8Array(0), syn6, GUA_A, GUA_B));
  const [nhExt, chain] = extChain(
    [
      [ip6.IPV6_NH_HOP_BY_HOP, optsExt],
      [ip6.IPV6_NH_DEST_OPTS, optsExt],
      [ip6.IPV6_NH_ROUTING, routingExt],
    ],
    17,
  );
  c.frame('ipv6-ext-udp', eth.ETHERTYPE_IPV6, c.ipv6(nhExt, chain, udp6, GUA_A, GUA_B));
  const big6 = c.udp(6000, 7000, new Uint8Array(48).fill(0x62), u6);
  const [nhF1, f1] = extChain([[ip6.IPV6_NH_FRAGMENT, fragExt(0, true, 0xabc)]], 17);
  c.frame('ipv6-frag-first', eth.ETHERTYPE_IPV6, c.ipv6(nhF1, f1, big6.subarray(0, 24), GUA_A, GUA_B));
  const [nhF2, f2] = extChain([[ip6.IPV6_NH_FRAGMENT, fragExt(24, false, 0xabc)]], 17);
  c.frame('ipv6-frag-last', eth.ETHERTYPE_IPV6, c.ipv6(nhF2, f2, big6.subarray(24), GUA_A, GUA_B));
  const [nhAh, ah] = extChain([[ip6.IPV6_NH_AH, ahExt]], 6);
  c.frame('ipv6-ah-tcp', eth.ETHERTYPE_IPV6, c.ipv6(nhAh, ah, syn6, GUA_A, GUA_B));
  c.frame(
    'ipv6-no-next',
    eth.ETHERTYPE_IPV6,
    c.ipv6(ip6.IPV6_NH_NONE, new Uint8Array(0), new Uint8Array(0), GUA_A, GUA_B),
  );

  const e6 = (src: Uint8Array, dst: Uint8Array, r: icmp6.Icmpv6Repr, hop = 64) =>
    c.ipv6(58, new Uint8Array(0), c.icmp6(r, src, dst), src, dst, hop);
  c.frame(
    'icmpv6-echo',
    eth.ETHERTYPE_IPV6,
    e6(GUA_A, GUA_B, {
      kind: 'echo-request',
      code: 0,
      id: 0x77,
      seq: 1,
      data: new Uint8Array(56).fill(0x33),
    }),
  );
  c.frame(
    'icmpv6-echo-reply',
    eth.ETHERTYPE_IPV6,
    e6(GUA_B, GUA_A, { kind: 'echo-reply', code: 0, id: 0x77, seq: 1, data: ascii('pong') }),
  );
  c.frame(
    'icmpv6-unreach',
    eth.ETHERTYPE_IPV6,
    e6(GUA_B, GUA_A, { kind: 'dest-unreachable', code: 4, unused: 0, invoking: ipv6udp }),
  );
  const tcp6pkt = c.ipv6(6, new Uint8Array(0), syn6, GUA_A, GUA_B);
  c.frame(
    'icmpv6-too-big',
    eth.ETHERTYPE_IPV6,
    e6(GUA_B, GUA_A, { kind: 'packet-too-big', code: 0, mtu: 1280, invoking: tcp6pkt }),
  );
  const extPkt = c.ipv6(nhExt, chain, udp6, GUA_A, GUA_B);
  c.frame(
    'icmpv6-time-exceeded',
    eth.ETHERTYPE_IPV6,
    e6(GUA_B, GUA_A, { kind: 'time-exceeded', code: 0, unused: 0, invoking: extPkt.subarray(0, 80) }),
  );
  c.frame(
    'icmpv6-param',
    eth.ETHERTYPE_IPV6,
    e6(GUA_B, GUA_A, { kind: 'param-problem', code: 1, pointer: 40, invoking: extPkt }),
  );
  c.frame('ndp-rs', eth.ETHERTYPE_IPV6, e6(LL_A, ALL_ROUTERS, ndpRepr('rs', UNSPEC), 255));
  c.frame('ndp-ra', eth.ETHERTYPE_IPV6, e6(LL_B, ALL_NODES, ndpRepr('ra', UNSPEC), 255));
  c.frame('ndp-ns', eth.ETHERTYPE_IPV6, e6(LL_A, SOLICITED_B, ndpRepr('ns', UNSPEC), 255));
  c.frame('ndp-dad', eth.ETHERTYPE_IPV6, e6(UNSPEC, SOLICITED_B, ndpRepr('dad', UNSPEC), 255));
  c.frame('ndp-na', eth.ETHERTYPE_IPV6, e6(LL_B, LL_A, ndpRepr('na', UNSPEC), 255));
  c.frame(
    'ndp-redirect',
    eth.ETHERTYPE_IPV6,
    e6(LL_B, LL_A, ndpRepr('redirect', ipv6udp.subarray(0, 56)), 255),
  );
  c.frame(
    'icmpv6-other',
    eth.ETHERTYPE_IPV6,
    e6(GUA_A, GUA_B, { kind: 'other', type: 200, code: 3, body: ascii('body') }),
  );

  // L2TPv3 pseudowires: over IP (data with cookie and sublayer, control) and over UDP.
  const l2 = (udpEncap: boolean, r: l2tp.L2tpv3Repr, payload: Uint8Array) => {
    const out = new Uint8Array(l2tp.l2tpv3HeaderLen(r, udpEncap) + payload.length);
    const n = udpEncap ? l2tp.emitL2tpv3Udp(r, out, 0) : l2tp.emitL2tpv3Ip(r, out, 0);
    out.set(payload, n);
    return c.keep(udpEncap ? 'l2tpv3-udp' : 'l2tpv3-ip', out);
  };
  const innerArp = c.frames.find((f) => f.name === 'arp-request')!.bytes;
  const innerUdp = c.frames.find((f) => f.name === 'ipv4-udp')!.bytes;
  const innerV6 = c.frames.find((f) => f.name === 'icmpv6-echo')!.bytes;
  const data = (session: number, cookie: number[], sublayer: boolean): l2tp.L2tpv3DataRepr => ({
    control: false,
    sessionId: session,
    cookie: Uint8Array.from(cookie),
    sublayer: sublayer ? { sequenced: true, sequence: 7, reserved: 0 } : null,
    reserved: 0,
  });
  const avp = Uint8Array.of(0x80, 0x08, 0, 0, 0, 0, 0, 1);
  const ctrl: l2tp.L2tpv3ControlRepr = {
    control: true,
    flags: l2tp.L2TP_CONTROL_FLAGS,
    length: 20,
    connectionId: 0x42,
    ns: 1,
    nr: 2,
  };
  c.frame(
    'l2tpv3-ip-data',
    eth.ETHERTYPE_IPV4,
    c.ipv4(115, l2(false, data(0x1234, [0xde, 0xad, 0xbe, 0xef], true), innerArp)),
  );
  c.frame(
    'l2tpv3-ip-data-cookie8',
    eth.ETHERTYPE_IPV4,
    c.ipv4(115, l2(false, data(0xabcdef01, [1, 2, 3, 4, 5, 6, 7, 8], false), innerUdp)),
  );
  c.frame('l2tpv3-ip-control', eth.ETHERTYPE_IPV4, c.ipv4(115, l2(false, ctrl, avp)));
  c.frame(
    'l2tpv3-ipv6-data',
    eth.ETHERTYPE_IPV6,
    c.ipv6(115, new Uint8Array(0), l2(false, data(0x1234, [9, 9, 9, 9], true), innerArp), GUA_A, GUA_B),
  );
  c.frame(
    'l2tpv3-udp-data',
    eth.ETHERTYPE_IPV4,
    c.ipv4(17, c.udp(1701, 1701, l2(true, data(0x5678, [], false), innerV6), p4(IP_A, IP_B, 17))),
  );
  c.frame(
    'l2tpv3-udp-control',
    eth.ETHERTYPE_IPV4,
    c.ipv4(17, c.udp(1701, 1701, l2(true, ctrl, avp), p4(IP_A, IP_B, 17))),
  );

  for (const f of c.frames) {
    if (f.name === 'l2tpv3-ip-data' || f.name === 'l2tpv3-ipv6-data') f.l2tp = [4, true];
    if (f.name === 'l2tpv3-ip-data-cookie8') f.l2tp = [8, false];
  }
  corpusCache = { frames: c.frames, layers: c.layers };
  return corpusCache;
}

// ------------------------------------------------------------------------------------------
// Fixtures: every packet of every capture in fixtures/pcap/
// ------------------------------------------------------------------------------------------

export interface FixtureLoad {
  frames: CorpusFrame[];
  files: string[];
  /** Packets of link types the engine does not forward (fed as Ethernet anyway). */
  otherLink: number;
  /** Captures that could not be read to the end (their packets before the error are kept). */
  errors: string[];
}

export const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/pcap/', import.meta.url));

export function loadFixtureFrames(dir = FIXTURE_DIR): FixtureLoad {
  const res: FixtureLoad = { frames: [], files: [], otherLink: 0, errors: [] };
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.pcap') || n.endsWith('.pcapng'))
      .sort();
  } catch {
    return res;
  }
  for (const name of names) {
    res.files.push(name);
    // The crafted pseudowire captures say their sessions' cookie length in the file name.
    const cookie = /cookie(\d)/.exec(name);
    const l2tpLayout: readonly [number, boolean] = [cookie ? Number(cookie[1]) : 0, false];
    try {
      const reader = parseCaptureBuffer(new Uint8Array(readFileSync(join(dir, name))), name);
      let i = 0;
      for (const p of reader.packets()) {
        const kind = reader.interfaces[p.iface]?.link.kind ?? 'unsupported';
        if (kind === 'unsupported') res.otherLink++;
        res.frames.push({
          name: `${name}#${i++}`,
          link: kind === 'raw-ip' ? 'raw-ip' : 'ethernet',
          bytes: p.data,
          l2tp: l2tpLayout,
        });
      }
      if (reader.error) res.errors.push(`${name}: ${reader.error.message}`);
    } catch (e) {
      res.errors.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return res;
}

// ------------------------------------------------------------------------------------------
// FrameWalker: drives every decoder over a frame, counts outcomes, maps mutable fields
// ------------------------------------------------------------------------------------------

export type FieldSize = 1 | 2 | 4 | 'hi4' | 'lo4';

/** A field of the frame worth lying about: a length, or what decides the next header. */
export interface FieldRef {
  /** Offset from the frame start. */
  off: number;
  size: FieldSize;
  kind: 'length' | 'chain';
  name: string;
}

export interface FrameMap {
  fields: FieldRef[];
  /** Offsets (from the frame start) where a header or a layer ends. */
  boundaries: number[];
  /** Each decoded layer's bytes, by corpus layer name. */
  layers: Array<{ name: string; off: number; len: number }>;
}

export type OutcomeSink = (layer: string, result: string) => void;

export interface WalkOptions {
  /** Called once per decoder invocation with its layer and result ('ok', 'truncated', 'valid', …). */
  outcome?: OutcomeSink | null;
  /** Probe every view that wrapped Ok into this trace (getters, walkers, bounds, round trip). */
  trace?: Trace | null;
  /** Record the frame's fields and boundaries here (walk an unmutated frame). */
  map?: FrameMap | null;
  /** Layout of L2TPv3 sessions that L2TP_SESSIONS does not list (default: no cookie, no sublayer). */
  l2tp?: readonly [number, boolean] | undefined;
}

const MAX_DEPTH = 2;

/**
 * A dissector built on the views: Ethernet → ARP / IPv4 / IPv6 → TCP / UDP / ICMP / ICMPv6 / NDP
 * / L2TPv3 → DHCP, inner frames of pseudowires, the packets ICMP errors quote. One instance
 * keeps one view per stage and reuses them frame after frame, as the engine does.
 */
export class FrameWalker {
  private readonly ethV = new eth.EthernetView();
  private readonly arpV = new arp.ArpView();
  private readonly v4 = new ip4.Ipv4View();
  private readonly v6 = new ip6.Ipv6View();
  private readonly udpV = new udp.UdpView();
  private readonly tcpV = new tcp.TcpView();
  private readonly icmp4V = new icmp4.Icmpv4View();
  private readonly icmp6V = new icmp6.Icmpv6View();
  private readonly dhcpV = new dhcp.Dhcpv4View();
  private readonly l2ipV = new l2tp.L2tpv3IpView();
  private readonly l2udpV = new l2tp.L2tpv3UdpView();
  private readonly q4 = new ip4.Ipv4View();
  private readonly q6 = new ip6.Ipv6View();
  private readonly qUdp = new udp.UdpView();
  private readonly qTcp = new tcp.TcpView();
  private readonly qIcmp4 = new icmp4.Icmpv4View();
  private readonly qIcmp6 = new icmp6.Icmpv6View();
  private readonly ndpCur = new ndp.NdpOptionView();
  private readonly routes = new dhcpo.ClasslessRouteReader();
  private readonly relay = new dhcpo.RelayAgentInfoView();
  private readonly dhcpCur = new dhcp.Dhcpv4OptionCursor();
  private child: FrameWalker | null = null;

  private buf: Uint8Array = new Uint8Array(0);
  private base = 0;
  private outcome: OutcomeSink | null = null;
  private trace: Trace | null = null;
  private map: FrameMap | null = null;
  private l2tpDefault: readonly [number, boolean] = [0, false];
  // Pseudo-header inputs of the current IP layer.
  private v6Pkt = false;
  private src4 = 0;
  private dst4 = 0;
  private srcOff6 = 0;
  private dstOff6 = 0;

  constructor(private readonly depth = 0) {}

  /** Walks the frame buf[off..off+len) as an Ethernet frame or a raw IP packet. */
  walk(buf: Uint8Array, off: number, len: number, link: LinkKind, opts: WalkOptions = {}, base = off): void {
    this.buf = buf;
    this.base = base;
    this.outcome = opts.outcome ?? null;
    this.trace = opts.trace ?? null;
    this.map = opts.map ?? null;
    this.l2tpDefault = opts.l2tp ?? [0, false];
    if (link === 'ethernet') this.ethernet(off, len);
    else this.ip(off, len);
  }

  private out(layer: string, r: WireError | string): void {
    const name = typeof r === 'number' ? wireErrorName(r) : r;
    this.outcome?.(layer, name);
    this.trace?.add(`@${layer}`, name);
  }

  private probe(s: ViewSpec<object>, v: object, off: number, len: number): void {
    if (this.trace) probe(s, v, this.trace, this.buf, off, len);
  }

  private field(off: number, size: FieldSize, kind: 'length' | 'chain', name: string): void {
    const end = off + (size === 'hi4' || size === 'lo4' ? 1 : size);
    if (this.map && off >= this.base && end <= this.buf.length) {
      this.map.fields.push({ off: off - this.base, size, kind, name });
    }
  }

  private bound(off: number): void {
    if (this.map && off >= this.base) this.map.boundaries.push(off - this.base);
  }

  private layer(name: string, off: number, len: number): void {
    if (this.map && len > 0) this.map.layers.push({ name, off: off - this.base, len });
  }

  private ethernet(off: number, len: number): void {
    const v = this.ethV;
    const e = v.wrap(this.buf, off, len);
    this.out('ethernet', e);
    this.field(off + eth.ETH_TYPE, 2, 'chain', 'ethertype');
    this.bound(off + eth.ETH_HEADER_LEN);
    if (e !== WireError.Ok) return;
    for (let i = 1; i <= v.tags; i++) this.field(off + eth.ETH_TYPE + 4 * i, 2, 'chain', 'ethertype');
    this.bound(v.payloadOff);
    this.layer('ethernet', off, len);
    const type = v.etherType;
    const po = v.payloadOff;
    const pl = v.payloadLen;
    this.probe(SPEC.EthernetView!, v, off, len);
    if (type === eth.ETHERTYPE_ARP) this.arp(po, pl);
    else if (type === eth.ETHERTYPE_IPV4) this.ipv4(po, pl);
    else if (type === eth.ETHERTYPE_IPV6) this.ipv6(po, pl);
    else this.out('ethertype', 'other');
  }

  private ip(off: number, len: number): void {
    this.field(off, 'hi4', 'chain', 'ip.version');
    if (len > 0 && this.buf[off]! >>> 4 === 6) this.ipv6(off, len);
    else this.ipv4(off, len);
  }

  private arp(off: number, len: number): void {
    const v = this.arpV;
    const e = v.wrap(this.buf, off, len);
    this.out('arp', e);
    this.field(off + arp.ARP_HLEN, 1, 'length', 'arp.hlen');
    this.field(off + arp.ARP_PLEN, 1, 'length', 'arp.plen');
    this.bound(off + arp.ARP_LEN);
    if (e !== WireError.Ok) return;
    this.layer('arp', off, arp.ARP_LEN);
    this.probe(SPEC.ArpView!, v, off, len);
  }

  private ipv4(off: number, len: number): void {
    const v = this.v4;
    const b = this.buf;
    const e = v.wrap(b, off, len);
    this.out('ipv4', e);
    this.field(off, 'hi4', 'chain', 'ip.version');
    this.field(off, 'lo4', 'length', 'ipv4.ihl');
    this.field(off + ip4.IPV4_TOTAL_LEN, 2, 'length', 'ipv4.total-len');
    this.field(off + ip4.IPV4_PROTOCOL, 1, 'chain', 'ip.proto');
    this.bound(off + ip4.IPV4_HEADER_LEN);
    if (e !== WireError.Ok) return;
    this.out('ipv4.checksum', v.verifyChecksum() ? 'valid' : 'invalid');
    let o = v.firstOption();
    for (let i = 0; o >= 0 && i < 40; i++) {
      if (v.optionType(o) !== ip4.IPV4_OPT_NOP) {
        this.field(o, 1, 'chain', 'ipv4.opt.type');
        this.field(o + 1, 1, 'length', 'ipv4.opt.len');
      }
      o = v.nextOption(o);
    }
    this.bound(off + v.headerLen);
    this.bound(off + v.totalLen);
    this.layer('ipv4', off, v.totalLen);
    const proto = v.protocol;
    const po = v.payloadOff;
    const pl = v.payloadLen;
    const nonFirst = v.isFragment && v.fragOffset !== 0;
    this.v6Pkt = false;
    this.src4 = v.src;
    this.dst4 = v.dst;
    this.probe(SPEC.Ipv4View!, v, off, len);
    if (nonFirst) this.out('ipv4.l4', 'non-first-fragment');
    else this.l4(proto, po, pl);
  }

  private ipv6(off: number, len: number): void {
    const v = this.v6;
    const b = this.buf;
    const e = v.wrap(b, off, len);
    this.out('ipv6', e);
    this.field(off, 'hi4', 'chain', 'ip.version');
    this.field(off + ip6.IPV6_PAYLOAD_LEN, 2, 'length', 'ipv6.payload-len');
    this.field(off + ip6.IPV6_NEXT_HEADER, 1, 'chain', 'ip.proto');
    this.bound(off + ip6.IPV6_HEADER_LEN);
    if (e !== WireError.Ok) return;
    let nh = v.nextHeader;
    let o = off + ip6.IPV6_HEADER_LEN;
    for (let i = 0; i < v.extCount; i++) {
      this.field(o, 1, 'chain', 'ip.proto');
      let n = ip6.IPV6_FRAG_HEADER_LEN;
      if (nh !== ip6.IPV6_NH_FRAGMENT) {
        this.field(o + 1, 1, 'length', 'ipv6.ext.len');
        n = nh === ip6.IPV6_NH_AH ? (b[o + 1]! + 2) << 2 : (b[o + 1]! + 1) << 3;
      }
      nh = b[o]!;
      o += n;
      this.bound(o);
    }
    this.layer('ipv6', off, ip6.IPV6_HEADER_LEN + v.payloadLen);
    const proto = v.upperProtocol;
    const uo = v.upperOff;
    const ul = v.upperLen;
    const nonFirst = v.isFragment && v.fragOffset !== 0;
    this.v6Pkt = true;
    this.srcOff6 = v.srcOff;
    this.dstOff6 = v.dstOff;
    const hop = v.hopLimit;
    this.probe(SPEC.Ipv6View!, v, off, len);
    if (nonFirst) this.out('ipv6.l4', 'non-first-fragment');
    else this.l4(proto, uo, ul, hop);
  }

  private pseudo(proto: number, n: number): number {
    return this.v6Pkt
      ? pseudoSumV6(this.buf, this.srcOff6, this.dstOff6, proto, n)
      : pseudoSumV4(this.src4, this.dst4, proto, n);
  }

  private l4(proto: number, off: number, len: number, hop = 0): void {
    switch (proto) {
      case ip4.IP_PROTO_TCP:
        this.tcp(off, len);
        break;
      case ip4.IP_PROTO_UDP:
        this.udp(off, len);
        break;
      case ip4.IP_PROTO_ICMP:
        this.v6Pkt ? this.out('l4', 'icmpv4-in-ipv6') : this.icmpv4(off, len);
        break;
      case ip4.IP_PROTO_ICMPV6:
        this.v6Pkt ? this.icmpv6(off, len, hop) : this.out('l4', 'icmpv6-in-ipv4');
        break;
      case ip4.IP_PROTO_L2TP:
        this.l2tpIp(off, len);
        break;
      default:
        this.out('l4', 'other');
        break;
    }
  }

  private tcp(off: number, len: number): void {
    const v = this.tcpV;
    const b = this.buf;
    const e = v.wrap(b, off, len);
    this.out('tcp', e);
    this.field(off + tcp.TCP_DATA_OFF, 'hi4', 'length', 'tcp.doff');
    this.bound(off + tcp.TCP_HEADER_LEN);
    if (e !== WireError.Ok) return;
    this.out('tcp.checksum', v.verifyChecksum(this.pseudo(tcp.TCP_PROTO, len)) ? 'valid' : 'invalid');
    this.out('tcp.options', v.parseOptions());
    const end = off + v.headerLen;
    for (let p = off + tcp.TCP_HEADER_LEN; p < end; ) {
      const k = b[p]!;
      if (k === tcp.TCP_OPT_EOL) break;
      if (k === tcp.TCP_OPT_NOP) {
        p++;
        continue;
      }
      this.field(p, 1, 'chain', 'tcp.opt.kind');
      if (p + 1 >= end) break;
      this.field(p + 1, 1, 'length', 'tcp.opt.len');
      if (b[p + 1]! < 2) break;
      p += b[p + 1]!;
    }
    this.bound(end);
    this.layer('tcp', off, len);
    this.probe(SPEC.TcpView!, v, off, len);
  }

  private udp(off: number, len: number): void {
    const v = this.udpV;
    const e = v.wrap(this.buf, off, len);
    this.out('udp', e);
    this.field(off + udp.UDP_SRC_PORT, 2, 'chain', 'udp.port');
    this.field(off + udp.UDP_DST_PORT, 2, 'chain', 'udp.port');
    this.field(off + udp.UDP_LENGTH, 2, 'length', 'udp.length');
    this.bound(off + udp.UDP_HEADER_LEN);
    if (e !== WireError.Ok) return;
    const n = v.length;
    this.out(
      'udp.checksum',
      v.checksum === 0
        ? 'none'
        : v.verifyChecksum(this.pseudo(udp.UDP_PROTO, n), this.v6Pkt)
          ? 'valid'
          : 'invalid',
    );
    this.bound(off + n);
    this.layer('udp', off, n);
    const sp = v.srcPort;
    const dp = v.dstPort;
    const po = v.payloadOff;
    const pl = v.payloadLen;
    this.probe(SPEC.UdpView!, v, off, len);
    if (sp === 67 || sp === 68 || dp === 67 || dp === 68) this.dhcp(po, pl);
    else if (sp === l2tp.L2TP_UDP_PORT || dp === l2tp.L2TP_UDP_PORT) this.l2tpUdp(po, pl);
    else this.out('udp.port', 'other');
  }

  private icmpv4(off: number, len: number): void {
    const v = this.icmp4V;
    const e = v.wrap(this.buf, off, len);
    this.out('icmpv4', e);
    this.field(off + icmp4.ICMPV4_TYPE, 1, 'chain', 'icmpv4.type');
    this.bound(off + icmp4.ICMPV4_HEADER_LEN);
    if (e !== WireError.Ok) return;
    this.out('icmpv4.checksum', v.verifyChecksum() ? 'valid' : 'invalid');
    this.layer('icmpv4', off, len);
    const err = v.isError;
    if (err) this.field(off + icmp4.ICMPV4_ORIG_LEN, 1, 'length', 'icmpv4.orig-len');
    const qo = v.quotedOff;
    const ql = v.quotedLen;
    this.probe(SPEC.Icmpv4View!, v, off, len);
    if (err) this.quoted4(qo, ql);
  }

  /** The IPv4 packet an ICMP error quotes, and the start of its transport header. */
  private quoted4(off: number, len: number): void {
    const q = this.q4;
    const e = q.wrapQuoted(this.buf, off, len);
    this.out('icmpv4.quoted-ipv4', e);
    this.field(off, 'lo4', 'length', 'ipv4.ihl');
    this.field(off + ip4.IPV4_TOTAL_LEN, 2, 'length', 'ipv4.total-len');
    this.field(off + ip4.IPV4_PROTOCOL, 1, 'chain', 'ip.proto');
    if (e !== WireError.Ok) return;
    this.bound(off + q.headerLen);
    const proto = q.protocol;
    const po = q.payloadOff;
    const avail = off + len - po;
    this.probe(SPEC['Ipv4View.wrapQuoted']!, q, off, len);
    this.quotedL4('icmpv4.quoted', proto, po, avail);
  }

  private quoted6(layer: string, off: number, len: number): void {
    const q = this.q6;
    const e = q.wrapQuoted(this.buf, off, len);
    this.out(layer, e);
    this.field(off + ip6.IPV6_PAYLOAD_LEN, 2, 'length', 'ipv6.payload-len');
    this.field(off + ip6.IPV6_NEXT_HEADER, 1, 'chain', 'ip.proto');
    if (e !== WireError.Ok) return;
    this.bound(q.upperOff);
    const proto = q.upperProtocol;
    const uo = q.upperOff;
    const avail = off + len - uo;
    this.probe(SPEC['Ipv6View.wrapQuoted']!, q, off, len);
    this.quotedL4(layer, proto, uo, avail);
  }

  /** A quoted transport header: usually cut short, so mostly Truncated; must never crash. */
  private quotedL4(layer: string, proto: number, off: number, len: number): void {
    const b = this.buf;
    if (proto === ip4.IP_PROTO_UDP) {
      const e = this.qUdp.wrap(b, off, len);
      this.out(`${layer}-udp`, e);
      if (e === WireError.Ok) this.probe(SPEC.UdpView!, this.qUdp, off, len);
    } else if (proto === ip4.IP_PROTO_TCP) {
      const e = this.qTcp.wrap(b, off, len);
      this.out(`${layer}-tcp`, e);
      if (e === WireError.Ok) this.probe(SPEC.TcpView!, this.qTcp, off, len);
    } else if (proto === ip4.IP_PROTO_ICMP) {
      const e = this.qIcmp4.wrap(b, off, len);
      this.out(`${layer}-icmpv4`, e);
      if (e === WireError.Ok) this.probe(SPEC.Icmpv4View!, this.qIcmp4, off, len);
    } else if (proto === ip4.IP_PROTO_ICMPV6) {
      const e = this.qIcmp6.wrap(b, off, len);
      this.out(`${layer}-icmpv6`, e);
      if (e === WireError.Ok) this.probe(SPEC.Icmpv6View!, this.qIcmp6, off, len);
    }
  }

  private icmpv6(off: number, len: number, hop: number): void {
    const v = this.icmp6V;
    const b = this.buf;
    const e = v.wrap(b, off, len);
    this.out('icmpv6', e);
    this.field(off + icmp6.ICMPV6_TYPE, 1, 'chain', 'icmpv6.type');
    this.bound(off + icmp6.ICMPV6_MIN_LEN);
    this.bound(off + icmp6.ICMPV6_HEADER_LEN);
    if (e !== WireError.Ok) return;
    this.out('icmpv6.checksum', v.verifyChecksum(this.pseudo(icmp6.ICMPV6_PROTO, len)) ? 'valid' : 'invalid');
    this.layer('icmpv6', off, len);
    const type = v.type;
    let quoted = -1;
    let quotedLen = 0;
    let layer = '';
    if (v.isNdp()) {
      this.out('ndp', icmp6.checkNdp(v, hop, this.srcOff6, this.dstOff6));
      const c = this.ndpCur;
      const end = off + len;
      this.layer('ndp-options', v.optionsOff, end - v.optionsOff);
      c.reset(b, v.optionsOff, end);
      while (c.next()) {
        this.field(c.off, 1, 'chain', 'ndp.opt.type');
        this.field(c.off + 1, 1, 'length', 'ndp.opt.len');
        this.bound(c.off + c.len);
      }
      if (c.error !== WireError.Ok && c.off + 1 < end) this.field(c.off + 1, 1, 'length', 'ndp.opt.len');
      if (v.redirectedOff >= 0) {
        quoted = v.redirectedOff;
        quotedLen = v.redirectedLen;
        layer = 'ndp.redirected-ipv6';
      }
    } else if (type >= icmp6.ICMPV6_DEST_UNREACHABLE && type <= icmp6.ICMPV6_PARAM_PROBLEM) {
      quoted = v.invokingOff;
      quotedLen = v.invokingLen;
      layer = 'icmpv6.invoking-ipv6';
    }
    this.probe(SPEC.Icmpv6View!, v, off, len);
    if (quoted >= 0) this.quoted6(layer, quoted, quotedLen);
  }

  private dhcp(off: number, len: number): void {
    const v = this.dhcpV;
    const b = this.buf;
    const e = v.wrap(b, off, len);
    this.out('dhcpv4', e);
    this.field(off + dhcp.DHCP_HLEN, 1, 'length', 'dhcp.hlen');
    this.bound(off + dhcp.DHCP_FIXED_LEN);
    this.bound(off + dhcp.DHCP_OPTIONS);
    if (e !== WireError.Ok) return;
    this.layer('dhcpv4', off, len);
    const cur = this.dhcpCur;
    cur.start(v);
    for (let i = 0; cur.next() && i < 1000; i++) {
      const vo = cur.valueOff;
      this.field(vo - 2, 1, 'chain', 'dhcp.code');
      this.field(vo - 1, 1, 'length', 'dhcp.opt.len');
      this.bound(vo + cur.len);
      if (cur.code === dhcp.DHCP_OPT_OVERLOAD && cur.len >= 1) this.field(vo, 1, 'length', 'dhcp.overload');
      if (cur.code === dhcp.DHCP_OPT_CLASSLESS_ROUTES) {
        this.out('dhcpv4.option121', this.routes.wrap(b, vo, cur.len));
        this.layer('option121', vo, cur.len);
        for (let p = vo, k = 0; p < vo + cur.len && k < 64; k++) {
          this.field(p, 1, 'length', 'dhcp.121.width');
          p += 1 + ((b[p]! + 7) >>> 3) + 4;
        }
      }
      if (cur.code === dhcp.DHCP_OPT_RELAY_AGENT_INFO) {
        this.out('dhcpv4.option82', this.relay.wrap(b, vo, cur.len));
        this.layer('option82', vo, cur.len);
        for (let p = vo, k = 0; p + 1 < vo + cur.len && k < 128; k++) {
          this.field(p + 1, 1, 'length', 'dhcp.82.sublen');
          p += 2 + b[p + 1]!;
        }
      }
    }
    this.probe(SPEC.Dhcpv4View!, v, off, len);
  }

  private l2tpIp(off: number, len: number): void {
    const v = this.l2ipV;
    const e = v.wrap(this.buf, off, len);
    this.out('l2tpv3-ip', e);
    this.field(off, 4, 'chain', 'l2tp.session');
    this.bound(off + l2tp.L2TP_SESSION_ID_LEN);
    if (e !== WireError.Ok) return;
    this.layer('l2tpv3-ip', off, len);
    this.l2tpBody(v, off, len, off + l2tp.L2TP_SESSION_ID_LEN, 0);
  }

  private l2tpUdp(off: number, len: number): void {
    const v = this.l2udpV;
    const e = v.wrap(this.buf, off, len);
    this.out('l2tpv3-udp', e);
    this.field(off, 2, 'chain', 'l2tp.flags');
    this.bound(off + l2tp.L2TP_UDP_DATA_PREFIX_LEN);
    if (e !== WireError.Ok) return;
    this.layer('l2tpv3-udp', off, len);
    if (!v.isControl) this.field(off + l2tp.L2TP_UDP_DATA_PREFIX_LEN, 4, 'chain', 'l2tp.session');
    this.l2tpBody(v, off, len, off, 1);
  }

  private l2tpBody(v: L2tpView, off: number, len: number, ctrlOff: number, which: number): void {
    const s = which === 0 ? SPEC.L2tpv3IpView! : SPEC.L2tpv3UdpView!;
    if (v.isControl) {
      this.out('l2tpv3.kind', 'control');
      this.field(ctrlOff + l2tp.L2TP_CTRL_LENGTH, 2, 'length', 'l2tp.ctrl.length');
      this.bound(v.payloadOff);
      this.probe(s, v, off, len);
      return;
    }
    this.out('l2tpv3.kind', 'data');
    const [cookie, sub] = L2TP_SESSIONS.get(v.sessionId) ?? this.l2tpDefault;
    const e = v.setLayout(cookie, sub);
    this.out('l2tpv3.layout', e);
    if (e !== WireError.Ok) return;
    const po = v.payloadOff;
    const pl = v.payloadLen;
    this.bound(po);
    this.probe(s, v, off, len);
    if (this.depth + 1 >= MAX_DEPTH) {
      this.out('l2tpv3.inner', 'too-deep');
      return;
    }
    this.child ??= new FrameWalker(this.depth + 1);
    const opts: WalkOptions = {
      outcome: this.outcome,
      trace: this.trace,
      map: this.map,
      l2tp: this.l2tpDefault,
    };
    this.child.walk(this.buf, po, pl, 'ethernet', opts, this.base);
  }
}

/** Each layer's bytes in a frame, by corpus layer name (slices of unmutated fixture packets). */
export function layerSlices(frame: CorpusFrame): Array<[string, Uint8Array]> {
  const map: FrameMap = { fields: [], boundaries: [], layers: [] };
  new FrameWalker().walk(frame.bytes, 0, frame.bytes.length, frame.link, { map, l2tp: frame.l2tp });
  return map.layers.map((l) => [l.name, frame.bytes.slice(l.off, l.off + l.len)]);
}
