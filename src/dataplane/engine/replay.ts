/**
 * Replay: drives the router from capture files instead of live ports. Inputs (one per port) are
 * merged by timestamp; packet timestamps are the engine clock, so a replay is deterministic and
 * timers (ARP retries, neighbour ageing) play out on the capture's time line.
 *
 * Batches are cut when full or when they would span more than `maxSpanNs` of capture time (1 ms
 * by default, like a live ring's block timeout), so that timing-sensitive exchanges (an ARP reply
 * 0.5 s after its request) are processed in order, not all at once.
 */
import { PacketBatch } from '../batch.js';
import { type CaptureBufferReader, type CaptureFileReader, CaptureFormatError } from '../pcap/index.js';
import type { TracedPacket } from '../pipeline/trace.js';
import type { RouterEngine } from './router-engine.js';

export interface ReplaySource {
  /** Engine port index the packets arrive on. */
  port: number;
  reader: CaptureFileReader | CaptureBufferReader;
}

export interface ReplayOptions {
  batchSize?: number;
  maxSpanNs?: number;
  /** Record and hand over the trace of every packet. */
  onTrace?: (packets: TracedPacket[]) => void | Promise<void>;
  /** After each engine step (ports flush what they sent here). */
  afterStep?: () => void | Promise<void>;
  /** Called once with the first packet's time, before it is processed (gratuitous ARP goes here). */
  onStart?: (now: number) => void;
  /** Progress, in packets read so far. */
  onProgress?: (packets: number) => void;
}

export interface ReplayResult {
  packets: number;
  /** Inputs that ended with a format error (the packets before it were replayed). */
  errors: { port: number; error: Error }[];
  batches: number;
  firstTs: number;
  lastTs: number;
}

interface Cursor {
  src: ReplaySource;
  batch: PacketBatch;
  idx: number;
  done: boolean;
}

export async function replay(
  engine: RouterEngine,
  sources: ReplaySource[],
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  const size = opts.batchSize ?? 256;
  const span = opts.maxSpanNs ?? 1_000_000;
  const merged = new PacketBatch(size, size * 2048);
  const cursors: Cursor[] = sources.map((src) => ({
    src,
    batch: new PacketBatch(size),
    idx: 0,
    done: false,
  }));
  const result: ReplayResult = {
    packets: 0,
    errors: [],
    batches: 0,
    firstTs: Number.NaN,
    lastTs: Number.NaN,
  };

  const refill = async (c: Cursor): Promise<void> => {
    if (c.done || c.idx < c.batch.count) return;
    c.idx = 0;
    c.batch.count = 0;
    try {
      if ((await c.src.reader.readBatch(c.batch)) === 0) c.done = true;
    } catch (e) {
      // A corrupt or truncated capture: what came before the fault was replayed; report and go on.
      if (!(e instanceof CaptureFormatError)) throw e;
      result.errors.push({ port: c.src.port, error: e });
      c.done = true;
    }
  };
  const tsOf = (c: Cursor): number => c.batch.tsSec[c.idx]! * 1e9 + c.batch.tsNsec[c.idx]!;

  for (;;) {
    merged.count = 0;
    let used = 0;
    let startNs = 0;
    for (;;) {
      for (const c of cursors) await refill(c);
      let best: Cursor | null = null;
      for (const c of cursors) if (!c.done && (best === null || tsOf(c) < tsOf(best))) best = c;
      if (best === null) break;
      const b = best.batch;
      const i = best.idx;
      const len = b.length[i]!;
      const ts = tsOf(best);
      if (
        merged.count > 0 &&
        (merged.count === size || used + len > merged.data.length || ts - startNs > span)
      )
        break;
      if (merged.count === 0) startNs = ts;
      const s = merged.count++;
      merged.data.set(b.data.subarray(b.offset[i]!, b.offset[i]! + len), used);
      merged.offset[s] = used;
      merged.length[s] = len;
      merged.wireLength[s] = b.wireLength[i]!;
      merged.tsSec[s] = b.tsSec[i]!;
      merged.tsNsec[s] = b.tsNsec[i]!;
      merged.port[s] = best.src.port;
      merged.flags[s] = b.flags[i]!;
      used += len;
      best.idx++;
    }
    if (merged.count === 0) break;
    const last = merged.count - 1;
    const now = merged.tsSec[last]! + merged.tsNsec[last]! / 1e9;
    if (result.batches === 0) opts.onStart?.(merged.tsSec[0]! + merged.tsNsec[0]! / 1e9);
    if (opts.onTrace) engine.pipe.tracer.arm(merged.count + 4096);
    engine.receive(merged);
    if (opts.onTrace) {
      engine.pipe.tracer.arm(0);
      await opts.onTrace(engine.pipe.drainTrace());
    }
    if (opts.afterStep) await opts.afterStep();
    if (Number.isNaN(result.firstTs)) result.firstTs = merged.tsSec[0]! + merged.tsNsec[0]! / 1e9;
    result.lastTs = now;
    result.packets += merged.count;
    result.batches++;
    opts.onProgress?.(result.packets);
  }
  return result;
}
