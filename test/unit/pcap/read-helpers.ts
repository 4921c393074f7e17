import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import {
  CaptureFileReader,
  CaptureFormatError,
  type CaptureInterface,
  type CapturePacket,
  parseCaptureBuffer,
} from '../../../src/dataplane/pcap/index.js';

/** Everything a reader delivered: packets in order, the interfaces seen, and how it stopped. */
export interface ReadResult {
  packets: CapturePacket[];
  /** Packet counts of the successive batches. */
  batches: number[];
  interfaces: CaptureInterface[];
  /** The CaptureFormatError that ended reading (also thrown again by a further readBatch). */
  error: CaptureFormatError | undefined;
  /** True when the error came from opening (file header) rather than from a readBatch. */
  openFailed: boolean;
}

function take(batch: PacketBatch, into: CapturePacket[]): void {
  for (let i = 0; i < batch.count; i++) {
    into.push({
      data: batch.packet(i).slice(),
      tsSec: batch.tsSec[i]!,
      tsNsec: batch.tsNsec[i]!,
      wireLength: batch.wireLength[i]!,
      iface: batch.port[i]!,
    });
  }
}

function noteInterfaces(seen: CaptureInterface[], now: readonly CaptureInterface[]): void {
  for (const i of now) if (!seen.includes(i)) seen.push(i);
}

/** Reads an in-memory capture to its end (or error) in batches of `capacity`. */
export function readBuffer(bytes: Uint8Array, name = 't.cap', capacity = 4): ReadResult {
  const r: ReadResult = { packets: [], batches: [], interfaces: [], error: undefined, openFailed: false };
  let reader: ReturnType<typeof parseCaptureBuffer>;
  try {
    reader = parseCaptureBuffer(bytes, name);
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    r.error = e;
    r.openFailed = true;
    return r;
  }
  const batch = new PacketBatch(capacity);
  for (;;) {
    let n: number;
    try {
      n = reader.readBatch(batch);
    } catch (e) {
      if (!(e instanceof CaptureFormatError)) throw e;
      if (reader.error !== e) throw new Error('thrown error is not reader.error');
      r.error = e;
      break;
    }
    noteInterfaces(r.interfaces, reader.interfaces);
    if (n === 0) break;
    r.batches.push(n);
    take(batch, r.packets);
  }
  return r;
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-pcap-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads a capture file to its end (or error) with the streaming reader. */
export async function readPath(
  path: string,
  name: string,
  chunkBytes?: number,
  capacity = 4,
): Promise<ReadResult> {
  const r: ReadResult = { packets: [], batches: [], interfaces: [], error: undefined, openFailed: false };
  let reader: CaptureFileReader;
  try {
    reader = await CaptureFileReader.open(path, chunkBytes === undefined ? { name } : { name, chunkBytes });
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    r.error = e;
    r.openFailed = true;
    return r;
  }
  try {
    const batch = new PacketBatch(capacity);
    for (;;) {
      let n: number;
      try {
        n = await reader.readBatch(batch);
      } catch (e) {
        if (!(e instanceof CaptureFormatError)) throw e;
        if (reader.error !== e) throw new Error('thrown error is not reader.error');
        r.error = e;
        break;
      }
      noteInterfaces(r.interfaces, reader.interfaces);
      if (n === 0) break;
      r.batches.push(n);
      take(batch, r.packets);
    }
  } finally {
    await reader.close();
  }
  return r;
}

/** Writes `bytes` to a temporary file and reads it back with the streaming reader. */
export function readAsFile(
  bytes: Uint8Array,
  name = 't.cap',
  chunkBytes?: number,
  capacity = 4,
): Promise<ReadResult> {
  return withTempDir(async (dir) => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return readPath(path, name, chunkBytes, capacity);
  });
}

/** The same capture through every reader: in memory, file with the default chunk, file with a tiny chunk. */
export async function readAllWays(bytes: Uint8Array, name = 't.cap'): Promise<ReadResult[]> {
  return [readBuffer(bytes, name), await readAsFile(bytes, name), await readAsFile(bytes, name, 64, 3)];
}

/** Bytes as base64: vitest compares strings fast, typed arrays element by element (slowly). */
export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Packets with their bytes as base64, for fast deep comparison. */
export function comparable(
  packets: Iterable<CapturePacket>,
): Array<Omit<CapturePacket, 'data'> & { data: string }> {
  return [...packets].map((p) => ({ ...p, data: b64(p.data) }));
}
