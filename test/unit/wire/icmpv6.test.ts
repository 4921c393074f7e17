import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv6, fromHex, parseIpv6, setU16, u16 } from '../../../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV6 } from '../../../src/dataplane/wire/checksum.js';
import { WireError } from '../../../src/dataplane/wire/errors.js';
import {
  checkNdp,
  emitIcmpv6,
  ICMPV6_CHECKSUM,
  ICMPV6_DEST_UNREACHABLE,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_NEIGHBOR_ADVERT,
  ICMPV6_NEIGHBOR_SOLICIT,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAM_PROBLEM,
  ICMPV6_PROTO,
  ICMPV6_REDIRECT,
  ICMPV6_ROUTER_ADVERT,
  ICMPV6_ROUTER_SOLICIT,
  ICMPV6_TIME_EXCEEDED,
  type Icmpv6Repr,
  Icmpv6View,
  icmpv6Len,
  NA_FLAG_OVERRIDE,
  NA_FLAG_SOLICITED,
  parseIcmpv6,
} from '../../../src/dataplane/wire/icmpv6.js';
import { NdpOptionView } from '../../../src/dataplane/wire/ndp.js';
import { UdpView } from '../../../src/dataplane/wire/udp.js';

// Whole IPv6 packets (header | ICMPv6 message), all with kernel-computed checksums that tcpdump
// -vv reported as "icmp6 sum ok". Echo and the port-unreachable error were captured on lo
// (`ping -6 -c 2 ::1`, a UDP datagram to a closed port). The rest were captured on a veth pair
// in a private network namespace: the kernel's own duplicate address detection, router and
// neighbor solicitations and advertisement; the RA, redirect and errors were sent from a raw
// socket (the peer kernel accepted the RA and autoconfigured 2001:db8:1::ff:fe00:b from it).
const H_LO = '00000000000000000000000000000001 00000000000000000000000000000001';
const FE_A = 'fe80000000000000000000fffe00000a';
const FE_B = 'fe80000000000000000000fffe00000b';
const ECHO_DATA =
  '0e39026b00000000 d30c090000000000 101112131415161718191a1b1c1d1e1f 202122232425262728292a2b2c2d2e2f 3031323334353637';
const P = {
  echoRequest: `6007529900403a40 ${H_LO} | 8000bd08 16f6 0001 ${ECHO_DATA}`,
  echoReply: `6006b48b00403a40 ${H_LO} | 8100bc08 16f6 0001 ${ECHO_DATA}`,
  portUnreachable:
    `6002ba4d00463a40 ${H_LO} | 0104984b 00000000 |` +
    `600ae1d000161140 ${H_LO} bd4c494e00160029 68656c6c6f206665727279207636`,
  dadSolicit: `6000000000203aff ${'00'.repeat(16)} ff0200000000000000000001ff00000a | 87008d4a 00000000 ${FE_A} 0e01731f5581191f`,
  routerSolicit: `6000000000103aff ${FE_A} ff020000000000000000000000000002 | 85007b1a 00000000 010102000000000a`,
  neighborSolicit: `6000000000203aff ${FE_A} ff0200000000000000000001ff00000b | 87007c73 00000000 ${FE_B} 010102000000000a`,
  neighborAdvert: `6000000000203aff ${FE_B} ${FE_A} | 88001af6 60000000 ${FE_B} 020102000000000b`,
  routerAdvert:
    `6001854500683aff ${FE_A} ff020000000000000000000000000001 | 86003b6e 40 c0 0708 00007530 000003e8 |` +
    '010102000000000a 05010000000005dc 030440c000015180000038400000000020010db8000100000000000000000000 ' +
    '1905000000000258 20010db8000000000000000000000053 20010db8000000000000000000000035',
  redirect:
    `600d20dd00683aff ${FE_A} ${FE_B} | 89000163 00000000 fe800000000000000000000000000001 ` +
    '20010db8000200000000000000000001 | 020102000000000a | 0407000000000000 6000000000083a40 ' +
    `${FE_B} 20010db8000200000000000000000001 8000000000010001`,
  packetTooBig: `600cf8cc00383aff ${FE_A} ${FE_B} | 02008127 00000500 | 6000000005b01140 ${FE_B} 20010db8000200000000000000000001 d431003505b00000`,
  timeExceeded: `6009b2b500383aff ${FE_A} ${FE_B} | 03000e2d 00000000 | 6000000000081101 ${FE_B} 20010db8000200000000000000000001 d43182be00080000`,
  paramProblem: `600c926e00383aff ${FE_A} ${FE_B} | 0401f71c 00000006 | 600000000008fdff ${FE_B} 20010db8000200000000000000000001 8000000000010001`,
} as const;
type Name = keyof typeof P;
const pkt = (n: Name) => fromHex(P[n]);
const NAMES = Object.keys(P) as Name[];
const NDP_NAMES: Name[] = [
  'dadSolicit',
  'routerSolicit',
  'neighborSolicit',
  'neighborAdvert',
  'routerAdvert',
  'redirect',
];

function ps(b: Uint8Array, len = b.length - 40): number {
  return pseudoSumV6(b, 8, 24, ICMPV6_PROTO, len);
}

function wrap(b: Uint8Array): Icmpv6View {
  const v = new Icmpv6View();
  expect(v.wrap(b, 40, b.length - 40)).toBe(WireError.Ok);
  return v;
}

function fullCsum(b: Uint8Array): number {
  const c = b.slice();
  setU16(c, 40 + ICMPV6_CHECKSUM, 0);
  return checksum(c, 40, c.length - 40, ps(c));
}

describe('Icmpv6View on real messages', () => {
  it('verifies every captured checksum, and refuses a corrupted one', () => {
    for (const n of NAMES) {
      const b = pkt(n);
      const v = wrap(b);
      expect(v.verifyChecksum(ps(b)), n).toBe(true);
      expect(v.checksum, n).toBe(fullCsum(b));
      b[b.length - 1]! ^= 0x40;
      expect(v.verifyChecksum(ps(b)), n).toBe(false);
    }
  });

  it('fillChecksum writes what the kernel wrote', () => {
    for (const n of NAMES) {
      const b = pkt(n);
      const v = wrap(b);
      const want = v.checksum;
      v.checksum = 0;
      v.fillChecksum(ps(b));
      expect(v.checksum, n).toBe(want);
    }
  });

  it('reads echo request and reply', () => {
    for (const [n, type] of [
      ['echoRequest', ICMPV6_ECHO_REQUEST],
      ['echoReply', ICMPV6_ECHO_REPLY],
    ] as const) {
      const v = wrap(pkt(n));
      expect([v.type, v.code, v.echoId, v.echoSeq]).toEqual([type, 0, 5878, 1]);
      expect([v.dataOff, v.dataLen]).toEqual([48, 56]);
      expect([v.isError(), v.isNdp()]).toEqual([false, false]);
    }
  });

  it('setEchoId rewrites the id and keeps the checksum equal to a full recompute', () => {
    const b = pkt('echoRequest');
    const v = wrap(b);
    v.setEchoId(0xbeef);
    expect(v.echoId).toBe(0xbeef);
    expect(v.checksum).toBe(fullCsum(b));
    expect(v.verifyChecksum(ps(b))).toBe(true);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (id) => {
        v.setEchoId(id);
        expect(v.verifyChecksum(ps(b))).toBe(true);
      }),
    );
  });

  it('reads a port unreachable and the datagram it quotes', () => {
    const b = pkt('portUnreachable');
    const v = wrap(b);
    expect([v.type, v.code, v.isError(), v.isNdp()]).toEqual([ICMPV6_DEST_UNREACHABLE, 4, true, false]);
    expect([v.invokingOff, v.invokingLen]).toEqual([48, 62]);
    const u = new UdpView();
    expect(u.wrap(b, v.invokingOff + 40, v.invokingLen - 40)).toBe(WireError.Ok);
    expect([u.srcPort, u.dstPort]).toEqual([48460, 18766]);
  });

  it('reads packet too big (MTU), time exceeded and parameter problem (pointer)', () => {
    const ptb = wrap(pkt('packetTooBig'));
    expect([ptb.type, ptb.code, ptb.mtu, ptb.isError(), ptb.invokingLen]).toEqual([
      ICMPV6_PACKET_TOO_BIG,
      0,
      1280,
      true,
      48,
    ]);
    const te = wrap(pkt('timeExceeded'));
    expect([te.type, te.code, te.isError()]).toEqual([ICMPV6_TIME_EXCEEDED, 0, true]);
    const pp = wrap(pkt('paramProblem'));
    expect([pp.type, pp.code, pp.pointer, pp.isError()]).toEqual([ICMPV6_PARAM_PROBLEM, 1, 6, true]);
    expect(pp.buf[pp.invokingOff + pp.pointer]).toBe(0xfd);
  });

  it('reads a router solicitation and its source link-layer address', () => {
    const v = wrap(pkt('routerSolicit'));
    expect([v.type, v.code, v.isNdp(), v.isError(), v.optionsOff]).toEqual([
      ICMPV6_ROUTER_SOLICIT,
      0,
      true,
      false,
      48,
    ]);
    expect(v.sllaOff).toBe(-1);
    expect(v.parseOptions()).toBe(WireError.Ok);
    expect([v.sllaOff, v.sllaLen, v.sourceLinkAddr, v.tllaOff]).toEqual([50, 6, 0x02000000000a, -1]);
  });

  it('reads neighbor solicitations, with and without a source address', () => {
    const dad = wrap(pkt('dadSolicit'));
    expect(dad.type).toBe(ICMPV6_NEIGHBOR_SOLICIT);
    expect(formatIpv6(dad.buf, dad.targetOff)).toBe('fe80::ff:fe00:a');
    expect(dad.optionsOff).toBe(64);
    // Its only option is a nonce (RFC 7527), skipped.
    expect(dad.parseOptions()).toBe(WireError.Ok);
    expect(dad.sllaOff).toBe(-1);
    const ns = wrap(pkt('neighborSolicit'));
    expect(formatIpv6(ns.buf, ns.targetOff)).toBe('fe80::ff:fe00:b');
    expect(ns.parseOptions()).toBe(WireError.Ok);
    expect([ns.sllaOff, ns.sourceLinkAddr]).toEqual([66, 0x02000000000a]);
  });

  it('reads a neighbor advertisement: flags, target, target link-layer address', () => {
    const v = wrap(pkt('neighborAdvert'));
    expect(v.type).toBe(ICMPV6_NEIGHBOR_ADVERT);
    expect([v.naRouter, v.naSolicited, v.naOverride]).toEqual([false, true, true]);
    expect(formatIpv6(v.buf, v.targetOff)).toBe('fe80::ff:fe00:b');
    expect(v.parseOptions()).toBe(WireError.Ok);
    expect([v.tllaOff, v.tllaLen, v.targetLinkAddr, v.sllaOff]).toEqual([66, 6, 0x02000000000b, -1]);
  });

  it('reads a router advertisement and locates its options', () => {
    const v = wrap(pkt('routerAdvert'));
    expect(v.type).toBe(ICMPV6_ROUTER_ADVERT);
    expect([v.raHopLimit, v.raFlags, v.raManaged, v.raOther]).toEqual([64, 0xc0, true, true]);
    expect([v.routerLifetime, v.reachableTime, v.retransTimer]).toEqual([1800, 30000, 1000]);
    expect(v.optionsOff).toBe(56);
    expect(v.parseOptions()).toBe(WireError.Ok);
    expect([v.sourceLinkAddr, v.mtuOption, v.prefixCount, v.firstPrefixOff]).toEqual([
      0x02000000000a, 1500, 1, 72,
    ]);
    expect([v.rdnssCount, v.firstRdnssOff, v.redirectedOff]).toEqual([1, 104, -1]);
    const c = new NdpOptionView();
    c.reset(v.buf, v.firstPrefixOff, v.off + v.len);
    expect(c.next()).toBe(true);
    expect([c.prefixLength, formatIpv6(v.buf, c.prefixOff)]).toEqual([64, '2001:db8:1::']);
  });

  it('reads a redirect: target, destination, redirected header', () => {
    const v = wrap(pkt('redirect'));
    expect(v.type).toBe(ICMPV6_REDIRECT);
    expect(formatIpv6(v.buf, v.targetOff)).toBe('fe80::1');
    expect(formatIpv6(v.buf, v.destinationOff)).toBe('2001:db8:2::1');
    expect(v.optionsOff).toBe(80);
    expect(v.parseOptions()).toBe(WireError.Ok);
    expect([v.targetLinkAddr, v.redirectedOff, v.redirectedLen]).toEqual([0x02000000000a, 96, 48]);
    expect(formatIpv6(v.buf, v.redirectedOff + 24)).toBe('2001:db8:2::1');
  });

  it('parseOptions: Unsupported outside NDP, BadOption for a zero-length option', () => {
    expect(wrap(pkt('echoRequest')).parseOptions()).toBe(WireError.Unsupported);
    const b = pkt('neighborAdvert');
    b[65] = 0;
    expect(wrap(b).parseOptions()).toBe(WireError.BadOption);
  });

  it('wrap() forgets the options of the previous message', () => {
    const v = wrap(pkt('routerAdvert'));
    v.parseOptions();
    const b = pkt('echoReply');
    expect(v.wrap(b, 40, b.length - 40)).toBe(WireError.Ok);
    expect([v.sllaOff, v.tllaOff, v.mtuOption, v.prefixCount, v.firstPrefixOff]).toEqual([-1, -1, -1, 0, -1]);
    expect([v.rdnssCount, v.firstRdnssOff, v.redirectedOff, v.redirectedLen, v.sllaLen]).toEqual([
      0, -1, -1, 0, 0,
    ]);
  });

  it('keeps the first of repeated link-layer address options', () => {
    const v = new Icmpv6View();
    const b = fromHex('8500 0000 00000000 | 0102 00000000000b 0000000000000000 | 0101 02000000000a');
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    expect(v.parseOptions()).toBe(WireError.Ok);
    expect([v.sllaOff, v.sllaLen, v.sourceLinkAddr]).toEqual([10, 14, 0x0b]);
  });
});

describe('Icmpv6View.wrap errors', () => {
  const fixed: Array<[Name, number]> = [
    ['echoRequest', 8],
    ['portUnreachable', 8],
    ['packetTooBig', 8],
    ['timeExceeded', 8],
    ['paramProblem', 8],
    ['routerSolicit', 8],
    ['routerAdvert', 16],
    ['neighborSolicit', 24],
    ['neighborAdvert', 24],
    ['redirect', 40],
  ];
  for (const [n, min] of fixed) {
    it(`is Truncated for ${n} below ${min} bytes, at every length`, () => {
      const b = pkt(n);
      const v = new Icmpv6View();
      for (let l = 0; l < min; l++) expect(v.wrap(b, 40, l)).toBe(WireError.Truncated);
      expect(v.wrap(b, 40, min)).toBe(WireError.Ok);
    });
  }

  it('needs only the 4-byte header for types it does not model, and stays inside the buffer', () => {
    const v = new Icmpv6View();
    const b = fromHex('8f00 0000 01');
    expect(v.wrap(b, 0, 3)).toBe(WireError.Truncated);
    expect(v.wrap(b, 0, 4)).toBe(WireError.Ok);
    expect(v.wrap(b, 0, 6)).toBe(WireError.Truncated);
    expect(v.wrap(b, 2, 4)).toBe(WireError.Truncated);
  });
});

describe('checkNdp (RFC 4861 §6.1, §7.1, §8.1)', () => {
  function check(b: Uint8Array, hop = b[7]!): WireError {
    return checkNdp(wrap(b), hop, 8, 24);
  }

  it('accepts every captured NDP message', () => {
    for (const n of NDP_NAMES) expect(check(pkt(n)), n).toBe(WireError.Ok);
  });

  it('refuses a hop limit other than 255 and a non-zero code', () => {
    for (const n of NDP_NAMES) {
      expect(check(pkt(n), 254), n).toBe(WireError.BadValue);
      const b = pkt(n);
      b[41] = 1;
      expect(check(b), n).toBe(WireError.BadValue);
    }
  });

  it('is Unsupported for non-NDP messages and BadOption for malformed options', () => {
    expect(check(pkt('echoRequest'), 255)).toBe(WireError.Unsupported);
    const b = pkt('routerAdvert');
    b[57] = 0;
    expect(check(b)).toBe(WireError.BadOption);
  });

  it('router solicitation: an unspecified source carries no source link-layer address', () => {
    const b = pkt('routerSolicit');
    b.fill(0, 8, 24);
    expect(check(b)).toBe(WireError.BadValue);
    b[48] = 14;
    expect(check(b)).toBe(WireError.Ok);
  });

  it('router advertisement: the source must be link-local', () => {
    const b = pkt('routerAdvert');
    b.set(parseIpv6('2001:db8::1')!, 8);
    expect(check(b)).toBe(WireError.BadValue);
    b.set(parseIpv6('febf::1')!, 8);
    expect(check(b)).toBe(WireError.Ok);
    b.set(parseIpv6('fec0::1')!, 8);
    expect(check(b)).toBe(WireError.BadValue);
  });

  it('neighbor solicitation: no multicast target; DAD goes to solicited-node, without SLLA', () => {
    const mc = pkt('neighborSolicit');
    mc.set(parseIpv6('ff02::1')!, 48);
    expect(check(mc)).toBe(WireError.BadValue);
    const dad = pkt('dadSolicit');
    dad.set(parseIpv6('ff02::1')!, 24);
    expect(check(dad)).toBe(WireError.BadValue);
    dad.set(parseIpv6('ff02::1:ff12:3456')!, 24);
    expect(check(dad)).toBe(WireError.Ok);
    dad.set(parseIpv6('ff02::2:ff12:3456')!, 24);
    expect(check(dad)).toBe(WireError.BadValue);
    const withSlla = pkt('neighborSolicit');
    withSlla.fill(0, 8, 24);
    expect(check(withSlla)).toBe(WireError.BadValue);
  });

  it('neighbor advertisement: no multicast target; S is clear when sent to a group', () => {
    const mc = pkt('neighborAdvert');
    mc.set(parseIpv6('ff02::1')!, 48);
    expect(check(mc)).toBe(WireError.BadValue);
    const group = pkt('neighborAdvert');
    group.set(parseIpv6('ff02::1')!, 24);
    expect(check(group)).toBe(WireError.BadValue);
    group[44] = NA_FLAG_OVERRIDE;
    expect(check(group)).toBe(WireError.Ok);
  });

  it('redirect: link-local source, unicast destination, link-local or on-link target', () => {
    const src = pkt('redirect');
    src.set(parseIpv6('2001:db8::9')!, 8);
    expect(check(src)).toBe(WireError.BadValue);
    const dst = pkt('redirect');
    dst.set(parseIpv6('ff0e::1')!, 64);
    expect(check(dst)).toBe(WireError.BadValue);
    const tgt = pkt('redirect');
    tgt.set(parseIpv6('2001:db8::1')!, 48);
    expect(check(tgt)).toBe(WireError.BadValue);
    tgt.set(parseIpv6('2001:db8:2::1')!, 48);
    expect(check(tgt)).toBe(WireError.Ok);
  });
});

describe('Icmpv6Repr', () => {
  it('parse then emit reproduces every captured message exactly', () => {
    for (const n of NAMES) {
      const b = pkt(n);
      const r = parseIcmpv6(wrap(b));
      const len = b.length - 40;
      expect(icmpv6Len(r), n).toBe(len);
      const out = b.slice();
      out.fill(0xaa, 40);
      expect(emitIcmpv6(r, out, 40, ps(out, len)), n).toBe(len);
      expect(out, n).toEqual(b);
    }
  });

  it('parses messages into their fields', () => {
    expect(parseIcmpv6(wrap(pkt('packetTooBig')))).toMatchObject({
      kind: 'packet-too-big',
      code: 0,
      mtu: 1280,
    });
    expect(parseIcmpv6(wrap(pkt('paramProblem')))).toMatchObject({
      kind: 'param-problem',
      code: 1,
      pointer: 6,
    });
    expect(parseIcmpv6(wrap(pkt('timeExceeded')))).toMatchObject({
      kind: 'time-exceeded',
      code: 0,
      unused: 0,
    });
    expect(parseIcmpv6(wrap(pkt('portUnreachable')))).toMatchObject({ kind: 'dest-unreachable', code: 4 });
    expect(parseIcmpv6(wrap(pkt('echoReply')))).toMatchObject({ kind: 'echo-reply', id: 5878, seq: 1 });
    expect(parseIcmpv6(wrap(pkt('neighborAdvert')))).toEqual({
      kind: 'neighbor-advert',
      code: 0,
      flags: NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE,
      reserved: 0,
      target: fromHex(FE_B),
      options: [{ kind: 'target-lla', addr: fromHex('02000000000b') }],
    });
    expect(parseIcmpv6(wrap(pkt('routerAdvert')))).toMatchObject({
      kind: 'router-advert',
      hopLimit: 64,
      flags: 0xc0,
      routerLifetime: 1800,
      reachableTime: 30000,
      retransTimer: 1000,
    });
    expect(parseIcmpv6(wrap(pkt('redirect')))).toMatchObject({
      kind: 'redirect',
      target: parseIpv6('fe80::1'),
      destination: parseIpv6('2001:db8:2::1'),
    });
    const b = fromHex('9b05 0000 abcdef');
    const v = new Icmpv6View();
    v.wrap(b, 0, b.length);
    expect(parseIcmpv6(v)).toEqual({ kind: 'other', type: 0x9b, code: 5, body: fromHex('abcdef') });
  });

  it('builds a valid proxy neighbor advertisement', () => {
    const r: Icmpv6Repr = {
      kind: 'neighbor-advert',
      code: 0,
      flags: NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE,
      reserved: 0,
      target: parseIpv6('2001:db8:1::42')!,
      options: [{ kind: 'target-lla', addr: fromHex('02aabbccddee') }],
    };
    const n = icmpv6Len(r);
    expect(n).toBe(32);
    const b = new Uint8Array(40 + n);
    b.set(fromHex(`6000000000203aff ${FE_A} ${FE_B}`));
    emitIcmpv6(r, b, 40, ps(b, n));
    const v = wrap(b);
    expect(v.verifyChecksum(ps(b))).toBe(true);
    expect(checkNdp(v, 255, 8, 24)).toBe(WireError.Ok);
    expect(v.targetLinkAddr).toBe(0x02aabbccddee);
    expect(parseIcmpv6(v)).toEqual(r);
  });

  it('throws RangeError for a short buffer', () => {
    const r = parseIcmpv6(wrap(pkt('routerAdvert')));
    expect(() => emitIcmpv6(r, new Uint8Array(103), 0, 0)).toThrow(RangeError);
    expect(() => emitIcmpv6(r, new Uint8Array(104), 1, 0)).toThrow(RangeError);
    expect(emitIcmpv6(r, new Uint8Array(104), 0, 0)).toBe(104);
  });
});

describe('Icmpv6View robustness', () => {
  const TYPES = [1, 2, 3, 4, 128, 129, 133, 134, 135, 136, 137];

  it('wrap, parseOptions and checkNdp never throw on random bytes; parse/emit round-trips', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...TYPES), fc.integer({ min: 0, max: 255 })),
        fc.uint8Array({ maxLength: 120 }),
        fc.nat(255),
        (type, bytes, hop) => {
          const b = new Uint8Array(40 + bytes.length);
          b.set(bytes, 40);
          if (bytes.length > 0) b[40] = type;
          const v = new Icmpv6View();
          if (v.wrap(b, 40, bytes.length) !== WireError.Ok) return;
          v.parseOptions();
          checkNdp(v, hop, 8, 24);
          v.fillChecksum(ps(b));
          const orig = b.slice();
          const r = parseIcmpv6(v);
          const out = new Uint8Array(40 + icmpv6Len(r));
          out.set(orig.subarray(0, 40));
          emitIcmpv6(r, out, 40, ps(out));
          expect(out).toEqual(orig);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('random messages give the same results whatever follows the view (property)', () => {
    const run = (bytes: Uint8Array, fill: number) => {
      const b = new Uint8Array(40 + bytes.length + 64).fill(fill);
      b.fill(0, 0, 40);
      b.set(bytes, 40);
      const v = new Icmpv6View();
      const e = v.wrap(b, 40, bytes.length);
      if (e !== WireError.Ok) return { e };
      const opt = v.parseOptions();
      const fields = [v.sllaOff, v.tllaOff, v.mtuOption, v.prefixCount, v.rdnssCount, v.redirectedLen];
      return { e, opt, fields, check: checkNdp(v, 255, 8, 24), ok: v.verifyChecksum(0), r: parseIcmpv6(v) };
    };
    fc.assert(
      fc.property(fc.constantFrom(...TYPES), fc.uint8Array({ maxLength: 80 }), (type, bytes) => {
        if (bytes.length > 0) bytes[0] = type;
        expect(run(bytes, 0xff)).toEqual(run(bytes, 0));
      }),
      { numRuns: 2000 },
    );
  });

  it('never reads outside its view: results do not depend on the surrounding bytes', () => {
    const msg = pkt('routerAdvert');
    const run = (fill: number) => {
      const big = new Uint8Array(300).fill(fill);
      big.set(msg, 50);
      const v = new Icmpv6View();
      expect(v.wrap(big, 90, msg.length - 40)).toBe(WireError.Ok);
      const res = {
        opt: v.parseOptions(),
        check: checkNdp(v, 255, 58, 74),
        ok: v.verifyChecksum(pseudoSumV6(big, 58, 74, ICMPV6_PROTO, v.len)),
        fields: [v.sllaOff, v.mtuOption, v.prefixCount, v.firstRdnssOff],
        r: parseIcmpv6(v),
        outside: [...big.subarray(0, 50), ...big.subarray(50 + msg.length)].every((x) => x === fill),
      };
      return res;
    };
    const a = run(0);
    const b = run(0xff);
    expect(a).toEqual(b);
    expect([a.opt, a.check, a.ok, a.outside]).toEqual([WireError.Ok, WireError.Ok, true, true]);
    // A view that ends inside the RDNSS option refuses it even though the buffer continues.
    const cut = new Icmpv6View();
    const big = new Uint8Array(300).fill(0x19);
    big.set(msg, 0);
    expect(cut.wrap(big, 40, msg.length - 48)).toBe(WireError.Ok);
    expect(cut.parseOptions()).toBe(WireError.BadOption);
    expect(u16(big, 40 + ICMPV6_CHECKSUM)).toBe(u16(msg, 40 + ICMPV6_CHECKSUM));
  });
});
