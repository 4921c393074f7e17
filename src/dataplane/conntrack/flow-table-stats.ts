/**
 * Counters of a FlowTable (monotonic since construction). Plain number fields on one class, so
 * the hot path updates them with monomorphic stores.
 */
export class FlowTableStats {
  /** Flows created. */
  inserts = 0;
  /** Flows removed by `remove()` (the caller's decision: TCP close, flush, conflict). */
  deletes = 0;
  /** Flows removed by `expire()` because their deadline passed. */
  expired = 0;
  /** Unassured flows evicted to make room for a new one (netfilter `early_drop`). */
  earlyDrops = 0;
  /** Inserts refused because the table was full and nothing could be evicted. */
  insertFailed = 0;
  /** Inserts refused because the original or reply key already names a flow. */
  clashes = 0;
  /** `lookup()` calls. */
  searches = 0;
  /** `lookup()` calls that found a flow. */
  found = 0;
  /** Of those, the ones the recent-flow cache answered without searching the index. */
  cacheHits = 0;
  /** Index cells examined by all `lookup()` calls. */
  probes = 0;
  /** Most cells one `lookup()` examined. */
  maxProbe = 0;

  /** Mean cells examined per lookup (0 before the first). */
  get avgProbe(): number {
    return this.searches === 0 ? 0 : this.probes / this.searches;
  }
}
