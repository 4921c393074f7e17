/**
 * Packet trace, after VPP: at capture time a stage stores a fixed-size binary record (what it
 * decided, as small integers) — no strings, no objects. Formatting into words happens only when
 * someone asks (`ferry trace`, `--trace FILE`), through the formatter the stage registered.
 *
 * Records live in a ring of Uint32 words: [traceId, stageId, event, a, b, c, d, e]. The first
 * bytes of each traced packet are snapshotted at admission so the story can start with what
 * arrived on the wire.
 */
const WORDS = 8;
/** Event code the pipeline uses for "dropped"; argument a is the drop reason id. */
export const TRACE_DROP = 0xffff_ffff;
export const TRACE_SNAP_BYTES = 128;

/** How a stage turns one of its records back into words; `a..e` are the record's arguments. */
export type TraceFormatter = (event: number, a: number, b: number, c: number, d: number, e: number) => string;

/**
 * Which packets an armed buffer takes (`ferry trace --live FILTER`). Asked at admission and only
 * while the buffer is armed, so an unarmed pipeline never calls it; a packet it refuses does not
 * count towards `remaining`.
 */
export interface TraceFilter {
  matches(data: Uint8Array, off: number, len: number, port: number): boolean;
}

export interface TraceStep {
  stage: string;
  event: number;
  text: string;
}

export interface TracedPacket {
  id: number;
  port: number;
  tsSec: number;
  tsNsec: number;
  length: number;
  /** The first TRACE_SNAP_BYTES bytes as they arrived. */
  head: Uint8Array;
  steps: TraceStep[];
}

export class TraceBuffer {
  private readonly words: Uint32Array;
  private readonly maxRecords: number;
  private next = 0;
  private wrapped = false;
  /** Per trace id (mod maxPackets): snapshot of arrival. */
  private readonly snap: Uint8Array;
  private readonly snapLen: Uint32Array;
  private readonly snapPort: Uint16Array;
  private readonly snapSec: Float64Array;
  private readonly snapNsec: Uint32Array;
  private nextId = 1;
  /** Packets still to trace (0 = tracing off). */
  remaining = 0;
  /** Only packets this filter accepts are traced (null: every packet). */
  filter: TraceFilter | null = null;
  /**
   * Called at the end of every pipeline run while set: the packets that run traced have finished
   * their way through the stages, so `drain` gives their whole stories (live tracing).
   */
  onRunDone: (() => void) | null = null;

  constructor(
    readonly maxPackets = 1024,
    recordsPerPacket = 24,
  ) {
    this.maxRecords = maxPackets * recordsPerPacket;
    this.words = new Uint32Array(this.maxRecords * WORDS);
    this.snap = new Uint8Array(maxPackets * TRACE_SNAP_BYTES);
    this.snapLen = new Uint32Array(maxPackets);
    this.snapPort = new Uint16Array(maxPackets);
    this.snapSec = new Float64Array(maxPackets);
    this.snapNsec = new Uint32Array(maxPackets);
  }

  /** Starts tracing the next `n` packets admitted. */
  arm(n: number): void {
    this.remaining = n;
  }

  /**
   * Called at admission: returns a trace id (non-zero) if this packet is to be traced, else 0.
   * Snapshots the first bytes.
   */
  begin(data: Uint8Array, off: number, len: number, port: number, tsSec: number, tsNsec: number): number {
    if (this.remaining === 0) return 0;
    if (this.filter !== null && !this.filter.matches(data, off, len, port)) return 0;
    this.remaining--;
    const id = this.nextId++;
    const k = id % this.maxPackets;
    const n = Math.min(len, TRACE_SNAP_BYTES);
    const base = k * TRACE_SNAP_BYTES;
    for (let i = 0; i < n; i++) this.snap[base + i] = data[off + i]!;
    this.snapLen[k] = len;
    this.snapPort[k] = port;
    this.snapSec[k] = tsSec;
    this.snapNsec[k] = tsNsec;
    return id;
  }

  record(id: number, stage: number, event: number, a = 0, b = 0, c = 0, d = 0, e = 0): void {
    const w = this.words;
    const o = this.next * WORDS;
    w[o] = id;
    w[o + 1] = stage;
    w[o + 2] = event;
    w[o + 3] = a;
    w[o + 4] = b;
    w[o + 5] = c;
    w[o + 6] = d;
    w[o + 7] = e;
    if (++this.next === this.maxRecords) {
      this.next = 0;
      this.wrapped = true;
    }
  }

  /** True when records wait to be drained. */
  get recorded(): boolean {
    return this.next !== 0 || this.wrapped;
  }

  /** Decodes everything recorded so far, in arrival order, and clears the buffer. */
  drain(
    stageNames: readonly string[],
    formatters: readonly (TraceFormatter | undefined)[],
    dropName: (reason: number) => string,
  ): TracedPacket[] {
    const byId = new Map<number, TracedPacket>();
    const order: TracedPacket[] = [];
    const total = this.wrapped ? this.maxRecords : this.next;
    const start = this.wrapped ? this.next : 0;
    for (let r = 0; r < total; r++) {
      const o = ((start + r) % this.maxRecords) * WORDS;
      const w = this.words;
      const id = w[o]!;
      let p = byId.get(id);
      if (!p) {
        const k = id % this.maxPackets;
        const len = this.snapLen[k]!;
        const base = k * TRACE_SNAP_BYTES;
        p = {
          id,
          port: this.snapPort[k]!,
          tsSec: this.snapSec[k]!,
          tsNsec: this.snapNsec[k]!,
          length: len,
          head: this.snap.slice(base, base + Math.min(len, TRACE_SNAP_BYTES)),
          steps: [],
        };
        byId.set(id, p);
        order.push(p);
      }
      const stage = w[o + 1]!;
      const fmt = formatters[stage];
      const event = w[o + 2]!;
      const text =
        event === TRACE_DROP
          ? `drop: ${dropName(w[o + 3]!)}`
          : fmt
            ? fmt(event, w[o + 3]!, w[o + 4]!, w[o + 5]!, w[o + 6]!, w[o + 7]!)
            : `event ${event} [${w[o + 3]} ${w[o + 4]} ${w[o + 5]} ${w[o + 6]} ${w[o + 7]}]`;
      p.steps.push({ stage: stageNames[stage] ?? `stage-${stage}`, event, text });
    }
    this.next = 0;
    this.wrapped = false;
    return order;
  }
}
