/**
 * The trace file: one JSON object per line and per packet (`ferry replay --trace FILE`,
 * `ferry trace --live`). It holds what the pipeline recorded, already in words, plus the first
 * bytes of the packet as it arrived, so `ferry trace` can show the headers too.
 */
import type { TracedPacket } from '../../dataplane/pipeline/trace.js';
import { toHex } from '../../dataplane/wire/bytes.js';

export interface TraceRecord {
  id: number;
  /** Arrival time, "seconds.nanoseconds". */
  ts: string;
  /** Port it arrived on ("(router)" for packets the router originated). */
  port: string;
  /** How to read `head`: Ethernet or bare IP. */
  link: 'ethernet' | 'raw-ip';
  length: number;
  /** The first bytes as they arrived, hex. */
  head: string;
  steps: { stage: string; text: string }[];
}

/**
 * Received packets are framed as their port frames them; the router's own packets are bare IP,
 * except the ARP frames it builds whole (EtherType 0x0806 at bytes 12–13).
 */
function linkOf(p: TracedPacket, known: boolean, portIsL2: (port: number) => boolean): TraceRecord['link'] {
  if (known) return portIsL2(p.port) ? 'ethernet' : 'raw-ip';
  return p.head.length >= 14 && p.head[12] === 0x08 && p.head[13] === 0x06 ? 'ethernet' : 'raw-ip';
}

export function toRecord(
  p: TracedPacket,
  portNames: readonly string[],
  portIsL2: (port: number) => boolean,
): TraceRecord {
  const known = p.port < portNames.length;
  return {
    id: p.id,
    ts: `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}`,
    port: known ? portNames[p.port]! : '(router)',
    link: linkOf(p, known, portIsL2),
    length: p.length,
    head: toHex(p.head),
    steps: p.steps.map((s) => ({ stage: s.stage, text: s.text })),
  };
}
