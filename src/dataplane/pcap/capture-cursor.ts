import type { PacketBatch } from '../batch.js';
import { BatchFiller } from './batch-filler.js';
import { CaptureFormatError } from './capture-error.js';
import type { ChunkWindow } from './chunk-window.js';
import type { CapturePacket } from './format.js';
import { Fill, fillFrom, type RecordParser } from './record-parser.js';

/**
 * The reading state shared by the file and the in-memory reader: a parser, its window, and the
 * error latch. A format error first ends the batch that holds the packets before it; the next
 * `begin` raises it. So a replay loop sees every good packet, then the error.
 */
export class CaptureCursor {
  /** The format error that ended the capture, once it was met. */
  error: CaptureFormatError | undefined;
  private ended = false;
  private readonly filler = new BatchFiller();

  constructor(
    readonly window: ChunkWindow,
    readonly parser: RecordParser,
  ) {}

  /** Empties `batch` for a new fill; throws the latched error; false when the capture is over. */
  begin(batch: PacketBatch): boolean {
    if (batch.capacity === 0) throw new RangeError('readBatch needs a batch with at least one slot');
    batch.count = 0;
    if (this.error) throw this.error;
    this.filler.begin(batch);
    return !this.ended;
  }

  /**
   * One parse pass into the batch given to `begin`: true when the batch is done (full, end of
   * section or file, or a format error after some packets), false when the window needs
   * `parser.needBytes` more bytes. A format error with no packet before it is thrown at once.
   */
  step(batch: PacketBatch): boolean {
    let status: Fill;
    try {
      status = fillFrom(this.parser, this.window, this.filler);
    } catch (e) {
      if (!(e instanceof CaptureFormatError)) throw e;
      this.error = e;
      if (batch.count > 0) return true;
      throw e;
    }
    if (status === Fill.NeedMore) return false;
    if (status === Fill.End) this.ended = true;
    return true;
  }

  /** Reads the file header and the blocks before the first packet; false when it needs more bytes. */
  prime(): boolean {
    try {
      const status = fillFrom(this.parser, this.window, null);
      if (status === Fill.End) this.ended = true;
      return status !== Fill.NeedMore;
    } catch (e) {
      if (e instanceof CaptureFormatError) this.error = e;
      throw e;
    }
  }
}

/** Slot i of a batch as a standalone packet with its own bytes (allocates: tests and tools). */
export function copyPacket(batch: PacketBatch, i: number): CapturePacket {
  return {
    data: batch.packet(i).slice(),
    tsSec: batch.tsSec[i]!,
    tsNsec: batch.tsNsec[i]!,
    wireLength: batch.wireLength[i]!,
    iface: batch.port[i]!,
  };
}
