/**
 * Link facts and link control for the interfaces ferry attaches to: ifindex, MAC, MTU,
 * operational state; admin up/down, MTU; offload features (what `ethtool -k/-K` shows and sets).
 * Every function takes an optional network namespace (a name under /run/netns or a path).
 */

import { ioError } from './io-error.js';
import { type FeatureState, loadNative, type NativeLink } from './native.js';

/** RFC 2863 operational states, as IFLA_OPERSTATE numbers them (IF_OPER_*). */
export type OperState = 'unknown' | 'notpresent' | 'down' | 'lowerlayerdown' | 'testing' | 'dormant' | 'up';
const OPER_STATES: readonly OperState[] = [
  'unknown',
  'notpresent',
  'down',
  'lowerlayerdown',
  'testing',
  'dormant',
  'up',
];

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
/** ARPHRD_ETHER: the device carries Ethernet frames. */
export const ARPHRD_ETHER = 1;
/** ARPHRD_NONE: no link-layer header (TUN, WireGuard). */
export const ARPHRD_NONE = 0xfffe;

export interface LinkInfo {
  name: string;
  ifindex: number;
  mtu: number;
  /** "aa:bb:cc:dd:ee:ff", or null for devices without a MAC (TUN, WireGuard, loopback). */
  mac: string | null;
  /** The MAC as a 48-bit number (0 when there is none). */
  macNumber: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** Operationally usable (IFF_RUNNING: operstate up or unknown). */
  running: boolean;
  operstate: OperState;
  /** ARPHRD_* device type. */
  hwType: number;
  /** IFF_* flags. */
  flags: number;
}

export interface NetnsOption {
  /** Network namespace: a name under /run/netns (as `ip netns` creates) or a path. */
  netns?: string | undefined;
}

function macNumber(mac: string | null): number {
  if (!mac) return 0;
  let v = 0;
  for (const part of mac.split(':')) v = v * 256 + Number.parseInt(part, 16);
  return v;
}

/** Converts the addon's link record (also used by the ports). */
export function toLinkInfo(l: NativeLink): LinkInfo {
  // flags lack IFF_LOWER_UP (SIOCGIFFLAGS is 16 bits); without rtnetlink fall back on IFF_RUNNING
  const oper: OperState =
    l.operstate >= 0 && l.operstate < OPER_STATES.length
      ? OPER_STATES[l.operstate]!
      : !(l.flags & IFF_UP)
        ? 'down'
        : l.flags & IFF_RUNNING
          ? 'up'
          : 'lowerlayerdown';
  return {
    name: l.name,
    ifindex: l.ifindex,
    mtu: l.mtu,
    mac: l.mac,
    macNumber: macNumber(l.mac),
    up: (l.flags & IFF_UP) !== 0,
    running: (l.flags & IFF_RUNNING) !== 0,
    operstate: oper,
    hwType: l.hwType,
    flags: l.flags,
  };
}

export function linkInfo(name: string, opts: NetnsOption = {}): LinkInfo {
  try {
    return toLinkInfo(loadNative().linkInfo(name, opts.netns));
  } catch (err) {
    throw ioError(err, { iface: name, netns: opts.netns });
  }
}

/** Sets the link administratively up or down (SIOCSIFFLAGS; needs CAP_NET_ADMIN). */
export function setLinkUp(name: string, up: boolean, opts: NetnsOption = {}): void {
  try {
    loadNative().linkSetUp(name, up, opts.netns);
  } catch (err) {
    throw ioError(err, { iface: name, netns: opts.netns });
  }
}

/** Sets the MTU (SIOCSIFMTU; needs CAP_NET_ADMIN). */
export function setLinkMtu(name: string, mtu: number, opts: NetnsOption = {}): void {
  try {
    loadNative().linkSetMtu(name, mtu, opts.netns);
  } catch (err) {
    throw ioError(err, { iface: name, netns: opts.netns });
  }
}

export type { FeatureState };

/** Every offload feature of the device by its ethtool name ("rx-gro", "tx-tcp-segmentation", ...). */
export function offloadFeatures(name: string, opts: NetnsOption = {}): Record<string, FeatureState> {
  try {
    return loadNative().featuresGet(name, opts.netns);
  } catch (err) {
    throw ioError(err, { iface: name, netns: opts.netns });
  }
}

/** Requests features on/off by name; returns the state afterwards (a feature may be fixed). */
export function setOffloadFeatures(
  name: string,
  want: Record<string, boolean>,
  opts: NetnsOption = {},
): Record<string, FeatureState> {
  try {
    return loadNative().featuresSet(name, want, opts.netns);
  } catch (err) {
    throw ioError(err, { iface: name, netns: opts.netns });
  }
}

/**
 * Features that make the kernel hand an AF_PACKET reader something other than complete frames
 * of at most MTU bytes: receive aggregation on this device (GRO, hardware GRO, GRO lists, LRO,
 * UDP GRO forwarding) and, for what the local stack sends out of it, checksum offload and
 * segmentation offload (what `ethtool -K dev tx off tso off gso off gro off` turns off).
 */
export function isAggregatingFeature(feature: string): boolean {
  return (
    feature.startsWith('tx-checksum-') ||
    /^tx-(tcp|tcp6|tcp-ecn|tcp-mangleid|udp)-segmentation$/.test(feature) ||
    feature === 'tx-generic-segmentation' ||
    feature === 'rx-gro' ||
    feature === 'rx-gro-hw' ||
    feature === 'rx-gro-list' ||
    feature === 'rx-udp-gro-forwarding' ||
    feature === 'large-receive-offload'
  );
}

export interface OffloadChange {
  /** The features ferry turned off, with their previous `requested` state (for restoring). */
  previous: Record<string, boolean>;
  /** Aggregating features still active afterwards (fixed on this device). */
  stillActive: string[];
}

/** Turns off every aggregating feature that is on and changeable; reports what it changed. */
export function disableOffloads(name: string, opts: NetnsOption = {}): OffloadChange {
  const before = offloadFeatures(name, opts);
  const want: Record<string, boolean> = {};
  const previous: Record<string, boolean> = {};
  for (const [f, s] of Object.entries(before)) {
    if (isAggregatingFeature(f) && s.changeable && (s.active || s.requested)) {
      want[f] = false;
      previous[f] = s.requested;
    }
  }
  const after = Object.keys(want).length ? setOffloadFeatures(name, want, opts) : before;
  const stillActive = Object.entries(after)
    .filter(([f, s]) => isAggregatingFeature(f) && s.active)
    .map(([f]) => f);
  return { previous, stillActive };
}

/** Puts back what disableOffloads changed (best effort: the device may be gone). */
export function restoreOffloads(
  name: string,
  previous: Record<string, boolean>,
  opts: NetnsOption = {},
): void {
  if (Object.keys(previous).length === 0) return;
  try {
    setOffloadFeatures(name, previous, opts);
  } catch {
    // the interface may have disappeared with its namespace; nothing left to restore
  }
}
