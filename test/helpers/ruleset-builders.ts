/** Terse builders for normalised chain configs (the shapes src/control/config produces). */
import type {
  Action,
  AddrMatch,
  ChainConfig,
  ChainRule,
  Hook,
  Match,
  PortMatch,
  Prefix,
  SetConfig,
} from '../../src/control/config/types.js';
import { parseIpv6 } from '../../src/dataplane/wire/bytes.js';
import { ip } from './frames.js';

export const ANY: Match = {
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

/** "10.0.0.0/8", "10.1.0.33" (a /32), "2001:db8::/32". */
export function prefix(s: string): Prefix {
  const [a, l] = s.split('/');
  if (a!.includes(':')) return { family: 6, addr: parseIpv6(a!)!, len: l === undefined ? 128 : Number(l) };
  return { family: 4, addr: ip(a!), len: l === undefined ? 32 : Number(l) };
}

/** An inline address match: `addrs('10.0.0.0/8', '192.168.0.0/16')`; prefix with "!" to negate the first. */
export function addrs(...list: string[]): AddrMatch {
  const negate = list[0]!.startsWith('!');
  const ps = list.map((s) => prefix(s.replace(/^!/, '')));
  return { negate, set: -1, family: ps[0]!.family, prefixes: ps };
}

export function addrSet(set: SetConfig, negate = false): AddrMatch {
  return { negate, set: set.index, family: set.type === 'ipv6' ? 6 : 4, prefixes: set.prefixes };
}

/** `portsOf(53)`, `portsOf('1000-2000', 22)`, `portsOf('!22')`. */
export function portsOf(...list: (number | string)[]): PortMatch {
  const negate = typeof list[0] === 'string' && list[0].startsWith('!');
  const ranges = list.map((p) => {
    const [lo, hi] = String(p).replace(/^!/, '').split('-');
    return { min: Number(lo), max: Number(hi ?? lo) };
  });
  return { negate, set: -1, ranges };
}

export function portSet(set: SetConfig, negate = false): PortMatch {
  return { negate, set: set.index, ranges: set.ports };
}

export function rule(match: Partial<Match>, ...actions: Action[]): ChainRule {
  return { match: { ...ANY, ...match }, actions, comment: null };
}

export function commented(comment: string, r: ChainRule): ChainRule {
  return { ...r, comment };
}

export function chain(
  index: number,
  name: string,
  hook: Hook | null,
  rules: ChainRule[],
  opts: { policy?: 'accept' | 'drop'; priority?: number; type?: ChainConfig['type'] } = {},
): ChainConfig {
  return {
    index,
    name,
    hook,
    type: opts.type ?? 'filter',
    priority: opts.priority ?? 0,
    policy: opts.policy ?? 'accept',
    rules,
  };
}

export function ipv4Set(index: number, name: string, ...list: string[]): SetConfig {
  return { index, name, type: 'ipv4', prefixes: list.map(prefix), ports: [] };
}

export function ipv6Set(index: number, name: string, ...list: string[]): SetConfig {
  return { index, name, type: 'ipv6', prefixes: list.map(prefix), ports: [] };
}

export function portNumbers(index: number, name: string, ...list: (number | string)[]): SetConfig {
  return { index, name, type: 'port', prefixes: [], ports: portsOf(...list).ranges };
}

export const mark = (value: number, mask = 0xffffffff): Action => ({ kind: 'mark', value, mask });
export const ACCEPT: Action = { kind: 'accept' };
export const DROP: Action = { kind: 'drop' };
export const RETURN: Action = { kind: 'return' };
export const COUNTER: Action = { kind: 'counter' };
export const jump = (chain: number): Action => ({ kind: 'jump', chain });
export const goto = (chain: number): Action => ({ kind: 'goto', chain });
