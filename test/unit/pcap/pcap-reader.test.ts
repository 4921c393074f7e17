import { describe, expect, it } from 'vitest';
import { PacketBatch, PKT_TRUNCATED } from '../../../src/dataplane/batch.js';
import { linkTypeName, parseCaptureBuffer } from '../../../src/dataplane/pcap/index.js';
import { concat, packetBytes, pcapHeader, pcapRecord } from './capture-builder.js';
import { readAllWays } from './read-helpers.js';

const PKTS = [
  packetBytes(60, 1),
  packetBytes(1514, 2),
  packetBytes(0, 3),
  packetBytes(333, 4),
  packetBytes(98, 5),
];

function sample(le: boolean, nano: boolean): Uint8Array {
  return concat(
    pcapHeader({ le, nano, snaplen: 65535 }),
    ...PKTS.map((data, i) =>
      pcapRecord({ sec: 1_700_000_000 + i, frac: nano ? 123_456_789 + i : 654_321 + i, data }, le),
    ),
  );
}

describe('classic pcap reader (draft-ietf-opsawg-pcap)', () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      it(`${le ? 'little' : 'big'}-endian, ${nano ? 'nanosecond' : 'microsecond'} magic`, async () => {
        for (const r of await readAllWays(sample(le, nano), 'x.pcap')) {
          expect(r.error).toBeUndefined();
          expect(r.packets.map((p) => p.data)).toEqual(PKTS);
          r.packets.forEach((p, i) => {
            expect(p.tsSec).toBe(1_700_000_000 + i);
            expect(p.tsNsec).toBe(nano ? 123_456_789 + i : (654_321 + i) * 1000);
            expect(p.wireLength).toBe(PKTS[i]!.length);
            expect(p.iface).toBe(0);
          });
          expect(r.interfaces).toHaveLength(1);
          expect(r.interfaces[0]).toMatchObject({
            index: 0,
            name: undefined,
            linkType: 1,
            link: { kind: 'ethernet', ipFamily: 0 },
            snaplen: 65535,
            tsresol: nano ? 9 : 6,
            tsUnitsPerSecond: nano ? 1e9 : 1e6,
            fcsBytes: 0,
          });
        }
      });
    }
  }

  it('reports raw IP link types with their family, and others by number', () => {
    const kinds = [
      [101, 'raw-ip', 0],
      [228, 'raw-ip', 4],
      [229, 'raw-ip', 6],
      [1, 'ethernet', 0],
      [113, 'unsupported', 0],
    ] as const;
    for (const [linkType, kind, ipFamily] of kinds) {
      const r = parseCaptureBuffer(pcapHeader({ linkField: linkType }));
      expect(r.format).toBe('pcap');
      expect(r.interfaces[0]!.linkType).toBe(linkType);
      expect(r.interfaces[0]!.link).toEqual({ kind, ipFamily });
    }
    expect(linkTypeName(113)).toBe('LINKTYPE_LINUX_SLL (113)');
    expect(linkTypeName(4242)).toBe('link type 4242');
  });

  it('splits the FCS bits off the link type field (§4)', () => {
    // f bit (28) set, FCS = 2 sixteen-bit words, link type Ethernet.
    const r = parseCaptureBuffer(pcapHeader({ linkField: (2 << 29) | (1 << 28) | 1, le: false }));
    expect(r.interfaces[0]).toMatchObject({ linkType: 1, fcsBytes: 4 });
    // FCS bits without the f bit mean nothing.
    expect(parseCaptureBuffer(pcapHeader({ linkField: (2 << 29) | 101 })).interfaces[0]).toMatchObject({
      linkType: 101,
      fcsBytes: 0,
    });
  });

  it('an empty capture has no packets and no error', async () => {
    for (const r of await readAllWays(pcapHeader())) {
      expect(r.packets).toEqual([]);
      expect(r.error).toBeUndefined();
    }
  });

  it('carries an out-of-range fraction into the seconds', () => {
    const bytes = concat(
      pcapHeader(),
      pcapRecord({ sec: 10, frac: 2_500_000, data: packetBytes(4, 1) }),
      pcapRecord({ sec: 10, frac: 999_999, data: packetBytes(4, 1) }),
    );
    const got = [...parseCaptureBuffer(bytes).packets()].map((p) => [p.tsSec, p.tsNsec]);
    expect(got).toEqual([
      [12, 500_000_000],
      [10, 999_999_000],
    ]);
  });

  it('fills every batch slot: offset, length, wireLength, timestamps, port 0, truncation flag', () => {
    const data = packetBytes(100, 9);
    const bytes = concat(
      pcapHeader(),
      pcapRecord({ sec: 1, frac: 2, data }),
      pcapRecord({ sec: 3, frac: 4, data: data.subarray(0, 40), orig: 100 }),
    );
    const batch = new PacketBatch(8);
    batch.port.fill(7);
    batch.flags.fill(0xff);
    const n = parseCaptureBuffer(bytes).readBatch(batch);
    expect(n).toBe(2);
    expect(batch.count).toBe(2);
    expect(batch.packet(0)).toEqual(data);
    expect(batch.packet(1)).toEqual(data.subarray(0, 40));
    expect([...batch.length.subarray(0, 2)]).toEqual([100, 40]);
    expect([...batch.wireLength.subarray(0, 2)]).toEqual([100, 100]);
    expect([...batch.tsSec.subarray(0, 2)]).toEqual([1, 3]);
    expect([...batch.tsNsec.subarray(0, 2)]).toEqual([2000, 4000]);
    expect([...batch.port.subarray(0, 2)]).toEqual([0, 0]);
    expect([...batch.flags.subarray(0, 2)]).toEqual([0, PKT_TRUNCATED]);
  });

  it('splits by batch capacity and by slab room, never losing a packet', () => {
    const pkts = Array.from({ length: 10 }, (_, i) => packetBytes(1000, i));
    const bytes = concat(pcapHeader(), ...pkts.map((data, i) => pcapRecord({ sec: i, frac: 0, data })));
    const reader = parseCaptureBuffer(bytes);
    // 4 slots but a 3000-byte slab: two 1000-byte packets (plus the 16-byte header between) per batch.
    const batch = new PacketBatch(4, 3000);
    const counts: number[] = [];
    const got: Uint8Array[] = [];
    for (let n = reader.readBatch(batch); n > 0; n = reader.readBatch(batch)) {
      counts.push(n);
      for (let i = 0; i < n; i++) got.push(batch.packet(i).slice());
    }
    expect(counts).toEqual([2, 2, 2, 2, 2]);
    expect(got).toEqual(pkts);
    expect(reader.readBatch(batch)).toBe(0);
  });

  it('gives a packet larger than the whole slab a bigger slab', () => {
    const big = packetBytes(5000, 1);
    const bytes = concat(
      pcapHeader(),
      pcapRecord({ sec: 0, frac: 0, data: packetBytes(10, 2) }),
      pcapRecord({ sec: 0, frac: 0, data: big }),
    );
    const reader = parseCaptureBuffer(bytes);
    const batch = new PacketBatch(4, 1024);
    expect(reader.readBatch(batch)).toBe(1);
    expect(reader.readBatch(batch)).toBe(1);
    expect(batch.data.length).toBeGreaterThanOrEqual(5000);
    expect(batch.packet(0)).toEqual(big);
  });

  it('rewind() replays from the first packet', () => {
    const reader = parseCaptureBuffer(sample(true, true));
    const first = [...reader.packets()];
    expect(first).toHaveLength(PKTS.length);
    reader.rewind();
    expect([...reader.packets()]).toEqual(first);
  });

  it('refuses a batch without slots', () => {
    expect(() => parseCaptureBuffer(sample(true, false)).readBatch(new PacketBatch(0))).toThrow(RangeError);
  });
});
