import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, setU16, toHex, u16 } from '../../../src/dataplane/wire/bytes.js';
import { checksum, verify } from '../../../src/dataplane/wire/checksum.js';
import { WireError } from '../../../src/dataplane/wire/errors.js';
import {
  emitIcmpv4,
  emitIcmpv4Error,
  ICMPV4_DEST_UNREACH,
  ICMPV4_ECHO_REPLY,
  ICMPV4_ECHO_REQUEST,
  ICMPV4_ERROR_MAX_QUOTE,
  ICMPV4_PARAM_PROBLEM,
  ICMPV4_REDIRECT,
  ICMPV4_SOURCE_QUENCH,
  ICMPV4_TIME_EXCEEDED,
  ICMPV4_TIME_EXCEEDED_TTL,
  ICMPV4_TIMESTAMP,
  ICMPV4_UNREACH_FRAG_NEEDED,
  ICMPV4_UNREACH_PORT,
  Icmpv4View,
  icmpv4ErrorLen,
  icmpv4IsError,
  icmpv4IsQuery,
  parseIcmpv4,
} from '../../../src/dataplane/wire/icmpv4.js';
import { IP_PROTO_ICMP, IP_PROTO_UDP, Ipv4View } from '../../../src/dataplane/wire/ipv4.js';

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** ICMP echo data as Linux ping sends it: a 16-byte timestamp, then byte i = i & 0xff. */
function pingData(stamp: string, n: number): Uint8Array {
  const d = new Uint8Array(n);
  d.set(fromHex(stamp));
  for (let i = 16; i < n; i++) d[i] = i & 0xff;
  return d;
}

// All captured with tcpdump -w; these are the ICMP messages (IP payloads) unless named *_IP.
// `ping 10.9.0.2` over a veth pair, and its reply.
const ECHO_DATA = pingData('4139026b00000000ace1070000000000', 56);
const ECHO_REQ = cat(fromHex('0800 2246 1f60 0001'), ECHO_DATA);
const ECHO_REPLY = cat(fromHex('0000 2a46 1f60 0001'), ECHO_DATA);

// `ping -M do -s 1100 10.9.1.2` through a Linux router whose next hop has MTU 1000: the
// 1128-byte packet, and the frag-needed error the router sent (576-byte datagram, 548 quoted).
const BIG_ECHO_IP = cat(
  fromHex('45000468 00004000 40012181 0a090001 0a090102 0800a264 1f650001'),
  pingData('4139026b000000009e28080000000000', 1100),
);
const FRAG_NEEDED = cat(fromHex('0304 f12c 0000 03e8'), BIG_ECHO_IP.subarray(0, 548));

// `ping -t 1 10.9.1.2` through the same router: the packet and the time-exceeded error (whole quote).
const TTL1_IP = cat(
  fromHex('45000054 7f5f4000 0101e535 0a090001 0a090102 080000ec 1f660001'),
  pingData('4139026b00000000cd35080000000000', 56),
);
const TIME_EXCEEDED = cat(fromHex('0b00 f4ff 00000000'), TTL1_IP);

// A UDP datagram to a closed port on 127.0.0.1 and the port-unreachable Linux answered with.
const SMALL_UDP_IP = fromHex(
  '45000027 0ab94000 4011320b 7f000001 7f000001 e25e829a 0013fe26 68656c6c6f2d6665727279',
);
const PORT_UNREACH = cat(fromHex('0303 03f2 00000000'), SMALL_UDP_IP);

// A 1564-byte UDP datagram (payload: bytes 0..255 six times) to a closed port, and the answer
// Linux cut to 576 bytes.
const BIG_UDP_PAYLOAD = new Uint8Array(1536).map((_, i) => i & 0xff);
const BIG_UDP_IP = cat(
  fromHex('4500061c a6040000 4011d0ca 7f000001 7f000001 8b939c42 0608041c'),
  BIG_UDP_PAYLOAD,
);
const BIG_PORT_UNREACH = cat(fromHex('0303 3e73 00000000'), BIG_UDP_IP.subarray(0, 548));

const FIXTURES = [ECHO_REQ, ECHO_REPLY, FRAG_NEEDED, TIME_EXCEEDED, PORT_UNREACH, BIG_PORT_UNREACH];

function fullChecksum(b: Uint8Array): number {
  const c = b.slice();
  setU16(c, 2, 0);
  return checksum(c, 0, c.length);
}

const noise = fc.uint8Array({ minLength: 1, maxLength: 16 });

/** pkt[0..len) at offset `pad` of a bigger buffer whose other bytes repeat `fill`. */
function embed(pkt: Uint8Array, len: number, pad: number, fill: Uint8Array): Uint8Array {
  const b = new Uint8Array(pad + pkt.length + 16);
  for (let i = 0; i < b.length; i++) b[i] = fill[i % fill.length]!;
  b.set(pkt.subarray(0, len), pad);
  return b;
}

function snapshot(v: Icmpv4View, buf: Uint8Array, off: number, len: number): unknown[] {
  const e = v.wrap(buf, off, len);
  if (e !== WireError.Ok) return [e];
  return [
    e,
    v.type,
    v.code,
    v.checksum,
    v.verifyChecksum(),
    v.rest,
    v.id,
    v.seq,
    v.nextHopMtu,
    v.pointer,
    v.gateway,
    v.isError,
    v.isQuery,
    v.dataLen,
    v.isError ? [v.quotedOff - off, v.quotedLen] : null,
  ];
}

describe('Icmpv4View (RFC 792)', () => {
  const v = new Icmpv4View();

  it('reads a captured echo request', () => {
    expect(v.wrap(ECHO_REQ, 0, ECHO_REQ.length)).toBe(WireError.Ok);
    expect(v.type).toBe(ICMPV4_ECHO_REQUEST);
    expect(v.code).toBe(0);
    expect(v.checksum).toBe(0x2246);
    expect(v.verifyChecksum()).toBe(true);
    expect(v.id).toBe(0x1f60);
    expect(v.seq).toBe(1);
    expect(v.rest).toBe(0x1f600001);
    expect(v.isQuery).toBe(true);
    expect(v.isError).toBe(false);
    expect(v.dataOff).toBe(8);
    expect(v.dataLen).toBe(56);
  });

  it('reads a frag-needed error with its next-hop MTU (RFC 1191) and quoted packet', () => {
    expect(v.wrap(FRAG_NEEDED, 0, FRAG_NEEDED.length)).toBe(WireError.Ok);
    expect(v.type).toBe(ICMPV4_DEST_UNREACH);
    expect(v.code).toBe(ICMPV4_UNREACH_FRAG_NEEDED);
    expect(v.verifyChecksum()).toBe(true);
    expect(v.nextHopMtu).toBe(1000);
    expect(v.isError).toBe(true);
    expect(v.isQuery).toBe(false);
    expect(v.quotedOff).toBe(8);
    expect(v.quotedLen).toBe(548);
    const ip = new Ipv4View();
    expect(ip.wrapQuoted(FRAG_NEEDED, v.quotedOff, v.quotedLen)).toBe(WireError.Ok);
    expect(ip.totalLen).toBe(1128);
    expect(ip.dst).toBe(0x0a090102);
    expect(ip.protocol).toBe(IP_PROTO_ICMP);
    expect(ip.dontFragment).toBe(true);
  });

  it('reads time exceeded and port unreachable', () => {
    expect(v.wrap(TIME_EXCEEDED, 0, TIME_EXCEEDED.length)).toBe(WireError.Ok);
    expect(v.type).toBe(ICMPV4_TIME_EXCEEDED);
    expect(v.code).toBe(ICMPV4_TIME_EXCEEDED_TTL);
    expect(v.verifyChecksum()).toBe(true);
    expect(v.quotedLen).toBe(84);
    expect(v.wrap(PORT_UNREACH, 0, PORT_UNREACH.length)).toBe(WireError.Ok);
    expect(v.code).toBe(ICMPV4_UNREACH_PORT);
    expect(v.verifyChecksum()).toBe(true);
    expect(v.quotedLen).toBe(39);
    const ip = new Ipv4View();
    expect(ip.wrap(PORT_UNREACH, v.quotedOff, v.quotedLen)).toBe(WireError.Ok);
    expect(ip.protocol).toBe(IP_PROTO_UDP);
    expect(v.wrap(BIG_PORT_UNREACH, 0, BIG_PORT_UNREACH.length)).toBe(WireError.Ok);
    expect(v.verifyChecksum()).toBe(true);
  });

  it('honours an RFC 4884 length: the quote ends there, extensions follow', () => {
    const ext = fromHex('20000000 00080101 0000abcd'); // extension header + one object
    const b = cat(fromHex(`0b00 0000 00 ${(84 / 4).toString(16)} 0000`), TTL1_IP, ext);
    setU16(b, 2, checksum(b, 0, b.length));
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    expect(v.verifyChecksum()).toBe(true);
    expect(v.quotedLen).toBe(84);
    expect(v.dataLen).toBe(84 + ext.length);
    b[5] = 25; // 100 bytes: more than the 96 of data
    expect(v.wrap(b, 0, b.length)).toBe(WireError.BadLength);
  });

  it('classifies types (RFC 1122 §3.2.2)', () => {
    for (const t of [3, 4, 5, 11, 12]) expect([icmpv4IsError(t), icmpv4IsQuery(t)]).toEqual([true, false]);
    for (const t of [0, 8, 13, 14, 15, 16, 17, 18])
      expect([icmpv4IsError(t), icmpv4IsQuery(t)]).toEqual([false, true]);
    for (const t of [1, 2, 6, 7, 9, 10, 19, 40, 255])
      expect([icmpv4IsError(t), icmpv4IsQuery(t)]).toEqual([false, false]);
  });

  it('is Truncated below 8 bytes, and for an error quoting less than an IP header', () => {
    for (let n = 0; n < 8; n++) expect(v.wrap(ECHO_REQ, 0, n)).toBe(WireError.Truncated);
    expect(v.wrap(ECHO_REQ, 0, 8)).toBe(WireError.Ok);
    for (let n = 8; n < 28; n++) expect(v.wrap(PORT_UNREACH, 0, n)).toBe(WireError.Truncated);
    expect(v.wrap(PORT_UNREACH, 0, 28)).toBe(WireError.Ok);
    expect(v.wrap(ECHO_REQ, 1, ECHO_REQ.length)).toBe(WireError.Truncated);
  });
});

describe('Icmpv4View setters keep the checksum equal to a full recompute (RFC 1624)', () => {
  const v = new Icmpv4View();

  it('type 8 → 0 turns the captured request into the captured reply', () => {
    const b = ECHO_REQ.slice();
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    v.type = ICMPV4_ECHO_REPLY;
    expect(toHex(b)).toBe(toHex(ECHO_REPLY));
  });

  it('id, seq, code, rest, next-hop MTU', () => {
    for (const p of FIXTURES) {
      const b = p.slice();
      expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
      v.id = 0xabcd;
      expect(v.id).toBe(0xabcd);
      expect(v.checksum).toBe(fullChecksum(b));
      v.seq = 0xffff;
      expect(v.seq).toBe(0xffff);
      expect(v.checksum).toBe(fullChecksum(b));
      v.nextHopMtu = 1400;
      expect(v.nextHopMtu).toBe(1400);
      expect(v.checksum).toBe(fullChecksum(b));
      v.code = 9;
      expect(v.code).toBe(9);
      expect(v.checksum).toBe(fullChecksum(b));
      v.rest = 0x01020304;
      expect(v.rest).toBe(0x01020304);
      expect(v.checksum).toBe(fullChecksum(b));
      expect(v.verifyChecksum()).toBe(true);
    }
  });

  it('any id/seq/rest rewrite on any echo', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.nat(0xffff),
        fc.nat(0xffff),
        fc.nat(0xffffffff),
        fc.nat(2),
        (data, id, seq, rest, which) => {
          const b = new Uint8Array(8 + data.length);
          emitIcmpv4({ type: 8, code: 0, rest: 0, data }, b, 0);
          expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
          if (which === 0) v.id = id;
          else if (which === 1) v.seq = seq;
          else v.rest = rest;
          expect(v.checksum).toBe(fullChecksum(b));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('fillChecksum recomputes a broken checksum', () => {
    const b = FRAG_NEEDED.slice();
    setU16(b, 2, 0);
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    expect(v.verifyChecksum()).toBe(false);
    v.fillChecksum();
    expect(v.checksum).toBe(0xf12c);
  });
});

describe('emitIcmpv4Error (RFC 1812 §4.3.2.3)', () => {
  it('rebuilds the frag-needed error a Linux router sent, byte for byte (quote cut to 548)', () => {
    const out = new Uint8Array(600);
    const n = emitIcmpv4Error(
      ICMPV4_DEST_UNREACH,
      ICMPV4_UNREACH_FRAG_NEEDED,
      BIG_ECHO_IP,
      0,
      BIG_ECHO_IP.length,
      out,
      10,
      1000,
    );
    expect(n).toBe(556);
    expect(20 + n).toBe(576);
    expect(icmpv4ErrorLen(BIG_ECHO_IP.length)).toBe(556);
    expect(toHex(out, 10, n)).toBe(toHex(FRAG_NEEDED));
    expect(out[9]).toBe(0);
    expect(out[10 + n]).toBe(0);
  });

  it('rebuilds the time-exceeded and both port-unreachable errors', () => {
    const out = new Uint8Array(600);
    let n = emitIcmpv4Error(ICMPV4_TIME_EXCEEDED, 0, TTL1_IP, 0, TTL1_IP.length, out, 0);
    expect(toHex(out, 0, n)).toBe(toHex(TIME_EXCEEDED));
    n = emitIcmpv4Error(ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT, SMALL_UDP_IP, 0, 39, out, 0);
    expect(toHex(out, 0, n)).toBe(toHex(PORT_UNREACH));
    n = emitIcmpv4Error(ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT, BIG_UDP_IP, 0, BIG_UDP_IP.length, out, 0);
    expect(n).toBe(8 + ICMPV4_ERROR_MAX_QUOTE);
    expect(toHex(out, 0, n)).toBe(toHex(BIG_PORT_UNREACH));
  });

  it('quotes a packet that sits at an offset, and only qLen bytes of it', () => {
    const frame = cat(new Uint8Array(14).fill(0xee), SMALL_UDP_IP, new Uint8Array(7).fill(0xee));
    const out = new Uint8Array(100);
    const n = emitIcmpv4Error(ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT, frame, 14, 39, out, 0);
    expect(toHex(out, 0, n)).toBe(toHex(PORT_UNREACH));
  });

  it('puts the pointer of a parameter problem in the top byte, the gateway of a redirect in all four', () => {
    const out = new Uint8Array(100);
    const v = new Icmpv4View();
    let n = emitIcmpv4Error(ICMPV4_PARAM_PROBLEM, 0, TTL1_IP, 0, TTL1_IP.length, out, 0, 9);
    expect(v.wrap(out, 0, n)).toBe(WireError.Ok);
    expect(v.pointer).toBe(9);
    expect(v.rest).toBe(0x09000000);
    expect(v.verifyChecksum()).toBe(true);
    n = emitIcmpv4Error(ICMPV4_REDIRECT, 1, TTL1_IP, 0, TTL1_IP.length, out, 0, 0x0a090003);
    expect(v.wrap(out, 0, n)).toBe(WireError.Ok);
    expect(v.gateway).toBe(0x0a090003);
    expect(v.verifyChecksum()).toBe(true);
    n = emitIcmpv4Error(ICMPV4_SOURCE_QUENCH, 0, TTL1_IP, 0, TTL1_IP.length, out, 0, 1234);
    expect(v.wrap(out, 0, n)).toBe(WireError.Ok);
    expect(v.rest).toBe(0);
    n = emitIcmpv4Error(ICMPV4_DEST_UNREACH, ICMPV4_UNREACH_PORT, TTL1_IP, 0, TTL1_IP.length, out, 0, 1234);
    expect(v.wrap(out, 0, n)).toBe(WireError.Ok);
    expect(v.rest).toBe(0);
  });

  it('works in place when the quote overlaps the output', () => {
    // The offending packet at offset 4; the error written at 0 overlaps it (moved, not smeared).
    const buf = new Uint8Array(4 + BIG_ECHO_IP.length);
    buf.set(BIG_ECHO_IP, 4);
    const n = emitIcmpv4Error(
      ICMPV4_DEST_UNREACH,
      ICMPV4_UNREACH_FRAG_NEEDED,
      buf,
      4,
      BIG_ECHO_IP.length,
      buf,
      0,
      1000,
    );
    expect(toHex(buf, 0, n)).toBe(toHex(FRAG_NEEDED));
    // And the other way round: the error ahead of the packet, quote moved backwards.
    const buf2 = new Uint8Array(40 + BIG_ECHO_IP.length);
    buf2.set(BIG_ECHO_IP, 0);
    const m = emitIcmpv4Error(
      ICMPV4_DEST_UNREACH,
      ICMPV4_UNREACH_FRAG_NEEDED,
      buf2,
      0,
      BIG_ECHO_IP.length,
      buf2,
      30,
      1000,
    );
    expect(toHex(buf2, 30, m)).toBe(toHex(FRAG_NEEDED));
  });

  it('throws RangeError for a non-error type or a small buffer', () => {
    expect(() => emitIcmpv4Error(ICMPV4_ECHO_REQUEST, 0, TTL1_IP, 0, 84, new Uint8Array(100), 0)).toThrow(
      RangeError,
    );
    expect(() => emitIcmpv4Error(ICMPV4_TIMESTAMP, 0, TTL1_IP, 0, 84, new Uint8Array(100), 0)).toThrow(
      RangeError,
    );
    expect(() => emitIcmpv4Error(ICMPV4_TIME_EXCEEDED, 0, TTL1_IP, 0, 84, new Uint8Array(91), 0)).toThrow(
      RangeError,
    );
    expect(() =>
      emitIcmpv4Error(ICMPV4_TIME_EXCEEDED, 0, TTL1_IP, 0, 84, new Uint8Array(92), 0),
    ).not.toThrow();
  });
});

describe('Icmpv4Repr', () => {
  const v = new Icmpv4View();

  it('emit(parse(message)) reproduces every captured message', () => {
    for (const p of FIXTURES) {
      expect(v.wrap(p, 0, p.length)).toBe(WireError.Ok);
      const r = parseIcmpv4(v);
      const out = new Uint8Array(p.length + 2);
      expect(emitIcmpv4(r, out, 1)).toBe(p.length);
      expect(toHex(out, 1, p.length)).toBe(toHex(p));
    }
  });

  it('parse gives plain values', () => {
    expect(v.wrap(FRAG_NEEDED, 0, FRAG_NEEDED.length)).toBe(WireError.Ok);
    const r = parseIcmpv4(v);
    expect(r.type).toBe(3);
    expect(r.code).toBe(4);
    expect(r.rest).toBe(1000);
    expect(r.data.length).toBe(548);
  });

  it('emit throws RangeError when the buffer is too small', () => {
    expect(() =>
      emitIcmpv4({ type: 8, code: 0, rest: 0, data: new Uint8Array(4) }, new Uint8Array(11), 0),
    ).toThrow(RangeError);
  });
});

describe('Icmpv4View on hostile input', () => {
  const v = new Icmpv4View();

  it('never throws on random bytes; what wraps Ok round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.constantFrom(-1, 0, 3, 5, 8, 11, 12), (b, t) => {
        if (t >= 0 && b.length > 0) b[0] = t;
        const s = snapshot(v, b, 0, b.length);
        if (s[0] !== WireError.Ok) return;
        if (v.isError) expect(v.quotedOff + v.quotedLen).toBeLessThanOrEqual(b.length);
        const out = new Uint8Array(b.length);
        emitIcmpv4(parseIcmpv4(v), out, 0);
        v.fillChecksum();
        expect(toHex(out)).toBe(toHex(b));
        expect(verify(out, 0, out.length)).toBe(true);
        expect(u16(out, 2)).toBe(fullChecksum(out));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads nothing outside buf[off..off+len)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURES),
        fc.nat(100),
        fc.nat(9),
        noise,
        noise,
        (p, cut, pad, n1, n2) => {
          const len = Math.min(cut, p.length);
          expect(snapshot(v, embed(p, p.length, pad, n1), pad, len)).toEqual(
            snapshot(v, embed(p, len, pad, n2), pad, len),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});
