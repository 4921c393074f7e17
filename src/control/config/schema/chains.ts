/**
 * `sets:` and `chains:` — an nftables ruleset in YAML.
 *
 *   sets:
 *     isp-local-ips: { type: ipv4, elements: [192.168.1.10, 192.168.2.10] }
 *   chains:
 *     mangle-prerouting:                  # a base chain: it has a hook
 *       hook: prerouting                  # prerouting | input | forward | output | postrouting
 *       type: filter                      # filter | nat | route
 *       priority: mangle                  # a number or raw, mangle, dstnat, filter, security, srcnat
 *       policy: accept
 *       rules:
 *         - match: { dst: 192.168.1.0/24 }
 *           action: { mark: 1 }
 *     set-connmark:                       # a user chain: reached by jump/goto
 *       rules:
 *         - match: { iif: brwan1 }
 *           action: [{ ct-mark: 0x1 }, return]
 */
import type { z } from 'zod';
import { dscp, mark, natTarget, portRange, prefix, protocol } from '../net.js';
import { didYouMean } from '../suggest.js';
import type { Mark, PortRange, Prefix } from '../types.js';
import { CT_ESTABLISHED, CT_INVALID, CT_NEW, CT_RELATED } from '../types.js';
import { describe, expected, Fail, int, name, oneOf, type Parsed, str } from '../values.js';
import { dict, either, list, obj, oneOrMany, opt, val, word } from './common.js';
import { portName } from './ports.js';

export const HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting'] as const;
export const CHAIN_TYPES = ['filter', 'nat', 'route'] as const;
export const SET_TYPES = ['ipv4', 'ipv6', 'port'] as const;
export const ACTION_WORDS = ['accept', 'drop', 'reject', 'return', 'counter', 'masquerade'] as const;
export const REJECT_WITH = [
  'port-unreachable',
  'host-unreachable',
  'net-unreachable',
  'admin-prohibited',
  'tcp-reset',
] as const;

/** nftables' standard priority names (nft(8), "PRIORITY"). */
export const PRIORITY_NAMES: Readonly<Record<string, number>> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
};

export function chainName(v: unknown): Parsed<string> {
  return name(v, 'chain');
}

function setRef(s: string): Parsed<string> {
  return name(s.slice(1), 'set');
}

function negation(s: string): { negate: boolean; rest: string } {
  if (!s.startsWith('!')) return { negate: false, rest: s };
  return { negate: true, rest: s.slice(1).trimStart() };
}

export interface RawIface {
  negate: boolean;
  names: string[];
}

/** `eth0`, `"!lo"`, or `[brwan1, brwan2]`. */
function ifaceMatch(v: unknown): Parsed<RawIface> {
  if (typeof v === 'string') {
    const { negate, rest } = negation(v);
    const n = portName(rest);
    return n instanceof Fail ? n : { negate, names: [n] };
  }
  if (Array.isArray(v)) {
    const names = oneOrMany(portName, v);
    return names instanceof Fail ? names : { negate: false, names };
  }
  return expected('a port name, "!name" or a list of port names', v);
}

export interface RawAddr {
  negate: boolean;
  set: string | null;
  prefixes: Prefix[];
}

/** `10.0.0.0/8`, `"!127.0.0.0/8"`, `"@set"`, `"!@set"`, or a list of prefixes. */
function addrMatch(v: unknown): Parsed<RawAddr> {
  if (typeof v === 'string') {
    const { negate, rest } = negation(v);
    if (rest.startsWith('@')) {
      const s = setRef(rest);
      return s instanceof Fail ? s : { negate, set: s, prefixes: [] };
    }
    const p = prefix(rest, 'network');
    return p instanceof Fail ? p : { negate, set: null, prefixes: [p] };
  }
  if (Array.isArray(v)) {
    const ps = oneOrMany((x) => prefix(x, 'network'), v);
    return ps instanceof Fail ? ps : { negate: false, set: null, prefixes: ps };
  }
  return expected('a prefix, "@set" or a list of prefixes', v);
}

export interface RawPorts {
  negate: boolean;
  set: string | null;
  ranges: PortRange[];
}

/** `443`, `"1000-2000"`, `"!22"`, `"@set"`, or a list of ports and ranges. */
function portMatch(v: unknown): Parsed<RawPorts> {
  if (typeof v === 'number') {
    const r = portRange(v);
    return r instanceof Fail ? r : { negate: false, set: null, ranges: [r] };
  }
  if (typeof v === 'string') {
    const { negate, rest } = negation(v);
    if (rest.startsWith('@')) {
      const s = setRef(rest);
      return s instanceof Fail ? s : { negate, set: s, ranges: [] };
    }
    const r = portRange(rest);
    return r instanceof Fail ? r : { negate, set: null, ranges: [r] };
  }
  if (Array.isArray(v)) {
    const rs = oneOrMany((x) => portRange(x), v);
    return rs instanceof Fail ? rs : { negate: false, set: null, ranges: rs };
  }
  return expected('a port, range, "@set" or a list of them', v);
}

const CT_STATES: Readonly<Record<string, number>> = {
  new: CT_NEW,
  established: CT_ESTABLISHED,
  related: CT_RELATED,
  invalid: CT_INVALID,
};

function ctState(v: unknown): Parsed<number> {
  const states = oneOrMany((x) => oneOf(x, Object.keys(CT_STATES)), v);
  if (states instanceof Fail) return states;
  let bits = 0;
  for (const s of states) bits |= CT_STATES[s]!;
  return bits;
}

export const matchSchema = obj(
  {
    iif: opt(ifaceMatch),
    oif: opt(ifaceMatch),
    src: opt(addrMatch),
    dst: opt(addrMatch),
    proto: opt(protocol),
    sport: opt(portMatch),
    dport: opt(portMatch),
    dscp: opt(dscp),
    mark: opt(mark),
    'ct-mark': opt(mark),
    'ct-state': opt(ctState),
  },
  'a match (a map of iif, oif, src, dst, proto, sport, dport, dscp, mark, ct-mark, ct-state)',
);

export type RawCtMark = { op: 'set'; mark: Mark } | { op: 'save' | 'restore' };

function ctMarkAction(v: unknown): Parsed<RawCtMark> {
  if (v === 'save' || v === 'restore') return { op: v };
  const m = mark(v);
  if (m instanceof Fail) {
    return new Fail(`${describe(v)} is not save, restore, or a mark to set ("0x1", "0x1/0xff")`);
  }
  return { op: 'set', mark: m };
}

const actionObject = obj(
  {
    mark: opt(mark),
    'ct-mark': opt(ctMarkAction),
    dscp: opt(dscp),
    jump: opt(chainName),
    goto: opt(chainName),
    snat: opt(natTarget),
    dnat: opt(natTarget),
    reject: opt((v) => oneOf(v, REJECT_WITH)),
  },
  'an action',
);

const actionWord = word('an action', (s) => oneOf(s, ACTION_WORDS));

const singleAction = either('an action (accept, drop, …, or a map such as {mark: 1})', [
  actionWord,
  actionObject,
]);

export const actionSchema = either('an action or a list of actions', [
  actionWord,
  actionObject,
  list(singleAction, 'a list of actions', 1),
]);

export const chainRuleSchema = obj(
  {
    match: matchSchema.optional(),
    action: actionSchema,
    comment: opt((v) => str(v)),
  },
  'a chain rule (a map with match and action)',
);

function chainPriority(v: unknown): Parsed<number> {
  if (typeof v === 'string') {
    if (v in PRIORITY_NAMES) return PRIORITY_NAMES[v]!;
    const names = Object.keys(PRIORITY_NAMES);
    return new Fail(
      `${describe(v)} is not a priority (a number, or ${names.join(', ')})${didYouMean(v, names)}`,
    );
  }
  return int(v, -0x80000000, 0x7fffffff);
}

export const chainSchema = obj(
  {
    hook: opt((v) => oneOf(v, HOOKS)),
    type: opt((v) => oneOf(v, CHAIN_TYPES)),
    priority: opt(chainPriority),
    policy: opt((v) => oneOf(v, ['accept', 'drop'] as const)),
    rules: list(chainRuleSchema, 'a list of rules').optional(),
  },
  'a chain (a map with hook, type, priority, policy, rules)',
);

export const chainsSchema = dict(chainSchema, 'a map of chain names to chains');

export const setSchema = obj(
  {
    type: val((v) => oneOf(v, SET_TYPES)),
    // Elements depend on the set's type; they are parsed with it (semantic/chains.ts).
    elements: val((v) => (Array.isArray(v) ? (v as unknown[]) : expected('a list of elements', v))),
  },
  'a set (a map with type and elements)',
);

export const setsSchema = dict(setSchema, 'a map of set names to sets');

export type RawChain = z.output<typeof chainSchema>;
export type RawChainRule = z.output<typeof chainRuleSchema>;
export type RawMatch = z.output<typeof matchSchema>;
export type RawSet = z.output<typeof setSchema>;
