import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import {
  CaptureFileReader,
  type CaptureWriter,
  DEFAULT_CHUNK_BYTES,
  PcapngWriter,
  PcapWriter,
} from '../../../src/dataplane/pcap/index.js';
import { withTempDir } from './read-helpers.js';

const PACKETS = 200_000;
const sizeOf = (i: number): number => 60 + ((i * 7919) % 1455);

/** Packet i: its index in the first 4 bytes, then bytes equal to i & 0xff. */
async function writeLarge(w: CaptureWriter, ifaces: number): Promise<void> {
  const batch = new PacketBatch(256);
  for (let i = 0; i < PACKETS; ) {
    batch.clear();
    let o = 0;
    for (; batch.count < batch.capacity && i < PACKETS; i++) {
      const n = sizeOf(i);
      const s = batch.count;
      batch.data.fill(i & 0xff, o, o + n);
      new DataView(batch.data.buffer).setUint32(o, i);
      batch.offset[s] = o;
      batch.length[s] = n;
      batch.wireLength[s] = n;
      batch.tsSec[s] = 1_700_000_000 + Math.floor(i / 1000);
      batch.tsNsec[s] = (i % 1000) * 1_000_003;
      batch.port[s] = i % ifaces;
      batch.count++;
      o += n;
    }
    await w.writeBatch(batch);
  }
  await w.close();
}

/** Reads the whole file, checking every packet, and tracks the memory the process holds in ArrayBuffers. */
async function readLarge(path: string, ifaces: number): Promise<void> {
  const fileBytes = (await stat(path)).size;
  expect(fileBytes).toBeGreaterThan(100 * 1024 * 1024);
  global.gc?.();
  const baseline = process.memoryUsage().arrayBuffers;
  let peak = baseline;
  const reader = await CaptureFileReader.open(path);
  const batch = new PacketBatch(256);
  const view = new DataView(batch.data.buffer);
  let next = 0;
  let batches = 0;
  for (let n = await reader.readBatch(batch); n > 0; n = await reader.readBatch(batch)) {
    for (let s = 0; s < n; s++, next++) {
      const o = batch.offset[s]!;
      const len = batch.length[s]!;
      if (
        len !== sizeOf(next) ||
        view.getUint32(o) !== next ||
        batch.data[o + len - 1] !== (next & 0xff) ||
        batch.tsSec[s] !== 1_700_000_000 + Math.floor(next / 1000) ||
        batch.tsNsec[s] !== (next % 1000) * 1_000_003 ||
        batch.port[s] !== next % ifaces
      ) {
        throw new Error(`packet ${next} differs`);
      }
    }
    if (++batches % 64 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    expect(reader.chunkBytes).toBe(DEFAULT_CHUNK_BYTES);
  }
  await reader.close();
  expect(reader.error).toBeUndefined();
  expect(next).toBe(PACKETS);
  // Each byte of the file was read exactly once, through the one chunk buffer …
  expect(reader.bytesRead).toBe(fileBytes);
  // … and the process never held more than a few chunks' worth of extra buffers (the file is > 100 MiB).
  expect(peak - baseline).toBeLessThan(16 * 1024 * 1024);
}

describe('large captures stream through a bounded buffer', () => {
  it('200k packets of pcap', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'large.pcap');
      await writeLarge(await PcapWriter.open(path), 1);
      await readLarge(path, 1);
    });
  });

  it('200k packets of pcapng on 3 interfaces', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'large.pcapng');
      await writeLarge(
        await PcapngWriter.open(path, { interfaces: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }),
        3,
      );
      await readLarge(path, 3);
    });
  });
});
