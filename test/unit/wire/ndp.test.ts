import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv6, fromHex } from '../../../src/dataplane/wire/bytes.js';
import { WireError } from '../../../src/dataplane/wire/errors.js';
import {
  emitNdpOptionList,
  NDP_OPT_MTU,
  NDP_OPT_PREFIX_INFO,
  NDP_OPT_RDNSS,
  NDP_OPT_REDIRECTED_HEADER,
  NDP_OPT_SOURCE_LLA,
  NDP_OPT_TARGET_LLA,
  type NdpOption,
  NdpOptionView,
  ndpOptionListLen,
  parseNdpOptionList,
} from '../../../src/dataplane/wire/ndp.js';

// The options of a router advertisement captured on a veth pair (sent from a raw socket, kernel
// checksum; tcpdump decoded every option and the peer kernel autoconfigured from the prefix):
// source link-layer address, MTU 1500, prefix 2001:db8:1::/64 (L, A), RDNSS with two servers.
const RA_OPTS = fromHex(
  '0101 02000000000a |' +
    '0501 0000 000005dc |' +
    '0304 40 c0 00015180 00003840 00000000 20010db8000100000000000000000000 |' +
    '1905 0000 00000258 20010db8000000000000000000000053 20010db8000000000000000000000035',
);
// The options of a captured redirect: target link-layer address, redirected header (7 units).
const REDIRECT_OPTS = fromHex(
  '0201 02000000000a |' +
    '0407 000000000000 | 6000000000083a40 fe80000000000000000000fffe00000b 20010db8000200000000000000000001' +
    '8000000000010001',
);
// DAD neighbor solicitation options: a nonce (type 14, RFC 7527), unknown here.
const NONCE_OPT = fromHex('0e01 731f5581191f');

function walk(
  b: Uint8Array,
  start = 0,
  end = b.length,
): { types: number[]; error: WireError; c: NdpOptionView } {
  const c = new NdpOptionView();
  c.reset(b, start, end);
  const types: number[] = [];
  while (c.next()) types.push(c.type);
  return { types, error: c.error, c };
}

describe('NdpOptionView', () => {
  it('walks the real RA options and reads each one in place', () => {
    const c = new NdpOptionView();
    c.reset(RA_OPTS, 0, RA_OPTS.length);
    expect(c.next()).toBe(true);
    expect([c.type, c.off, c.len]).toEqual([NDP_OPT_SOURCE_LLA, 0, 8]);
    expect([c.linkAddrOff, c.linkAddrLen, c.linkAddr]).toEqual([2, 6, 0x02000000000a]);
    expect(c.next()).toBe(true);
    expect([c.type, c.len, c.mtu]).toEqual([NDP_OPT_MTU, 8, 1500]);
    expect(c.next()).toBe(true);
    expect([c.type, c.off, c.len]).toEqual([NDP_OPT_PREFIX_INFO, 16, 32]);
    expect([c.prefixLength, c.prefixFlags, c.prefixOnLink, c.prefixAutonomous]).toEqual([
      64,
      0xc0,
      true,
      true,
    ]);
    expect([c.validLifetime, c.preferredLifetime]).toEqual([86400, 14400]);
    expect(formatIpv6(RA_OPTS, c.prefixOff)).toBe('2001:db8:1::');
    expect(c.next()).toBe(true);
    expect([c.type, c.len, c.rdnssLifetime, c.rdnssCount]).toEqual([NDP_OPT_RDNSS, 40, 600, 2]);
    expect(formatIpv6(RA_OPTS, c.rdnssAddrOff(0))).toBe('2001:db8::53');
    expect(formatIpv6(RA_OPTS, c.rdnssAddrOff(1))).toBe('2001:db8::35');
    expect(c.next()).toBe(false);
    expect(c.error).toBe(WireError.Ok);
    expect(c.next()).toBe(false);
  });

  it('reads the redirected header and skips unknown options', () => {
    const { types, error, c } = walk(REDIRECT_OPTS);
    expect([types, error]).toEqual([[NDP_OPT_TARGET_LLA, NDP_OPT_REDIRECTED_HEADER], WireError.Ok]);
    expect([c.redirectedOff, c.redirectedLen]).toEqual([16, 48]);
    expect(REDIRECT_OPTS[c.redirectedOff]).toBe(0x60);
    expect(walk(NONCE_OPT).types).toEqual([14]);
    expect(walk(new Uint8Array(0)).types).toEqual([]);
  });

  it('honours the area bounds it is given', () => {
    const big = new Uint8Array(8 + RA_OPTS.length + 8).fill(0xff);
    big.set(RA_OPTS, 8);
    expect(walk(big, 8, 8 + RA_OPTS.length).types).toEqual([1, 5, 3, 25]);
    // The same options cut one unit short: the RDNSS option now overruns.
    const cut = walk(big, 8, 8 + RA_OPTS.length - 8);
    expect([cut.types, cut.error, cut.c.off]).toEqual([[1, 5, 3], WireError.BadOption, 8 + 48]);
  });

  const bad: Array<[string, string]> = [
    ['length 0 (RFC 4861 §4.6)', '0100 000000000000'],
    ['length 0 after a good option', '0101 02000000000a 0e00 000000000000'],
    ['an option overrunning the area', '0102 02000000000a'],
    ['a lone type byte', '0101 02000000000a 01'],
  ];
  for (const [name, hex] of bad) {
    it(`is BadOption for ${name}`, () => {
      expect(walk(fromHex(hex)).error).toBe(WireError.BadOption);
    });
  }

  // Each of these fills its area exactly: only the length of the fixed fields is wrong.
  const wrongSize: Array<[string, number, number]> = [
    ['prefix information', NDP_OPT_PREFIX_INFO, 3],
    ['prefix information', NDP_OPT_PREFIX_INFO, 5],
    ['MTU', NDP_OPT_MTU, 2],
    ['RDNSS without a server', NDP_OPT_RDNSS, 1],
    ['RDNSS', NDP_OPT_RDNSS, 2],
    ['RDNSS', NDP_OPT_RDNSS, 4],
  ];
  for (const [name, type, units] of wrongSize) {
    it(`is BadOption for ${name} of length ${units}`, () => {
      const b = new Uint8Array(units * 8);
      b[0] = type;
      b[1] = units;
      expect(walk(b).error).toBe(WireError.BadOption);
    });
  }

  it('accepts the sizes the fixed fields need', () => {
    for (const [type, units] of [
      [NDP_OPT_PREFIX_INFO, 4],
      [NDP_OPT_MTU, 1],
      [NDP_OPT_RDNSS, 3],
      [NDP_OPT_RDNSS, 5],
      [NDP_OPT_SOURCE_LLA, 1],
      [NDP_OPT_SOURCE_LLA, 2],
      [NDP_OPT_REDIRECTED_HEADER, 1],
    ]) {
      const b = new Uint8Array(units! * 8);
      b[0] = type!;
      b[1] = units!;
      expect(walk(b).types).toEqual([type]);
    }
  });
});

describe('NdpOption lists', () => {
  it('parses the real RA options', () => {
    expect(parseNdpOptionList(RA_OPTS, 0, RA_OPTS.length)).toEqual([
      { kind: 'source-lla', addr: fromHex('02000000000a') },
      { kind: 'mtu', reserved: 0, mtu: 1500 },
      {
        kind: 'prefix-info',
        prefixLength: 64,
        flags: 0xc0,
        validLifetime: 86400,
        preferredLifetime: 14400,
        reserved2: 0,
        prefix: fromHex('20010db8000100000000000000000000'),
      },
      {
        kind: 'rdnss',
        reserved: 0,
        lifetime: 600,
        servers: [fromHex('20010db8000000000000000000000053'), fromHex('20010db8000000000000000000000035')],
      },
    ]);
    const rh = parseNdpOptionList(REDIRECT_OPTS, 0, REDIRECT_OPTS.length);
    expect(rh[1]).toEqual({ kind: 'redirected-header', reserved: 0, packet: REDIRECT_OPTS.slice(16) });
    expect(parseNdpOptionList(NONCE_OPT, 0, 8)).toEqual([
      { kind: 'unknown', type: 14, data: fromHex('731f5581191f') },
    ]);
  });

  it('carries a malformed tail as raw bytes', () => {
    const b = fromHex('0101 02000000000a 0500 0000 00');
    expect(parseNdpOptionList(b, 0, b.length)).toEqual([
      { kind: 'source-lla', addr: fromHex('02000000000a') },
      { kind: 'malformed', bytes: fromHex('0500000000') },
    ]);
  });

  it('emit reproduces parsed lists exactly', () => {
    for (const b of [RA_OPTS, REDIRECT_OPTS, NONCE_OPT, fromHex('0101 02000000000a 0300 01')]) {
      const list = parseNdpOptionList(b, 0, b.length);
      expect(ndpOptionListLen(list)).toBe(b.length);
      const out = new Uint8Array(b.length + 2).fill(0xaa);
      expect(emitNdpOptionList(list, out, 2)).toBe(b.length);
      expect(out.subarray(2)).toEqual(b);
    }
  });

  it('pads what it builds to whole 8-octet units with zeros', () => {
    const list: NdpOption[] = [
      // An 8-byte (EUI-64) link-layer address needs two units.
      { kind: 'target-lla', addr: fromHex('0011223344556677') },
      { kind: 'redirected-header', reserved: 0, packet: fromHex('60') },
      { kind: 'unknown', type: 200, data: new Uint8Array(0) },
    ];
    expect(ndpOptionListLen(list)).toBe(40);
    const out = new Uint8Array(40).fill(0xee);
    expect(emitNdpOptionList(list, out, 0)).toBe(40);
    expect(out).toEqual(
      fromHex('0202 0011223344556677 000000000000 | 0402 000000000000 60 00000000000000 | c801 000000000000'),
    );
    expect(walk(out).types).toEqual([2, 4, 200]);
  });

  it('throws RangeError for options it could not encode', () => {
    const huge: NdpOption[] = [{ kind: 'unknown', type: 9, data: new Uint8Array(2040) }];
    expect(() => emitNdpOptionList(huge, new Uint8Array(4096), 0)).toThrow(RangeError);
    const empty: NdpOption[] = [{ kind: 'rdnss', reserved: 0, lifetime: 1, servers: [] }];
    expect(() => emitNdpOptionList(empty, new Uint8Array(64), 0)).toThrow(RangeError);
    const most: NdpOption[] = [{ kind: 'unknown', type: 9, data: new Uint8Array(2038) }];
    expect(emitNdpOptionList(most, new Uint8Array(2040), 0)).toBe(2040);
  });

  it('random bytes never throw and always round-trip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (b) => {
        walk(b);
        const list = parseNdpOptionList(b, 0, b.length);
        const out = new Uint8Array(ndpOptionListLen(list));
        emitNdpOptionList(list, out, 0);
        expect(out).toEqual(b);
      }),
      { numRuns: 2000 },
    );
  });
});
