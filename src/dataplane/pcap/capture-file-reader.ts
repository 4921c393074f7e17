import { type FileHandle, open } from 'node:fs/promises';
import { PacketBatch } from '../batch.js';
import { CaptureCursor, copyPacket } from './capture-cursor.js';
import type { CaptureFormatError } from './capture-error.js';
import { SNIFF_BYTES, sniffCapture } from './capture-sniff.js';
import { ChunkWindow } from './chunk-window.js';
import type { CaptureFormat, CaptureInterface, CapturePacket } from './format.js';
import { MAX_PARSED_BLOCK_BYTES } from './pcapng-parser.js';

export const DEFAULT_CHUNK_BYTES = 1 << 20;
export const MIN_CHUNK_BYTES = 64;

export interface CaptureReadOptions {
  /** Size of the reusable read buffer (default 1 MiB). It grows only when a single block needs more. */
  chunkBytes?: number;
  /** Name that error messages start with (default: the path as given). */
  name?: string;
}

/**
 * Streams a pcap or pcapng file (told apart by its magic number) into PacketBatches. The file is
 * read with positioned reads into one reusable chunk buffer; records are parsed out of it and
 * copied into the caller's batch, so memory stays at one chunk however large the file is.
 *
 * Bad input: `readBatch` returns the packets before the fault, and the following call throws
 * the CaptureFormatError (also kept in `error`). Errors in the file header throw from `open`.
 */
export class CaptureFileReader {
  /** Set by `open` once the magic number has chosen the parser. */
  private cursor!: CaptureCursor;
  private closed = false;
  private readCount = 0;

  private constructor(
    private readonly fh: FileHandle,
    /** Name used in error messages. */
    readonly name: string,
    private readonly window: ChunkWindow,
  ) {}

  /** Opens a capture, checks its header, and reads the interface descriptions before the first packet. */
  static async open(path: string, options: CaptureReadOptions = {}): Promise<CaptureFileReader> {
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (
      !Number.isInteger(chunkBytes) ||
      chunkBytes < MIN_CHUNK_BYTES ||
      chunkBytes > MAX_PARSED_BLOCK_BYTES
    ) {
      throw new RangeError(
        `chunkBytes must be an integer from ${MIN_CHUNK_BYTES} to ${MAX_PARSED_BLOCK_BYTES}, got ${chunkBytes}`,
      );
    }
    const fh = await open(path, 'r');
    const name = options.name ?? path;
    try {
      const window = new ChunkWindow(new Uint8Array(chunkBytes), 0, false);
      const reader = new CaptureFileReader(fh, name, window);
      await reader.refill(SNIFF_BYTES);
      reader.cursor = new CaptureCursor(window, sniffCapture(name, window));
      while (!reader.cursor.prime()) await reader.refill(reader.cursor.parser.needBytes);
      return reader;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  get format(): CaptureFormat {
    return this.cursor.parser.format;
  }

  /** Interfaces of the current section: index = the `port` of their packets. */
  get interfaces(): readonly CaptureInterface[] {
    return this.cursor.parser.interfaces;
  }

  /** The format error that ended reading, once met (the packets before it were delivered). */
  get error(): CaptureFormatError | undefined {
    return this.cursor.error;
  }

  /** Current size of the chunk buffer: all the file data the reader holds at any time. */
  get chunkBytes(): number {
    return this.window.buf.length;
  }

  /** Bytes read from the file so far. */
  get bytesRead(): number {
    return this.readCount;
  }

  /**
   * Fills `batch` from slot 0 with the next packets (port = interface id, 0 for pcap) and
   * returns how many; 0 at the end of the file. A batch never spans two pcapng sections.
   */
  async readBatch(batch: PacketBatch): Promise<number> {
    if (this.closed) throw new Error(`${this.name}: reader is closed`);
    if (!this.cursor.begin(batch)) return 0;
    while (!this.cursor.step(batch)) await this.refill(this.cursor.parser.needBytes);
    return batch.count;
  }

  /** Every remaining packet with its own copy of the bytes (allocates: for tests and tools). */
  async *packets(): AsyncGenerator<CapturePacket> {
    const batch = new PacketBatch(64);
    for (;;) {
      const n = await this.readBatch(batch);
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        yield copyPacket(batch, i);
      }
    }
  }

  /** Closes the file; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }

  /**
   * Makes at least `need` bytes from `window.pos` available (fewer only at EOF): moves the
   * unconsumed tail to the front, grows the buffer if one block needs it, and reads.
   */
  private async refill(need: number): Promise<void> {
    const w = this.window;
    if (w.pos > 0) {
      if (w.pos < w.end) w.buf.copyWithin(0, w.pos, w.end);
      w.base += w.pos;
      w.end -= w.pos;
      w.pos = 0;
    }
    if (need > w.buf.length) {
      const grown = new Uint8Array(Math.max(need, Math.min(2 * w.buf.length, MAX_PARSED_BLOCK_BYTES)));
      grown.set(w.buf.subarray(0, w.end));
      w.buf = grown;
    }
    while (w.end < need && !w.eof) {
      const { bytesRead } = await this.fh.read(w.buf, w.end, w.buf.length - w.end, w.base + w.end);
      if (bytesRead === 0) w.eof = true;
      w.end += bytesRead;
      this.readCount += bytesRead;
    }
  }
}

/** Opens a capture file for streaming reads (CaptureFileReader.open). */
export function openCaptureFile(path: string, options: CaptureReadOptions = {}): Promise<CaptureFileReader> {
  return CaptureFileReader.open(path, options);
}
