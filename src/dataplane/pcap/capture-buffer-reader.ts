import { PacketBatch } from '../batch.js';
import { CaptureCursor, copyPacket } from './capture-cursor.js';
import type { CaptureFormatError } from './capture-error.js';
import { sniffCapture } from './capture-sniff.js';
import { ChunkWindow } from './chunk-window.js';
import type { CaptureFormat, CaptureInterface, CapturePacket } from './format.js';

/**
 * Reads a pcap or pcapng capture that is already in memory, synchronously: for tests, and for
 * benches that replay from memory (`rewind()` starts over without re-reading anything).
 * Same batch contract and error behaviour as CaptureFileReader.
 */
export class CaptureBufferReader {
  private cursor: CaptureCursor;

  constructor(
    private readonly bytes: Uint8Array,
    /** Name that error messages start with. */
    readonly name = 'buffer',
  ) {
    this.cursor = this.start();
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

  /** Fills `batch` from slot 0 with the next packets and returns how many; 0 at the end. */
  readBatch(batch: PacketBatch): number {
    if (!this.cursor.begin(batch)) return 0;
    // The whole capture is in the window with `eof` set, so the parser never asks for more bytes.
    if (!this.cursor.step(batch))
      throw new Error(`${this.name}: parser asked for bytes past the end of memory`);
    return batch.count;
  }

  /** Every remaining packet with its own copy of the bytes (allocates: for tests and tools). */
  *packets(): Generator<CapturePacket> {
    const batch = new PacketBatch(64);
    for (let n = this.readBatch(batch); n > 0; n = this.readBatch(batch)) {
      for (let i = 0; i < n; i++) {
        yield copyPacket(batch, i);
      }
    }
  }

  /** Starts again from the first packet (and clears a latched error). */
  rewind(): void {
    this.cursor = this.start();
  }

  private start(): CaptureCursor {
    // A plain Uint8Array view (not a Buffer subclass) keeps the parsers' element access monomorphic.
    const bytes = new Uint8Array(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const window = new ChunkWindow(bytes, bytes.length, true);
    const cursor = new CaptureCursor(window, sniffCapture(this.name, window));
    cursor.prime();
    return cursor;
  }
}

/** Opens an in-memory capture; throws a CaptureFormatError when its header is bad. */
export function parseCaptureBuffer(bytes: Uint8Array, name = 'buffer'): CaptureBufferReader {
  return new CaptureBufferReader(bytes, name);
}
