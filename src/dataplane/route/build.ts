/**
 * Builds the routing state a config describes, as the kernel would have it after `ip addr add`,
 * `ip route add` and `ip rule add`:
 * - local table: one `local` route per port address (/32 or /128) on its port;
 * - main table: the connected route of each port address (its subnet, no gateway, metric 0;
 *   two ports in one subnet, as in a proxy-ARP brouter, both get one and the first wins);
 * - the host port's addresses that no other port owns get a host route to the host port;
 * - the routes of every declared table, then the rules;
 * - with failover, its steering rule starts on the first (preferred) WAN's table.
 */
import type { Address, FerryConfig, Prefix, RouteKind } from '../../control/config/types.js';
import { Rib } from './rib.js';
import { RuleAction, type RuleSpec } from './rules.js';
import { type RouteSpec, RouteType } from './store.js';

const KIND: Readonly<Record<RouteKind, RouteType>> = {
  unicast: RouteType.Unicast,
  blackhole: RouteType.Blackhole,
  unreachable: RouteType.Unreachable,
  prohibit: RouteType.Prohibit,
  throw: RouteType.Throw,
};

const ACTION: Readonly<Record<string, RuleAction>> = {
  lookup: RuleAction.Lookup,
  blackhole: RuleAction.Blackhole,
  unreachable: RuleAction.Unreachable,
  prohibit: RuleAction.Prohibit,
};

function spec(
  p: Prefix,
  type: RouteType,
  port: number,
  gateway: Address | null,
  metric: number,
  len = p.len,
): RouteSpec {
  return { family: p.family, dst: p.addr, len, type, port, gateway: gateway ? gateway.addr : null, metric };
}

function sameAddr(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  if (a.family === 4) return a.addr === b.addr;
  return a.addr.every((x, i) => x === (b.addr as Uint8Array)[i]);
}

export function buildRib(cfg: FerryConfig): Rib {
  const rib = new Rib();
  for (const t of cfg.tables) rib.ensureTable(t.id, t.name);

  const owned: Prefix[] = [];
  for (const port of cfg.ports) {
    if (port.kind === 'host') continue;
    for (const a of port.addresses) {
      owned.push(a);
      rib.local.add(spec(a, RouteType.Local, port.index, null, 0, a.family === 4 ? 32 : 128));
      rib.main.add(spec(a, RouteType.Unicast, port.index, null, 0), true);
    }
  }
  for (const port of cfg.ports) {
    if (port.kind !== 'host') continue;
    for (const a of port.addresses) {
      if (owned.some((o) => sameAddr(o, a))) continue;
      rib.main.add(spec(a, RouteType.Unicast, port.index, null, 0, a.family === 4 ? 32 : 128), true);
    }
  }

  for (const t of cfg.tables) {
    const table = rib.ensureTable(t.id, t.name);
    for (const r of t.routes) table.add(spec(r.to, KIND[r.type], r.port, r.via, r.metric));
  }

  const rules: RuleSpec[] = cfg.rules.map((r) => ({
    priority: r.priority,
    family: r.family,
    mark: r.fwmark?.value ?? 0,
    markMask: r.fwmark?.mask ?? 0,
    from: r.from?.addr ?? 0,
    fromLen: r.from?.len ?? 0,
    to: r.to?.addr ?? 0,
    toLen: r.to?.len ?? 0,
    iif: r.iif,
    action: ACTION[r.action]!,
    table: r.table,
  }));
  const steer = cfg.failover?.steerRule;
  if (steer && cfg.failover) {
    rules.push({
      priority: steer.priority,
      family: 0,
      mark: steer.fwmark.value,
      markMask: steer.fwmark.mask,
      from: 0,
      fromLen: 0,
      to: 0,
      toLen: 0,
      iif: -1,
      action: RuleAction.Lookup,
      table: cfg.failover.wans[0]!.table,
    });
  }
  for (const r of rules) rib.rules.add(r);
  return rib;
}
