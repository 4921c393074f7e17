/**
 * Port counters. The addon keeps them as doubles (exact to 2^53) in the order of `enum counter`
 * in native/src/ferry_io.h; `portStats` copies them into a Float64Array in one call and folds in
 * the kernel's PACKET_STATISTICS (which the kernel clears on every read).
 */
export interface IoPortStats {
  rxPackets: number;
  rxBytes: number;
  rxBatches: number;
  txPackets: number;
  txBytes: number;
  /** Frames that could not be sent: bad descriptor, too long, malformed, link down. */
  txErrors: number;
  /** Frames dropped because the socket or the TX ring was full (EAGAIN / ENOBUFS). */
  txEagain: number;
  /** Frames the kernel dropped because the RX ring / socket buffer was full (tp_drops). */
  kernelDrops: number;
  /** TPACKET_V3 only: times the ring froze because every block was held by user space. */
  freezeQueue: number;
  /** Socket errors seen on wake-ups (SO_ERROR, error queue, read errors). */
  socketErrors: number;
  rxTruncated: number;
  rxGso: number;
  wakeups: number;
  emptyWakeups: number;
  txKicks: number;
  /** errno of the last TX or socket error (0 if none). */
  lastErrno: number;
}

export const COUNTER_NAMES: readonly (keyof IoPortStats)[] = [
  'rxPackets',
  'rxBytes',
  'rxBatches',
  'txPackets',
  'txBytes',
  'txErrors',
  'txEagain',
  'kernelDrops',
  'freezeQueue',
  'socketErrors',
  'rxTruncated',
  'rxGso',
  'wakeups',
  'emptyWakeups',
  'txKicks',
  'lastErrno',
];

export function statsFrom(values: Float64Array): IoPortStats {
  const s = {} as IoPortStats;
  for (let i = 0; i < COUNTER_NAMES.length; i++) s[COUNTER_NAMES[i]!] = values[i]!;
  return s;
}
