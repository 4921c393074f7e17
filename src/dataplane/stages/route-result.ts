/**
 * What routing decided for one packet, written into preallocated fields (no object per lookup).
 * Implemented by the policy-routing tables in `src/dataplane/route/`; stages depend only on this.
 */
export const RT_UNICAST = 0;
export const RT_BLACKHOLE = 1;
export const RT_UNREACHABLE = 2;
export const RT_PROHIBIT = 3;

export interface RouteResult {
  /** Egress port index. */
  port: number;
  /** Gateway address, or 0 when the destination is on-link (or the port is L3). */
  nextHop: number;
  /** RT_* type of the matched route (or of the rule's action). */
  type: number;
  /** Table id that matched, and the policy rule's index (-1 when no rule was involved). */
  table: number;
  rule: number;
}

export interface RouteResolver {
  /** Routes IPv4 `dst`; fills `out` and returns true, or returns false when nothing matched. */
  lookup4(dst: number, src: number, mark: number, iif: number, out: RouteResult): boolean;
}

export function newRouteResult(): RouteResult {
  return { port: 0, nextHop: 0, type: RT_UNICAST, table: 0, rule: -1 };
}

/**
 * Host routes learned from where neighbours live (proxy-ARP "brouter" mode, as parprouted
 * keeps them): `addr/32 dev port` in the main table, replacing a previous side.
 */
export interface HostRouteLearner {
  learnHost4(addr: number, port: number): void;
  /** The port a learned host route points to, or -1. */
  hostPort4(addr: number): number;
}
