import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, setU16, u16 } from '../../../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV4 } from '../../../src/dataplane/wire/checksum.js';
import { WireError } from '../../../src/dataplane/wire/errors.js';
import {
  emitTcp,
  parseTcp,
  TCP_ACK_FLAG,
  TCP_AE,
  TCP_CHECKSUM,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PROTO,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  type TcpRepr,
  TcpView,
  tcpHeaderLen,
  tcpLen,
} from '../../../src/dataplane/wire/tcp.js';

const LO = 0x7f000001;
const ph = (len: number) => pseudoSumV4(LO, LO, TCP_PROTO, len);

// Captured on lo: `curl http://127.0.0.1:18765/` against `python3 -m http.server`. Each is the
// IPv4 header | the TCP segment. Loopback leaves the checksum as the CHECKSUM_PARTIAL seed; the
// *_CSUM values are what tcpdump -vv computed for them.
const SYN = fromHex(
  '4500003c587b40004006e43e7f0000017f000001 |' +
    'd46c 494d db0e729f 00000000 a0 02 ffd7 fe30 0000 | 0204ffd7 0402 080a348a744000000000 01 03030a',
);
const SYN_CSUM = 0x3bcc;
const SYN_ACK = fromHex(
  '4500003c0000400040063cba7f0000017f000001 |' +
    '494d d46c 2cab0e26 db0e72a0 a0 12 ffcb fe30 0000 | 0204ffd7 0402 080a95bc6545348a7440 01 03030a',
);
const SYN_ACK_CSUM = 0x05f4;
const GET = fromHex(
  '45000083587d40004006e3f57f0000017f000001 |' +
    'd46c 494d db0e72a0 2cab0e27 80 18 0040 fe77 0000 | 0101 080a348a744095bc6545 |' +
    '474554202f20485454502f312e310d0a486f73743a203132372e302e302e313a31383736350d0a557365722d41' +
    '67656e743a206375726c2f372e38382e310d0a4163636570743a202a2f2a0d0a0d0a',
);
const GET_CSUM = 0x5fc9;
const FIN = fromHex(
  '45000034b14f400040068b727f0000017f000001 |' +
    '494d d46c 2cab103e db0e72ef 80 11 0040 fe28 0000 | 0101 080a95bc6546348a7441',
);
const FIN_CSUM = 0x2c0a;
// Hand-assembled, checksums confirmed "(correct)" by tcpdump -vv: an ACK carrying two SACK
// blocks, and an ECN-setup SYN (ECE|CWR) with a TFO cookie (kind 34, unknown here) and EOL.
const SACK = fromHex(
  '450000481234400040062a7a7f0000017f000001 |' +
    '494d d46c 2cab103f db0e72f0 d0 10 0040 09a4 0000 | 0101 080a95bc6546348a7441 0101 |' +
    '0512 db0e8000db0e9000 db0ea000db0eb000',
);
const TFO_SYN = fromHex(
  '450000481234400040062a7a7f0000017f000001 |' +
    '9c40 01bb 000003e8 00000000 d0 c2 faf0 4a3e 0000 | 020405b4 01 030307 0402 080a0000000100000000 |' +
    '220a0102030405060708 00 00',
);

const REAL: Array<[string, Uint8Array, number]> = [
  ['SYN', SYN, SYN_CSUM],
  ['SYN-ACK', SYN_ACK, SYN_ACK_CSUM],
  ['GET', GET, GET_CSUM],
  ['FIN', FIN, FIN_CSUM],
  ['SACK', SACK, 0x09a4],
  ['TFO SYN', TFO_SYN, 0x4a3e],
];

/** The segment (after the IPv4 header) with its true checksum filled in. */
function seg(pkt: Uint8Array, csum: number): Uint8Array {
  const s = pkt.slice(20);
  setU16(s, TCP_CHECKSUM, csum);
  return s;
}

function wrapOk(b: Uint8Array, off = 0, len = b.length - off): TcpView {
  const v = new TcpView();
  expect(v.wrap(b, off, len)).toBe(WireError.Ok);
  return v;
}

function fullCsum(b: Uint8Array): number {
  const c = b.slice();
  setU16(c, TCP_CHECKSUM, 0);
  return checksum(c, 0, c.length, ph(c.length));
}

/** A segment with the given option bytes (length a multiple of 4) and payload, checksum filled. */
function build(opts: Uint8Array, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const hl = 20 + opts.length;
  const b = new Uint8Array(hl + payload.length);
  b.set(fromHex('9c40 01bb 00000001 00000000 00 02 ffff 0000 0000'));
  b[12] = (hl / 4) << 4;
  b.set(opts, 20);
  b.set(payload, hl);
  setU16(b, TCP_CHECKSUM, checksum(b, 0, b.length, ph(b.length)));
  return b;
}

describe('TcpView on real segments', () => {
  it('reads every fixed field of the SYN in place (offset inside the IP packet)', () => {
    const v = wrapOk(SYN, 20);
    expect([v.srcPort, v.dstPort]).toEqual([54380, 18765]);
    expect(v.seq).toBe(3675157151);
    expect(v.ack).toBe(0);
    expect(v.dataOffset).toBe(10);
    expect(v.headerLen).toBe(40);
    expect(v.reserved).toBe(0);
    expect(v.flags).toBe(TCP_SYN);
    expect(v.window).toBe(65495);
    expect(v.checksum).toBe(0xfe30);
    expect(v.urgentPointer).toBe(0);
    expect([v.optionsOff, v.optionsLen]).toEqual([40, 20]);
    expect([v.payloadOff, v.payloadLen]).toEqual([60, 0]);
  });

  it('reads each flag bit', () => {
    const cases: Array<[Uint8Array, number]> = [
      [SYN, TCP_SYN],
      [SYN_ACK, TCP_SYN | TCP_ACK_FLAG],
      [GET, TCP_PSH | TCP_ACK_FLAG],
      [FIN, TCP_FIN | TCP_ACK_FLAG],
      [TFO_SYN, TCP_SYN | TCP_ECE | TCP_CWR],
    ];
    for (const [pkt, flags] of cases) {
      const v = wrapOk(pkt, 20);
      expect(v.flags).toBe(flags);
      expect(v.flagFin).toBe((flags & TCP_FIN) !== 0);
      expect(v.flagSyn).toBe((flags & TCP_SYN) !== 0);
      expect(v.flagPsh).toBe((flags & TCP_PSH) !== 0);
      expect(v.flagAck).toBe((flags & TCP_ACK_FLAG) !== 0);
      expect(v.flagEce).toBe((flags & TCP_ECE) !== 0);
      expect(v.flagCwr).toBe((flags & TCP_CWR) !== 0);
      expect(v.flagRst || v.flagUrg || v.flagAe).toBe(false);
    }
    const b = seg(FIN, FIN_CSUM);
    b[12]! |= 0x01 | 0x0e;
    b[13] = TCP_RST | TCP_URG;
    setU16(b, 18, 0x1234);
    const v = wrapOk(b);
    expect(v.flags).toBe(TCP_AE | TCP_RST | TCP_URG);
    expect([v.flagAe, v.flagRst, v.flagUrg, v.flagFin, v.flagAck]).toEqual([true, true, true, false, false]);
    expect(v.reserved).toBe(7);
    expect(v.dataOffset).toBe(8);
    expect(v.urgentPointer).toBe(0x1234);
  });

  it('fills the checksums tcpdump computed, and verifies them', () => {
    for (const [name, pkt, want] of REAL) {
      const b = pkt.slice();
      const v = wrapOk(b, 20);
      const ps = ph(v.len);
      v.fillChecksum(ps);
      expect(v.checksum, name).toBe(want);
      expect(v.verifyChecksum(ps), name).toBe(true);
      v.checksum = want ^ 1;
      expect(v.verifyChecksum(ps), name).toBe(false);
    }
  });

  it('finds the payload of a data segment', () => {
    const v = wrapOk(GET, 20);
    expect([v.headerLen, v.payloadLen]).toEqual([32, 79]);
    const text = new TextDecoder().decode(GET.subarray(v.payloadOff, v.payloadOff + v.payloadLen));
    expect(text.startsWith('GET / HTTP/1.1\r\nHost: 127.0.0.1:18765\r\n')).toBe(true);
  });
});

describe('TcpView.parseOptions', () => {
  it('decodes the SYN: MSS, SACK-permitted, timestamps, NOP, window scale', () => {
    const v = wrapOk(SYN, 20);
    expect(v.mss).toBe(-1);
    expect(v.parseOptions()).toBe(WireError.Ok);
    expect(v.mss).toBe(65495);
    expect(v.mssOff).toBe(42);
    expect(v.sackPermitted).toBe(true);
    expect(v.hasTimestamps).toBe(true);
    expect([v.tsVal, v.tsEcr]).toEqual([881488960, 0]);
    expect(v.wscale).toBe(10);
    expect([v.sackBlocks, v.sackOff]).toEqual([0, -1]);
  });

  it('decodes timestamps and SACK blocks of an ACK', () => {
    const v = wrapOk(SACK, 20);
    expect(v.parseOptions()).toBe(WireError.Ok);
    expect([v.mss, v.wscale, v.sackPermitted]).toEqual([-1, -1, false]);
    expect([v.tsVal, v.tsEcr]).toEqual([2512151878, 881488961]);
    expect(v.sackBlocks).toBe(2);
    expect(v.sackOff).toBe(56);
    expect([v.sackLeft(0), v.sackRight(0), v.sackLeft(1), v.sackRight(1)]).toEqual([
      0xdb0e8000, 0xdb0e9000, 0xdb0ea000, 0xdb0eb000,
    ]);
  });

  it('skips an unknown option by its length and stops at End-of-Option-List', () => {
    const v = wrapOk(TFO_SYN, 20);
    expect(v.parseOptions()).toBe(WireError.Ok);
    expect([v.mss, v.wscale, v.sackPermitted, v.tsVal, v.tsEcr]).toEqual([1460, 7, true, 1, 0]);
    // Garbage after EOL is padding, not options (RFC 9293 §3.2).
    const b = build(fromHex('020405b4 00 02 ff 07'));
    const w = wrapOk(b);
    expect(w.parseOptions()).toBe(WireError.Ok);
    expect(w.mss).toBe(1460);
  });

  it('wrap() forgets the options of the previous segment', () => {
    const v = wrapOk(SYN, 20);
    v.parseOptions();
    expect(v.wrap(FIN, 20, FIN.length - 20)).toBe(WireError.Ok);
    expect([v.mss, v.mssOff, v.wscale, v.sackPermitted, v.hasTimestamps]).toEqual([-1, -1, -1, false, false]);
    expect(v.parseOptions()).toBe(WireError.Ok);
    expect([v.hasTimestamps, v.mss]).toEqual([true, -1]);
  });

  it('accepts a header without options', () => {
    const v = wrapOk(build(new Uint8Array(0)));
    expect(v.parseOptions()).toBe(WireError.Ok);
    expect(v.optionsLen).toBe(0);
  });

  const malformed: Array<[string, string]> = [
    ['kind without a length byte', '01010102'],
    ['length 0', '02000000'],
    ['length 1', '08010000'],
    ['unknown option overrunning the header', '1e0a0000'],
    ['MSS of length 3', '02030000'],
    ['MSS of length 5', '0205000000000000'],
    ['window scale of length 2', '03020000'],
    ['window scale of length 4', '03040000'],
    ['SACK-permitted of length 3', '04030000'],
    ['SACK of length 2', '05020000'],
    ['SACK of length 9', '0509000000000000 00000000'],
    ['SACK of length 11', '050b000000000000 00000000'],
    ['timestamps of length 8', '0808000000000000'],
    ['timestamps of length 12', '080c000000000000 00000000'],
  ];
  for (const [name, hex] of malformed) {
    it(`is BadOption for ${name}`, () => {
      const v = wrapOk(build(fromHex(hex)));
      expect(v.parseOptions()).toBe(WireError.BadOption);
      // The result is remembered until the next wrap().
      expect(v.parseOptions()).toBe(WireError.BadOption);
    });
  }

  it('accepts an unknown option of exactly the remaining length', () => {
    expect(wrapOk(build(fromHex('1e04abcd'))).parseOptions()).toBe(WireError.Ok);
    expect(wrapOk(build(fromHex('010101 1e02 000000'))).parseOptions()).toBe(WireError.Ok);
  });
});

describe('TcpView.wrap errors', () => {
  it('is Truncated below 20 bytes, at every length, and past the buffer', () => {
    const v = new TcpView();
    for (let n = 0; n < 20; n++) expect(v.wrap(SYN, 20, n)).toBe(WireError.Truncated);
    expect(v.wrap(SYN, 21, 40)).toBe(WireError.Truncated);
  });

  it('is BadHeaderLength when the data offset is below 5 or past the segment', () => {
    const b = seg(SYN, SYN_CSUM);
    const v = new TcpView();
    for (let d = 0; d < 5; d++) {
      b[12] = d << 4;
      expect(v.wrap(b, 0, b.length)).toBe(WireError.BadHeaderLength);
    }
    b[12] = 11 << 4;
    expect(v.wrap(b, 0, b.length)).toBe(WireError.BadHeaderLength);
    b[12] = 10 << 4;
    expect(v.wrap(b, 0, 39)).toBe(WireError.BadHeaderLength);
    expect(v.wrap(b, 0, 40)).toBe(WireError.Ok);
  });
});

describe('TcpView setters keep the checksum valid', () => {
  it('plain port setters write the field only', () => {
    const b = seg(SYN, SYN_CSUM);
    const v = wrapOk(b);
    v.srcPort = 1;
    v.dstPort = 2;
    expect([u16(b, 0), u16(b, 2), v.checksum]).toEqual([1, 2, SYN_CSUM]);
  });

  it('setSrcPort / setDstPort match a full recompute on every real segment', () => {
    for (const [name, pkt, c] of REAL) {
      const b = seg(pkt, c);
      const v = wrapOk(b);
      v.setSrcPort(61000);
      v.setDstPort(8080);
      expect([v.srcPort, v.dstPort], name).toEqual([61000, 8080]);
      expect(v.checksum, name).toBe(fullCsum(b));
      expect(v.verifyChecksum(ph(b.length)), name).toBe(true);
    }
  });

  it('patchAddress32 follows a pseudo-header address rewrite (destination NAT)', () => {
    const b = seg(GET, GET_CSUM);
    const v = wrapOk(b);
    const dst = 0x0a000063;
    v.patchAddress32(LO, dst);
    expect(v.verifyChecksum(pseudoSumV4(LO, dst, TCP_PROTO, b.length))).toBe(true);
  });

  it('any port rewrite keeps any segment valid (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        (payload, sp, dp) => {
          const b = build(new Uint8Array(0), payload);
          const v = wrapOk(b);
          v.setSrcPort(sp);
          v.setDstPort(dp);
          expect(v.verifyChecksum(ph(b.length))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('TcpView.clampMss', () => {
  it('lowers the MSS of a real SYN and patches the checksum like a full recompute', () => {
    const b = seg(SYN, SYN_CSUM);
    const v = wrapOk(b);
    expect(v.clampMss(1400)).toBe(true);
    expect(v.mss).toBe(1400);
    expect(u16(b, 22)).toBe(1400);
    expect(v.checksum).toBe(fullCsum(b));
    expect(v.verifyChecksum(ph(b.length))).toBe(true);
    expect(v.clampMss(1400)).toBe(false);
    expect(v.clampMss(1460)).toBe(false);
    expect(u16(b, 22)).toBe(1400);
  });

  it('patches correctly when the MSS value sits at an odd offset', () => {
    const b = build(fromHex('01 020405b4 010101'), fromHex('616263'));
    const v = wrapOk(b);
    expect(v.parseOptions()).toBe(WireError.Ok);
    expect(v.mssOff).toBe(23);
    expect(v.clampMss(1200)).toBe(true);
    expect(u16(b, 23)).toBe(1200);
    expect(v.checksum).toBe(fullCsum(b));
  });

  it('leaves segments without an MSS option, or with malformed options, alone', () => {
    const b = seg(FIN, FIN_CSUM);
    const before = b.slice();
    expect(wrapOk(b).clampMss(536)).toBe(false);
    expect(b).toEqual(before);
    const bad = build(fromHex('020405b4 0800 0000'));
    const copy = bad.slice();
    expect(wrapOk(bad).clampMss(536)).toBe(false);
    expect(bad).toEqual(copy);
  });

  it('any clamp at any alignment equals a full recompute (property)', () => {
    fc.assert(
      fc.property(
        fc.nat(3),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ maxLength: 21 }),
        (nops, mss, max, payload) => {
          const opts = new Uint8Array(8).fill(1);
          opts.set(fromHex('0204'), nops);
          setU16(opts, nops + 2, mss);
          const b = build(opts, payload);
          const v = wrapOk(b);
          expect(v.clampMss(max)).toBe(mss > max);
          expect(v.mss).toBe(Math.min(mss, max));
          expect(v.checksum).toBe(fullCsum(b));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('TcpRepr', () => {
  it('parses the options of the SYN as a list in wire order', () => {
    const r = parseTcp(wrapOk(SYN, 20));
    expect(r.options).toEqual([
      { kind: 'mss', value: 65495 },
      { kind: 'sack-permitted' },
      { kind: 'timestamps', tsVal: 881488960, tsEcr: 0 },
      { kind: 'nop' },
      { kind: 'wscale', shift: 10 },
    ]);
    expect(r).toMatchObject({ srcPort: 54380, dstPort: 18765, seq: 3675157151, ack: 0, flags: TCP_SYN });
    expect(r).toMatchObject({ reserved: 0, window: 65495, urgentPointer: 0, payload: new Uint8Array(0) });
  });

  it('parses SACK blocks, unknown options and EOL padding', () => {
    expect(parseTcp(wrapOk(SACK, 20)).options).toEqual([
      { kind: 'nop' },
      { kind: 'nop' },
      { kind: 'timestamps', tsVal: 2512151878, tsEcr: 881488961 },
      { kind: 'nop' },
      { kind: 'nop' },
      {
        kind: 'sack',
        blocks: [
          [0xdb0e8000, 0xdb0e9000],
          [0xdb0ea000, 0xdb0eb000],
        ],
      },
    ]);
    const opts = parseTcp(wrapOk(TFO_SYN, 20)).options;
    expect(opts.slice(-2)).toEqual([
      { kind: 'unknown', type: 34, data: fromHex('0102030405060708') },
      { kind: 'eol', padding: fromHex('00') },
    ]);
  });

  it('carries a malformed tail through as raw bytes', () => {
    const b = build(fromHex('020405b4 0300 ffff'));
    expect(parseTcp(wrapOk(b)).options).toEqual([
      { kind: 'mss', value: 1460 },
      { kind: 'malformed', bytes: fromHex('0300ffff') },
    ]);
    const lone = build(fromHex('010101 02'));
    expect(parseTcp(wrapOk(lone)).options.at(-1)).toEqual({ kind: 'malformed', bytes: fromHex('02') });
  });

  it('parse then emit reproduces every real segment exactly', () => {
    for (const [name, pkt, c] of REAL) {
      const orig = seg(pkt, c);
      const r = parseTcp(wrapOk(orig));
      expect(tcpLen(r), name).toBe(orig.length);
      const out = new Uint8Array(orig.length + 5).fill(0xaa);
      expect(emitTcp(r, out, 5, ph(orig.length)), name).toBe(orig.length);
      expect(out.subarray(5), name).toEqual(orig);
    }
  });

  it('builds a segment from a repr: zero padding to 4 bytes, data offset, checksum', () => {
    const r: TcpRepr = {
      srcPort: 1,
      dstPort: 2,
      seq: 0xfffffffe,
      ack: 7,
      flags: TCP_SYN | TCP_ACK_FLAG | TCP_AE,
      reserved: 0,
      window: 1024,
      urgentPointer: 0,
      options: [{ kind: 'wscale', shift: 14 }],
      payload: fromHex('ff'),
    };
    expect(tcpHeaderLen(r)).toBe(24);
    const out = new Uint8Array(25).fill(0xee);
    expect(emitTcp(r, out, 0, ph(25))).toBe(25);
    const v = wrapOk(out);
    expect(out.subarray(20, 24)).toEqual(fromHex('03030e00'));
    expect([v.dataOffset, v.flags, v.seq, v.ack, v.payloadLen]).toEqual([6, r.flags, r.seq, 7, 1]);
    expect(v.verifyChecksum(ph(25))).toBe(true);
    expect(v.parseOptions()).toBe(WireError.Ok);
    expect(v.wscale).toBe(14);
  });

  it('throws RangeError for options over 40 bytes or a short buffer', () => {
    const base = parseTcp(wrapOk(seg(SYN, SYN_CSUM)));
    const long = {
      ...base,
      options: [...base.options, { kind: 'unknown' as const, type: 30, data: new Uint8Array(20) }],
    };
    expect(() => emitTcp(long, new Uint8Array(100), 0, 0)).toThrow(RangeError);
    const huge = { ...base, options: [{ kind: 'unknown' as const, type: 30, data: new Uint8Array(254) }] };
    expect(() => emitTcp(huge, new Uint8Array(400), 0, 0)).toThrow(RangeError);
    expect(() => emitTcp(base, new Uint8Array(39), 0, 0)).toThrow(RangeError);
    expect(() => emitTcp(base, new Uint8Array(40), 1, 0)).toThrow(RangeError);
  });
});

describe('TcpView robustness', () => {
  it('wrap and parseOptions never throw on random bytes; parse/emit round-trips whatever wraps', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 72 }),
        fc.nat(4),
        fc.nat(15),
        (bytes, off, doff) => {
          if (bytes.length > 12 + off) bytes[12 + off] = (doff << 4) | (bytes[12 + off]! & 15);
          const v = new TcpView();
          const e = v.wrap(bytes, off, Math.max(0, bytes.length - off));
          if (e !== WireError.Ok) return;
          v.parseOptions();
          v.clampMss(536);
          const orig = bytes.slice(off);
          wrapOk(orig).fillChecksum(0);
          const r = parseTcp(wrapOk(orig));
          const out = new Uint8Array(tcpLen(r));
          emitTcp(r, out, 0, 0);
          expect(out).toEqual(orig);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('random segments give the same results whatever follows the view (property)', () => {
    const run = (bytes: Uint8Array, fill: number) => {
      const b = new Uint8Array(bytes.length + 64).fill(fill);
      b.set(bytes);
      const v = new TcpView();
      const e = v.wrap(b, 0, bytes.length);
      if (e !== WireError.Ok) return { e };
      const opt = v.parseOptions();
      const fields = [v.mss, v.wscale, v.sackPermitted, v.tsVal, v.tsEcr, v.sackBlocks];
      return { e, opt, fields, ok: v.verifyChecksum(0), clamp: v.clampMss(100), r: parseTcp(v) };
    };
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 64 }),
        fc.integer({ min: 5, max: 15 }),
        (bytes, doff) => {
          bytes[12] = (doff << 4) | (bytes[12]! & 15);
          expect(run(bytes, 0xff)).toEqual(run(bytes, 0));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never reads outside its view: results do not depend on the surrounding bytes', () => {
    const s = seg(SACK, 0x09a4);
    const run = (fill: number) => {
      const big = new Uint8Array(200).fill(fill);
      big.set(s, 61);
      const v = new TcpView();
      expect(v.wrap(big, 61, s.length)).toBe(WireError.Ok);
      const res = {
        opt: v.parseOptions(),
        ok: v.verifyChecksum(ph(s.length)),
        blocks: [v.sackLeft(0), v.sackRight(1)],
        r: parseTcp(v),
        outside: [...big.subarray(0, 61), ...big.subarray(61 + s.length)].every((x) => x === fill),
      };
      v.setDstPort(1);
      v.fillChecksum(ph(s.length));
      return { ...res, c: v.checksum };
    };
    const a = run(0);
    const b = run(0xff);
    expect(a).toEqual(b);
    expect(a.ok && a.outside).toBe(true);
    // Options that would run past the view are refused even when the buffer continues.
    const big = new Uint8Array(80).fill(0x08);
    big.set(build(fromHex('01010101')), 0);
    big[23] = 0x08;
    const v = new TcpView();
    expect(v.wrap(big, 0, 24)).toBe(WireError.Ok);
    expect(v.parseOptions()).toBe(WireError.BadOption);
  });
});
