/**
 * The routing state as `ip neigh`, `ip route show table all` and `ip rule` would print it: the
 * neighbour table, every table's routes, and the policy rules in evaluation order.
 */
import { NUD_NAMES } from '../../dataplane/neighbour/states.js';
import type { NeighbourTable } from '../../dataplane/neighbour/table.js';
import type { Rib } from '../../dataplane/route/rib.js';
import {
  RuleAction,
  type RuleSpec,
  TABLE_DEFAULT_ID,
  TABLE_LOCAL_ID,
  TABLE_MAIN_ID,
} from '../../dataplane/route/rules.js';
import { ROUTE_TYPE_NAMES, type RouteStore, RouteType } from '../../dataplane/route/store.js';
import type { RoutingTable } from '../../dataplane/route/table.js';
import { formatIpv4, formatIpv6, formatMac, setU48 } from '../../dataplane/wire/bytes.js';
import type { IpRuleStatus, NeighbourStatus, RouteStatus, RouteTableStatus } from './types.js';

function portName(names: readonly string[], port: number): string {
  return names[port] ?? `port ${port}`;
}

function mac(n: number): string {
  const b = new Uint8Array(6);
  setU48(b, 0, n);
  return formatMac(b);
}

/** Entries with a usable or pending MAC, sorted by address then port (NeighbourTable.entries). */
export function neighbourStatus(t: NeighbourTable, names: readonly string[], now: number): NeighbourStatus[] {
  return t.entries().map((e) => {
    const state = NUD_NAMES[t.state[e]!] ?? `state ${t.state[e]}`;
    const known = state !== 'incomplete' && state !== 'failed' && state !== 'none';
    return {
      address: formatIpv4(t.ip[e]!),
      port: portName(names, t.port[e]!),
      mac: known ? mac(t.mac[e]!) : null,
      state,
      age: Math.max(0, now - t.updated[e]!),
      queued: t.queued(e),
    };
  });
}

function u32Bytes(store: Uint32Array, at: number): Uint8Array {
  const b = new Uint8Array(16);
  for (let w = 0; w < 4; w++) {
    const x = store[at + w]!;
    b[4 * w] = x >>> 24;
    b[4 * w + 1] = (x >>> 16) & 0xff;
    b[4 * w + 2] = (x >>> 8) & 0xff;
    b[4 * w + 3] = x & 0xff;
  }
  return b;
}

function routeOf(s: RouteStore, r: number, names: readonly string[]): RouteStatus {
  const v4 = s.family[r] === 4;
  const len = s.len[r]!;
  const addr = v4 ? formatIpv4(s.dst4[r]!) : formatIpv6(u32Bytes(s.dst6, r << 2));
  const dst = len === 0 ? 'default' : len === (v4 ? 32 : 128) ? addr : `${addr}/${len}`;
  const type = ROUTE_TYPE_NAMES[s.type[r]!] ?? String(s.type[r]);
  const via = s.hasGw[r] ? (v4 ? formatIpv4(s.gw4[r]!) : formatIpv6(u32Bytes(s.gw6, r << 2))) : null;
  const port = s.port[r]! >= 0 ? portName(names, s.port[r]!) : null;
  const metric = s.metric[r]!;
  const parts = [s.type[r] === RouteType.Unicast ? dst : `${type} ${dst}`];
  if (via) parts.push(`via ${via}`);
  if (port) parts.push(`dev ${port}`);
  if (metric) parts.push(`metric ${metric}`);
  return { dst, type, port, via, metric, text: parts.join(' ') };
}

function tableRoutes(t: RoutingTable, store: RouteStore, names: readonly string[]): RouteStatus[] {
  const out: { key: string; route: RouteStatus }[] = [];
  const add = (head: number, key: string): void => {
    for (let r = head; r >= 0; r = store.next[r]!) out.push({ key, route: routeOf(store, r, names) });
  };
  for (const [a, len, head] of t.v4.entries())
    add(head, `4${a.toString(16).padStart(8, '0')}${String(len).padStart(3, '0')}`);
  for (const [a, len, head] of t.v6.entries())
    add(head, `6${Buffer.from(a).toString('hex')}${String(len).padStart(3, '0')}`);
  // Stable order: by family, then address, then prefix length (chains keep their metric order).
  return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)).map((x) => x.route);
}

/** Every table with routes, main first then by id (local last, as it holds only addresses). */
export function routeTables(rib: Rib, names: readonly string[]): RouteTableStatus[] {
  const rank = (id: number): number => (id === TABLE_MAIN_ID ? 0 : id === TABLE_LOCAL_ID ? 2 : 1);
  return [...rib.tables()]
    .map((t) => ({ id: t.id, name: t.name, routes: tableRoutes(t, rib.store, names) }))
    .filter((t) => t.routes.length > 0)
    .sort((a, b) => rank(a.id) - rank(b.id) || a.id - b.id);
}

const TABLE_NAMES: Readonly<Record<number, string>> = {
  [TABLE_LOCAL_ID]: 'local',
  [TABLE_MAIN_ID]: 'main',
  [TABLE_DEFAULT_ID]: 'default',
};

function prefixText(v: number | Uint8Array, len: number): string {
  const a = typeof v === 'number' ? formatIpv4(v) : formatIpv6(v);
  const full = typeof v === 'number' ? 32 : 128;
  return len === full ? a : `${a}/${len}`;
}

function ruleText(r: RuleSpec, names: readonly string[], tableName: (id: number) => string): string {
  const parts = [r.fromLen > 0 ? `from ${prefixText(r.from, r.fromLen)}` : 'from all'];
  if (r.toLen > 0) parts.push(`to ${prefixText(r.to, r.toLen)}`);
  if (r.markMask !== 0) {
    const m = `0x${r.mark.toString(16)}`;
    parts.push(r.markMask === 0xffffffff ? `fwmark ${m}` : `fwmark ${m}/0x${r.markMask.toString(16)}`);
  }
  if (r.iif >= 0) parts.push(`iif ${portName(names, r.iif)}`);
  if (r.action === RuleAction.Lookup) parts.push(`lookup ${tableName(r.table)}`);
  else parts.push(RuleAction[r.action]!.toLowerCase());
  return parts.join(' ');
}

/** The rules as `ip rule` lists them (`32766: from all lookup main`). */
export function ipRules(rib: Rib, names: readonly string[]): IpRuleStatus[] {
  const tableName = (id: number): string => {
    const t = rib.table(id);
    return TABLE_NAMES[id] ?? (t && t.name !== String(id) ? t.name : String(id));
  };
  return rib.rules.list().map((r) => ({ priority: r.priority, text: ruleText(r, names, tableName) }));
}
