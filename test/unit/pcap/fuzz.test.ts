import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError } from '../../../src/dataplane/pcap/index.js';
import {
  Bytes,
  block,
  concat,
  epb,
  idb,
  opb,
  packetBytes,
  pcapHeader,
  pcapRecord,
  shb,
  spb,
  u8,
  utf8,
} from './capture-builder.js';
import { type ReadResult, readAsFile, readBuffer } from './read-helpers.js';

/** Valid captures that between them use every record and block kind the readers know. */
const SEEDS: Uint8Array[] = [
  concat(
    pcapHeader({ nano: true }),
    ...[60, 0, 200, 1514].map((n, i) =>
      pcapRecord({ sec: i, frac: 999_999_999 - i, data: packetBytes(n, i) }),
    ),
  ),
  concat(
    pcapHeader({ le: false, snaplen: 100 }),
    ...[100, 7].map((n, i) => pcapRecord({ sec: i, frac: i, data: packetBytes(n, i), orig: n + 50 }, false)),
  ),
  concat(
    shb(true, { options: [[4, utf8('fuzz')]] }),
    idb(true, {
      options: [
        [2, utf8('eth0')],
        [9, u8(9)],
        [14, new Bytes(true).u64(5n).build()],
      ],
    }),
    block(true, 4, new Bytes(true).u16(1).u16(8).bytes(packetBytes(8, 1)).u32(0).build()),
    idb(true, { snaplen: 50, linkType: 101, options: [[9, u8(0x80 | 16)]] }),
    epb(true, { iface: 1, ts: 123_456_789n, data: packetBytes(33, 1), options: [[1, utf8('comment')]] }),
    spb(true, 80, packetBytes(80, 2)),
    opb(true, { iface: 0, ts: 1n << 40n, data: packetBytes(20, 3) }),
    block(true, 5, new Bytes(true).u32(0).u32(0).u32(0).build()),
    epb(true, { iface: 0, ts: 99n, data: packetBytes(64, 4) }),
  ),
  concat(
    shb(false),
    idb(false, { options: [[2, utf8('x')]] }),
    epb(false, { ts: 1n, data: packetBytes(40, 5) }),
    shb(true),
    idb(true),
    idb(true),
    epb(true, { iface: 1, ts: 2n, data: packetBytes(41, 6) }),
    block(true, 0x40000bad, packetBytes(300, 7)),
  ),
];

/** A seed with some of: truncation, bit flips, 32-bit fields overwritten with edge values. */
const mutated = fc
  .record({
    seed: fc.nat(SEEDS.length - 1),
    cut: fc.option(fc.nat(), { nil: undefined }),
    flips: fc.array(fc.tuple(fc.nat(), fc.nat(7)), { maxLength: 4 }),
    words: fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom(0, 1, 3, 4, 8, 11, 12, 16, 28, 32, 0x7fffffff, 0xffffffff, 0x0a0d0d0a, 262145),
      ),
      { maxLength: 2 },
    ),
  })
  .map(({ seed, cut, flips, words }) => {
    const src = SEEDS[seed]!;
    const b = src.slice(0, cut === undefined ? src.length : cut % (src.length + 1));
    for (const [at, bit] of flips) if (b.length > 0) b[at % b.length]! ^= 1 << bit;
    for (const [at, v] of words) {
      if (b.length < 4) continue;
      const o = (at % (b.length - 3)) & ~3;
      b[o] = v;
      b[o + 1] = v >>> 8;
      b[o + 2] = v >>> 16;
      b[o + 3] = v >>> 24;
    }
    return b;
  });

function checkOutcome(bytes: Uint8Array, r: ReadResult): void {
  // Every record takes at least 12 bytes, so more packets than that would mean re-reading.
  expect(r.packets.length).toBeLessThanOrEqual(bytes.length / 12);
  if (r.error) {
    expect(r.error).toBeInstanceOf(CaptureFormatError);
    expect(r.error.offset).toBeGreaterThanOrEqual(0);
    expect(r.error.offset).toBeLessThanOrEqual(bytes.length);
    expect(r.error.message.startsWith('fuzz.cap: ')).toBe(true);
  }
  for (const p of r.packets) {
    expect(p.tsNsec).toBeGreaterThanOrEqual(0);
    expect(p.tsNsec).toBeLessThan(1e9);
    expect(p.wireLength).toBeGreaterThanOrEqual(p.data.length);
  }
}

describe('corrupted captures', () => {
  it('the seeds themselves are valid', () => {
    for (const s of SEEDS) expect(readBuffer(s).error).toBeUndefined();
  });

  it('in memory: truncations, bit flips and bad lengths only ever raise CaptureFormatError', () => {
    // readBuffer rethrows anything that is not a CaptureFormatError, failing the property.
    fc.assert(
      fc.property(mutated, (bytes) => checkOutcome(bytes, readBuffer(bytes, 'fuzz.cap', 3))),
      { numRuns: 4000 },
    );
  });

  it('streaming with a tiny chunk: the same, and the same packets and error as in memory', async () => {
    await fc.assert(
      fc.asyncProperty(mutated, async (bytes) => {
        const streamed = await readAsFile(bytes, 'fuzz.cap', 64, 2);
        checkOutcome(bytes, streamed);
        const mem = readBuffer(bytes, 'fuzz.cap', 2);
        expect(streamed.packets).toEqual(mem.packets);
        expect(streamed.error?.message).toBe(mem.error?.message);
      }),
      { numRuns: 150 },
    );
  });
});
