/** Tables (ids, routes and their next hops) and policy rules (priorities, selectors, targets). */
import { formatPath } from '../errors.js';
import { formatAddress, formatPrefix, prefixContains, samePrefix } from '../net.js';
import type { RawRoute, RawRule, RawTable } from '../schema/routing.js';
import type { Address, Family, Prefix, RouteConfig, RuleConfig, TableConfig } from '../types.js';
import { TABLE_DEFAULT, TABLE_LOCAL, TABLE_MAIN } from '../types.js';
import { type Checker, lookup, type Path, type PortIndex, portRef } from './context.js';

const RESERVED: Readonly<Record<string, number>> = {
  local: TABLE_LOCAL,
  main: TABLE_MAIN,
  default: TABLE_DEFAULT,
};
const RESERVED_NAME: Readonly<Record<number, string>> = { 253: 'default', 254: 'main', 255: 'local' };

/** Implicit rules: 0 lookup local, 32766 lookup main, 32767 lookup default. */
export const IMPLICIT_PRIORITIES: Readonly<Record<number, string>> = {
  0: 'lookup local',
  32766: 'lookup main',
  32767: 'lookup default',
};

export interface TableIndex {
  readonly tables: readonly TableConfig[];
  readonly byName: ReadonlyMap<string, number>;
  readonly ids: ReadonlySet<number>;
}

/** Resolves a table reference (name or id) to its id, or 0 after reporting. */
export function tableRefId(ck: Checker, ti: TableIndex, ref: string | number, path: Path): number {
  if (typeof ref === 'number') {
    if (ti.ids.has(ref)) return ref;
    ck.error(path, `no table with id ${ref} (declare it under tables)`);
    return 0;
  }
  return lookup(ck, ti.byName, ref, 'table', path) ?? 0;
}

function isLinkLocal(a: Address): boolean {
  return a.family === 6 && a.addr[0] === 0xfe && (a.addr[1]! & 0xc0) === 0x80;
}

/** The ports whose subnets (from their addresses) contain `a`; host ports do not count. */
function onLinkPorts(pi: PortIndex, a: Address): number[] {
  const out: number[] = [];
  for (const p of pi.ports) {
    if (p.kind === 'host') continue;
    if (p.addresses.some((x) => prefixContains(x, a))) out.push(p.index);
  }
  return out;
}

function resolveRoute(
  ck: Checker,
  pi: PortIndex,
  dhcpPorts: ReadonlySet<number>,
  r: RawRoute,
  base: Path,
): RouteConfig | null {
  const type = r.type ?? 'unicast';
  const via = r.via ?? null;
  let to: Prefix;
  if (r.to === 'default') {
    to = via?.family === 6 ? { family: 6, addr: new Uint8Array(16), len: 0 } : { family: 4, addr: 0, len: 0 };
  } else {
    to = r.to;
  }
  let ok = true;
  if (via && via.family !== to.family) {
    ck.error(
      [...base, 'via'],
      `via ${formatAddress(via)} is IPv${via.family} but to is an IPv${to.family} prefix`,
    );
    ok = false;
  }
  let port = r.dev === undefined ? -1 : portRef(ck, pi, r.dev, [...base, 'dev']);
  if (r.dev !== undefined && port < 0) ok = false;
  if (type !== 'unicast') {
    if (via) ck.error([...base, 'via'], `a ${type} route has no via`);
    if (r.dev !== undefined) ck.error([...base, 'dev'], `a ${type} route has no dev`);
    if (via || r.dev !== undefined) ok = false;
  } else if (!via && r.dev === undefined) {
    ck.error(base, 'a unicast route needs via, dev or both');
    ok = false;
  }
  if (r.onlink && !via) {
    ck.error([...base, 'onlink'], 'onlink needs via');
    ok = false;
  }
  if (ok && type === 'unicast' && via) {
    if (port < 0) {
      if (isLinkLocal(via)) {
        ck.error([...base, 'via'], `a link-local via (${formatAddress(via)}) needs dev`);
        ok = false;
      } else {
        const cand = onLinkPorts(pi, via);
        if (cand.length === 0) {
          ck.error([...base, 'via'], `via ${formatAddress(via)} is not in the subnet of any port; add dev`);
          ok = false;
        } else if (cand.length > 1) {
          const names = cand.map((c) => `"${pi.ports[c]!.name}"`).join(' and ');
          ck.error(
            [...base, 'via'],
            `via ${formatAddress(via)} is in the subnets of ports ${names}; add dev`,
          );
          ok = false;
        } else {
          port = cand[0]!;
        }
      }
    } else {
      const p = pi.ports[port]!;
      // Point-to-point (tun) ports have no subnet to check; DHCP ports learn theirs at run time.
      const checkable = p.kind !== 'tun' && !dhcpPorts.has(port) && !isLinkLocal(via) && !r.onlink;
      const dynamic = p.addresses.length === 0;
      if (checkable && !dynamic && !p.addresses.some((a) => prefixContains(a, via))) {
        ck.error(
          [...base, 'via'],
          `via ${formatAddress(via)} is not in a subnet of port "${p.name}" (set onlink: true if it is reachable anyway)`,
        );
        ok = false;
      }
    }
  }
  if (!ok) return null;
  return { to, via, port, metric: r.metric ?? 0, type, onlink: r.onlink ?? false };
}

export function resolveTables(
  raw: Readonly<Record<string, RawTable>> | undefined,
  pi: PortIndex,
  dhcpPorts: ReadonlySet<number>,
  ck: Checker,
): TableIndex {
  const byName = new Map<string, number>([
    ['local', TABLE_LOCAL],
    ['main', TABLE_MAIN],
    ['default', TABLE_DEFAULT],
  ]);
  const idOwner = new Map<number, string>([
    [TABLE_LOCAL, 'local'],
    [TABLE_MAIN, 'main'],
    [TABLE_DEFAULT, 'default'],
  ]);
  const routes = new Map<number, RouteConfig[]>([
    [TABLE_LOCAL, []],
    [TABLE_MAIN, []],
    [TABLE_DEFAULT, []],
  ]);
  const order: { name: string; id: number }[] = [];
  const entries = Object.entries(raw ?? {});

  // Pass 1: names and ids, so routes and rules can refer to any table.
  const declared: { name: string; id: number; list: readonly RawRoute[]; listPath: Path }[] = [];
  for (const [name, value] of entries) {
    const base: Path = ['tables', name];
    const isList = Array.isArray(value);
    const list = isList ? value : (value.routes ?? []);
    const listPath: Path = isList ? base : [...base, 'routes'];
    const givenId = isList ? undefined : value.id;
    let id: number;
    if (name in RESERVED) {
      id = RESERVED[name]!;
      if (givenId !== undefined && givenId !== id) {
        ck.error([...base, 'id'], `table ${name} always has id ${id}`);
      }
    } else if (/^\d+$/.test(name)) {
      id = Number(name);
      if (id < 1 || id > 0xffffffff) {
        ck.error(base, `table id ${name} is out of range 1..4294967295`, 'key');
        continue;
      }
      if (id in RESERVED_NAME) {
        ck.error(base, `table ${id} is the ${RESERVED_NAME[id]} table; call it ${RESERVED_NAME[id]}`, 'key');
        continue;
      }
      if (givenId !== undefined && givenId !== id)
        ck.error([...base, 'id'], `table "${name}" has id ${name}`);
    } else if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name)) {
      ck.error(
        base,
        `"${name}" is not a valid table name (a letter, then letters, digits, "_", "." or "-")`,
        'key',
      );
      continue;
    } else if (givenId === undefined) {
      ck.error(base, `table "${name}" needs an id: write ${name}: { id: N, routes: [...] }`, 'key');
      continue;
    } else {
      id = givenId;
      if (id in RESERVED_NAME) {
        ck.error([...base, 'id'], `id ${id} belongs to the ${RESERVED_NAME[id]} table`);
        continue;
      }
    }
    if (!(name in RESERVED)) {
      const owner = idOwner.get(id);
      if (owner !== undefined) {
        const atId = givenId !== undefined;
        ck.error(
          atId ? [...base, 'id'] : base,
          `table id ${id} is already used by table "${owner}"`,
          atId ? 'value' : 'key',
        );
        continue;
      }
      idOwner.set(id, name);
      byName.set(name, id);
      routes.set(id, []);
      order.push({ name, id });
    }
    declared.push({ name, id, list, listPath });
  }

  // Pass 2: routes.
  for (const d of declared) {
    if (d.id === TABLE_LOCAL && d.list.length > 0) {
      ck.error(
        [...d.listPath, 0],
        'the local table is filled from port addresses; routes cannot be added to it',
      );
      continue;
    }
    const out = routes.get(d.id)!;
    const at: Path[] = [];
    // `ip addr add` puts each address's subnet in main (proto kernel, metric 0).
    const connected =
      d.id === TABLE_MAIN
        ? pi.ports.flatMap((p) =>
            p.kind === 'host' ? [] : p.addresses.map((a) => ({ to: a, port: p.name })),
          )
        : [];
    d.list.forEach((r, j) => {
      const path: Path = [...d.listPath, j];
      const rc = resolveRoute(ck, pi, dhcpPorts, r, path);
      if (!rc) return;
      const conn = connected.find(
        (c) => rc.metric === 0 && c.to.len === rc.to.len && prefixContains(c.to, rc.to),
      );
      if (conn) {
        ck.error(
          [...path, 'to'],
          `${formatPrefix(rc.to)} is already the connected route of port "${conn.port}"; give this one a metric above 0`,
        );
        return;
      }
      const dup = out.findIndex((o) => samePrefix(o.to, rc.to) && o.metric === rc.metric);
      if (dup >= 0) {
        ck.error(
          [...path, 'to'],
          `${formatPrefix(rc.to)} metric ${rc.metric} is already in table ${d.name} (${formatPath(at[dup]!)}); give one a different metric`,
        );
        return;
      }
      out.push(rc);
      at.push(path);
    });
  }

  const tables: TableConfig[] = [
    { name: 'local', id: TABLE_LOCAL, routes: routes.get(TABLE_LOCAL)! },
    { name: 'main', id: TABLE_MAIN, routes: routes.get(TABLE_MAIN)! },
    { name: 'default', id: TABLE_DEFAULT, routes: routes.get(TABLE_DEFAULT)! },
    ...order.map((o) => ({ name: o.name, id: o.id, routes: routes.get(o.id)! })),
  ];
  return { tables, byName, ids: new Set(idOwner.keys()) };
}

function familyOf(...ps: (Prefix | null)[]): 0 | Family {
  for (const p of ps) if (p) return p.family;
  return 0;
}

export interface RuleSlot {
  readonly priority: number;
  readonly family: 0 | Family;
  readonly path: Path;
}

/** Reports a clash with an earlier rule at the same priority in an overlapping family. */
export function claimPriority(ck: Checker, taken: RuleSlot[], slot: RuleSlot, at: Path): void {
  const implicit = IMPLICIT_PRIORITIES[slot.priority];
  if (implicit !== undefined) {
    ck.error(at, `priority ${slot.priority} is the implicit "${implicit}" rule`);
    return;
  }
  const clash = taken.find(
    (t) => t.priority === slot.priority && (t.family === 0 || slot.family === 0 || t.family === slot.family),
  );
  if (clash) {
    ck.error(at, `priority ${slot.priority} is already used by ${formatPath(clash.path)}`);
    return;
  }
  taken.push(slot);
}

export function resolveRules(
  raw: readonly RawRule[] | undefined,
  pi: PortIndex,
  ti: TableIndex,
  ck: Checker,
  taken: RuleSlot[],
): RuleConfig[] {
  const out: RuleConfig[] = [];
  (raw ?? []).forEach((r, i) => {
    const base: Path = ['rules', i];
    const from = r.from ?? null;
    const to = r.to ?? null;
    if (from && to && from.family !== to.family) {
      ck.error(
        [...base, 'to'],
        `to is IPv${to.family} but from is IPv${from.family}; the rule could never match`,
      );
      return;
    }
    const family = familyOf(from, to);
    claimPriority(ck, taken, { priority: r.priority, family, path: base }, [...base, 'priority']);
    const iif = r.iif === undefined ? -1 : portRef(ck, pi, r.iif, [...base, 'iif']);
    let table = 0;
    if (r.table !== undefined && r.action !== undefined) {
      ck.error([...base, 'action'], 'a rule has table (lookup) or action, not both', 'key');
      return;
    }
    if (r.table === undefined && r.action === undefined) {
      ck.error(base, 'a rule needs table (to look up) or action (blackhole, unreachable, prohibit)');
      return;
    }
    if (r.table !== undefined) table = tableRefId(ck, ti, r.table, [...base, 'table']);
    out.push({
      priority: r.priority,
      family,
      fwmark: r.fwmark ?? null,
      from,
      to,
      iif,
      action: r.action ?? 'lookup',
      table,
    });
  });
  return out.sort((a, b) => a.priority - b.priority);
}
