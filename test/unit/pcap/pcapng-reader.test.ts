import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import { CaptureFileReader, parseCaptureBuffer } from '../../../src/dataplane/pcap/index.js';
import {
  Bytes,
  block,
  concat,
  epb,
  i64,
  idb,
  opb,
  packetBytes,
  shb,
  spb,
  u8,
  utf8,
} from './capture-builder.js';
import { readAllWays, readAsFile, withTempDir } from './read-helpers.js';

const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
const OPT_COMMENT = 1;

/** SHB, two interfaces (ns "eth0", default-µs "eth1"), packets on both, and blocks ferry skips. */
function twoInterfaces(le: boolean): Uint8Array {
  const nrb = block(
    le,
    4,
    new Bytes(le)
      .u16(1)
      .u16(8)
      .bytes(Uint8Array.of(10, 0, 0, 1, 104, 0, 0, 0))
      .u32(0)
      .build(),
  );
  const isb = block(le, 5, new Bytes(le).u32(0).u32(0).u32(0).build());
  const dsb = block(le, 10, new Bytes(le).u32(0x544c534b).u32(5).bytes(utf8('hello')).build());
  const custom = block(le, 0x00000bad, new Bytes(le).u32(32473).bytes(utf8('private data')).build());
  const customNoCopy = block(le, 0x40000bad, new Bytes(le).u32(32473).build());
  return concat(
    shb(le, { options: [[4, utf8('test')]] }),
    idb(le, {
      linkType: 1,
      snaplen: 1500,
      options: [
        [IF_NAME, utf8('eth0')],
        [IF_TSRESOL, u8(9)],
      ],
    }),
    nrb,
    idb(le, { linkType: 101, snaplen: 0, options: [[IF_NAME, utf8('eth1')]] }),
    epb(le, { iface: 0, ts: 1_700_000_000_123_456_789n, data: packetBytes(61, 1) }),
    dsb,
    epb(le, {
      iface: 1,
      ts: 1_700_000_001_654_321n,
      data: packetBytes(40, 2),
      options: [[OPT_COMMENT, utf8('hi')]],
    }),
    custom,
    isb,
    epb(le, { iface: 0, ts: 1_700_000_002_000_000_001n, data: packetBytes(1500, 3), orig: 9000 }),
    customNoCopy,
  );
}

describe('pcapng reader (draft-ietf-opsawg-pcapng)', () => {
  for (const le of [true, false]) {
    it(`${le ? 'little' : 'big'}-endian section: interfaces, EPBs, skipped NRB/ISB/DSB/custom blocks`, async () => {
      for (const r of await readAllWays(twoInterfaces(le), 'x.pcapng')) {
        expect(r.error).toBeUndefined();
        expect(
          r.interfaces.map((i) => [i.index, i.name, i.linkType, i.link.kind, i.snaplen, i.tsresol]),
        ).toEqual([
          [0, 'eth0', 1, 'ethernet', 1500, 9],
          [1, 'eth1', 101, 'raw-ip', 0, 6],
        ]);
        expect(r.packets.map((p) => [p.iface, p.tsSec, p.tsNsec, p.wireLength, p.data.length])).toEqual([
          [0, 1_700_000_000, 123_456_789, 61, 61],
          [1, 1_700_000_001, 654_321_000, 40, 40],
          [0, 1_700_000_002, 1, 9000, 1500],
        ]);
        expect(r.packets.map((p) => p.data)).toEqual([
          packetBytes(61, 1),
          packetBytes(40, 2),
          packetBytes(1500, 3),
        ]);
      }
    });
  }

  it('applies if_tsresol 2^-n and if_tsoffset (signed seconds)', async () => {
    for (const le of [true, false]) {
      const bytes = concat(
        shb(le),
        idb(le, {
          options: [
            [IF_TSRESOL, u8(0x80 | 20)],
            [IF_TSOFFSET, i64(le, 1_000_000_000n)],
          ],
        }),
        idb(le, {
          options: [
            [IF_TSRESOL, u8(3)],
            [IF_TSOFFSET, i64(le, -5n)],
          ],
        }),
        epb(le, { iface: 0, ts: (7n << 20n) | (1n << 19n), data: packetBytes(4, 1) }),
        epb(le, { iface: 1, ts: 12_345n, data: packetBytes(4, 1) }),
      );
      for (const r of await readAllWays(bytes)) {
        expect(r.interfaces.map((i) => [i.tsUnitsPerSecond, i.tsOffsetSeconds])).toEqual([
          [2 ** 20, 1_000_000_000],
          [1000, -5],
        ]);
        expect(r.packets.map((p) => [p.tsSec, p.tsNsec])).toEqual([
          [1_000_000_007, 500_000_000],
          [7, 345_000_000],
        ]);
      }
    }
  });

  it('reads Simple Packet Blocks on interface 0, cut to its snaplen, without timestamps', async () => {
    const bytes = concat(
      shb(false),
      idb(false, { snaplen: 64 }),
      spb(false, 100, packetBytes(64, 1)),
      spb(false, 30, packetBytes(30, 2)),
    );
    for (const r of await readAllWays(bytes)) {
      expect(r.error).toBeUndefined();
      expect(r.packets).toEqual([
        { data: packetBytes(64, 1), tsSec: 0, tsNsec: 0, wireLength: 100, iface: 0 },
        { data: packetBytes(30, 2), tsSec: 0, tsNsec: 0, wireLength: 30, iface: 0 },
      ]);
    }
  });

  it('reads obsolete Packet Blocks (16-bit interface id)', async () => {
    const bytes = concat(
      shb(true),
      idb(true),
      idb(true),
      opb(true, { iface: 1, ts: 3_000_001n, data: packetBytes(20, 1) }),
    );
    for (const r of await readAllWays(bytes)) {
      expect(r.packets).toEqual([
        { data: packetBytes(20, 1), tsSec: 3, tsNsec: 1000, wireLength: 20, iface: 1 },
      ]);
    }
  });

  it('stops if_name at a zero octet (§3.5) and ignores options it does not know', () => {
    const bytes = concat(
      shb(true),
      idb(true, {
        options: [
          [0x8123, utf8('local')],
          [IF_NAME, concat(utf8('wan0'), u8(0), utf8('junk'))],
        ],
      }),
    );
    expect(parseCaptureBuffer(bytes).interfaces[0]!.name).toBe('wan0');
  });

  it('reports raw IPv4/IPv6 interfaces with their family', () => {
    const bytes = concat(
      shb(true),
      idb(true, { linkType: 228 }),
      idb(true, { linkType: 229 }),
      idb(true, { linkType: 276 }),
    );
    expect(parseCaptureBuffer(bytes).interfaces.map((i) => i.link)).toEqual([
      { kind: 'raw-ip', ipFamily: 4 },
      { kind: 'raw-ip', ipFamily: 6 },
      { kind: 'unsupported', ipFamily: 0 },
    ]);
  });

  it('a new section resets the interfaces and ends the batch', async () => {
    const bytes = concat(
      shb(true),
      idb(true, { options: [[IF_NAME, utf8('a0')]] }),
      idb(true, { options: [[IF_NAME, utf8('a1')]] }),
      epb(true, { iface: 1, ts: 1n, data: packetBytes(10, 1) }),
      epb(true, { iface: 0, ts: 2n, data: packetBytes(10, 2) }),
      shb(false),
      idb(false, {
        options: [
          [IF_NAME, utf8('b0')],
          [IF_TSRESOL, u8(9)],
        ],
      }),
      epb(false, { iface: 0, ts: 3n, data: packetBytes(10, 3) }),
    );
    for (const r of await readAllWays(bytes)) {
      expect(r.batches[0]).toBe(2);
      expect(r.interfaces.map((i) => i.name)).toEqual(['a0', 'a1', 'b0']);
      expect(r.packets.map((p) => [p.iface, p.tsNsec])).toEqual([
        [1, 1000],
        [0, 2000],
        [0, 3],
      ]);
    }
    // After the first batch, `interfaces` describes the section of that batch's packets.
    const reader = parseCaptureBuffer(bytes);
    const batch = new PacketBatch(16);
    expect(reader.readBatch(batch)).toBe(2);
    expect(reader.interfaces.map((i) => i.name)).toEqual(['a0', 'a1']);
    expect(reader.readBatch(batch)).toBe(1);
    expect(reader.interfaces.map((i) => i.name)).toEqual(['b0']);
  });

  it('an interface declared after packets extends the list', async () => {
    const bytes = concat(
      shb(true),
      idb(true),
      epb(true, { ts: 1n, data: packetBytes(8, 1) }),
      idb(true, { linkType: 101 }),
      epb(true, { iface: 1, ts: 2n, data: packetBytes(8, 2) }),
    );
    for (const r of await readAllWays(bytes)) {
      expect(r.packets.map((p) => p.iface)).toEqual([0, 1]);
      expect(r.interfaces.map((i) => i.linkType)).toEqual([1, 101]);
    }
  });

  it('streams past an unknown block far larger than the chunk buffer', async () => {
    const huge = block(true, 0x0000beef, packetBytes(200_000, 7));
    const bytes = concat(
      shb(true),
      idb(true),
      epb(true, { ts: 1n, data: packetBytes(8, 1) }),
      huge,
      epb(true, { ts: 2n, data: packetBytes(8, 2) }),
    );
    await withTempDir(async (dir) => {
      const path = join(dir, 'skip.pcapng');
      await writeFile(path, bytes);
      const reader = await CaptureFileReader.open(path, { chunkBytes: 4096 });
      const got = [];
      for await (const p of reader.packets()) got.push(p.tsNsec);
      expect(got).toEqual([1000, 2000]);
      expect(reader.chunkBytes).toBe(4096);
      await reader.close();
    });
  });

  it('grows the chunk buffer for one block bigger than it, and only to that block', async () => {
    const bytes = concat(
      shb(true),
      idb(true),
      epb(true, { ts: 1n, data: packetBytes(30, 1) }),
      epb(true, { ts: 2n, data: packetBytes(9000, 2) }),
      epb(true, { ts: 3n, data: packetBytes(30, 3) }),
    );
    const r = await readAsFile(bytes, 'grow.pcapng', 256);
    expect(r.error).toBeUndefined();
    expect(r.packets.map((p) => p.data)).toEqual([
      packetBytes(30, 1),
      packetBytes(9000, 2),
      packetBytes(30, 3),
    ]);
    await withTempDir(async (dir) => {
      const path = join(dir, 'grow.pcapng');
      await writeFile(path, bytes);
      const reader = await CaptureFileReader.open(path, { chunkBytes: 256 });
      const batch = new PacketBatch(8);
      while ((await reader.readBatch(batch)) > 0);
      expect(reader.chunkBytes).toBeGreaterThanOrEqual(9000 + 32);
      expect(reader.chunkBytes).toBeLessThanOrEqual(16384);
      expect(reader.bytesRead).toBe(bytes.length);
      await reader.close();
    });
  });
});
