/** Ports: names, kind-specific keys, addresses and the host port. */
import { formatPath } from '../errors.js';
import { formatAddress, prefixContains, sameAddress } from '../net.js';
import type { RawPort } from '../schema/ports.js';
import type { Address, PortConfig, PortKind } from '../types.js';
import type { Checker, Path, PortIndex } from './context.js';

/** A DHCP client's table reference, resolved once tables are known. */
export interface PendingDhcp {
  readonly port: number;
  readonly table: string | number | undefined;
  readonly path: Path;
}

const OS_BACKED: readonly PortKind[] = ['afpacket', 'tun', 'tap', 'host'];

function only(
  ck: Checker,
  base: Path,
  key: string,
  present: boolean,
  kinds: readonly PortKind[],
  kind: PortKind,
) {
  if (present && !kinds.includes(kind)) {
    ck.error([...base, key], `${key} applies to ${kinds.join(' and ')} ports, not ${kind}`, 'key');
  }
}

export function resolvePorts(
  raw: readonly RawPort[],
  ck: Checker,
): { index: PortIndex; dhcp: PendingDhcp[] } {
  const ports: PortConfig[] = [];
  const byName = new Map<string, number>();
  const devices = new Map<string, number>();
  const owners: { addr: Address; port: number; path: Path }[] = [];
  const dhcp: PendingDhcp[] = [];
  let host = -1;

  raw.forEach((p, i) => {
    const base: Path = ['ports', i];
    const kind = p.kind;
    const duplicate = byName.has(p.name);
    if (duplicate) {
      ck.error(
        [...base, 'name'],
        `port "${p.name}" is already defined at ${formatPath(['ports', byName.get(p.name)!])}`,
      );
    } else {
      byName.set(p.name, i);
    }

    only(ck, base, 'device', p.device !== undefined, OS_BACKED, kind);
    only(ck, base, 'mac', p.mac !== undefined, ['afpacket', 'tap', 'host', 'pcap', 'memory'], kind);
    only(ck, base, 'proxy-arp', p['proxy-arp'] === true, ['afpacket', 'tap', 'pcap', 'memory'], kind);
    only(ck, base, 'attach', p.attach !== undefined, ['tun', 'tap'], kind);
    only(ck, base, 'offloads', p.offloads !== undefined, ['afpacket'], kind);
    only(ck, base, 'gateway', p.gateway !== undefined, ['host'], kind);
    only(ck, base, 'read', p.read !== undefined, ['pcap'], kind);
    only(ck, base, 'write', p.write !== undefined, ['pcap'], kind);
    only(ck, base, 'dhcp', p.dhcp !== undefined, ['afpacket', 'tap', 'memory'], kind);
    if (kind === 'pcap' && p.read === undefined && p.write === undefined) {
      ck.error(base, 'a pcap port needs read, write or both');
    }

    const device = p.device ?? p.name;
    if (OS_BACKED.includes(kind) && !(duplicate && p.device === undefined)) {
      const other = devices.get(device);
      if (other !== undefined) {
        ck.error(
          [...base, p.device ? 'device' : 'name'],
          `device "${device}" is already used by port "${raw[other]!.name}"`,
        );
      } else {
        devices.set(device, i);
      }
    }

    if (kind === 'host') {
      if (host >= 0)
        ck.error([...base, 'kind'], `only one host port is allowed (${formatPath(['ports', host])} is one)`);
      else host = i;
    }

    const addresses = p.addresses ?? [];
    addresses.forEach((a, j) => {
      // The host port's addresses belong to the kernel side, which may share the box's addresses.
      if (kind === 'host') return;
      const prev = owners.find((o) => sameAddress(o.addr, a));
      if (prev) {
        ck.error(
          [...base, 'addresses', j],
          `address ${formatAddress(a)} is already on port "${raw[prev.port]!.name}" (${formatPath(prev.path)})`,
        );
      } else {
        owners.push({ addr: a, port: i, path: [...base, 'addresses', j] });
      }
    });

    const mtu = p.mtu ?? 1500;
    if (mtu < 1280 && addresses.some((a) => a.family === 6)) {
      ck.error(
        [...base, 'mtu'],
        `mtu ${mtu} is below 1280, the IPv6 minimum (RFC 8200 §5), on a port with IPv6 addresses`,
      );
    }

    const gateways = p.gateway ?? [];
    const seenFamily = new Set<number>();
    gateways.forEach((g, j) => {
      const gp: Path = [...base, 'gateway', j];
      if (seenFamily.has(g.family)) ck.error(gp, `a host port has one IPv${g.family} gateway`);
      seenFamily.add(g.family);
      const linkLocal = g.family === 6 && g.addr[0] === 0xfe && (g.addr[1]! & 0xc0) === 0x80;
      if (!linkLocal && !addresses.some((a) => prefixContains(a, g))) {
        ck.error(gp, `gateway ${formatAddress(g)} is not in the subnet of any of this port's addresses`);
      }
    });

    if (p.dhcp?.client) dhcp.push({ port: i, table: p.dhcp.table, path: [...base, 'dhcp', 'table'] });

    ports.push({
      index: i,
      name: p.name,
      kind,
      device,
      mac: p.mac ?? null,
      mtu,
      mtuSet: p.mtu !== undefined,
      addresses,
      proxyArp: p['proxy-arp'] ?? false,
      attach: p.attach ?? false,
      offloads: p.offloads ?? 'off',
      dhcp: null,
      gateways,
      read: p.read ?? null,
      write: p.write ?? null,
    });
  });
  return { index: { ports, byName }, dhcp };
}
