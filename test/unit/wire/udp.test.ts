import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, setU16, u16 } from '../../../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV4, pseudoSumV6, verify } from '../../../src/dataplane/wire/checksum.js';
import { WireError } from '../../../src/dataplane/wire/errors.js';
import {
  emitUdp,
  parseUdp,
  UDP_CHECKSUM,
  UDP_HEADER_LEN,
  UDP_PROTO,
  UdpView,
  udpLen,
} from '../../../src/dataplane/wire/udp.js';

const LO = 0x7f000001;

// Captured on lo: python sendto(b'hello ferry', ('127.0.0.1', 18766)). IPv4 header | UDP.
// Loopback leaves the checksum as the CHECKSUM_PARTIAL seed (0xfe26); tcpdump -vv computed the
// real one as 0x69ce.
const V4 = fromHex('4500002707ce4000401134f67f0000017f000001 | b8de 494e 0013 fe26 | 68656c6c6f206665727279');
const V4_CSUM = 0x69ce;
// The same over IPv6 to ::1 (IPv6 header | UDP); tcpdump: 0x0029 -> 0xed04.
const V6 = fromHex(
  '600ae1d000161140 00000000000000000000000000000001 00000000000000000000000000000001' +
    '| bd4c 494e 0016 0029 | 68656c6c6f206665727279207636',
);
const V6_CSUM = 0xed04;

function ph4(len: number): number {
  return pseudoSumV4(LO, LO, UDP_PROTO, len);
}

function ph6(pkt: Uint8Array, len: number): number {
  return pseudoSumV6(pkt, 8, 24, UDP_PROTO, len);
}

/** The checksum a full recompute gives (0 sent as 0xffff). */
function fullCsum(b: Uint8Array, off: number, len: number, ps: number): number {
  const c = b.slice(off, off + len);
  setU16(c, UDP_CHECKSUM, 0);
  return checksum(c, 0, len, ps) || 0xffff;
}

describe('UdpView on real datagrams', () => {
  it('reads every field of an IPv4 datagram in place', () => {
    const v = new UdpView();
    expect(v.wrap(V4, 20, 19)).toBe(WireError.Ok);
    expect(v.srcPort).toBe(47326);
    expect(v.dstPort).toBe(18766);
    expect(v.length).toBe(19);
    expect(v.checksum).toBe(0xfe26);
    expect(v.payloadOff).toBe(28);
    expect(v.payloadLen).toBe(11);
    expect(new TextDecoder().decode(V4.subarray(v.payloadOff, v.payloadOff + v.payloadLen))).toBe(
      'hello ferry',
    );
  });

  it('fills the checksum tcpdump computed, over IPv4 and IPv6', () => {
    const a = V4.slice();
    const v = new UdpView();
    v.wrap(a, 20, 19);
    expect(v.verifyChecksum(ph4(19), false)).toBe(false);
    v.fillChecksum(ph4(19));
    expect(v.checksum).toBe(V4_CSUM);
    expect(v.verifyChecksum(ph4(19), false)).toBe(true);

    const b = V6.slice();
    expect(v.wrap(b, 40, 22)).toBe(WireError.Ok);
    expect([v.srcPort, v.dstPort, v.length, v.payloadLen]).toEqual([48460, 18766, 22, 14]);
    expect(v.verifyChecksum(ph6(b, 22), true)).toBe(false);
    v.fillChecksum(ph6(b, 22));
    expect(v.checksum).toBe(V6_CSUM);
    expect(v.verifyChecksum(ph6(b, 22), true)).toBe(true);
  });

  it('a zero checksum means none over IPv4 (RFC 768) and is invalid over IPv6 (RFC 8200 §8.1)', () => {
    const a = V4.slice();
    const v = new UdpView();
    v.wrap(a, 20, 19);
    v.checksum = 0;
    expect(v.verifyChecksum(ph4(19), false)).toBe(true);
    expect(v.verifyChecksum(ph4(19), true)).toBe(false);
  });

  it('sends a computed zero as 0xffff, which verifies', () => {
    // Choose the last payload word so that the datagram sums to all-ones: its checksum is 0.
    const d = fromHex('1234 5678 000c 0000 abcd 0000');
    const ps = pseudoSumV4(0x0a000001, 0x0a000002, UDP_PROTO, 12);
    setU16(d, 10, checksum(d, 0, 12, ps));
    expect(checksum(d, 0, 12, ps)).toBe(0);
    const v = new UdpView();
    v.wrap(d, 0, 12);
    v.fillChecksum(ps);
    expect(v.checksum).toBe(0xffff);
    expect(v.verifyChecksum(ps, true)).toBe(true);
    expect(verify(d, 0, 12, ps)).toBe(true);
  });
});

describe('UdpView setters', () => {
  it('plain port setters write the field only', () => {
    const a = V4.slice();
    const v = new UdpView();
    v.wrap(a, 20, 19);
    v.srcPort = 1;
    v.dstPort = 0xfffe;
    expect([u16(a, 20), u16(a, 22), v.checksum]).toEqual([1, 0xfffe, 0xfe26]);
  });

  it('setSrcPort / setDstPort patch the checksum to what a full recompute gives', () => {
    const a = V4.slice();
    const v = new UdpView();
    v.wrap(a, 20, 19);
    v.fillChecksum(ph4(19));
    v.setSrcPort(40000);
    v.setDstPort(53);
    expect([v.srcPort, v.dstPort]).toEqual([40000, 53]);
    expect(v.checksum).toBe(fullCsum(a, 20, 19, ph4(19)));
    expect(v.verifyChecksum(ph4(19), false)).toBe(true);
  });

  it('a zero (absent) checksum stays zero through port rewrites', () => {
    const a = V4.slice();
    const v = new UdpView();
    v.wrap(a, 20, 19);
    v.checksum = 0;
    v.setSrcPort(1234);
    v.setDstPort(4321);
    expect(v.checksum).toBe(0);
  });

  it('any port rewrite keeps any datagram valid (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (payload, sp, dp, src) => {
          const n = UDP_HEADER_LEN + payload.length;
          const buf = new Uint8Array(n);
          const ps = pseudoSumV4(src, LO, UDP_PROTO, n);
          emitUdp({ srcPort: 7, dstPort: 9, payload }, buf, 0, ps);
          const v = new UdpView();
          expect(v.wrap(buf, 0, n)).toBe(WireError.Ok);
          v.setSrcPort(sp);
          v.setDstPort(dp);
          expect(v.verifyChecksum(ps, true)).toBe(true);
          expect(v.checksum).not.toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('patchAddress32 follows a pseudo-header address rewrite (source NAT)', () => {
    const a = V4.slice();
    const v = new UdpView();
    v.wrap(a, 20, 19);
    v.fillChecksum(ph4(19));
    const newSrc = 0xc0a80105;
    v.patchAddress32(LO, newSrc);
    const ps = pseudoSumV4(newSrc, LO, UDP_PROTO, 19);
    expect(v.verifyChecksum(ps, false)).toBe(true);
    expect(v.checksum).toBe(fullCsum(a, 20, 19, ps));
    v.checksum = 0;
    v.patchAddress32(newSrc, LO);
    expect(v.checksum).toBe(0);
  });
});

describe('UdpView.wrap errors', () => {
  it('is Truncated below 8 bytes, at every length', () => {
    const v = new UdpView();
    for (let n = 0; n < UDP_HEADER_LEN; n++) expect(v.wrap(V4, 20, n)).toBe(WireError.Truncated);
  });

  it('is Truncated when the range runs past the buffer', () => {
    const v = new UdpView();
    expect(v.wrap(V4, 20, 20)).toBe(WireError.Truncated);
    expect(v.wrap(V4, V4.length - 7, 8)).toBe(WireError.Truncated);
  });

  it('is BadLength when the length field is below 8 or beyond the bytes given', () => {
    const v = new UdpView();
    const a = V4.slice();
    for (const l of [0, 1, 7]) {
      setU16(a, 24, l);
      expect(v.wrap(a, 20, 19)).toBe(WireError.BadLength);
    }
    setU16(a, 24, 20);
    expect(v.wrap(a, 20, 19)).toBe(WireError.BadLength);
    setU16(a, 24, 8);
    expect(v.wrap(a, 20, 19)).toBe(WireError.Ok);
    expect(v.payloadLen).toBe(0);
  });

  it('treats bytes after the length field as padding outside the datagram', () => {
    const padded = new Uint8Array(V4.length + 6);
    padded.set(V4);
    padded.fill(0xee, V4.length);
    const v = new UdpView();
    expect(v.wrap(padded, 20, 25)).toBe(WireError.Ok);
    expect(v.length).toBe(19);
    expect(v.payloadLen).toBe(11);
    v.fillChecksum(ph4(19));
    expect(v.checksum).toBe(V4_CSUM);
    expect(parseUdp(v).payload.length).toBe(11);
  });
});

describe('UdpRepr', () => {
  it('parse then emit reproduces real datagrams exactly', () => {
    for (const [pkt, off, len, ps] of [
      [V4, 20, 19, ph4(19)],
      [V6, 40, 22, ph6(V6, 22)],
    ] as const) {
      const orig = pkt.slice(off, off + len);
      const v = new UdpView();
      v.wrap(orig, 0, len);
      v.fillChecksum(ps);
      const r = parseUdp(v);
      expect(udpLen(r)).toBe(len);
      const out = new Uint8Array(len + 3);
      expect(emitUdp(r, out, 3, ps)).toBe(len);
      expect(out.subarray(3)).toEqual(orig);
    }
  });

  it('parses the fields of a real datagram', () => {
    const v = new UdpView();
    v.wrap(V4, 20, 19);
    expect(parseUdp(v)).toEqual({
      srcPort: 47326,
      dstPort: 18766,
      payload: new TextEncoder().encode('hello ferry'),
    });
  });

  it('emits a zero checksum when asked (none, IPv4 only)', () => {
    const out = new Uint8Array(10);
    emitUdp({ srcPort: 1, dstPort: 2, payload: fromHex('6869') }, out, 0, null);
    expect(out).toEqual(fromHex('0001 0002 000a 0000 6869'));
  });

  it('throws RangeError for a short buffer or an oversized payload', () => {
    const r = { srcPort: 1, dstPort: 2, payload: new Uint8Array(4) };
    expect(() => emitUdp(r, new Uint8Array(11), 0, 0)).toThrow(RangeError);
    expect(() => emitUdp(r, new Uint8Array(12), 1, 0)).toThrow(RangeError);
    const big = { srcPort: 1, dstPort: 2, payload: new Uint8Array(0xffff - 7) };
    expect(() => emitUdp(big, new Uint8Array(0x20000), 0, 0)).toThrow(RangeError);
  });
});

describe('UdpView robustness', () => {
  it('wrap never throws on random bytes, and Ok implies every accessor stays in bounds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(8), (bytes, off) => {
        const v = new UdpView();
        const len = Math.max(0, bytes.length - off);
        const e = v.wrap(bytes, off, len);
        if (e !== WireError.Ok) return;
        expect(v.payloadOff + v.payloadLen).toBeLessThanOrEqual(off + len);
        v.verifyChecksum(0, true);
        const r = parseUdp(v);
        const out = new Uint8Array(udpLen(r));
        emitUdp(r, out, 0, null);
      }),
      { numRuns: 2000 },
    );
  });

  it('never reads outside its view: results do not depend on the surrounding bytes', () => {
    const dgram = V4.slice(20);
    const run = (fill: number) => {
      const big = new Uint8Array(100).fill(fill);
      big.set(dgram, 37);
      const v = new UdpView();
      expect(v.wrap(big, 37, dgram.length)).toBe(WireError.Ok);
      const ok = v.verifyChecksum(ph4(19), false);
      v.fillChecksum(ph4(19));
      v.setSrcPort(999);
      return { ok, c: v.checksum, r: parseUdp(v), before: big.slice(0, 37), after: big.slice(56) };
    };
    const a = run(0x00);
    const b = run(0xff);
    expect(a.ok).toBe(b.ok);
    expect(a.c).toBe(b.c);
    expect(a.r).toEqual(b.r);
    expect(a.before.every((x) => x === 0) && a.after.every((x) => x === 0)).toBe(true);
    expect(b.before.every((x) => x === 0xff) && b.after.every((x) => x === 0xff)).toBe(true);
  });
});
