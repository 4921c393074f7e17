/**
 * Neighbour states, after Linux's NUD machine (RFC 4861 §7.3.2 for IPv6, which Linux applies to
 * ARP as well): an entry is usable while REACHABLE, STALE, DELAY or PROBE; INCOMPLETE entries
 * hold packets waiting for the first answer; FAILED ones drop traffic until a new attempt.
 */
export const NUD_NONE = 0;
export const NUD_INCOMPLETE = 1;
export const NUD_REACHABLE = 2;
export const NUD_STALE = 3;
export const NUD_DELAY = 4;
export const NUD_PROBE = 5;
export const NUD_FAILED = 6;
export const NUD_PERMANENT = 7;

export const NUD_NAMES = [
  'none',
  'incomplete',
  'reachable',
  'stale',
  'delay',
  'probe',
  'failed',
  'permanent',
];

/** Timers and limits, with Linux's defaults (net.ipv4.neigh.default.*). */
export interface NeighbourTimers {
  /** Seconds an entry stays REACHABLE after confirmation (base_reachable_time 30 s). */
  reachable: number;
  /** Seconds in DELAY before probing (delay_first_probe_time 5 s). */
  delayFirstProbe: number;
  /** Seconds between retransmitted requests (retrans_time 1 s). */
  retrans: number;
  /** Broadcast requests while INCOMPLETE (mcast_solicit 3). */
  maxMulticastProbes: number;
  /** Unicast requests while PROBE (ucast_solicit 3). */
  maxUnicastProbes: number;
  /** Seconds a STALE entry is kept unused before it is forgotten (gc_stale_time 60 s). */
  gcStale: number;
  /** Packets queued per unresolved neighbour (oldest dropped beyond it). */
  queuePerEntry: number;
}

export const DEFAULT_TIMERS: NeighbourTimers = {
  reachable: 30,
  delayFirstProbe: 5,
  retrans: 1,
  maxMulticastProbes: 3,
  maxUnicastProbes: 3,
  gcStale: 60,
  queuePerEntry: 3,
};
