/**
 * `ports:` — every place packets enter or leave ferry, like the interfaces `ip link` lists.
 *
 *   - name: eth0            # referenced by routes, rules, chains (iif/oif), relay, overlay
 *     kind: afpacket        # afpacket | tun | tap | host | pcap | memory
 *     device: enp1s0        # OS interface, when it differs from name
 *     mac: 02:00:00:00:00:01
 *     mtu: 1500
 *     addresses: [192.168.0.125/24, 2001:db8::1/64]
 *     proxy-arp: true       # net.ipv4.conf.eth0.proxy_arp=1
 *     attach: true          # tun/tap: use an existing device another daemon owns
 *     offloads: vnet        # afpacket: off (default) | vnet (GSO super-frames, partial checksums)
 *     dhcp: { client: true, table: wanisp1 }
 *     gateway: 192.168.0.1  # host port: the kernel side's default route through ferry
 *     read: in.pcap         # pcap port: replay from / capture to
 *     write: out.pcap
 */
import type { z } from 'zod';
import { address, mac, prefix } from '../net.js';
import { bool, int, name, oneOf, type Parsed, path } from '../values.js';
import { obj, oneOrMany, opt, val } from './common.js';

export const PORT_KINDS = ['afpacket', 'tun', 'tap', 'host', 'pcap', 'memory'] as const;
/** `offloads:` of an afpacket port (AfPacketPort's OffloadMode, without 'keep'). */
export const PORT_OFFLOADS = ['off', 'vnet'] as const;

/** Linux interface names are at most 15 characters (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

export function portName(v: unknown): Parsed<string> {
  return name(v, 'port', IFNAME_MAX);
}

/** A table named by its name or its numeric id (`100` or `"100"`). */
export function tableRef(v: unknown): Parsed<string | number> {
  if (typeof v === 'number') return int(v, 1, 0xffffffff);
  if (typeof v === 'string' && /^\d+$/.test(v)) return int(Number(v), 1, 0xffffffff);
  return name(v, 'table');
}

const dhcp = obj(
  {
    client: val(bool),
    table: opt(tableRef),
  },
  'a map {client, table}',
);

export const portSchema = obj(
  {
    name: val(portName),
    kind: val((v) => oneOf(v, PORT_KINDS)),
    device: opt((v) => name(v, 'device', IFNAME_MAX)),
    mac: opt(mac),
    mtu: opt((v) => int(v, 68, 65535)),
    addresses: opt((v) => oneOrMany((x) => prefix(x, 'interface'), v, true)),
    'proxy-arp': opt(bool),
    attach: opt(bool),
    offloads: opt((v) => oneOf(v, PORT_OFFLOADS)),
    dhcp: dhcp.optional(),
    gateway: opt((v) => oneOrMany((x) => address(x), v)),
    read: opt(path),
    write: opt(path),
  },
  'a port (a map with name and kind)',
);

export type RawPort = z.output<typeof portSchema>;
