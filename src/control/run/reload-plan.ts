/**
 * What a reload may change and what it changed. The ports are opened once, at start: a reload
 * rebuilds the router over the same open ports, so anything that decides how a port is opened or
 * what ferry did to the kernel for it (the port list, kinds, devices, attach, MAC, MTU, offloads, the host
 * port's kernel-side addresses and gateways, the overlays that own TUNs) needs a restart.
 * Everything else (addresses ferry answers for, proxy-ARP, DHCP, tables, rules, sets, chains,
 * conntrack timeouts, the DHCP relay) is applied by the rebuild.
 */
import { formatAddress, formatPrefix } from '../config/net.js';
import type { FerryConfig, PortConfig } from '../config/types.js';

/** Stable text of a config value (Uint8Arrays as hex), for equality. */
function key(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x,
  );
}

function same(a: unknown, b: unknown): boolean {
  return key(a) === key(b);
}

function portShape(p: PortConfig): string {
  return `${p.name} (${p.kind}${p.attach ? ', attach' : ''} on ${p.device})`;
}

/** Why `next` cannot be applied to a running `old` without a restart (empty: it can). */
export function restartNeeded(old: FerryConfig, next: FerryConfig): string[] {
  const out: string[] = [];
  const o = old.ports.map(portShape);
  const n = next.ports.map(portShape);
  if (!same(o, n)) {
    out.push(`the ports changed (${o.join(', ')} → ${n.join(', ')})`);
    return out;
  }
  next.ports.forEach((p, i) => {
    const q = old.ports[i]!;
    if (!same(p.mac, q.mac)) out.push(`port ${p.name}: mac changed`);
    if (p.mtu !== q.mtu) out.push(`port ${p.name}: mtu ${q.mtu} → ${p.mtu}`);
    if (p.offloads !== q.offloads) out.push(`port ${p.name}: offloads ${q.offloads} → ${p.offloads}`);
    if (p.kind === 'host' && !same(p.addresses, q.addresses))
      out.push(
        `host port ${p.name}: the kernel's addresses changed (${q.addresses.map(formatPrefix).join(', ')} → ${p.addresses.map(formatPrefix).join(', ')})`,
      );
    if (p.kind === 'host' && !same(p.gateways, q.gateways))
      out.push(
        `host port ${p.name}: gateway ${q.gateways.map(formatAddress).join(', ') || 'none'} → ${p.gateways.map(formatAddress).join(', ') || 'none'}`,
      );
  });
  if (!same(old.overlay, next.overlay))
    out.push('overlay changed (its WireGuard interfaces are set up at start)');
  return out;
}

/** "name: what" for named items added, removed or changed between two lists. */
function namedDiff<T extends { name: string }>(
  what: string,
  a: readonly T[],
  b: readonly T[],
  detail: (x: T, y: T) => string = () => 'changed',
): string[] {
  const out: string[] = [];
  const before = new Map(a.map((x) => [x.name, x]));
  const after = new Map(b.map((x) => [x.name, x]));
  for (const [name, y] of after) {
    const x = before.get(name);
    if (!x) out.push(`${what} ${name} added`);
    else if (!same(x, y)) out.push(`${what} ${name} ${detail(x, y)}`);
  }
  for (const name of before.keys()) if (!after.has(name)) out.push(`${what} ${name} removed`);
  return out;
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What changed from `old` to `next`, in words ("no changes" when nothing did). */
export function describeChanges(old: FerryConfig, next: FerryConfig): string {
  const out: string[] = [];
  next.ports.forEach((p, i) => {
    const q = old.ports[i]!;
    if (p.kind !== 'host' && !same(p.addresses, q.addresses))
      out.push(
        `port ${p.name} addresses ${q.addresses.map(formatPrefix).join(', ') || 'none'} → ${p.addresses.map(formatPrefix).join(', ') || 'none'}`,
      );
    if (p.proxyArp !== q.proxyArp)
      out.push(`port ${p.name} proxy-arp ${q.proxyArp ? 'on → off' : 'off → on'}`);
    if (!same(p.dhcp, q.dhcp)) out.push(`port ${p.name} dhcp changed`);
  });
  out.push(
    ...namedDiff('table', old.tables, next.tables, (x, y) =>
      x.routes.length === y.routes.length
        ? 'routes changed'
        : `${count(x.routes.length, 'route')} → ${y.routes.length}`,
    ),
  );
  if (!same(old.rules, next.rules)) out.push(`rules ${old.rules.length} → ${next.rules.length}`);
  out.push(...namedDiff('set', old.sets, next.sets));
  out.push(
    ...namedDiff('chain', old.chains, next.chains, (x, y) =>
      x.rules.length === y.rules.length ? 'changed' : `${count(x.rules.length, 'rule')} → ${y.rules.length}`,
    ),
  );
  if (!same(old.conntrack, next.conntrack)) out.push('conntrack timeouts changed');
  if (!same(old.dhcpRelay, next.dhcpRelay))
    out.push(`dhcp-relay ${old.dhcpRelay ? (next.dhcpRelay ? 'changed' : 'removed') : 'added'}`);
  if (!same(old.failover, next.failover)) out.push('failover changed');
  if (!same(old.l2tp, next.l2tp)) out.push('l2tp changed');
  return out.length ? out.join('; ') : 'no changes';
}
