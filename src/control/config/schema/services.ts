/**
 * `conntrack:`, `dhcp-relay:`, `overlay:`, `failover:`, `l2tp:` — the services around forwarding.
 * See docs/config.md for every key; the kernel/daemon knob each replaces is named there.
 */
import type { z } from 'zod';
import { address, cookie, endpoint, idRange, mark, portNumber, prefix, wgKey } from '../net.js';
import { bool, duration, Fail, int, name, oneOf, type Parsed, path, str } from '../values.js';
import { either, flag, list, obj, oneOrMany, opt, val } from './common.js';
import { portName, tableRef } from './ports.js';

const U32 = 0xffffffff;

/** A mark written as a plain value (no mask). */
function markValue(v: unknown): Parsed<number> {
  const m = mark(v);
  if (m instanceof Fail) return m;
  if (m.mask !== U32) return new Fail('a mask is not allowed here; write just the value');
  return m.value;
}

const timeouts = obj(
  {
    'tcp-syn-sent': opt(duration),
    'tcp-syn-recv': opt(duration),
    'tcp-established': opt(duration),
    'tcp-fin-wait': opt(duration),
    'tcp-close-wait': opt(duration),
    'tcp-last-ack': opt(duration),
    'tcp-time-wait': opt(duration),
    'tcp-close': opt(duration),
    udp: opt(duration),
    'udp-stream': opt(duration),
    icmp: opt(duration),
    generic: opt(duration),
  },
  'a map of timeouts (tcp-established: 5d, udp: 30s, …)',
);

/** What an unsolicited inbound TCP SYN gets after 6 s (RFC 5382 REQ-4; drop: REQ-4a). */
export const UNSOLICITED_SYN_POLICIES = ['icmp', 'drop'] as const;

export const conntrackSchema = obj(
  {
    capacity: opt((v) => int(v, 1, 1 << 24)),
    liberal: opt(bool),
    timeouts: timeouts.optional(),
    'unsolicited-syn': opt((v) => oneOf(v, UNSOLICITED_SYN_POLICIES)),
  },
  'a map {capacity, liberal, timeouts, unsolicited-syn}',
);

export const OPTION82_POLICIES = ['append', 'replace', 'forward', 'discard'] as const;

const option82 = either('true, false or a map {circuit-id, remote-id, policy}', [
  flag(),
  obj(
    {
      'circuit-id': opt((v) => str(v)),
      'remote-id': opt((v) => str(v)),
      policy: opt((v) => oneOf(v, OPTION82_POLICIES)),
    },
    'a map {circuit-id, remote-id, policy}',
  ),
]);

export const dhcpRelaySchema = obj(
  {
    listen: val((v) => oneOrMany(portName, v)),
    servers: val((v) => oneOrMany((x) => address(x, 4), v)),
    'hop-limit': opt((v) => int(v, 1, 255)),
    option82: option82.optional(),
  },
  'a map {listen, servers, hop-limit, option82}',
);

const peer = obj(
  {
    'public-key': val(wgKey),
    'preshared-key-file': opt(path),
    endpoint: opt((v) => endpoint(v)),
    'allowed-ips': val((v) => oneOrMany((x) => prefix(x, 'network'), v, true)),
    'persistent-keepalive': opt((v) => int(v, 0, 65535)),
  },
  'a peer (a map with public-key, endpoint, allowed-ips, …)',
);

const wireguard = obj(
  {
    port: val(portName),
    'private-key-file': val(path),
    'listen-port': opt((v) => portNumber(v, 1)),
    fwmark: opt(markValue),
    peers: list(peer, 'a list of peers'),
  },
  'a WireGuard interface (a map with port, private-key-file, peers, …)',
);

export const overlaySchema = obj(
  { wireguard: list(wireguard, 'a list of WireGuard interfaces').optional() },
  'a map {wireguard}',
);

const check = obj(
  {
    target: val((v) => address(v)),
    interval: opt(duration),
    timeout: opt(duration),
    'fail-after': opt((v) => int(v, 1, 1000)),
    'recover-after': opt((v) => int(v, 1, 1000)),
  },
  'a health check (a map with target, interval, timeout, fail-after, recover-after)',
);

const wan = obj(
  {
    name: val((v) => name(v, 'WAN')),
    port: val(portName),
    table: val(tableRef),
    'ct-mark': opt(markValue),
    check,
  },
  'a WAN (a map with name, port, table, ct-mark, check)',
);

export const failoverSchema = obj(
  {
    wans: list(wan, 'a list of WANs', 2),
    steer: obj(
      {
        rule: obj(
          { priority: val((v) => int(v, 1, U32)), fwmark: val(mark) },
          'a map {priority, fwmark}',
        ).optional(),
        chain: opt((v) => name(v, 'chain')),
      },
      'a map {rule, chain}',
    ).optional(),
  },
  'a map {wans, steer}',
);

const session = obj(
  {
    name: val((v) => name(v, 'session', 15)),
    'session-id': val((v) => int(v, 1, U32)),
    'peer-session-id': val((v) => int(v, 1, U32)),
    cookie: opt(cookie),
    'peer-cookie': opt(cookie),
    mtu: opt((v) => int(v, 68, 65535)),
    bridge: val(portName),
  },
  'a session (a map with name, session-id, peer-session-id, bridge, …)',
);

const tunnel = obj(
  {
    name: val((v) => name(v, 'tunnel')),
    local: val((v) => address(v)),
    peer: val((v) => address(v)),
    encap: opt((v) => oneOf(v, ['ip', 'udp'] as const)),
    udp: obj(
      { 'local-port': val((v) => portNumber(v, 1)), 'peer-port': val((v) => portNumber(v, 1)) },
      'a map {local-port, peer-port}',
    ).optional(),
    'tunnel-id': val((v) => int(v, 1, U32)),
    'peer-tunnel-id': val((v) => int(v, 1, U32)),
    sessions: list(session, 'a list of sessions', 1),
  },
  'a tunnel (a map with name, local, peer, tunnel-id, peer-tunnel-id, sessions, …)',
);

const broker = obj(
  {
    listen: val((v) => endpoint(v)),
    local: val((v) => address(v)),
    encap: opt((v) => oneOf(v, ['ip', 'udp'] as const)),
    'tunnel-ids': val(idRange),
    'session-ids': val(idRange),
    lease: opt(duration),
    heartbeat: obj(
      { interval: opt(duration), 'dead-after': opt((v) => int(v, 1, 1000)) },
      'a map {interval, dead-after}',
    ).optional(),
    bridge: val(portName),
    mtu: opt((v) => int(v, 68, 65535)),
    isolate: opt(bool),
  },
  'a broker (a map with listen, local, tunnel-ids, session-ids, bridge, …)',
);

export const l2tpSchema = obj(
  { tunnels: list(tunnel, 'a list of tunnels').optional(), broker: broker.optional() },
  'a map {tunnels, broker}',
);

export type RawConntrack = z.output<typeof conntrackSchema>;
export type RawDhcpRelay = z.output<typeof dhcpRelaySchema>;
export type RawOverlay = z.output<typeof overlaySchema>;
export type RawFailover = z.output<typeof failoverSchema>;
export type RawL2tp = z.output<typeof l2tpSchema>;
