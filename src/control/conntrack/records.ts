/**
 * Conntrack flows as plain records, for people and files: taken from a live `Conntrack` (after a
 * replay now; through `ferry run`'s control socket later), saved as JSON (`OUTDIR/conntrack.json`),
 * filtered, and printed one line per flow the way `conntrack -L` prints them:
 *
 *   tcp      6 431999 ESTABLISHED src=192.168.0.53 dst=192.168.1.30 sport=40000 dport=8096
 *     src=192.168.1.30 dst=100.120.7.128 sport=8096 dport=40000 [ASSURED] mark=0 ctmark=0
 *
 * (one line). The original tuple is what the first packet looked like when it arrived, the reply
 * tuple what replies look like when they arrive — with NAT the two are not each other's inverse,
 * and the difference is the rewrite (`snat=` / `dnat=` at the end say it in words). `[UNREPLIED]`
 * follows the original tuple while no reply was seen, `[ASSURED]` follows the reply tuple once the
 * flow is protected from early drop, as in conntrack-tools. The timeout is the whole seconds left.
 *
 * This is the control plane: it allocates freely and walks the table once per listing.
 */
import type { Conntrack } from '../../dataplane/conntrack/conntrack.js';
import { CT_ASSURED, CT_NAT_DST, CT_NAT_SRC, CT_SEEN_REPLY } from '../../dataplane/conntrack/flow-layout.js';
import { TCP_STATE_NAMES } from '../../dataplane/conntrack/tcp-states.js';
import { formatIpv4, parseIpv4 } from '../../dataplane/wire/bytes.js';

/** One direction of a flow as a packet of that direction arrives. */
export interface CtTuple {
  src: string;
  dst: string;
  /** TCP/UDP ports; for ICMP the echo identifier is `id` and the type/code are given instead. */
  sport?: number;
  dport?: number;
  type?: number;
  code?: number;
  id?: number;
  packets: number;
  bytes: number;
}

export interface CtRecord {
  /** The flow's slot in the table (reused after the flow ends). */
  flow: number;
  /** `tcp`, `udp`, `icmp` or the protocol number as text. */
  proto: string;
  protonum: number;
  /** Whole seconds until the flow expires unless a packet refreshes it. */
  timeout: number;
  /** TCP state in netfilter's names; null for other protocols. */
  state: string | null;
  original: CtTuple;
  reply: CtTuple;
  /** Flags as conntrack -L shows them: UNREPLIED, ASSURED. */
  flags: string[];
  mark: number;
  ctmark: number;
  zone: number;
  /** The NAT rewrite of original-direction packets: new source and/or new destination (addr:port). */
  nat: { snat?: string; dnat?: string };
}

/** What `ferry replay` writes to OUTDIR/conntrack.json: the flows at the engine time `now` (ms). */
export interface CtSnapshot {
  now: number;
  flows: CtRecord[];
}

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };

function tuple(ct: Conntrack, h: number, proto: number): CtTuple {
  const t = ct.table;
  const base = { src: formatIpv4(t.src(h)), dst: formatIpv4(t.dst(h)) };
  const counts = { packets: t.packets(h), bytes: t.bytes(h) };
  if (proto === 1) {
    // Key layout for ICMP: sport = identifier, dport = type << 8 | code (flow-layout.ts).
    const tc = t.dport(h);
    return { ...base, type: tc >>> 8, code: tc & 0xff, id: t.sport(h), ...counts };
  }
  if (proto === 6 || proto === 17) return { ...base, sport: t.sport(h), dport: t.dport(h), ...counts };
  return { ...base, ...counts };
}

function endpoint(addr: number, port: number, proto: number): string {
  return proto === 6 || proto === 17 ? `${formatIpv4(addr)}:${port}` : formatIpv4(addr);
}

/** The record of one live flow at engine time `nowMs`. */
export function flowRecord(ct: Conntrack, flow: number, nowMs: number): CtRecord {
  const t = ct.table;
  const proto = t.proto(flow);
  const o = 2 * flow;
  const r = o + 1;
  const flags: string[] = [];
  if (!t.hasStatus(flow, CT_SEEN_REPLY)) flags.push('UNREPLIED');
  if (t.hasStatus(flow, CT_ASSURED)) flags.push('ASSURED');
  const nat: CtRecord['nat'] = {};
  // An original-direction packet leaves looking like the inverse of the reply key (conntrack.ts):
  // source = reply dst:dport, destination = reply src:sport.
  if (t.hasStatus(flow, CT_NAT_SRC))
    nat.snat = endpoint(t.dst(r), proto === 1 ? t.sport(r) : t.dport(r), proto);
  if (t.hasStatus(flow, CT_NAT_DST)) nat.dnat = endpoint(t.src(r), t.sport(r), proto);
  return {
    flow,
    proto: PROTO_NAMES[proto] ?? String(proto),
    protonum: proto,
    timeout: Math.max(0, Math.floor((t.deadline(flow) - nowMs) / 1000)),
    state: proto === 6 ? (TCP_STATE_NAMES[t.getState(flow)] ?? String(t.getState(flow))) : null,
    original: tuple(ct, o, proto),
    reply: tuple(ct, r, proto),
    flags,
    mark: t.getMark(flow),
    ctmark: t.getCtMark(flow),
    zone: t.zone(flow),
    nat,
  };
}

/**
 * Every flow alive at `nowMs`, in table order. A flow past its deadline that expiry has not
 * reaped yet is left out: the stages treat it as gone (netfilter's nf_ct_is_expired).
 */
export function snapshotConntrack(ct: Conntrack, nowMs: number): CtSnapshot {
  const flows: CtRecord[] = [];
  const t = ct.table;
  // At most `count` live flows; nextFlow walks the table once.
  for (let f = t.nextFlow(-1); f !== -1; f = t.nextFlow(f)) {
    if (!t.isExpired(f, nowMs)) flows.push(flowRecord(ct, f, nowMs));
  }
  return { now: nowMs, flows };
}

// ---- filtering ----------------------------------------------------------------------------

/** conntrack -L's filters: on the original tuple, as `conntrack -L -s/-d/--sport/--dport/-p` do. */
export interface CtFilter {
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  proto?: string;
  state?: string;
}

export class CtFilterError extends Error {}

function port(v: string, what: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new CtFilterError(`${what} ${v}: not a port (0-65535)`);
  return n;
}

function addr(v: string, what: string): string {
  const a = parseIpv4(v);
  if (a === null) throw new CtFilterError(`${what} ${v}: not an IPv4 address`);
  return formatIpv4(a);
}

const STATES = new Set<string>(TCP_STATE_NAMES);

/** Checks and normalises filter options as typed (addresses, ports, protocol, state). */
export function parseFilter(o: {
  src?: string;
  dst?: string;
  sport?: string;
  dport?: string;
  proto?: string;
  state?: string;
}): CtFilter {
  const f: CtFilter = {};
  if (o.src !== undefined) f.src = addr(o.src, '--src');
  if (o.dst !== undefined) f.dst = addr(o.dst, '--dst');
  if (o.sport !== undefined) f.sport = port(o.sport, '--sport');
  if (o.dport !== undefined) f.dport = port(o.dport, '--dport');
  if (o.proto !== undefined) {
    const p = o.proto.toLowerCase();
    if (/^\d+$/.test(p)) {
      const n = Number(p);
      if (n > 255) throw new CtFilterError(`--proto ${o.proto}: not a protocol (0-255 or tcp, udp, icmp)`);
      f.proto = PROTO_NAMES[n] ?? String(n);
    } else if (p === 'tcp' || p === 'udp' || p === 'icmp') f.proto = p;
    else throw new CtFilterError(`--proto ${o.proto}: not a protocol (0-255 or tcp, udp, icmp)`);
  }
  if (o.state !== undefined) {
    const s = o.state.toUpperCase();
    if (!STATES.has(s))
      throw new CtFilterError(`--state ${o.state}: not a TCP state (${[...STATES].slice(1).join(', ')})`);
    f.state = s;
  }
  return f;
}

export function matches(r: CtRecord, f: CtFilter): boolean {
  const o = r.original;
  if (f.src !== undefined && o.src !== f.src) return false;
  if (f.dst !== undefined && o.dst !== f.dst) return false;
  if (f.sport !== undefined && o.sport !== f.sport) return false;
  if (f.dport !== undefined && o.dport !== f.dport) return false;
  if (f.proto !== undefined && r.proto !== f.proto) return false;
  if (f.state !== undefined && r.state !== f.state) return false;
  return true;
}

// ---- text ---------------------------------------------------------------------------------

function tupleText(t: CtTuple): string {
  const a = `src=${t.src} dst=${t.dst}`;
  if (t.type !== undefined) return `${a} type=${t.type} code=${t.code} id=${t.id}`;
  if (t.sport !== undefined) return `${a} sport=${t.sport} dport=${t.dport}`;
  return a;
}

/** One flow as `conntrack -L` prints it, plus the NAT rewrite in words. */
export function formatRecord(r: CtRecord): string {
  const parts = [r.proto.padEnd(8), String(r.protonum), String(r.timeout)];
  if (r.state !== null) parts.push(r.state);
  parts.push(tupleText(r.original));
  if (r.flags.includes('UNREPLIED')) parts.push('[UNREPLIED]');
  parts.push(tupleText(r.reply));
  if (r.flags.includes('ASSURED')) parts.push('[ASSURED]');
  parts.push(`mark=${r.mark}`, `ctmark=${r.ctmark}`);
  if (r.zone !== 0) parts.push(`zone=${r.zone}`);
  if (r.nat.snat) parts.push(`snat=${r.nat.snat}`);
  if (r.nat.dnat) parts.push(`dnat=${r.nat.dnat}`);
  return parts.join(' ');
}

/** Reads a snapshot back (from JSON), with enough checking to say what is wrong with a bad file. */
export function parseSnapshot(text: string, file: string): CtSnapshot {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CtFilterError(`${file}: not JSON (expected what ferry replay writes to OUTDIR/conntrack.json)`);
  }
  const s = v as Partial<CtSnapshot> | null;
  if (!s || typeof s !== 'object' || typeof s.now !== 'number' || !Array.isArray(s.flows))
    throw new CtFilterError(`${file}: not a conntrack snapshot (expected { "now": ms, "flows": [...] })`);
  for (const [i, r] of s.flows.entries()) {
    const ok =
      r &&
      typeof r === 'object' &&
      typeof r.proto === 'string' &&
      typeof r.protonum === 'number' &&
      typeof r.timeout === 'number' &&
      r.original &&
      r.reply &&
      typeof r.original.src === 'string' &&
      typeof r.reply.src === 'string' &&
      Array.isArray(r.flags) &&
      r.nat &&
      typeof r.nat === 'object';
    if (!ok) throw new CtFilterError(`${file}: flows[${i}] is not a flow record`);
  }
  return s as CtSnapshot;
}
