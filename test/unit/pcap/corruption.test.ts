import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import {
  type CaptureErrorCode,
  CaptureFileReader,
  CaptureFormatError,
  parseCaptureBuffer,
} from '../../../src/dataplane/pcap/index.js';
import {
  Bytes,
  block,
  concat,
  epb,
  idb,
  packetBytes,
  pcapHeader,
  pcapRecord,
  shb,
  spb,
  utf8,
} from './capture-builder.js';
import { readAllWays, withTempDir } from './read-helpers.js';

const GOOD = [packetBytes(60, 1), packetBytes(70, 2), packetBytes(80, 3)];

/** pcap header + three good records: 24 + 76 + 86 + 96 = 282 bytes. */
const PCAP_GOOD = concat(pcapHeader(), ...GOOD.map((data, i) => pcapRecord({ sec: 100 + i, frac: i, data })));
const PCAP_END = 282;

/** SHB (28) + IDB (20) + three EPBs (92 + 104 + 112) = 356 bytes. */
const NG_GOOD = concat(shb(true), idb(true), ...GOOD.map((data, i) => epb(true, { ts: BigInt(i), data })));
const NG_END = 356;

interface Fault {
  code: CaptureErrorCode;
  offset: number;
  /** Exact message after the "t.cap: " prefix, when the test pins it. */
  message?: string;
  /** Good packets before the fault (default: all three). */
  before?: number;
  /** The fault is in the header, so opening fails. */
  atOpen?: boolean;
}

async function expectFault(bytes: Uint8Array, f: Fault): Promise<void> {
  for (const r of await readAllWays(bytes, 't.cap')) {
    expect(r.error, 'no error raised').toBeInstanceOf(CaptureFormatError);
    const e = r.error!;
    expect({ code: e.code, offset: e.offset }).toEqual({ code: f.code, offset: f.offset });
    expect(e.file).toBe('t.cap');
    expect(e.message).toBe(`t.cap: ${e.what} at byte ${e.offset}: expected ${e.expected}, found ${e.found}`);
    if (f.message !== undefined) expect(e.message).toBe(`t.cap: ${f.message}`);
    expect(r.openFailed).toBe(f.atOpen ?? false);
    const before = f.atOpen ? 0 : (f.before ?? GOOD.length);
    expect(r.packets.map((p) => p.data)).toEqual(GOOD.slice(0, before));
  }
}

describe('classic pcap faults: the good packets first, then an error at the exact byte', () => {
  it('truncated record header', () =>
    expectFault(concat(PCAP_GOOD, new Uint8Array(7)), {
      code: 'truncated',
      offset: PCAP_END,
      message: `truncated record header at byte ${PCAP_END}: expected 16 bytes, found 7`,
    }));

  it('truncated record data', () => {
    const rec = pcapRecord({ sec: 1, frac: 0, data: packetBytes(100, 9) });
    return expectFault(concat(PCAP_GOOD, rec.subarray(0, 16 + 30)), {
      code: 'truncated',
      offset: PCAP_END + 16,
      message: `truncated packet data at byte ${PCAP_END + 16}: expected 100 bytes, found 30`,
    });
  });

  it('captured length above the 262144-byte sanity limit', () =>
    expectFault(
      concat(PCAP_GOOD, pcapRecord({ sec: 1, frac: 0, data: new Uint8Array(0), incl: 262145, orig: 262145 })),
      {
        code: 'too-large',
        offset: PCAP_END + 8,
        message: `record captured length at byte ${PCAP_END + 8}: expected at most 262144 bytes, found 262145`,
      },
    ));

  it('captured length above the original length (§5)', () =>
    expectFault(concat(PCAP_GOOD, pcapRecord({ sec: 1, frac: 0, data: packetBytes(10, 1), orig: 9 })), {
      code: 'bad-length',
      offset: PCAP_END + 8,
    }));

  it('truncated file header', () =>
    expectFault(PCAP_GOOD.subarray(0, 10), {
      code: 'truncated',
      offset: 0,
      message: 'truncated file header at byte 0: expected 24 bytes, found 10',
      atOpen: true,
    }));

  it('a file shorter than a magic number', () =>
    expectFault(Uint8Array.of(0xd4, 0xc3), { code: 'truncated', offset: 0, atOpen: true }));

  it('unsupported version', () =>
    expectFault(concat(pcapHeader({ minor: 2 }), PCAP_GOOD.subarray(24)), {
      code: 'unsupported-version',
      offset: 4,
      message: 'unsupported pcap version at byte 4: expected 2.4, found 2.2',
      atOpen: true,
    }));

  it('bad magic, naming gzip and modified pcap when it sees them', async () => {
    await expectFault(utf8('GIF89a, not a capture'), { code: 'bad-magic', offset: 0, atOpen: true });
    const gz = readAllWays(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0));
    expect((await gz)[0]!.error!.message).toMatch(
      /found 1f8b0800 \(gzip data: decompress the capture first\)$/,
    );
    const mod = concat(new Bytes(true).u32(0xa1b2cd34).build(), PCAP_GOOD.subarray(4));
    expect((await readAllWays(mod))[0]!.error!.message).toMatch(/Kuznetzov/);
  });
});

describe('pcapng faults: the good packets first, then an error at the exact byte', () => {
  it('block total length not a multiple of 4 (§3.1)', () =>
    expectFault(concat(NG_GOOD, epb(true, { ts: 9n, data: packetBytes(60, 9), length: 93 })), {
      code: 'bad-length',
      offset: NG_END + 4,
      message: `Enhanced Packet Block total length at byte ${NG_END + 4}: expected a multiple of 4, at least 12, found 93`,
    }));

  it('block total length below 12', () =>
    expectFault(concat(NG_GOOD, block(true, 0x1234, new Uint8Array(0), { length: 8 })), {
      code: 'bad-length',
      offset: NG_END + 4,
    }));

  it('block shorter than its type’s fixed part', () =>
    expectFault(concat(NG_GOOD, block(true, 6, new Uint8Array(8))), {
      code: 'bad-length',
      offset: NG_END + 4,
    }));

  it('trailing total length differs from the leading one', () =>
    expectFault(concat(NG_GOOD, epb(true, { ts: 9n, data: packetBytes(20, 9), trailer: 56 })), {
      code: 'length-mismatch',
      offset: NG_END + 48,
      message: `Enhanced Packet Block trailing total length at byte ${NG_END + 48}: expected 52 (the leading total length at byte ${NG_END + 4}), found 56`,
    }));

  it('trailing length mismatch on a skipped block, in the window or streamed past', () =>
    expectFault(concat(NG_GOOD, block(true, 4, packetBytes(988, 1), { trailer: 4 })), {
      code: 'length-mismatch',
      offset: NG_END + 996,
      message: `Name Resolution Block trailing total length at byte ${NG_END + 996}: expected 1000 (the leading total length at byte ${NG_END + 4}), found 4`,
    }));

  it('skipped block cut short', () =>
    expectFault(concat(NG_GOOD, block(true, 5, packetBytes(988, 1)).subarray(0, 500)), {
      code: 'truncated',
      offset: NG_END,
      message: `truncated Interface Statistics Block at byte ${NG_END}: expected 1000 bytes, found 500`,
    }));

  it('Enhanced Packet Block for an undeclared interface', () =>
    expectFault(concat(NG_GOOD, epb(true, { iface: 1, ts: 9n, data: packetBytes(20, 9) })), {
      code: 'unknown-interface',
      offset: NG_END + 8,
      message: `Enhanced Packet Block for an undeclared interface at byte ${NG_END + 8}: expected an interface id below 1, found 1`,
    }));

  it('interfaces of an earlier section are gone after a new SHB', () =>
    expectFault(concat(NG_GOOD, shb(false), epb(false, { iface: 0, ts: 9n, data: packetBytes(20, 9) })), {
      code: 'unknown-interface',
      offset: NG_END + 28 + 8,
      message: `Enhanced Packet Block for an undeclared interface at byte ${NG_END + 36}: expected an Interface Description Block before it, found 0`,
    }));

  it('Simple Packet Block before any interface', () =>
    expectFault(concat(shb(true), spb(true, 4, packetBytes(4, 1))), {
      code: 'unknown-interface',
      offset: 28,
      before: 0,
    }));

  it('truncated block', () =>
    expectFault(concat(NG_GOOD, epb(true, { ts: 9n, data: packetBytes(100, 9) }).subarray(0, 50)), {
      code: 'truncated',
      offset: NG_END,
      message: `truncated Enhanced Packet Block at byte ${NG_END}: expected 132 bytes, found 50`,
    }));

  it('truncated block header', () =>
    expectFault(concat(NG_GOOD, new Uint8Array(5)), {
      code: 'truncated',
      offset: NG_END,
      message: `truncated block header at byte ${NG_END}: expected 8 bytes, found 5`,
    }));

  it('captured length past the end of its block', () =>
    expectFault(concat(NG_GOOD, epb(true, { ts: 9n, data: packetBytes(20, 9), caplen: 200, orig: 200 })), {
      code: 'bad-length',
      offset: NG_END + 20,
      message: `Enhanced Packet Block captured length past the end of its block at byte ${NG_END + 20}: expected at most 20, found 200`,
    }));

  it('captured length above the original length', () =>
    expectFault(concat(NG_GOOD, epb(true, { ts: 9n, data: packetBytes(20, 9), orig: 10 })), {
      code: 'bad-length',
      offset: NG_END + 20,
    }));

  it('captured length above the sanity limit', () =>
    expectFault(
      concat(NG_GOOD, epb(true, { ts: 9n, data: packetBytes(20, 9), caplen: 300_000, orig: 300_000 })),
      {
        code: 'too-large',
        offset: NG_END + 20,
      },
    ));

  it('a packet block longer than any the reader holds', () =>
    expectFault(concat(NG_GOOD, epb(true, { ts: 9n, data: packetBytes(20, 9), length: 0x1000_0000 })), {
      code: 'too-large',
      offset: NG_END + 4,
    }));

  it('option running past its block', () => {
    const bad = idb(true, { options: [[2, utf8('eth0')]] });
    bad[18] = 200; // if_name length 4 → 200
    return expectFault(concat(NG_GOOD, bad), {
      code: 'bad-option',
      offset: NG_END + 18,
      message: `Interface Description Block option 2 length at byte ${NG_END + 18}: expected at most 8 bytes, found 200`,
    });
  });

  it('if_tsresol of the wrong size', () =>
    expectFault(concat(NG_GOOD, idb(true, { options: [[9, Uint8Array.of(9, 9)]] })), {
      code: 'bad-option',
      offset: NG_END + 18,
    }));

  it('first block is not a Section Header Block', () =>
    expectFault(concat(idb(true), NG_GOOD.subarray(28)), {
      code: 'no-section-header',
      offset: 0,
      message:
        'first pcapng block is not a Section Header Block at byte 0: expected block type 0a0d0d0a, found block type 00000001 (Interface Description Block)',
      atOpen: true,
    }));

  it('bad byte-order magic, at the start and in a later section', async () => {
    const first = shb(true);
    first[8] = 0x11;
    await expectFault(first, { code: 'bad-magic', offset: 8, atOpen: true });
    const later = shb(true);
    later[9] = 0;
    await expectFault(concat(NG_GOOD, later), { code: 'bad-magic', offset: NG_END + 8 });
  });

  it('unsupported section version', () =>
    expectFault(concat(shb(true, { major: 2 }), NG_GOOD.subarray(28)), {
      code: 'unsupported-version',
      offset: 12,
      message: 'unsupported pcapng version at byte 12: expected 1.0, found 2.0',
      atOpen: true,
    }));
});

describe('error delivery', () => {
  const bytes = concat(PCAP_GOOD, new Uint8Array(3));

  it('readBatch returns the packets before the fault, then throws it on every later call', () => {
    const reader = parseCaptureBuffer(bytes, 'x.pcap');
    const batch = new PacketBatch(2);
    expect(reader.readBatch(batch)).toBe(2);
    expect(reader.error).toBeUndefined();
    // The batch that meets the fault returns its good packet, with the error already latched…
    expect(reader.readBatch(batch)).toBe(1);
    expect(reader.error?.offset).toBe(PCAP_END);
    // …and the next call raises it.
    expect(() => reader.readBatch(batch)).toThrow(CaptureFormatError);
    expect(batch.count).toBe(0);
    expect(reader.error?.offset).toBe(PCAP_END);
    expect(() => reader.readBatch(batch)).toThrow(reader.error!);
  });

  it('the streaming reader does the same, and its iterator yields the good packets before throwing', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'x.pcap');
      await writeFile(path, bytes);
      const reader = await CaptureFileReader.open(path);
      const batch = new PacketBatch(64);
      expect(await reader.readBatch(batch)).toBe(3);
      expect(reader.error).toBeInstanceOf(CaptureFormatError);
      await expect(reader.readBatch(batch)).rejects.toBe(reader.error);
      await reader.close();
      await reader.close();
      await expect(reader.readBatch(batch)).rejects.toThrow(/closed/);

      const again = await CaptureFileReader.open(path);
      const seen: number[] = [];
      await expect(
        (async () => {
          for await (const p of again.packets()) seen.push(p.tsSec);
        })(),
      ).rejects.toThrow(`${path}: truncated record header at byte ${PCAP_END}: expected 16 bytes, found 3`);
      expect(seen).toEqual([100, 101, 102]);
      await again.close();
    });
  });

  it('a missing file is an I/O error, not a format error', async () => {
    await expect(CaptureFileReader.open('/nonexistent/ferry.pcap')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
