/**
 * Rules in words, for traces and `ferry status`: written once at compile time, in nft's
 * vocabulary (`iif lan dst 192.168.1.0/24`, `mark set 0x1`, `jump set_connmark`), so a trace reads
 * like the ruleset it came from.
 */
import type {
  Action,
  AddrMatch,
  IfaceMatch,
  Mark,
  Match,
  PortMatch,
  Prefix,
  SetConfig,
} from '../../control/config/types.js';
import { CT_ESTABLISHED, CT_INVALID, CT_NEW, CT_RELATED } from '../../control/config/types.js';
import { formatIpv4, formatIpv6 } from '../wire/bytes.js';

export interface Names {
  port(i: number): string;
  chain(i: number): string;
  sets: readonly SetConfig[];
}

const PROTO_NAMES: Readonly<Record<number, string>> = {
  1: 'icmp',
  2: 'igmp',
  6: 'tcp',
  17: 'udp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'icmpv6',
  115: 'l2tp',
  132: 'sctp',
  136: 'udplite',
};

export function protoText(p: number): string {
  return PROTO_NAMES[p] ?? String(p);
}

export const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

function markText(m: Mark): string {
  return m.mask >>> 0 === 0xffffffff ? hex(m.value) : `${hex(m.value)}/${hex(m.mask)}`;
}

function list(items: readonly string[]): string {
  return items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`;
}

function not(negate: boolean): string {
  return negate ? '!= ' : '';
}

export function prefixText(p: Prefix): string {
  if (p.family === 4) return p.len === 32 ? formatIpv4(p.addr) : `${formatIpv4(p.addr)}/${p.len}`;
  return p.len === 128 ? formatIpv6(p.addr) : `${formatIpv6(p.addr)}/${p.len}`;
}

function ifaceText(key: string, m: IfaceMatch, names: Names): string {
  return `${key} ${not(m.negate)}${list(m.ports.map((p) => names.port(p)))}`;
}

function addrText(key: string, m: AddrMatch, names: Names): string {
  const what = m.set >= 0 ? `@${names.sets[m.set]?.name ?? m.set}` : list(m.prefixes.map(prefixText));
  return `${key} ${not(m.negate)}${what}`;
}

function portsText(key: string, m: PortMatch, names: Names): string {
  const what =
    m.set >= 0
      ? `@${names.sets[m.set]?.name ?? m.set}`
      : list(m.ranges.map((r) => (r.min === r.max ? String(r.min) : `${r.min}-${r.max}`)));
  return `${key} ${not(m.negate)}${what}`;
}

export function ctStateText(bits: number): string {
  const s: string[] = [];
  if (bits & CT_NEW) s.push('new');
  if (bits & CT_ESTABLISHED) s.push('established');
  if (bits & CT_RELATED) s.push('related');
  if (bits & CT_INVALID) s.push('invalid');
  return s.join(',');
}

/** The match part of a rule, or "any packet" when it matches everything. */
export function matchText(m: Match, names: Names): string {
  const parts: string[] = [];
  if (m.iif) parts.push(ifaceText('iif', m.iif, names));
  if (m.oif) parts.push(ifaceText('oif', m.oif, names));
  if (m.src) parts.push(addrText('src', m.src, names));
  if (m.dst) parts.push(addrText('dst', m.dst, names));
  if (m.proto >= 0) parts.push(`proto ${protoText(m.proto)}`);
  if (m.sport) parts.push(portsText('sport', m.sport, names));
  if (m.dport) parts.push(portsText('dport', m.dport, names));
  if (m.dscp >= 0) parts.push(`dscp ${m.dscp}`);
  if (m.mark) parts.push(`mark ${markText(m.mark)}`);
  if (m.ctMark) parts.push(`ct mark ${markText(m.ctMark)}`);
  if (m.ctState !== 0) parts.push(`ct state ${ctStateText(m.ctState)}`);
  return parts.length === 0 ? 'any packet' : parts.join(' ');
}

function natText(a: Extract<Action, { kind: 'snat' | 'dnat' }>): string {
  const addr = a.addr.family === 4 ? formatIpv4(a.addr.addr) : `[${formatIpv6(a.addr.addr)}]`;
  const ports =
    a.ports === null
      ? ''
      : a.ports.min === a.ports.max
        ? `:${a.ports.min}`
        : `:${a.ports.min}-${a.ports.max}`;
  return `${a.kind} to ${addr}${ports}`;
}

/** One statement in words. */
export function actionText(a: Action, names: Names): string {
  switch (a.kind) {
    case 'accept':
    case 'drop':
    case 'return':
    case 'counter':
      return a.kind;
    case 'masquerade':
      return 'masquerade (request for the NAT stage)';
    case 'reject':
      return `reject with ${a.with}`;
    case 'mark':
      return a.mask >>> 0 === 0xffffffff
        ? `mark set ${hex(a.value)}`
        : `mark set mark & ${hex(~a.mask)} | ${hex(a.value)}`;
    case 'ct-mark':
      if (a.op !== 'set') return a.op === 'save' ? 'ct mark set mark' : 'mark set ct mark';
      return a.mask >>> 0 === 0xffffffff
        ? `ct mark set ${hex(a.value)}`
        : `ct mark set ct mark & ${hex(~a.mask)} | ${hex(a.value)}`;
    case 'dscp':
      return `dscp set ${a.value}`;
    case 'jump':
    case 'goto':
      return `${a.kind} ${names.chain(a.chain)}`;
    case 'snat':
    case 'dnat':
      return `${natText(a)} (request for the NAT stage)`;
  }
}

/** True when the statement's effect on the marks is only known at run time (save/restore). */
export function showsMarks(actions: readonly Action[]): boolean {
  return actions.some((a) => a.kind === 'ct-mark' && a.op !== 'set');
}
