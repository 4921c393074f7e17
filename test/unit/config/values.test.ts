import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  address,
  cookie,
  dscp,
  endpoint,
  formatPrefix,
  mac,
  mark,
  natTarget,
  portRange,
  prefix,
  protocol,
  wgKey,
} from '../../../src/control/config/net.js';
import { closest, editDistance } from '../../../src/control/config/suggest.js';
import { bool, duration, Fail, int, name, oneOf } from '../../../src/control/config/values.js';
import { parseIpv4 } from '../../../src/dataplane/wire/bytes.js';

const msg = (r: unknown) => (r instanceof Fail ? r.message : 'ok');

describe('prefixes and the host-bits rule', () => {
  it('network prefixes must have zero host bits; the message names the network', () => {
    expect(prefix('192.168.1.0/24', 'network')).toEqual({
      family: 4,
      addr: parseIpv4('192.168.1.0'),
      len: 24,
    });
    expect(msg(prefix('192.168.1.5/24', 'network'))).toBe(
      '"192.168.1.5/24" has host bits set (the network is 192.168.1.0/24)',
    );
    expect(msg(prefix('2001:db8::1/64', 'network'))).toBe(
      '"2001:db8::1/64" has host bits set (the network is 2001:db8::/64)',
    );
  });

  it('interface addresses keep host bits but may not be the network or broadcast address', () => {
    expect(prefix('192.168.0.125/24', 'interface')).toEqual({
      family: 4,
      addr: parseIpv4('192.168.0.125'),
      len: 24,
    });
    expect(msg(prefix('192.168.0.0/24', 'interface'))).toMatch(/network address/);
    expect(msg(prefix('192.168.0.255/24', 'interface'))).toMatch(/broadcast address/);
    // /31 and /32 have no network/broadcast addresses (RFC 3021).
    expect(msg(prefix('10.0.0.0/31', 'interface'))).toBe('ok');
    expect(msg(prefix('100.120.7.128/32', 'interface'))).toBe('ok');
  });

  it('a bare address means the full length; lengths past the family maximum are refused', () => {
    expect(prefix('10.1.2.3', 'network')).toMatchObject({ len: 32 });
    expect(prefix('::1', 'network')).toMatchObject({ family: 6, len: 128 });
    expect(msg(prefix('10.0.0.0/33', 'network'))).toBe(
      '"10.0.0.0/33" is not an IPv4 prefix (length 33 is over 32)',
    );
    expect(msg(prefix('192.168.0.300/24', 'interface'))).toBe('"192.168.0.300/24" is not an IPv4 prefix');
    expect(msg(prefix('eth0/24', 'network'))).toBe('"eth0/24" is not an IP prefix');
    expect(msg(prefix(24, 'network'))).toBe('expected an IP prefix, got 24');
    expect(msg(prefix('10.0.0.0/8', 'network', 6))).toBe('"10.0.0.0/8" is an IPv4 prefix; expected IPv6');
  });

  it('round-trips every network prefix through its text form', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (a, len) => {
        const net = len === 0 ? 0 : (a & ((0xffffffff << (32 - len)) >>> 0)) >>> 0;
        const p = prefix(
          `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${len}`,
          'network',
        );
        expect(p).not.toBeInstanceOf(Fail);
        expect(formatPrefix(p as Exclude<typeof p, Fail>)).toBe(
          `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${len}`,
        );
      }),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 128 }),
        (b, len) => {
          const p = prefix(
            `${formatPrefix({ family: 6, addr: b, len: 128 }).split('/')[0]}/${len}`,
            'interface',
          );
          expect(p).not.toBeInstanceOf(Fail);
          const again = prefix(formatPrefix(p as Exclude<typeof p, Fail>), 'interface');
          expect(again).toEqual(p);
        },
      ),
    );
  });
});

describe('scalar parsers', () => {
  it('addresses by family', () => {
    expect(address('192.168.0.1', 4)).toEqual({ family: 4, addr: parseIpv4('192.168.0.1') });
    expect(msg(address('192.168.0.256'))).toBe('"192.168.0.256" is not an IPv4 address');
    expect(msg(address('fe80::1', 4))).toBe('"fe80::1" is an IPv6 address; expected IPv4');
  });

  it('marks: numbers, hex strings and value/mask with the value inside the mask', () => {
    expect(mark(1)).toEqual({ value: 1, mask: 0xffffffff });
    expect(mark('0x10')).toEqual({ value: 16, mask: 0xffffffff });
    expect(mark('0x1/0xff')).toEqual({ value: 1, mask: 0xff });
    expect(msg(mark('0x11/0x1'))).toBe('"0x11/0x1": value 0x11 has bits outside the mask 0x1');
    expect(msg(mark('0x100000000'))).toMatch(/is not a mark/);
    expect(msg(mark(-1))).toBe('mark -1 is not in 0..0xffffffff');
  });

  it('ports and ranges', () => {
    expect(portRange(443)).toEqual({ min: 443, max: 443 });
    expect(portRange('1000-2000')).toEqual({ min: 1000, max: 2000 });
    expect(msg(portRange('2000-1000'))).toBe('"2000-1000": range start is above its end');
    expect(msg(portRange(70000))).toBe('port 70000 is not in 0..65535');
  });

  it('durations in units, or seconds', () => {
    expect(duration('500ms')).toBe(500);
    expect(duration('1h30m')).toBe(5_400_000);
    expect(duration(2.5)).toBe(2500);
    expect(duration('5d')).toBe(432_000_000);
    expect(msg(duration('5 minutes'))).toMatch(/is not a duration/);
    expect(msg(duration(0))).toMatch(/positive/);
  });

  it('DSCP names and numbers; protocols by name', () => {
    expect(dscp('ef')).toBe(46);
    expect(dscp('AF41')).toBe(34);
    expect(dscp(42)).toBe(42);
    expect(msg(dscp(64))).toBe('DSCP 64 is not in 0..63');
    expect(protocol('icmpv6')).toBe(58);
    expect(protocol(115)).toBe(115);
  });

  it('endpoints and NAT targets, with brackets for IPv6', () => {
    expect(endpoint('vpn.example.net:51820')).toEqual({ host: 'vpn.example.net', port: 51820 });
    expect(endpoint('[fc12::1]:8080')).toEqual({ host: 'fc12::1', port: 8080 });
    expect(msg(endpoint('fc12::1:8080'))).toMatch(/\[addr\]:port/);
    expect(msg(endpoint('host'))).toMatch(/has no port/);
    expect(natTarget('10.100.0.53:22000')).toEqual({
      addr: { family: 4, addr: parseIpv4('10.100.0.53') },
      ports: { min: 22000, max: 22000 },
    });
    expect(natTarget('192.168.200.2')).toMatchObject({ ports: null });
    expect(natTarget('[2001:db8::1]:443')).toMatchObject({
      addr: { family: 6 },
      ports: { min: 443, max: 443 },
    });
    expect(natTarget('2001:db8::1')).toMatchObject({ addr: { family: 6 }, ports: null });
    expect(msg(natTarget('10.0.0.1:0'))).toMatch(/ports are 1\.\.65535/);
  });

  it('WireGuard keys, L2TP cookies, MACs', () => {
    expect(wgKey('CDBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYY=')).toHaveLength(32);
    expect(msg(wgKey('too-short='))).toMatch(/is not a WireGuard key/);
    expect(cookie('0123456789abcdef')).toHaveLength(8);
    expect(msg(cookie(12345678))).toBe(
      'expected a hex string of 8 or 16 digits, got 12345678 (quote it: YAML read it as a number)',
    );
    expect(mac('02:00:00:00:00:01')).toHaveLength(6);
    expect(msg(mac('01:00:5e:00:00:01'))).toMatch(/multicast/);
  });

  it('booleans, integers, names and enums', () => {
    expect(msg(bool('yes'))).toBe('expected true or false, got "yes" (YAML 1.2 reads "yes" as a string)');
    expect(msg(int(1.5, 0, 10))).toBe('expected an integer, got 1.5');
    expect(msg(int(11, 0, 10))).toBe('11 is out of range 0..10');
    expect(msg(name('1eth', 'port'))).toMatch(/is not a valid port name/);
    expect(msg(oneOf('tux', ['tun', 'tap']))).toBe('"tux" is not one of tun, tap (did you mean "tun"?)');
  });
});

describe('did-you-mean', () => {
  it('counts a swap of neighbours as one edit and stays quiet when nothing is close', () => {
    expect(editDistance('adresses', 'addresses')).toBe(1);
    expect(editDistance('tabels', 'tables')).toBe(1);
    expect(closest('chian', ['chains', 'chain', 'sets'])).toBe('chain');
    expect(closest('zzzzzz', ['ports', 'tables'])).toBeNull();
  });
});
