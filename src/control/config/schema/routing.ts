/**
 * `tables:` and `rules:` — `ip route ... table T` and `ip rule`.
 *
 *   tables:
 *     main:                      # id 254; local (255) and default (253) exist too
 *       - { to: default, via: 192.168.0.1, dev: eth0 }
 *     "100":                     # a table known only by its number
 *       - { to: default, dev: tailscale0 }
 *     wanisp1: { id: 101, routes: [] }
 *   rules:
 *     - { priority: 32765, fwmark: 1, table: 100 }   # ip rule add fwmark 1 table 100
 */
import type { z } from 'zod';
import { address, mark, prefix } from '../net.js';
import type { Prefix } from '../types.js';
import { bool, int, oneOf, type Parsed } from '../values.js';
import { dict, either, list, obj, opt, val } from './common.js';
import { portName, tableRef } from './ports.js';

export const ROUTE_TYPES = ['unicast', 'blackhole', 'unreachable', 'prohibit', 'throw'] as const;
export const RULE_ACTIONS = ['blackhole', 'unreachable', 'prohibit'] as const;

const U32 = 0xffffffff;

/** Route destination: a network prefix or `default` (0.0.0.0/0, or ::/0 when `via` is IPv6). */
function routeTo(v: unknown): Parsed<Prefix | 'default'> {
  if (v === 'default') return 'default';
  return prefix(v, 'network');
}

/** Rule selector: a network prefix, or `all` (the same as leaving it out). */
function selector(v: unknown): Parsed<Prefix | null> {
  if (v === 'all') return null;
  return prefix(v, 'network');
}

export const routeSchema = obj(
  {
    to: val(routeTo),
    via: opt((v) => address(v)),
    dev: opt(portName),
    metric: opt((v) => int(v, 0, U32)),
    type: opt((v) => oneOf(v, ROUTE_TYPES)),
    onlink: opt(bool),
  },
  'a route (a map with to, via, dev, …)',
);

const routeList = list(routeSchema, 'a list of routes');

export const tableSchema = either('a list of routes, or a map {id, routes}', [
  routeList,
  obj({ id: opt((v) => int(v, 1, U32)), routes: routeList.optional() }, 'a map {id, routes}'),
]);

export const tablesSchema = dict(tableSchema, 'a map of table names to routes');

export const ruleSchema = obj(
  {
    priority: val((v) => int(v, 0, U32)),
    fwmark: opt(mark),
    from: opt(selector),
    to: opt(selector),
    iif: opt(portName),
    table: opt(tableRef),
    action: opt((v) => oneOf(v, RULE_ACTIONS)),
  },
  'a rule (a map with priority and table or action)',
);

export const rulesSchema = list(ruleSchema, 'a list of rules');

export type RawRoute = z.output<typeof routeSchema>;
export type RawTable = z.output<typeof tableSchema>;
export type RawRule = z.output<typeof ruleSchema>;
