import { type PacketBatch, PKT_TRUNCATED } from '../batch.js';

/**
 * A gap this size or less between two packets in the source is copied along with them, so
 * consecutive records move into the slab with one `set()` (the record headers between them
 * become unused slab bytes). A bigger gap starts a new run.
 */
const MAX_RUN_GAP = 256;

/**
 * Copies parsed packets into a PacketBatch without a per-packet allocation. Packets that lie
 * close together in the source window form a run that is copied with a single `set()` when the
 * run ends, so the only allocation is one subarray view per run (typically one per batch).
 * `flush()` must run before the source window changes.
 */
export class BatchFiller {
  private batch: PacketBatch | null = null;
  private src: Uint8Array = new Uint8Array(0);
  /** Source range of the pending run, or runStart < 0 when none is pending. */
  private runStart = -1;
  private runEnd = 0;
  /** Slab offset where the pending run goes. */
  private runDst = 0;
  /** First free slab byte after the flushed runs. */
  private slabUsed = 0;

  /** Starts filling `batch` from slot 0. */
  begin(batch: PacketBatch): void {
    this.batch = batch;
    batch.count = 0;
    this.runStart = -1;
    this.slabUsed = 0;
  }

  /** Packets added since `begin`. */
  get count(): number {
    return this.batch!.count;
  }

  get full(): boolean {
    const b = this.batch!;
    return b.count >= b.capacity;
  }

  /**
   * Adds the packet at `src[start, start + length)`; false (nothing added) when the batch has no
   * free slot or its slab no room left. A packet bigger than the whole slab replaces the slab of
   * an empty batch with a larger one (the only allocation, and only for oversized packets).
   */
  add(
    src: Uint8Array,
    start: number,
    length: number,
    wireLength: number,
    tsSec: number,
    tsNsec: number,
    port: number,
  ): boolean {
    const b = this.batch!;
    const slot = b.count;
    if (slot >= b.capacity) return false;
    let dst: number;
    if (
      this.runStart >= 0 &&
      src === this.src &&
      start >= this.runEnd &&
      start - this.runEnd <= MAX_RUN_GAP &&
      this.runDst + (start + length - this.runStart) <= b.data.length
    ) {
      dst = this.runDst + (start - this.runStart);
      this.runEnd = start + length;
    } else {
      this.flush();
      if (this.slabUsed + length > b.data.length) {
        if (slot > 0) return false;
        b.data = new Uint8Array(Math.max(length, 2 * b.data.length));
      }
      this.src = src;
      this.runStart = start;
      this.runEnd = start + length;
      this.runDst = this.slabUsed;
      dst = this.slabUsed;
    }
    b.offset[slot] = dst;
    b.length[slot] = length;
    b.wireLength[slot] = wireLength;
    b.tsSec[slot] = tsSec;
    b.tsNsec[slot] = tsNsec;
    b.port[slot] = port;
    b.flags[slot] = length < wireLength ? PKT_TRUNCATED : 0;
    b.count = slot + 1;
    return true;
  }

  /** Copies the pending run into the slab. */
  flush(): void {
    if (this.runStart < 0) return;
    const b = this.batch!;
    if (this.runEnd > this.runStart) b.data.set(this.src.subarray(this.runStart, this.runEnd), this.runDst);
    this.slabUsed = this.runDst + (this.runEnd - this.runStart);
    this.runStart = -1;
  }
}
