import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import {
  type CapturePacket,
  MemorySink,
  PcapngWriter,
  PcapWriter,
  parseCaptureBuffer,
} from '../../../src/dataplane/pcap/index.js';
import { packetBytes } from './capture-builder.js';
import { b64, comparable, readPath, withTempDir } from './read-helpers.js';

function somePackets(n: number, ifaces = 1): CapturePacket[] {
  return Array.from({ length: n }, (_, i) => ({
    data: packetBytes(1 + ((i * 397) % 1514), i),
    tsSec: 1_700_000_000 + i,
    tsNsec: (i * 123_456_789) % 1_000_000_000,
    wireLength: 1 + ((i * 397) % 1514) + (i % 3 === 0 ? 100 : 0),
    iface: i % ifaces,
  }));
}

/** A batch holding `pkts` in slots 0.., with the slab order reversed (slots need not be in slab order). */
function batchOf(pkts: readonly CapturePacket[]): PacketBatch {
  const b = new PacketBatch(pkts.length, 1 + pkts.reduce((s, p) => s + p.data.length + 7, 0));
  let o = b.data.length;
  pkts.forEach((p, i) => {
    o -= p.data.length + 7;
    b.data.set(p.data, o);
    b.offset[i] = o;
    b.length[i] = p.data.length;
    b.wireLength[i] = p.wireLength;
    b.tsSec[i] = p.tsSec;
    b.tsNsec[i] = p.tsNsec;
    b.port[i] = p.iface;
  });
  b.count = pkts.length;
  return b;
}

describe('writers round-trip through the readers', () => {
  it('pcap, nanoseconds (the default): identical bytes, lengths and timestamps', async () => {
    const pkts = somePackets(300);
    const sink = new MemorySink();
    const w = new PcapWriter(sink);
    await w.writeBatch(batchOf(pkts.slice(0, 200)));
    for (const p of pkts.slice(200)) await w.writePacket(p.data, p.tsSec, p.tsNsec, p.wireLength);
    await w.close();
    const bytes = sink.bytes();
    expect([...bytes.subarray(0, 4)]).toEqual([0x4d, 0x3c, 0xb2, 0xa1]); // 0xa1b23c4d little-endian
    expect(w.packetsWritten).toBe(300);
    expect(w.bytesWritten).toBe(bytes.length);
    const r = parseCaptureBuffer(bytes);
    expect(r.interfaces[0]).toMatchObject({ linkType: 1, snaplen: 262144, tsresol: 9 });
    expect(comparable(r.packets())).toEqual(comparable(pkts));
  });

  it('pcap, microseconds: timestamps truncate to the microsecond, chosen link type and snaplen', async () => {
    const pkts = somePackets(50);
    const sink = new MemorySink();
    const w = new PcapWriter(sink, { resolution: 'us', linkType: 101, snaplen: 1000 });
    await w.writeBatch(batchOf(pkts));
    await w.close();
    const bytes = sink.bytes();
    expect([...bytes.subarray(0, 4)]).toEqual([0xd4, 0xc3, 0xb2, 0xa1]);
    const r = parseCaptureBuffer(bytes);
    expect(r.interfaces[0]).toMatchObject({ linkType: 101, snaplen: 1000, tsresol: 6 });
    expect(comparable(r.packets())).toEqual(
      comparable(
        pkts.map((p) => ({
          ...p,
          data: p.data.subarray(0, 1000),
          tsNsec: Math.floor(p.tsNsec / 1000) * 1000,
          wireLength: Math.max(p.wireLength, p.data.length),
        })),
      ),
    );
  });

  it('pcapng with several interfaces: one IDB each (if_name, if_tsresol 9), EPBs on their ports', async () => {
    const pkts = somePackets(120, 3);
    await withTempDir(async (dir) => {
      const path = join(dir, 'multi.pcapng');
      const w = await PcapngWriter.open(path, {
        interfaces: [
          { name: 'lan' },
          { name: 'wan', linkType: 101, snaplen: 600 },
          { name: 'dmz', snaplen: 0 },
        ],
      });
      await w.writeBatch(batchOf(pkts.slice(0, 100)));
      for (const p of pkts.slice(100)) await w.writePacket(p.data, p.tsSec, p.tsNsec, p.wireLength, p.iface);
      await w.close();
      await w.close();
      const r = await readPath(path, 'multi.pcapng', 4096, 16);
      expect(r.error).toBeUndefined();
      expect(r.interfaces.map((i) => [i.name, i.linkType, i.snaplen, i.tsresol])).toEqual([
        ['lan', 1, 262144, 9],
        ['wan', 101, 600, 9],
        ['dmz', 1, 0, 9],
      ]);
      expect(comparable(r.packets)).toEqual(
        comparable(
          pkts.map((p) =>
            p.iface === 1
              ? { ...p, data: p.data.subarray(0, 600), wireLength: Math.max(p.wireLength, p.data.length) }
              : p,
          ),
        ),
      );
      const bytes = await readFile(path);
      expect(bytes.length % 4).toBe(0);
    });
  });

  it('a copy pipeline (read batch → write batch) reproduces the file byte for byte', async () => {
    const pkts = somePackets(500);
    const sink = new MemorySink();
    const w = new PcapWriter(sink);
    for (const p of pkts) await w.writePacket(p.data, p.tsSec, p.tsNsec, p.wireLength);
    await w.close();
    const original = sink.bytes();
    const copy = new MemorySink();
    const cw = new PcapWriter(copy);
    const reader = parseCaptureBuffer(original);
    const batch = new PacketBatch(64);
    while (reader.readBatch(batch) > 0) await cw.writeBatch(batch);
    await cw.close();
    expect(b64(copy.bytes())).toBe(b64(original));
  });

  it('writes more than its buffer holds, in several sink writes', async () => {
    const pkts = Array.from({ length: 3000 }, (_, i) => ({
      data: packetBytes(1500, i),
      tsSec: i,
      tsNsec: i,
      wireLength: 1500,
      iface: 0,
    }));
    const sink = new MemorySink();
    let writes = 0;
    const counting = {
      write: (b: Uint8Array) => {
        writes++;
        return sink.write(b);
      },
      close: () => sink.close(),
    };
    const w = new PcapngWriter(counting, { interfaces: [{ name: 'p0' }] });
    for (let i = 0; i < pkts.length; i += 256) await w.writeBatch(batchOf(pkts.slice(i, i + 256)));
    await w.close();
    expect(writes).toBeGreaterThan(4);
    expect(comparable(parseCaptureBuffer(sink.bytes()).packets())).toEqual(comparable(pkts));
  });

  it('wireLength below the packet length means "not truncated"', async () => {
    const sink = new MemorySink();
    const w = new PcapWriter(sink);
    const b = batchOf([{ data: packetBytes(64, 1), tsSec: 1, tsNsec: 2, wireLength: 0, iface: 0 }]);
    await w.writeBatch(b);
    await w.close();
    expect([...parseCaptureBuffer(sink.bytes()).packets()][0]!.wireLength).toBe(64);
  });

  it('refuses what the format cannot hold, before writing anything of the batch', async () => {
    const sink = new MemorySink();
    const w = new PcapWriter(sink);
    const ok = { data: packetBytes(4, 1), tsSec: 1, tsNsec: 0, wireLength: 4, iface: 0 };
    await expect(w.writeBatch(batchOf([ok, { ...ok, tsSec: 2 ** 32 }]))).rejects.toThrow(RangeError);
    await expect(w.writePacket(ok.data, -1, 0)).rejects.toThrow(RangeError);
    await expect(w.writePacket(ok.data, 1, 1e9)).rejects.toThrow(RangeError);
    await expect(w.writePacket(ok.data, 1.5, 0)).rejects.toThrow(RangeError);
    await expect(w.writePacket(ok.data, 1, 0, 4, 1)).rejects.toThrow(/single interface/);
    expect(w.packetsWritten).toBe(0);
    await w.close();
    await expect(w.writePacket(ok.data, 1, 0)).rejects.toThrow(/closed/);
    expect(sink.bytes().length).toBe(24);

    const ng = new PcapngWriter(new MemorySink(), { interfaces: [{ name: 'a' }] });
    await expect(ng.writePacket(ok.data, 1, 0, 4, 1)).rejects.toThrow(/interface 1 was not declared/);
    await expect(ng.writePacket(ok.data, 2 ** 40, 0)).rejects.toThrow(RangeError);
    expect(() => new PcapngWriter(new MemorySink(), { interfaces: [] })).toThrow(RangeError);
    expect(() => new PcapWriter(new MemorySink(), { snaplen: 0 })).toThrow(RangeError);
    expect(() => new PcapWriter(new MemorySink(), { snaplen: 300_000 })).toThrow(RangeError);
    expect(() => new PcapWriter(new MemorySink(), { linkType: 70_000 })).toThrow(RangeError);
  });

  it('any packets, any timestamps: pcap ns and pcapng round-trip exactly', async () => {
    const packet = fc.record({
      data: fc.uint8Array({ maxLength: 2000 }),
      tsSec: fc.integer({ min: 0, max: 0xffffffff }),
      tsNsec: fc.integer({ min: 0, max: 999_999_999 }),
      extra: fc.nat(70_000),
      iface: fc.nat(3),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(packet, { maxLength: 40 }), fc.boolean(), async (list, asBatch) => {
        const pcapPkts = list.map((p) => ({
          data: p.data,
          tsSec: p.tsSec,
          tsNsec: p.tsNsec,
          wireLength: p.data.length + p.extra,
          iface: 0,
        }));
        const ngPkts = pcapPkts.map((p, i) => ({ ...p, iface: list[i]!.iface }));
        const pcapSink = new MemorySink();
        const ngSink = new MemorySink();
        const pw = new PcapWriter(pcapSink);
        const nw = new PcapngWriter(ngSink, {
          interfaces: [{}, { name: 'b' }, { name: 'c' }, { name: 'd' }],
        });
        if (asBatch) {
          await pw.writeBatch(batchOf(pcapPkts));
          await nw.writeBatch(batchOf(ngPkts));
        } else {
          for (const p of ngPkts) {
            await pw.writePacket(p.data, p.tsSec, p.tsNsec, p.wireLength);
            await nw.writePacket(p.data, p.tsSec, p.tsNsec, p.wireLength, p.iface);
          }
        }
        await pw.close();
        await nw.close();
        expect(comparable(parseCaptureBuffer(pcapSink.bytes()).packets())).toEqual(comparable(pcapPkts));
        expect(comparable(parseCaptureBuffer(ngSink.bytes()).packets())).toEqual(comparable(ngPkts));
      }),
      { numRuns: 200 },
    );
  });
});
