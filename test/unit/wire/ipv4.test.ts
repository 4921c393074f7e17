import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, setU16, toHex, u16 } from '../../../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV4, verify } from '../../../src/dataplane/wire/checksum.js';
import { WireError } from '../../../src/dataplane/wire/errors.js';
import {
  emitIpv4,
  IP_PROTO_ICMP,
  IP_PROTO_UDP,
  IPV4_CHECKSUM,
  IPV4_FLAG_DF,
  IPV4_FLAG_MF,
  IPV4_FLAG_RESERVED,
  IPV4_OPT_NOP,
  IPV4_OPT_RR,
  type Ipv4Repr,
  Ipv4View,
  ipv4HeaderLen,
  parseIpv4,
} from '../../../src/dataplane/wire/ipv4.js';

/** ICMP echo data as Linux ping sends it: a 16-byte timestamp, then byte i = i & 0xff. */
function pingData(stamp: string, n: number): Uint8Array {
  const d = new Uint8Array(n);
  d.set(fromHex(stamp));
  for (let i = 16; i < n; i++) d[i] = i & 0xff;
  return d;
}

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// All captured with tcpdump -w (Ethernet header stripped).
// `ping 10.9.0.2` from 10.9.0.1 over a veth pair: DF, TTL 64, ICMP echo request.
const ECHO = fromHex(
  '45000054 2dbe4000 4001f8d6 0a090001 0a090002 080022461f600001' +
    '4139026b00000000ace1070000000000101112131415161718191a1b1c1d1e1f' +
    '202122232425262728292a2b2c2d2e2f3031323334353637',
);
// `ping -R 127.0.0.1`: IHL 15, options NOP + record route (len 39, pointer 8, one address filled).
const RR_REQUEST = fromHex(
  '4f00007c daab4000 4001b0c2 7f000001 7f000001' +
    '01 07 27 08 7f000001 0000000000000000000000000000000000000000000000000000000000000000' +
    '0800e73916b300010a39026b00000000209b0e0000000000101112131415161718191a1b1c1d1e1f' +
    '202122232425262728292a2b2c2d2e2f3031323334353637',
);
// Its reply: record route (pointer 16, three addresses) then EOL.
const RR_REPLY = fromHex(
  '4f00007c daac0000 40017c2e 7f000001 7f000001' +
    '07 27 10 7f000001 7f000001 7f000001 000000000000000000000000000000000000000000000000 00' +
    '0000ef3916b300010a39026b00000000209b0e0000000000101112131415161718191a1b1c1d1e1f' +
    '202122232425262728292a2b2c2d2e2f3031323334353637',
);
// `ping -Q 0xb9 -s 16 127.0.0.1`: DS byte 0xb9 = DSCP 46 (EF), ECN 1 (ECT(1)).
const TOS_B9 = fromHex(
  '45b9002c e26e4000 400159a7 7f000001 7f000001 0800d0f319430001 1939026b00000000e8230a0000000000',
);
// UDP "hello-ferry" from 127.0.0.1:57950 to :33434 (the UDP checksum is the loopback partial one).
const UDP = fromHex('45000027 0ab94000 4011320b 7f000001 7f000001 e25e829a0013fe26 68656c6c6f2d6665727279');
// `ping -s 2000 10.9.0.2` over MTU 1280: two fragments, id 0x2dbf.
const FRAG_DATA = pingData('4139026b000000000ef4070000000000', 2000);
const FRAG1 = cat(
  fromHex('450004fc 2dbf2000 4001142e 0a090001 0a090002 0800731d1f610001'),
  FRAG_DATA.subarray(0, 1248),
);
const FRAG2 = cat(fromHex('45000304 2dbf009d 40013589 0a090001 0a090002'), FRAG_DATA.subarray(1248));

const FIXTURES = [ECHO, RR_REQUEST, RR_REPLY, TOS_B9, UDP, FRAG1, FRAG2];

/** The header checksum a full recompute gives. */
function fullChecksum(b: Uint8Array, off: number, hl: number): number {
  const c = b.slice(off, off + hl);
  setU16(c, IPV4_CHECKSUM, 0);
  return checksum(c, 0, hl);
}

const noise = fc.uint8Array({ minLength: 1, maxLength: 16 });

/** pkt[0..len) at offset `pad` of a bigger buffer whose other bytes repeat `fill`. */
function embed(pkt: Uint8Array, len: number, pad: number, fill: Uint8Array): Uint8Array {
  const b = new Uint8Array(pad + pkt.length + 16);
  for (let i = 0; i < b.length; i++) b[i] = fill[i % fill.length]!;
  b.set(pkt.subarray(0, len), pad);
  return b;
}

function snapshot(v: Ipv4View, buf: Uint8Array, off: number, len: number, quoted = false): unknown[] {
  const e = quoted ? v.wrapQuoted(buf, off, len) : v.wrap(buf, off, len);
  if (e !== WireError.Ok) return [e];
  const opts: number[] = [];
  for (let o = v.firstOption(); o >= 0; o = v.nextOption(o))
    opts.push(o - off, v.optionType(o), v.optionLen(o));
  return [
    e,
    v.headerLen,
    v.tos,
    v.totalLen,
    v.payloadLen,
    v.id,
    v.flagsFrag,
    v.ttl,
    v.protocol,
    v.checksum,
    v.verifyChecksum(),
    v.src,
    v.dst,
    opts,
  ];
}

/** Valid IPv4 options: NOPs and timestamp-typed options with random data, at most 40 bytes. */
const optionsArb = fc
  .array(
    fc.oneof(
      fc.constant([IPV4_OPT_NOP]),
      fc.uint8Array({ maxLength: 8 }).map((d) => [0x44, d.length + 2, ...d]),
    ),
    { maxLength: 5 },
  )
  .map((os) => Uint8Array.from(os.flat()))
  .filter((o) => o.length <= 40);

const reprArb: fc.Arbitrary<Ipv4Repr> = fc.record({
  dscp: fc.nat(63),
  ecn: fc.nat(3),
  id: fc.nat(0xffff),
  flags: fc.constantFrom(0, IPV4_FLAG_DF, IPV4_FLAG_MF, IPV4_FLAG_RESERVED | IPV4_FLAG_MF),
  fragOffset: fc.nat(0x1fff).map((x) => x * 8),
  ttl: fc.nat(255),
  protocol: fc.nat(255),
  src: fc.nat(0xffffffff),
  dst: fc.nat(0xffffffff),
  options: optionsArb,
  payloadLen: fc.nat(64),
});

/** A packet built from a repr (header + zero payload). */
function build(r: Ipv4Repr): Uint8Array {
  const b = new Uint8Array(ipv4HeaderLen(r) + r.payloadLen);
  emitIpv4(r, b, 0);
  return b;
}

describe('Ipv4View getters (RFC 791)', () => {
  const v = new Ipv4View();

  it('reads a captured echo request', () => {
    expect(v.wrap(ECHO, 0, ECHO.length)).toBe(WireError.Ok);
    expect(v.version).toBe(4);
    expect(v.ihl).toBe(5);
    expect(v.headerLen).toBe(20);
    expect(v.tos).toBe(0);
    expect(v.totalLen).toBe(84);
    expect(v.payloadLen).toBe(64);
    expect(v.payloadOff).toBe(20);
    expect(v.id).toBe(0x2dbe);
    expect(v.flagsFrag).toBe(0x4000);
    expect(v.dontFragment).toBe(true);
    expect(v.moreFragments).toBe(false);
    expect(v.fragOffset).toBe(0);
    expect(v.isFragment).toBe(false);
    expect(v.isFirstFragment).toBe(false);
    expect(v.ttl).toBe(64);
    expect(v.protocol).toBe(IP_PROTO_ICMP);
    expect(v.checksum).toBe(0xf8d6);
    expect(v.verifyChecksum()).toBe(true);
    expect(v.src).toBe(0x0a090001);
    expect(v.dst).toBe(0x0a090002);
    expect(v.optionsOff).toBe(20);
    expect(v.optionsLen).toBe(0);
    expect(v.firstOption()).toBe(-1);
  });

  it('reads DSCP and ECN (RFC 2474, RFC 3168)', () => {
    expect(v.wrap(TOS_B9, 0, TOS_B9.length)).toBe(WireError.Ok);
    expect(v.tos).toBe(0xb9);
    expect(v.dscp).toBe(46);
    expect(v.ecn).toBe(1);
    expect(v.verifyChecksum()).toBe(true);
  });

  it('reads both fragments of a captured fragmented echo', () => {
    expect(v.wrap(FRAG1, 0, FRAG1.length)).toBe(WireError.Ok);
    expect(v.totalLen).toBe(1276);
    expect(v.id).toBe(0x2dbf);
    expect(v.moreFragments).toBe(true);
    expect(v.dontFragment).toBe(false);
    expect(v.fragOffsetRaw).toBe(0);
    expect(v.fragOffset).toBe(0);
    expect(v.isFragment).toBe(true);
    expect(v.isFirstFragment).toBe(true);
    expect(v.verifyChecksum()).toBe(true);
    expect(v.wrap(FRAG2, 0, FRAG2.length)).toBe(WireError.Ok);
    expect(v.totalLen).toBe(772);
    expect(v.moreFragments).toBe(false);
    expect(v.fragOffsetRaw).toBe(0x9d);
    expect(v.fragOffset).toBe(1256);
    expect(v.isFragment).toBe(true);
    expect(v.isFirstFragment).toBe(false);
    expect(v.verifyChecksum()).toBe(true);
    // The rebuilt payload is byte-exact: the reassembled ICMP message verifies.
    expect(verify(cat(FRAG1.subarray(20), FRAG2.subarray(20)), 0, 2008)).toBe(true);
  });

  it('walks NOP + record route', () => {
    expect(v.wrap(RR_REQUEST, 0, RR_REQUEST.length)).toBe(WireError.Ok);
    expect(v.ihl).toBe(15);
    expect(v.headerLen).toBe(60);
    expect(v.payloadLen).toBe(64);
    expect(v.optionsLen).toBe(40);
    expect(v.verifyChecksum()).toBe(true);
    const o1 = v.firstOption();
    expect(o1).toBe(20);
    expect(v.optionType(o1)).toBe(IPV4_OPT_NOP);
    expect(v.optionLen(o1)).toBe(1);
    const o2 = v.nextOption(o1);
    expect(o2).toBe(21);
    expect(v.optionType(o2)).toBe(IPV4_OPT_RR);
    expect(v.optionLen(o2)).toBe(39);
    expect(v.optionDataOff(o2)).toBe(23);
    expect(RR_REQUEST[v.optionDataOff(o2)]).toBe(8); // RR pointer
    expect(v.nextOption(o2)).toBe(-1);
  });

  it('stops the walk at EOL', () => {
    expect(v.wrap(RR_REPLY, 0, RR_REPLY.length)).toBe(WireError.Ok);
    const o = v.firstOption();
    expect(v.optionType(o)).toBe(IPV4_OPT_RR);
    expect(v.optionLen(o)).toBe(39);
    expect(RR_REPLY[59]).toBe(0);
    expect(v.nextOption(o)).toBe(-1);
  });

  it('reports offsets relative to buf when the packet sits inside a larger buffer', () => {
    const big = new Uint8Array(200);
    big.set(RR_REQUEST, 14);
    expect(v.wrap(big, 14, RR_REQUEST.length)).toBe(WireError.Ok);
    expect(v.payloadOff).toBe(74);
    expect(v.firstOption()).toBe(34);
    expect(v.nextOption(34)).toBe(35);
    expect(v.verifyChecksum()).toBe(true);
  });

  it('takes lengths from the header, not from Ethernet padding', () => {
    const padded = new Uint8Array(46);
    padded.set(UDP);
    expect(v.wrap(padded, 0, padded.length)).toBe(WireError.Ok);
    expect(v.len).toBe(46);
    expect(v.totalLen).toBe(39);
    expect(v.payloadLen).toBe(19);
    expect(v.protocol).toBe(IP_PROTO_UDP);
  });
});

describe('Ipv4View errors', () => {
  const v = new Ipv4View();

  it('is Truncated at every length below 20, and below IHL × 4', () => {
    for (let n = 0; n < 20; n++) expect(v.wrap(ECHO, 0, n)).toBe(WireError.Truncated);
    for (let n = 0; n < 60; n++) expect(v.wrap(RR_REQUEST, 0, n)).toBe(WireError.Truncated);
    expect(v.wrap(ECHO, 1, ECHO.length)).toBe(WireError.Truncated);
  });

  it('is BadLength when the total length promises more than the buffer holds', () => {
    for (let n = 20; n < ECHO.length; n++) expect(v.wrap(ECHO, 0, n)).toBe(WireError.BadLength);
    for (let n = 60; n < RR_REQUEST.length; n++) expect(v.wrap(RR_REQUEST, 0, n)).toBe(WireError.BadLength);
  });

  it('is BadLength when the total length is smaller than the header', () => {
    const b = ECHO.slice();
    setU16(b, 2, 19);
    expect(v.wrap(b, 0, b.length)).toBe(WireError.BadLength);
    const r = RR_REQUEST.slice();
    setU16(r, 2, 40);
    expect(v.wrap(r, 0, r.length)).toBe(WireError.BadLength);
    setU16(r, 2, 60);
    expect(v.wrap(r, 0, r.length)).toBe(WireError.Ok);
  });

  it('is BadVersion for anything but 4', () => {
    for (const vi of [0x05, 0x65, 0xf5]) {
      const b = ECHO.slice();
      b[0] = vi;
      expect(v.wrap(b, 0, b.length)).toBe(WireError.BadVersion);
    }
  });

  it('is BadHeaderLength for IHL < 5', () => {
    for (let ihl = 0; ihl < 5; ihl++) {
      const b = ECHO.slice();
      b[0] = 0x40 | ihl;
      expect(v.wrap(b, 0, b.length)).toBe(WireError.BadHeaderLength);
    }
  });

  it('is BadOption for an option that overruns the header or has length < 2', () => {
    const cases = [
      '01010101 44 07 0000', // length 7 at offset 4 runs past the 8 option bytes
      '01010101 01010144', // type byte in the last position, no room for its length
      '44 00 000000000000', // length 0
      '44 01 000000000000', // length 1
      '44 09 000000000000', // length 9 > 8 bytes of options
    ];
    for (const c of cases) {
      const opts = fromHex(c);
      const b = cat(fromHex('47000020 00000000 40010000 0a000001 0a000002'), opts, fromHex('00000000'));
      setU16(b, 2, b.length);
      expect(v.wrap(b, 0, b.length), c).toBe(WireError.BadOption);
    }
  });

  it('ignores whatever follows EOL (padding)', () => {
    const b = cat(fromHex('46000018 00000000 40010000 0a000001 0a000002'), fromHex('00 44 ff 01'));
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    expect(v.firstOption()).toBe(-1);
  });

  it('wrapQuoted accepts the cut-short packet an ICMP error quotes; wrap does not', () => {
    // From a captured frag-needed error: the quoted header says 1128 bytes, 548 are there.
    const quoted = cat(
      fromHex('45000468 00004000 40012181 0a090001 0a090102 0800a2641f650001'),
      pingData('4139026b000000009e28080000000000', 520),
    );
    expect(v.wrap(quoted, 0, quoted.length)).toBe(WireError.BadLength);
    expect(v.wrapQuoted(quoted, 0, quoted.length)).toBe(WireError.Ok);
    expect(v.totalLen).toBe(1128);
    expect(v.payloadLen).toBe(1108);
    expect(v.dst).toBe(0x0a090102);
    expect(v.verifyChecksum()).toBe(true);
    for (let n = 0; n < 20; n++) expect(v.wrapQuoted(quoted, 0, n)).toBe(WireError.Truncated);
    const b = quoted.slice();
    setU16(b, 2, 12);
    expect(v.wrapQuoted(b, 0, b.length)).toBe(WireError.BadLength);
  });
});

describe('Ipv4View setters keep the header checksum equal to a full recompute (RFC 1624)', () => {
  const v = new Ipv4View();

  function expectFullChecksum(b: Uint8Array, off = 0): void {
    expect(u16(b, off + IPV4_CHECKSUM)).toBe(fullChecksum(b, off, v.headerLen));
    expect(v.verifyChecksum()).toBe(true);
  }

  it('each setter on the captured packets', () => {
    for (const p of FIXTURES) {
      const b = p.slice();
      expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
      v.dscp = 10;
      expectFullChecksum(b);
      expect(v.dscp).toBe(10);
      v.ecn = 3;
      expectFullChecksum(b);
      expect(v.ecn).toBe(3);
      expect(v.dscp).toBe(10);
      v.tos = 0x12;
      expectFullChecksum(b);
      expect(v.tos).toBe(0x12);
      v.id = 0xbeef;
      expectFullChecksum(b);
      expect(v.id).toBe(0xbeef);
      v.dontFragment = !v.dontFragment;
      expectFullChecksum(b);
      v.moreFragments = !v.moreFragments;
      expectFullChecksum(b);
      v.flagsFrag = IPV4_FLAG_MF | 0x123;
      expectFullChecksum(b);
      expect(v.fragOffset).toBe(0x123 * 8);
      v.ttl = 3;
      expectFullChecksum(b);
      expect(v.ttl).toBe(3);
      v.protocol = 200;
      expectFullChecksum(b);
      expect(v.protocol).toBe(200);
      expect(v.ttl).toBe(3);
      v.src = 0xc0000201;
      expectFullChecksum(b);
      expect(v.src).toBe(0xc0000201);
      v.dst = 0xffffffff;
      expectFullChecksum(b);
      expect(v.dst).toBe(0xffffffff);
      v.totalLen = v.headerLen;
      expectFullChecksum(b);
      expect(v.payloadLen).toBe(0);
      expect(v.version).toBe(4);
    }
  });

  it('any setter on any valid header', () => {
    fc.assert(
      fc.property(reprArb, fc.nat(9), fc.nat(0xffffffff), (r, which, val) => {
        const b = build(r);
        expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
        switch (which) {
          case 0:
            v.dscp = val & 63;
            break;
          case 1:
            v.ecn = val & 3;
            break;
          case 2:
            v.id = val & 0xffff;
            break;
          case 3:
            v.flagsFrag = val & 0xffff;
            break;
          case 4:
            v.ttl = val & 0xff;
            break;
          case 5:
            v.protocol = val & 0xff;
            break;
          case 6:
            v.src = val;
            break;
          case 7:
            v.dst = val;
            break;
          case 8:
            v.totalLen = v.headerLen + (val & 0xff);
            break;
          default:
            v.decrementTtl();
        }
        expectFullChecksum(b);
      }),
      { numRuns: 3000 },
    );
  });

  it('decrementTtl matches Linux ip_decrease_ttl and a full recompute', () => {
    const b = ECHO.slice();
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    expect(v.decrementTtl()).toBe(63);
    expect(v.ttl).toBe(63);
    expect(v.checksum).toBe(0xf9d6);
    expectFullChecksum(b);
  });

  it('decrementTtl folds the carry (checksum 0xff00..) and writes a sum of 0xffff as 0 (from 0xfeff)', () => {
    let hits = 0;
    for (let id = 0; id < 0x10000; id++) {
      const b = ECHO.slice();
      expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
      v.id = id;
      if (v.checksum < 0xfeff) continue;
      hits++;
      v.decrementTtl();
      expectFullChecksum(b);
    }
    expect(hits).toBeGreaterThan(200);
  });

  it('decrementTtl leaves a TTL of 0 alone', () => {
    const b = ECHO.slice();
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    v.ttl = 0;
    const before = toHex(b);
    expect(v.decrementTtl()).toBe(0);
    expect(toHex(b)).toBe(before);
  });

  it('fillChecksum recomputes a broken checksum', () => {
    const b = RR_REQUEST.slice();
    setU16(b, IPV4_CHECKSUM, 0x1234);
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    expect(v.verifyChecksum()).toBe(false);
    v.fillChecksum();
    expect(v.checksum).toBe(0xb0c2);
  });
});

describe('Ipv4View address rewrite with an L4 checksum', () => {
  const v = new Ipv4View();

  /** The UDP capture with a complete UDP checksum (the loopback one was only partial). */
  function udpWithChecksum(): Uint8Array {
    const b = UDP.slice();
    setU16(b, 26, 0);
    setU16(b, 26, checksum(b, 20, 19, pseudoSumV4(0x7f000001, 0x7f000001, IP_PROTO_UDP, 19)));
    return b;
  }

  function udpVerifies(b: Uint8Array): boolean {
    return verify(b, 20, 19, pseudoSumV4(v.src, v.dst, IP_PROTO_UDP, 19));
  }

  it('rewriteSrc / rewriteDst keep both the header and the UDP checksum valid', () => {
    const b = udpWithChecksum();
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    expect(udpVerifies(b)).toBe(true);
    v.rewriteSrc(0xc0a80101, 26, true);
    expect(v.src).toBe(0xc0a80101);
    expect(v.verifyChecksum()).toBe(true);
    expect(udpVerifies(b)).toBe(true);
    v.rewriteDst(0x08080808, 26, false);
    expect(v.dst).toBe(0x08080808);
    expect(v.verifyChecksum()).toBe(true);
    expect(udpVerifies(b)).toBe(true);
    const full = b.slice();
    setU16(full, 26, 0);
    expect(u16(b, 26)).toBe(checksum(full, 20, 19, pseudoSumV4(v.src, v.dst, IP_PROTO_UDP, 19)));
  });

  it('a zero ("none") UDP checksum stays zero (RFC 768)', () => {
    const b = UDP.slice();
    setU16(b, 26, 0);
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    v.rewriteSrc(0x01020304, 26, true);
    expect(u16(b, 26)).toBe(0);
    expect(v.verifyChecksum()).toBe(true);
  });

  it('the plain src/dst setters leave the L4 checksum alone', () => {
    const b = udpWithChecksum();
    const l4 = u16(b, 26);
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    v.src = 0x01020304;
    v.dst = 0x05060708;
    expect(u16(b, 26)).toBe(l4);
    expect(v.verifyChecksum()).toBe(true);
  });
});

describe('Ipv4Repr', () => {
  const v = new Ipv4View();

  it('emit(parse(header)) reproduces every captured header', () => {
    for (const p of FIXTURES) {
      expect(v.wrap(p, 0, p.length)).toBe(WireError.Ok);
      const r = parseIpv4(v);
      const out = new Uint8Array(v.headerLen + 2);
      expect(emitIpv4(r, out, 1)).toBe(v.headerLen);
      expect(toHex(out, 1, v.headerLen)).toBe(toHex(p, 0, v.headerLen));
    }
  });

  it('parse gives plain values', () => {
    expect(v.wrap(FRAG2, 0, FRAG2.length)).toBe(WireError.Ok);
    const r = parseIpv4(v);
    expect(r).toMatchObject({ dscp: 0, ecn: 0, id: 0x2dbf, flags: 0, fragOffset: 1256, ttl: 64 });
    expect(r).toMatchObject({ protocol: 1, src: 0x0a090001, dst: 0x0a090002, payloadLen: 752 });
    expect(r.options.length).toBe(0);
  });

  it('pads options to a 32-bit boundary with EOL', () => {
    expect(v.wrap(ECHO, 0, ECHO.length)).toBe(WireError.Ok);
    const r = parseIpv4(v);
    r.options = fromHex('94 04 0000 01'); // router alert (RFC 2113) + NOP
    const out = new Uint8Array(28);
    expect(emitIpv4(r, out, 0)).toBe(28);
    expect(out[0]).toBe(0x47);
    expect(toHex(out, 20, 8)).toBe('9404000001000000');
    expect(u16(out, 2)).toBe(28 + 64);
    expect(v.wrapQuoted(out, 0, 28)).toBe(WireError.Ok);
    expect(v.verifyChecksum()).toBe(true);
  });

  it('emit throws RangeError for a small buffer or more than 40 option bytes', () => {
    expect(v.wrap(ECHO, 0, ECHO.length)).toBe(WireError.Ok);
    const r = parseIpv4(v);
    expect(() => emitIpv4(r, new Uint8Array(19), 0)).toThrow(RangeError);
    r.options = new Uint8Array(41).fill(1);
    expect(() => emitIpv4(r, new Uint8Array(100), 0)).toThrow(RangeError);
  });

  it('emit → wrap → parse returns the repr', () => {
    fc.assert(
      fc.property(reprArb, (r) => {
        const b = build(r);
        expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
        expect(v.verifyChecksum()).toBe(true);
        const back = parseIpv4(v);
        const padded = new Uint8Array(ipv4HeaderLen(r) - 20);
        padded.set(r.options);
        expect(back).toEqual({ ...r, options: padded });
      }),
      { numRuns: 1000 },
    );
  });
});

describe('Ipv4View on hostile input', () => {
  const v = new Ipv4View();

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        snapshot(v, b, 0, b.length);
        snapshot(v, b, 0, b.length, true);
      }),
      { numRuns: 3000 },
    );
  });

  it('whatever plausible header wraps Ok walks its options inside the header and round-trips', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 80 }),
        fc.integer({ min: 3, max: 15 }),
        fc.boolean(),
        (b, ihl, soft) => {
          b[0] = 0x40 | ihl;
          // Option bytes from {EOL, NOP, 2, 3}: short lengths, so some lists are well formed.
          if (soft) for (let i = 20; i < Math.min(b.length, ihl * 4); i++) b[i] = b[i]! & 3;
          setU16(b, 2, Math.min(b.length, Math.max(ihl * 4, u16(b, 2) % (b.length + 1))));
          if (v.wrap(b, 0, b.length) !== WireError.Ok) return;
          let n = 0;
          for (let o = v.firstOption(); o >= 0; o = v.nextOption(o)) {
            expect(o).toBeGreaterThanOrEqual(20);
            expect(o + v.optionLen(o)).toBeLessThanOrEqual(v.headerLen);
            n++;
          }
          expect(n).toBeLessThanOrEqual(40);
          v.fillChecksum();
          const out = new Uint8Array(v.headerLen);
          emitIpv4(parseIpv4(v), out, 0);
          expect(toHex(out)).toBe(toHex(b, 0, v.headerLen));
        },
      ),
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
