import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fromHex,
  parseIpv6 as parseIpv6Text,
  setU16,
  toHex,
  u16,
} from '../../../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV6, verify } from '../../../src/dataplane/wire/checksum.js';
import { WireError } from '../../../src/dataplane/wire/errors.js';
import { IP_PROTO_ICMPV6, IP_PROTO_UDP } from '../../../src/dataplane/wire/ipv4.js';
import {
  emitIpv6,
  IPV6_MAX_EXT_HEADERS,
  IPV6_NH_AH,
  IPV6_NH_DEST_OPTS,
  IPV6_NH_FRAGMENT,
  IPV6_NH_HOP_BY_HOP,
  IPV6_NH_NONE,
  IPV6_NH_ROUTING,
  Ipv6View,
  ipv6HeaderLen,
  parseIpv6,
} from '../../../src/dataplane/wire/ipv6.js';

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** ICMPv6 echo data as Linux ping sends it: a 16-byte timestamp, then byte i = i & 0xff. */
function pingData(stamp: string, n: number): Uint8Array {
  const d = new Uint8Array(n);
  d.set(fromHex(stamp));
  for (let i = 16; i < n; i++) d[i] = i & 0xff;
  return d;
}

const LOOPBACK = fromHex('00000000000000000000000000000001');
const FD1 = fromHex('fd000000000000000000000000000001');
const FD2 = fromHex('fd000000000000000000000000000002');

// Captured with tcpdump -w (Ethernet header stripped).
// `ping -6 -s 8 ::1`: flow label 0x75299, ICMPv6 echo request.
const ECHO = fromHex(
  `60075299 0010 3a 40 ${toHex(LOOPBACK)} ${toHex(LOOPBACK)} 80005a0219a00001 0001020304050607`,
);
// `ping -6 -Q 0xb9 -s 8 ::1`: traffic class 0xb9 (DSCP 46, ECN 1).
const ECHO_TC = fromHex(
  `6b975299 0010 3a 40 ${toHex(LOOPBACK)} ${toHex(LOOPBACK)} 800030d442ce0001 0001020304050607`,
);
// UDP "ext" sent with IPV6_HOPOPTS (router alert + PadN) and IPV6_DSTOPTS (PadN) set.
const HBH_DST_UDP = fromHex(
  `600c1800 001b 00 40 ${toHex(LOOPBACK)} ${toHex(LOOPBACK)}` +
    '3c00 0502 0000 0100 | 1100 0104 0000 0000 | 9b8a 9c40 000b ee92 657874',
);
// MLDv2 report from a veth: Hop-by-Hop router alert, then ICMPv6 (multicast destination ff02::16).
const MLD = fromHex(
  '6000000000380001 fe80000000000000000000fffe00000b ff020000000000000000000000000016' +
    '3a00050200000100 | 8f006fd700000002 04000000ff0200000000000000000001ff000002' +
    '04000000ff0200000000000000000001ff00000b',
);
// `ping -6 -s 2000 fd00::2` over MTU 1280: two fragments, identification 0x3f64b2f9.
const FRAG_DATA = pingData('4139026b000000003304080000000000', 2000);
const FRAG1 = cat(
  fromHex(`6006d912 04d8 2c 40 ${toHex(FD1)} ${toHex(FD2)} 3a000001 3f64b2f9 8000d3f41f620001`),
  FRAG_DATA.subarray(0, 1224),
);
const FRAG2 = cat(
  fromHex(`6006d912 0310 2c 40 ${toHex(FD1)} ${toHex(FD2)} 3a0004d0 3f64b2f9`),
  FRAG_DATA.subarray(1224),
);
// Hand-built (no SRv6/AH support on the capture host), UDP checksums computed:
// a Segment Routing header (routing type 4, RFC 8754) with one segment, then UDP "rh".
const ROUTING_UDP = fromHex(
  `60000000 0022 2b 40 ${toHex(FD1)} ${toHex(FD2)}` +
    `1102 0400 00000000 ${toHex(FD2)} | 9c40 0035 000a f6f7 7268`,
);
// AH (RFC 4302) with a 96-bit ICV: payload length 4 → (4 + 2) × 4 = 24 bytes; then UDP "ah".
const AH_UDP = fromHex(
  `60000000 0022 33 40 ${toHex(FD1)} ${toHex(FD2)}` +
    '1104 0000 00001000 00000001 0123456789abcdef01234567 | 9c40 0035 000a 07f8 6168',
);
// No Next Header (RFC 8200 §4.7) after a Destination Options header; 4 bytes that must be ignored.
const DST_NONE = fromHex(`60000000 000c 3c 40 ${toHex(FD1)} ${toHex(FD2)} 3b00 0104 0000 0000 deadbeef`);

const FIXTURES = [ECHO, ECHO_TC, HBH_DST_UDP, MLD, FRAG1, FRAG2, ROUTING_UDP, AH_UDP, DST_NONE];

/** A destination-options header with 6 bytes of PadN naming `next`. */
function dstOpt(next: number): string {
  return `${next.toString(16).padStart(2, '0')}00 0104 0000 0000`;
}

/** UDP "x" from fd00::1 to fd00::2 behind `n` destination-options headers. */
function chain(n: number): Uint8Array {
  let ext = '';
  for (let i = 0; i < n; i++) ext += dstOpt(i === n - 1 ? IP_PROTO_UDP : IPV6_NH_DEST_OPTS);
  const first = n === 0 ? IP_PROTO_UDP : IPV6_NH_DEST_OPTS;
  const plen = 8 * n + 9;
  const hdr = `60000000 ${plen.toString(16).padStart(4, '0')} ${first.toString(16).padStart(2, '0')} 40`;
  return fromHex(`${hdr} ${toHex(FD1)} ${toHex(FD2)} ${ext} 9c40 0035 0009 0000 78`);
}

const noise = fc.uint8Array({ minLength: 1, maxLength: 16 });

/** pkt[0..len) at offset `pad` of a bigger buffer whose other bytes repeat `fill`. */
function embed(pkt: Uint8Array, len: number, pad: number, fill: Uint8Array): Uint8Array {
  const b = new Uint8Array(pad + pkt.length + 16);
  for (let i = 0; i < b.length; i++) b[i] = fill[i % fill.length]!;
  b.set(pkt.subarray(0, len), pad);
  return b;
}

function snapshot(v: Ipv6View, buf: Uint8Array, off: number, len: number, quoted = false): unknown[] {
  const e = quoted ? v.wrapQuoted(buf, off, len) : v.wrap(buf, off, len);
  if (e !== WireError.Ok) return [e];
  const src = new Uint8Array(16);
  v.copySrc(src);
  return [
    e,
    v.trafficClass,
    v.flowLabel,
    v.payloadLen,
    v.nextHeader,
    v.hopLimit,
    toHex(src),
    v.dstEquals(FD2),
    v.upperProtocol,
    v.upperOff - off,
    v.extCount,
    v.isFragment ? [v.fragOffset, v.fragMore, v.fragId, v.fragNextHeader] : null,
  ];
}

describe('Ipv6View getters (RFC 8200)', () => {
  const v = new Ipv6View();

  it('reads a captured echo request', () => {
    expect(v.wrap(ECHO, 0, ECHO.length)).toBe(WireError.Ok);
    expect(v.version).toBe(6);
    expect(v.trafficClass).toBe(0);
    expect(v.flowLabel).toBe(0x75299);
    expect(v.payloadLen).toBe(16);
    expect(v.payloadOff).toBe(40);
    expect(v.nextHeader).toBe(IP_PROTO_ICMPV6);
    expect(v.hopLimit).toBe(64);
    expect(v.srcOff).toBe(8);
    expect(v.dstOff).toBe(24);
    expect(v.srcEquals(LOOPBACK)).toBe(true);
    expect(v.dstEquals(LOOPBACK)).toBe(true);
    expect(v.dstEquals(FD1)).toBe(false);
    expect(v.isMulticastDst).toBe(false);
    expect(v.upperProtocol).toBe(IP_PROTO_ICMPV6);
    expect(v.upperOff).toBe(40);
    expect(v.upperLen).toBe(16);
    expect(v.extCount).toBe(0);
    expect(v.extLen).toBe(0);
    expect(v.isFragment).toBe(false);
    const out = new Uint8Array(20);
    v.copyDst(out, 2);
    expect(toHex(out, 2, 16)).toBe(toHex(LOOPBACK));
    expect(verify(ECHO, 40, 16, pseudoSumV6(ECHO, 8, 24, IP_PROTO_ICMPV6, 16))).toBe(true);
  });

  it('reads traffic class as DSCP and ECN', () => {
    expect(v.wrap(ECHO_TC, 0, ECHO_TC.length)).toBe(WireError.Ok);
    expect(v.trafficClass).toBe(0xb9);
    expect(v.dscp).toBe(46);
    expect(v.ecn).toBe(1);
    expect(v.flowLabel).toBe(0x75299);
  });

  it('walks Hop-by-Hop and Destination Options to UDP', () => {
    expect(v.wrap(HBH_DST_UDP, 0, HBH_DST_UDP.length)).toBe(WireError.Ok);
    expect(v.nextHeader).toBe(IPV6_NH_HOP_BY_HOP);
    expect(v.extCount).toBe(2);
    expect(v.extLen).toBe(16);
    expect(v.upperProtocol).toBe(IP_PROTO_UDP);
    expect(v.upperOff).toBe(56);
    expect(v.upperLen).toBe(11);
  });

  it('walks the Hop-by-Hop router alert of an MLD report', () => {
    expect(v.wrap(MLD, 0, MLD.length)).toBe(WireError.Ok);
    expect(v.hopLimit).toBe(1);
    expect(v.isMulticastDst).toBe(true);
    expect(v.dstEquals(parseIpv6Text('ff02::16')!)).toBe(true);
    expect(v.srcEquals(parseIpv6Text('fe80::ff:fe00:b')!)).toBe(true);
    expect(v.upperProtocol).toBe(IP_PROTO_ICMPV6);
    expect(v.upperOff).toBe(48);
    expect(v.upperLen).toBe(48);
    expect(verify(MLD, 48, 48, pseudoSumV6(MLD, 8, 24, IP_PROTO_ICMPV6, 48))).toBe(true);
  });

  it('reads both fragments of a captured fragmented echo', () => {
    expect(v.wrap(FRAG1, 0, FRAG1.length)).toBe(WireError.Ok);
    expect(v.isFragment).toBe(true);
    expect(v.fragHeaderOff).toBe(40);
    expect(v.fragOffset).toBe(0);
    expect(v.fragMore).toBe(true);
    expect(v.fragId).toBe(0x3f64b2f9);
    expect(v.fragNextHeader).toBe(IP_PROTO_ICMPV6);
    expect(v.upperProtocol).toBe(IP_PROTO_ICMPV6);
    expect(v.upperOff).toBe(48);
    expect(v.upperLen).toBe(1232);
    expect(v.wrap(FRAG2, 0, FRAG2.length)).toBe(WireError.Ok);
    expect(v.fragOffset).toBe(1232);
    expect(v.fragMore).toBe(false);
    expect(v.fragId).toBe(0x3f64b2f9);
    expect(v.upperOff).toBe(48);
    expect(v.upperLen).toBe(776);
    // The rebuilt payload is byte-exact: the reassembled ICMPv6 message verifies.
    const icmp = cat(FRAG1.subarray(48), FRAG2.subarray(48));
    expect(verify(icmp, 0, 2008, pseudoSumV6(FRAG1, 8, 24, IP_PROTO_ICMPV6, 2008))).toBe(true);
  });

  it('stops after the Fragment header of a non-first fragment (its data is not a header)', () => {
    const b = FRAG2.slice();
    b[40] = IPV6_NH_DEST_OPTS;
    b[49] = 0xff; // a "length" that would run far past the packet
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    expect(v.upperProtocol).toBe(IPV6_NH_DEST_OPTS);
    expect(v.upperOff).toBe(48);
    const first = FRAG1.slice();
    first[40] = IPV6_NH_DEST_OPTS;
    first[49] = 0xff;
    expect(v.wrap(first, 0, first.length)).toBe(WireError.BadLength);
  });

  it('walks a Routing header and an AH header', () => {
    expect(v.wrap(ROUTING_UDP, 0, ROUTING_UDP.length)).toBe(WireError.Ok);
    expect(v.nextHeader).toBe(IPV6_NH_ROUTING);
    expect(v.upperProtocol).toBe(IP_PROTO_UDP);
    expect(v.upperOff).toBe(64);
    expect(verify(ROUTING_UDP, 64, 10, pseudoSumV6(ROUTING_UDP, 8, 24, IP_PROTO_UDP, 10))).toBe(true);
    expect(v.wrap(AH_UDP, 0, AH_UDP.length)).toBe(WireError.Ok);
    expect(v.nextHeader).toBe(IPV6_NH_AH);
    expect(v.upperProtocol).toBe(IP_PROTO_UDP);
    expect(v.upperOff).toBe(64);
    expect(v.extCount).toBe(1);
  });

  it('ends at No Next Header and leaves what follows alone', () => {
    expect(v.wrap(DST_NONE, 0, DST_NONE.length)).toBe(WireError.Ok);
    expect(v.upperProtocol).toBe(IPV6_NH_NONE);
    expect(v.upperOff).toBe(48);
    expect(v.upperLen).toBe(4);
  });

  it('walks exactly IPV6_MAX_EXT_HEADERS headers', () => {
    const b = chain(IPV6_MAX_EXT_HEADERS);
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    expect(v.extCount).toBe(IPV6_MAX_EXT_HEADERS);
    expect(v.upperProtocol).toBe(IP_PROTO_UDP);
    expect(v.upperOff).toBe(40 + 8 * IPV6_MAX_EXT_HEADERS);
    expect(v.upperLen).toBe(9);
  });

  it('takes lengths from the header, not from Ethernet padding', () => {
    const padded = new Uint8Array(ECHO.length + 10);
    padded.set(ECHO);
    expect(v.wrap(padded, 0, padded.length)).toBe(WireError.Ok);
    expect(v.upperLen).toBe(16);
  });
});

describe('Ipv6View errors', () => {
  const v = new Ipv6View();

  it('is Truncated at every length below 40 and past the buffer', () => {
    for (let n = 0; n < 40; n++) expect(v.wrap(ECHO, 0, n)).toBe(WireError.Truncated);
    expect(v.wrap(ECHO, 1, ECHO.length)).toBe(WireError.Truncated);
  });

  it('is BadVersion for anything but 6', () => {
    for (const b0 of [0x40, 0x00, 0x70, 0xf0]) {
      const b = ECHO.slice();
      b[0] = b0;
      expect(v.wrap(b, 0, b.length)).toBe(WireError.BadVersion);
    }
  });

  it('is BadLength when the payload length promises more than the buffer holds', () => {
    for (const p of FIXTURES) {
      for (let n = 40; n < p.length; n++) expect(v.wrap(p, 0, n)).toBe(WireError.BadLength);
    }
  });

  it('is BadLength when an extension header runs past the payload', () => {
    const b = HBH_DST_UDP.slice();
    b[49] = 2; // destination options claims 24 bytes; 19 remain
    expect(v.wrap(b, 0, b.length)).toBe(WireError.BadLength);
    const ah = AH_UDP.slice();
    ah[41] = 10; // AH claims 48 bytes
    expect(v.wrap(ah, 0, ah.length)).toBe(WireError.BadLength);
    // Payload length ends inside a header: 1, 7 bytes of Hop-by-Hop; 4 bytes of Fragment header.
    for (const [p, plen] of [
      [HBH_DST_UDP, 1],
      [HBH_DST_UDP, 7],
      [HBH_DST_UDP, 12],
      [FRAG1, 4],
      [ROUTING_UDP, 20],
      [AH_UDP, 1],
    ] as const) {
      const c = p.slice();
      setU16(c, 4, plen);
      expect(v.wrap(c, 0, c.length), `${plen}`).toBe(WireError.BadLength);
    }
  });

  it('is BadValue for Hop-by-Hop anywhere but first, or a second Fragment header', () => {
    const b = HBH_DST_UDP.slice();
    b[6] = IPV6_NH_DEST_OPTS; // DST → HBH → DST → UDP
    b[40] = IPV6_NH_HOP_BY_HOP;
    expect(v.wrap(b, 0, b.length)).toBe(WireError.BadValue);
    const f = fromHex(
      `60000000 0011 2c 40 ${toHex(FD1)} ${toHex(FD2)} 2c000001 00000001 11000001 00000001 78`,
    );
    expect(v.wrap(f, 0, f.length)).toBe(WireError.BadValue);
  });

  it('is TooDeep past IPV6_MAX_EXT_HEADERS', () => {
    const b = chain(IPV6_MAX_EXT_HEADERS + 1);
    expect(v.wrap(b, 0, b.length)).toBe(WireError.TooDeep);
  });

  it('wrapQuoted accepts a cut-short quote and walks what is there', () => {
    // The head of a 1544-byte UDP datagram as an ICMPv6 error quoted it (payload length 0x0608).
    const q = fromHex(`6002017f 0608 11 40 ${toHex(LOOPBACK)} ${toHex(LOOPBACK)} e0ec9c4106 08f52f`);
    expect(v.wrap(q, 0, q.length)).toBe(WireError.BadLength);
    expect(v.wrapQuoted(q, 0, q.length)).toBe(WireError.Ok);
    expect(v.payloadLen).toBe(1544);
    expect(v.upperProtocol).toBe(IP_PROTO_UDP);
    expect(v.upperOff).toBe(40);
    for (let n = 0; n < 40; n++) expect(v.wrapQuoted(q, 0, n)).toBe(WireError.Truncated);
    // Cut inside the Destination Options header: nothing to walk over.
    expect(v.wrapQuoted(HBH_DST_UDP, 0, 52)).toBe(WireError.BadLength);
    expect(v.wrapQuoted(HBH_DST_UDP, 0, 56)).toBe(WireError.Ok);
    expect(v.upperOff).toBe(56);
  });
});

describe('Ipv6View setters', () => {
  const v = new Ipv6View();

  it('traffic class, DSCP, ECN and flow label leave each other and the version alone', () => {
    const b = ECHO_TC.slice();
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    v.dscp = 10;
    expect(v.dscp).toBe(10);
    expect(v.ecn).toBe(1);
    v.ecn = 3;
    expect(v.dscp).toBe(10);
    expect(v.ecn).toBe(3);
    expect(v.flowLabel).toBe(0x75299);
    v.flowLabel = 0xfedcb;
    expect(v.flowLabel).toBe(0xfedcb);
    expect(v.trafficClass).toBe((10 << 2) | 3);
    v.trafficClass = 0xff;
    v.flowLabel = 0xfffff;
    expect(toHex(b, 0, 4)).toBe('6fffffff');
    v.trafficClass = 0;
    v.flowLabel = 0;
    expect(toHex(b, 0, 4)).toBe('60000000');
    expect(v.version).toBe(6);
  });

  it('hop limit, decrement, payload length', () => {
    const b = ECHO.slice();
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    expect(v.decrementHopLimit()).toBe(63);
    expect(b[7]).toBe(63);
    v.hopLimit = 0;
    expect(v.decrementHopLimit()).toBe(0);
    expect(b[7]).toBe(0);
    v.payloadLen = 8;
    expect(u16(b, 4)).toBe(8);
  });

  it('setSrc / setDst copy 16 bytes in place', () => {
    const b = ECHO.slice();
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    const src = cat(fromHex('aaaa'), FD1);
    v.setSrc(src, 2);
    v.setDst(FD2);
    expect(toHex(b, 8, 32)).toBe(toHex(FD1) + toHex(FD2));
    expect(v.srcEquals(src, 2)).toBe(true);
  });

  it('rewriteSrc / rewriteDst keep the ICMPv6 checksum valid', () => {
    const b = ECHO.slice();
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    v.rewriteSrc(FD1, 0, 42, false);
    v.rewriteDst(FD2, 0, 42, false);
    expect(v.srcEquals(FD1) && v.dstEquals(FD2)).toBe(true);
    expect(verify(b, 40, 16, pseudoSumV6(b, 8, 24, IP_PROTO_ICMPV6, 16))).toBe(true);
  });

  it('rewriteSrc with udp: a zero checksum stays zero, a computed zero becomes 0xffff', () => {
    const b = HBH_DST_UDP.slice();
    setU16(b, 62, 0);
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    v.rewriteSrc(FD1, 0, 62, true);
    expect(u16(b, 62)).toBe(0);
    expect(v.srcEquals(FD1)).toBe(true);
  });

  it('any address rewrite keeps a valid UDP checksum valid', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ maxLength: 20 }),
        (s, d, payload) => {
          const n = 8 + payload.length;
          const b = cat(
            fromHex(`60000000 ${n.toString(16).padStart(4, '0')} 11 40 ${toHex(FD1)} ${toHex(FD2)}`),
            fromHex(`9c40 0035 ${n.toString(16).padStart(4, '0')} 0000`),
            payload,
          );
          const c = checksum(b, 40, n, pseudoSumV6(b, 8, 24, IP_PROTO_UDP, n));
          setU16(b, 46, c === 0 ? 0xffff : c);
          expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
          v.rewriteSrc(s, 0, 46, true);
          v.rewriteDst(d, 0, 46, true);
          expect(v.srcEquals(s) && v.dstEquals(d)).toBe(true);
          expect(u16(b, 46)).not.toBe(0);
          expect(verify(b, 40, n, pseudoSumV6(b, 8, 24, IP_PROTO_UDP, n))).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('Ipv6Repr', () => {
  const v = new Ipv6View();

  it('emit(parse(packet)) reproduces every header and extension chain', () => {
    for (const p of [...FIXTURES, chain(IPV6_MAX_EXT_HEADERS)]) {
      expect(v.wrap(p, 0, p.length)).toBe(WireError.Ok);
      const r = parseIpv6(v);
      const n = v.upperOff;
      const out = new Uint8Array(n + 3);
      expect(emitIpv6(r, out, 3)).toBe(n);
      expect(ipv6HeaderLen(r)).toBe(n);
      expect(toHex(out, 3, n)).toBe(toHex(p, 0, n));
    }
  });

  it('parse gives plain values', () => {
    expect(v.wrap(FRAG2, 0, FRAG2.length)).toBe(WireError.Ok);
    const r = parseIpv6(v);
    expect(r).toMatchObject({
      dscp: 0,
      ecn: 0,
      flowLabel: 0x6d912,
      nextHeader: IPV6_NH_FRAGMENT,
      hopLimit: 64,
    });
    expect(toHex(r.src)).toBe(toHex(FD1));
    expect(toHex(r.dst)).toBe(toHex(FD2));
    expect(toHex(r.extHeaders)).toBe('3a0004d03f64b2f9');
    expect(r.upperLen).toBe(776);
  });

  it('emit throws RangeError when the buffer is too small', () => {
    expect(v.wrap(AH_UDP, 0, AH_UDP.length)).toBe(WireError.Ok);
    expect(() => emitIpv6(parseIpv6(v), new Uint8Array(63), 0)).toThrow(RangeError);
  });
});

describe('Ipv6View on hostile input', () => {
  const v = new Ipv6View();

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
        snapshot(v, b, 0, b.length);
        snapshot(v, b, 0, b.length, true);
      }),
      { numRuns: 3000 },
    );
  });

  it('whatever plausible packet wraps Ok stays inside its payload and round-trips', () => {
    const nh = fc.constantFrom(0, 43, 44, 51, 59, 60, 6, 17, 58);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 40, maxLength: 160 }), nh, nh, nh, (b, a, c, d) => {
        b[0] = 0x60 | (b[0]! & 0x0f);
        setU16(b, 4, u16(b, 4) % (b.length - 39));
        b[6] = a;
        // Plant plausible next-header values where the first headers would put them.
        if (b.length > 48) b[40] = c;
        if (b.length > 56) b[48] = d;
        if (b.length > 41) b[41] &= 1;
        if (v.wrap(b, 0, b.length) !== WireError.Ok) return;
        const end = 40 + v.payloadLen;
        expect(v.upperOff).toBeGreaterThanOrEqual(40);
        expect(v.upperOff).toBeLessThanOrEqual(end);
        expect(v.extCount).toBeLessThanOrEqual(IPV6_MAX_EXT_HEADERS);
        if (v.isFragment) expect(v.fragHeaderOff + 8).toBeLessThanOrEqual(end);
        const out = new Uint8Array(v.upperOff);
        emitIpv6(parseIpv6(v), out, 0);
        expect(toHex(out)).toBe(toHex(b, 0, v.upperOff));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads nothing outside buf[off..off+len)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURES),
        fc.nat(130),
        fc.nat(9),
        noise,
        noise,
        fc.boolean(),
        (p, cut, pad, n1, n2, quoted) => {
          const len = Math.min(cut, p.length);
          expect(snapshot(v, embed(p, p.length, pad, n1), pad, len, quoted)).toEqual(
            snapshot(v, embed(p, len, pad, n2), pad, len, quoted),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});
