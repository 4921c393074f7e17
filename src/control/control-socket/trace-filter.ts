/**
 * The packet filter of `ferry trace --live FILTER`: a small subset of tcpdump's (pcap-filter(7))
 * language, compiled into a check the trace buffer asks at admission while it is armed.
 *
 *   host A · src [host] A · dst [host] A       IPv4 source/destination (ARP: sender/target address)
 *   net P · src net P · dst net P              the same within a prefix (10.0.0.0/8; a bare address is /32)
 *   port N · src port N · dst port N           TCP or UDP port (not in non-first fragments)
 *   tcp · udp · icmp · arp · ip                the protocol (`tcp port 80`: both)
 *   proto N · ip proto N                       IP protocol by number or name
 *   iif NAME                                   arrived on this port (ferry's own; originated packets never match)
 *
 * Primitives combine with `and` (or `&&`; juxtaposition means `and` too) and each may be negated
 * with `not` (or `!`). An empty filter takes every packet.
 *
 * The check decodes the headers once into fields of the compiled object and tests each term:
 * no allocation per packet.
 */
import type { TraceFilter } from '../../dataplane/pipeline/trace.js';
import { parseIpv4, u16, u32 } from '../../dataplane/wire/bytes.js';

export class TraceFilterError extends Error {
  override readonly name = 'TraceFilterError';
}

const OP_HOST = 1;
const OP_SRC = 2;
const OP_DST = 3;
const OP_PORT = 4;
const OP_SRC_PORT = 5;
const OP_DST_PORT = 6;
const OP_PROTO = 7;
const OP_ARP = 8;
const OP_IP = 9;
const OP_IIF = 10;

export interface FilterTerm {
  readonly op: number;
  readonly negate: boolean;
  /** Address or port or protocol or port index. */
  readonly value: number;
  /** Address mask for the address ops. */
  readonly mask: number;
}

const PROTOCOLS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17 };

function mask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

class Tokens {
  private i = 0;
  constructor(private readonly words: readonly string[]) {}
  peek(): string | undefined {
    return this.words[this.i];
  }
  next(what: string): string {
    const w = this.words[this.i++];
    if (w === undefined) throw new TraceFilterError(`filter ends where ${what} was expected`);
    return w;
  }
  done(): boolean {
    return this.i >= this.words.length;
  }
}

function address(w: string): number {
  const a = parseIpv4(w);
  if (a === null) throw new TraceFilterError(`"${w}" is not an IPv4 address`);
  return a;
}

function prefix(w: string): { value: number; mask: number } {
  const slash = w.indexOf('/');
  const a = address(slash < 0 ? w : w.slice(0, slash));
  const lenText = slash < 0 ? '32' : w.slice(slash + 1);
  const len = Number(lenText);
  if (!/^\d+$/.test(lenText) || len > 32)
    throw new TraceFilterError(`"${w}": the prefix length must be 0-32`);
  const m = mask(len);
  return { value: (a & m) >>> 0, mask: m };
}

function portNumber(w: string): number {
  const n = Number(w);
  if (!/^\d+$/.test(w) || n > 65535) throw new TraceFilterError(`"${w}" is not a port (0-65535)`);
  return n;
}

function protoNumber(w: string): number {
  const named = PROTOCOLS[w.toLowerCase()];
  if (named !== undefined) return named;
  const n = Number(w);
  if (!/^\d+$/.test(w) || n > 255)
    throw new TraceFilterError(`"${w}" is not an IP protocol (0-255, tcp, udp, icmp)`);
  return n;
}

/** A direction-qualified primitive after `src` or `dst`: `host A`, `net P`, `port N`, or a bare address. */
function directed(t: Tokens, dir: 'src' | 'dst'): Omit<FilterTerm, 'negate'>[] {
  const w = t.next(`an address, "host", "net" or "port" after "${dir}"`);
  const src = dir === 'src';
  if (w === 'host')
    return [{ op: src ? OP_SRC : OP_DST, value: address(t.next('an address')), mask: 0xffffffff }];
  if (w === 'net') return [{ op: src ? OP_SRC : OP_DST, ...prefix(t.next('a prefix')) }];
  if (w === 'port')
    return [{ op: src ? OP_SRC_PORT : OP_DST_PORT, value: portNumber(t.next('a port')), mask: 0 }];
  return [{ op: src ? OP_SRC : OP_DST, value: address(w), mask: 0xffffffff }];
}

/** A port primitive that may follow `tcp` / `udp`: `port N`, `src port N`, `dst port N`. */
function portAfterProto(t: Tokens): Omit<FilterTerm, 'negate'> | null {
  const w = t.peek();
  if (w === 'port') {
    t.next('port');
    return { op: OP_PORT, value: portNumber(t.next('a port')), mask: 0 };
  }
  if (w === 'src' || w === 'dst') {
    t.next(w);
    if (t.next('"port"') !== 'port')
      throw new TraceFilterError(`after "tcp ${w}" / "udp ${w}" only "port N" is understood`);
    return { op: w === 'src' ? OP_SRC_PORT : OP_DST_PORT, value: portNumber(t.next('a port')), mask: 0 };
  }
  return null;
}

function primitive(t: Tokens, portNames: readonly string[] | null): Omit<FilterTerm, 'negate'>[] {
  const w = t.next('a primitive').toLowerCase();
  switch (w) {
    case 'host':
      return [{ op: OP_HOST, value: address(t.next('an address after "host"')), mask: 0xffffffff }];
    case 'net':
      return [{ op: OP_HOST, ...prefix(t.next('a prefix after "net"')) }];
    case 'src':
    case 'dst':
      return directed(t, w);
    case 'port':
      return [{ op: OP_PORT, value: portNumber(t.next('a port after "port"')), mask: 0 }];
    case 'tcp':
    case 'udp': {
      const proto = { op: OP_PROTO, value: PROTOCOLS[w]!, mask: 0 };
      const port = portAfterProto(t);
      return port ? [proto, port] : [proto];
    }
    case 'icmp':
      return [{ op: OP_PROTO, value: 1, mask: 0 }];
    case 'arp':
      return [{ op: OP_ARP, value: 0, mask: 0 }];
    case 'ip':
      if (t.peek() === 'proto') {
        t.next('proto');
        return [{ op: OP_PROTO, value: protoNumber(t.next('a protocol after "ip proto"')), mask: 0 }];
      }
      return [{ op: OP_IP, value: 0, mask: 0 }];
    case 'proto':
      return [{ op: OP_PROTO, value: protoNumber(t.next('a protocol after "proto"')), mask: 0 }];
    case 'iif': {
      const name = t.next('a port name after "iif"');
      if (portNames === null) return [{ op: OP_IIF, value: 0, mask: 0 }];
      const idx = portNames.indexOf(name);
      if (idx < 0) throw new TraceFilterError(`iif ${name}: no such port (ports: ${portNames.join(', ')})`);
      return [{ op: OP_IIF, value: idx, mask: 0 }];
    }
    case 'or':
    case '||':
    case '(':
    case ')':
      throw new TraceFilterError(`"${w}" is not supported: primitives combine with "and" only`);
    default:
      throw new TraceFilterError(
        `"${w}" is not a filter primitive (host, src, dst, net, port, tcp, udp, icmp, arp, ip, proto, iif)`,
      );
  }
}

/** Splits the filter text into words, with parentheses and `!` as words of their own. */
function words(text: string): string[] {
  return text
    .replace(/([()])/g, ' $1 ')
    .replace(/(^|\s)!(?=\S)/g, '$1! ')
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

/**
 * Parses a filter into terms, all of which must hold; `portNames[i]` names port i (for `iif`).
 * With null port names any `iif` name passes (the client checks the syntax before asking).
 */
export function parseTraceFilter(text: string, portNames: readonly string[] | null): FilterTerm[] {
  const t = new Tokens(words(text));
  const terms: FilterTerm[] = [];
  while (!t.done()) {
    let negate = false;
    while (t.peek() === 'not' || t.peek() === '!') {
      t.next('not');
      negate = !negate;
    }
    // A negated `tcp port 80` means "not (tcp and port 80)", which a list of and-ed terms cannot say.
    const got = primitive(t, portNames);
    if (negate && got.length > 1)
      throw new TraceFilterError(
        '"not" before "tcp port N" / "udp port N" is not supported: write "not port N"',
      );
    for (const g of got) terms.push({ ...g, negate });
    const w = t.peek();
    if (w === 'and' || w === '&&') {
      t.next('and');
      if (t.done()) throw new TraceFilterError(`filter ends after "${w}"`);
    }
  }
  return terms;
}

/**
 * The compiled check. `portL2[i]` says whether port i carries Ethernet frames; packets of the
 * router's own (no port) are read as Ethernet when they are ARP frames and as IP otherwise, as the
 * trace records read them.
 */
export class CompiledTraceFilter implements TraceFilter {
  private readonly ops: Uint8Array;
  private readonly neg: Uint8Array;
  private readonly values: Uint32Array;
  private readonly masks: Uint32Array;
  private readonly l2: Uint8Array;
  // The packet being checked, decoded once.
  private isIp = false;
  private isArp = false;
  private src = 0;
  private dst = 0;
  private proto = -1;
  private hasPorts = false;
  private sport = 0;
  private dport = 0;

  constructor(
    readonly terms: readonly FilterTerm[],
    portL2: readonly boolean[],
  ) {
    this.ops = Uint8Array.from(terms, (t) => t.op);
    this.neg = Uint8Array.from(terms, (t) => (t.negate ? 1 : 0));
    this.values = Uint32Array.from(terms, (t) => t.value);
    this.masks = Uint32Array.from(terms, (t) => t.mask);
    this.l2 = Uint8Array.from(portL2, (b) => (b ? 1 : 0));
  }

  matches(d: Uint8Array, off: number, len: number, port: number): boolean {
    this.decode(d, off, len, port);
    const n = this.ops.length;
    for (let i = 0; i < n; i++) {
      if (this.test(this.ops[i]!, this.values[i]!, this.masks[i]!, port) === (this.neg[i] === 1))
        return false;
    }
    return true;
  }

  private test(op: number, v: number, m: number, port: number): boolean {
    const addr = this.isIp || this.isArp;
    switch (op) {
      case OP_HOST:
        return addr && ((this.src & m) >>> 0 === v || (this.dst & m) >>> 0 === v);
      case OP_SRC:
        return addr && (this.src & m) >>> 0 === v;
      case OP_DST:
        return addr && (this.dst & m) >>> 0 === v;
      case OP_PORT:
        return this.hasPorts && (this.sport === v || this.dport === v);
      case OP_SRC_PORT:
        return this.hasPorts && this.sport === v;
      case OP_DST_PORT:
        return this.hasPorts && this.dport === v;
      case OP_PROTO:
        return this.isIp && this.proto === v;
      case OP_ARP:
        return this.isArp;
      case OP_IP:
        return this.isIp;
      case OP_IIF:
        return port === v;
      default:
        return false;
    }
  }

  private decode(d: Uint8Array, off: number, len: number, port: number): void {
    this.isIp = false;
    this.isArp = false;
    this.hasPorts = false;
    this.proto = -1;
    const end = off + len;
    let p = off;
    let etherType = 0;
    const ethernet =
      port < this.l2.length
        ? this.l2[port] === 1
        : len >= 14 && d[off]! >> 4 !== 4 && (u16(d, off + 12) === 0x0806 || u16(d, off + 12) === 0x0800);
    if (ethernet) {
      if (len < 14) return;
      etherType = u16(d, off + 12);
      p = off + 14;
      // One 802.1Q / 802.1ad tag.
      if ((etherType === 0x8100 || etherType === 0x88a8) && len >= 18) {
        etherType = u16(d, off + 16);
        p = off + 18;
      }
    } else if (len >= 1 && d[off]! >> 4 === 4) etherType = 0x0800;
    if (etherType === 0x0806) {
      // RFC 826 for Ethernet/IPv4: sender protocol address at 14, target at 24.
      if (p + 28 > end || u16(d, p + 2) !== 0x0800) return;
      this.isArp = true;
      this.src = u32(d, p + 14);
      this.dst = u32(d, p + 24);
      return;
    }
    if (etherType !== 0x0800 || p + 20 > end || d[p]! >> 4 !== 4) return;
    const ihl = (d[p]! & 15) * 4;
    this.isIp = true;
    this.src = u32(d, p + 12);
    this.dst = u32(d, p + 16);
    this.proto = d[p + 9]!;
    const fragOffset = u16(d, p + 6) & 0x1fff;
    const l4 = p + ihl;
    if ((this.proto === 6 || this.proto === 17) && fragOffset === 0 && ihl >= 20 && l4 + 4 <= end) {
      this.hasPorts = true;
      this.sport = u16(d, l4);
      this.dport = u16(d, l4 + 2);
    }
  }
}

/** Parses and compiles; null for an empty filter (trace every packet). */
export function compileTraceFilter(
  text: string,
  portNames: readonly string[],
  portL2: readonly boolean[],
): CompiledTraceFilter | null {
  const terms = parseTraceFilter(text, portNames);
  return terms.length === 0 ? null : new CompiledTraceFilter(terms, portL2);
}
