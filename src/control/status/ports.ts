/**
 * Port facts for status and metrics: the counters every port keeps (Port.stats), the extra ones a
 * native port keeps (IoPortStats: ring and send-queue drops), and the kernel's view of the link
 * where the port has one.
 */

import type { LinkInfo } from '../../dataplane/io/link.js';
import type { IoPortStats } from '../../dataplane/io/port-stats.js';
import type { Port } from '../../dataplane/ports/port.js';
import { formatMac, setU48 } from '../../dataplane/wire/bytes.js';
import type { PortCounterSample } from './rates.js';
import type { PortLink } from './types.js';

export interface PortCounters {
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly txPackets: number;
  readonly txBytes: number;
  /** Frames the port lost, by reason. */
  readonly drops: Readonly<Record<string, number>>;
}

/** Port-level drop reasons (the pipeline's own are engine.drops()). */
export const PORT_DROP_REASONS = {
  /** The kernel's RX ring or socket buffer was full (PACKET_STATISTICS tp_drops). */
  rxRingFull: 'rx-ring-full',
  /** The send failed: bad descriptor, too long, link down. */
  txError: 'tx-error',
  /** The socket or TX ring was full (EAGAIN / ENOBUFS). */
  txQueueFull: 'tx-queue-full',
} as const;

/** Reads a port's counters once (a native port's `stats` is a fresh copy per read). */
export function portCounters(port: Port): PortCounters {
  const s = port.stats as Port['stats'] & Partial<IoPortStats>;
  const drops: Record<string, number> = { [PORT_DROP_REASONS.txError]: s.txErrors };
  if (typeof s.kernelDrops === 'number') drops[PORT_DROP_REASONS.rxRingFull] = s.kernelDrops;
  if (typeof s.txEagain === 'number') drops[PORT_DROP_REASONS.txQueueFull] = s.txEagain;
  return { rxPackets: s.rxPackets, rxBytes: s.rxBytes, txPackets: s.txPackets, txBytes: s.txBytes, drops };
}

export function totalDrops(c: PortCounters): number {
  let n = 0;
  for (const v of Object.values(c.drops)) n += v;
  return n;
}

export function rateSample(c: PortCounters): PortCounterSample {
  return {
    rxPackets: c.rxPackets,
    rxBytes: c.rxBytes,
    txPackets: c.txPackets,
    txBytes: c.txBytes,
    drops: totalDrops(c),
  };
}

interface LinkedPort {
  link(): LinkInfo;
}

function hasLink(p: Port): p is Port & LinkedPort {
  return typeof (p as Partial<LinkedPort>).link === 'function';
}

/** The kernel's view of the port's interface now; null when it has none or it cannot be read (gone). */
export function portLink(port: Port): PortLink | null {
  if (!hasLink(port)) return null;
  try {
    const l = port.link();
    return { up: l.up, running: l.running, operstate: l.operstate, ifindex: l.ifindex };
  } catch {
    return null;
  }
}

export function portMac(port: Port): string | null {
  if (!port.l2) return null;
  const b = new Uint8Array(6);
  setU48(b, 0, port.mac);
  return formatMac(b);
}
