/**
 * Runs a batch of packets through a graph of stages, VPP-style: each stage has a queue of slots;
 * the dispatcher calls each non-empty queue's stage once per pass with all its packets, in the
 * order the stages were added (which is the graph's topological order). A stage that hands a
 * packet to an earlier stage causes another pass; passes are bounded so a mis-wired graph drops
 * packets (`pipeline-loop`) instead of spinning.
 */
import type { PacketBatch } from '../batch.js';
import { DropCounters } from './drop-reasons.js';
import { PacketMeta } from './packet-meta.js';
import type { Stage } from './stage.js';
import { TRACE_DROP, TraceBuffer, type TracedPacket, type TraceFormatter } from './trace.js';

const MAX_PASSES = 8;

export class Pipeline {
  readonly stages: Stage[] = [];
  readonly meta: PacketMeta;
  readonly drops = new DropCounters();
  readonly tracer: TraceBuffer;
  /** The batch being processed (valid during run()). */
  batch!: PacketBatch;
  /** Per stage: packets processed, and calls (vectors). */
  private vectors: Float64Array = new Float64Array(16);
  private calls: Float64Array = new Float64Array(16);
  /** Per stage: milliseconds spent, when `profile` is on. */
  private time: Float64Array = new Float64Array(16);
  profile = false;

  private queues: Uint16Array[] = [];
  private counts: Int32Array = new Int32Array(16);
  private current = -1;
  private loopDrop: number;
  private pending = 0;

  constructor(
    readonly capacity = 256,
    tracer = new TraceBuffer(),
  ) {
    this.meta = new PacketMeta(capacity);
    this.tracer = tracer;
    this.loopDrop = this.drops.register('pipeline-loop');
  }

  /** Adds a stage (in topological order) and returns it, with its id assigned. */
  add<S extends Stage>(stage: S): S {
    stage.id = this.stages.length;
    this.stages.push(stage);
    this.queues.push(new Uint16Array(this.capacity));
    if (this.stages.length > this.counts.length) {
      const n = this.counts.length * 2;
      this.counts = grow(this.counts, n);
      this.vectors = grow(this.vectors, n);
      this.calls = grow(this.calls, n);
      this.time = grow(this.time, n);
    }
    return stage;
  }

  /** Queues slot for `stage`. */
  next(stage: Stage, slot: number): void {
    this.nextId(stage.id, slot);
  }

  /**
   * Queues slot for the stage with id `id`. The hot path uses this form: reading `stage.id` inside
   * the dispatcher would see every stage class (a megamorphic property load per packet), while
   * `this.next.id` at the call site sees only the one class wired there.
   */
  nextId(id: number, slot: number): void {
    this.queues[id]![this.counts[id]!++] = slot;
    this.pending++;
  }

  /**
   * Queues all `n` slots of the vector the current stage was given (`slots`, as `process`
   * received it) for the stage with id `id`, as `nextId` for each would. When that stage's queue
   * is empty the two queues trade places instead of copying: a stage that has nothing to do with
   * a vector passes it on in O(1).
   */
  nextAll(id: number, slots: Uint16Array, n: number): void {
    const cur = this.current;
    if (this.counts[id] === 0 && cur >= 0 && cur !== id && this.queues[cur] === slots) {
      this.queues[cur] = this.queues[id]!;
      this.queues[id] = slots;
      this.counts[id] = n;
      this.pending += n;
      return;
    }
    for (let k = 0; k < n; k++) this.nextId(id, slots[k]!);
  }

  /** Discards slot, counting `reason` (an id from `drops.register`). */
  drop(slot: number, reason: number): void {
    this.meta.dropReason[slot] = reason;
    this.drops.count(reason);
    const t = this.meta.traceId[slot]!;
    if (t !== 0) this.tracer.record(t, Math.max(this.current, 0), TRACE_DROP, reason);
  }

  /** The packet was absorbed by the current stage (nothing more to do with it here). */
  consume(_slot: number): void {}

  /** Records a trace event for slot if it is traced (one branch when it is not). */
  trace(slot: number, stage: Stage, event: number, a = 0, b = 0, c = 0, d = 0, e = 0): void {
    const t = this.meta.traceId[slot]!;
    if (t !== 0) this.tracer.record(t, stage.id, event, a, b, c, d, e);
  }

  /**
   * Admits batch slots [0, batch.count) on their ports and runs them from `entry`.
   * `admit` = false skips metadata reset (for packets an earlier run already prepared).
   */
  run(batch: PacketBatch, entry: Stage, admit = true): void {
    this.batch = batch;
    const m = this.meta;
    const tr = this.tracer;
    const n = batch.count;
    if (admit) m.admitAll(batch.port, batch.offset, n);
    if (tr.remaining === 0) m.traceId.fill(0, 0, n);
    else for (let i = 0; i < n; i++) m.traceId[i] = this.traceBegin(batch, i);
    // Slots 0..n-1 in order: the entry stage's queue, written as one run.
    const id = entry.id;
    const q = this.queues[id]!;
    let c = this.counts[id]!;
    for (let i = 0; i < n; i++) q[c++] = i;
    this.counts[id] = c;
    this.pending += n;
    this.dispatch();
  }

  /**
   * Runs slots [0, batch.count) each from its own stage (`entries[slot]` = stage id). The caller
   * has prepared the metadata (used for packets the router originates).
   */
  runEach(batch: PacketBatch, entries: Int16Array): void {
    this.batch = batch;
    const m = this.meta;
    for (let i = 0; i < batch.count; i++) {
      m.traceId[i] = this.traceBegin(batch, i);
      this.next(this.stages[entries[i]!]!, i);
    }
    this.dispatch();
  }

  /** Slot i's trace id: non-zero when the tracer is armed and takes it (snapshotting its first bytes). */
  private traceBegin(batch: PacketBatch, i: number): number {
    const tr = this.tracer;
    if (tr.remaining === 0) return 0;
    return tr.begin(
      batch.data,
      batch.offset[i]!,
      batch.length[i]!,
      batch.port[i]!,
      batch.tsSec[i]!,
      batch.tsNsec[i]!,
    );
  }

  private dispatch(): void {
    for (let pass = 0; pass < MAX_PASSES && this.pending > 0; pass++) {
      for (let s = 0; s < this.stages.length; s++) {
        const n = this.counts[s]!;
        if (n === 0) continue;
        // Detach this queue before processing: a stage may queue packets for itself again.
        const q = this.queues[s]!;
        this.counts[s] = 0;
        this.pending -= n;
        this.current = s;
        const stage = this.stages[s]!;
        if (this.profile) {
          const t0 = performance.now();
          stage.process(this, q, n);
          this.time[s]! += performance.now() - t0;
        } else {
          stage.process(this, q, n);
        }
        this.vectors[s]! += n;
        this.calls[s]!++;
      }
    }
    if (this.pending > 0) {
      for (let s = 0; s < this.stages.length; s++) {
        const q = this.queues[s]!;
        for (let k = 0; k < this.counts[s]!; k++) this.drop(q[k]!, this.loopDrop);
        this.counts[s] = 0;
      }
      this.pending = 0;
    }
    this.current = -1;
    if (this.tracer.onRunDone !== null) this.tracer.onRunDone();
  }

  /** Per-stage counters (VPP's `show runtime`): packets, calls, average vector, ns/packet if profiled. */
  runtime(): { stage: string; packets: number; calls: number; vector: number; nsPerPacket: number }[] {
    return this.stages.map((st, i) => ({
      stage: st.name,
      packets: this.vectors[i]!,
      calls: this.calls[i]!,
      vector: this.calls[i]! ? this.vectors[i]! / this.calls[i]! : 0,
      nsPerPacket: this.vectors[i]! ? (this.time[i]! * 1e6) / this.vectors[i]! : 0,
    }));
  }

  /** Zeroes the per-stage counters (e.g. before a profiled run). */
  resetRuntime(): void {
    this.vectors.fill(0);
    this.calls.fill(0);
    this.time.fill(0);
  }

  /** Formats and clears the trace buffer. */
  drainTrace(): TracedPacket[] {
    const names = this.stages.map((s) => s.name);
    const fmts: (TraceFormatter | undefined)[] = this.stages.map((s) => s.formatTrace?.bind(s));
    return this.tracer.drain(names, fmts, (r) => this.drops.name(r));
  }
}

function grow<T extends Int32Array | Float64Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
