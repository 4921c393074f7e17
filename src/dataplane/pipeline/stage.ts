/**
 * A stage does one thing to a vector of packets (a Click element, a VPP node, a Snabb app).
 *
 * `process` receives the slots queued for it. For each slot it must do exactly one of:
 * `pipe.nextId(stage.id, slot)` (hand it on), `pipe.drop(slot, reason)` (count and discard), or
 * `pipe.consume(slot)` (it was absorbed: delivered locally, queued for ARP, …). A stage whose
 * packets mostly go to one successor may instead compact them in place (`slots[w++] = slot`) and
 * hand them on at the end with `pipe.nextAll(next.id, slots, w)`, which trades queues instead of
 * copying — provided every packet it sends to that successor goes this way, so order is kept.
 * Stages never allocate per packet; what they decide for a traced packet they record with
 * `pipe.trace(slot, this, event, …)` and explain later in `formatTrace`.
 */
import type { Pipeline } from './pipeline.js';
import type { TraceFormatter } from './trace.js';

export abstract class Stage {
  /** Assigned by the pipeline when the stage is added; also its trace id. */
  id = -1;
  abstract readonly name: string;
  abstract process(pipe: Pipeline, slots: Uint16Array, n: number): void;
  /** Optional: turn a trace record of this stage into words. */
  formatTrace?: TraceFormatter;
}
