import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, fromHex, parseIpv4, toHex, u16 } from '../../../src/dataplane/wire/bytes.js';
import {
  AREA_FILE,
  AREA_OPTIONS,
  AREA_SNAME,
  BOOTP_MIN_LEN,
  DHCP_CHADDR,
  DHCP_FILE,
  DHCP_OPT_CLASSLESS_ROUTES,
  DHCP_OPT_DOMAIN_NAME,
  DHCP_OPT_END,
  DHCP_OPT_HOSTNAME,
  DHCP_OPT_MESSAGE_TYPE,
  DHCP_OPT_OVERLOAD,
  DHCP_OPT_PAD,
  DHCP_OPT_RELAY_AGENT_INFO,
  DHCP_OPT_SERVER_ID,
  DHCP_OPTIONS,
  DHCP_SNAME,
  DHCPACK,
  DHCPDISCOVER,
  DHCPOFFER,
  DHCPREQUEST,
  type Dhcpv4Option,
  Dhcpv4OptionCursor,
  type Dhcpv4Repr,
  Dhcpv4View,
  dhcpv4Len,
  emitDhcpv4,
  emitDhcpv4Options,
  OVERLOAD_FILE,
  OVERLOAD_SNAME,
  parseDhcpv4,
} from '../../../src/dataplane/wire/dhcpv4.js';
import {
  ClasslessRouteReader,
  clientId,
  dnsServers,
  emitClasslessRoutes,
  emitRelayAgentInfo,
  hostname,
  insertRelayAgentInfo,
  isParameterRequested,
  leaseTime,
  OPT_ABSENT,
  OPT_MALFORMED,
  optionAddresses,
  optionBytes,
  optionList,
  optionText,
  optionU32,
  parameterRequestList,
  parseRelayAgentInfo,
  RelayAgentInfoView,
  rebindingTime,
  renewalTime,
  requestedIp,
  routers,
  serverId,
  stripRelayAgentInfo,
  subnetMask,
} from '../../../src/dataplane/wire/dhcpv4-options.js';
import { WireError } from '../../../src/dataplane/wire/errors.js';

/** Hex strings and zero runs (numbers), so the long all-zero sname/file fields stay readable. */
function pkt(...parts: Array<string | number>): Uint8Array {
  return fromHex(parts.map((p) => (typeof p === 'number' ? '00'.repeat(p) : p)).join(''));
}

const ip = (s: string): number => parseIpv4(s)!;

// A real exchange, captured with `tcpdump -w` on a veth pair between two network namespaces:
// dnsmasq 2.90 serving 10.77.0.100-150 (router, 2 DNS servers, domain ferry.test, three
// classless routes) and busybox 1.35 `udhcpc -B -x hostname:ferry -O 121 -O 15`. UDP payloads.

// DHCPDISCOVER, broadcast flag, 300 bytes: 53=1, 57=576, 55 (1 3 6 12 15 28 42 121), 12 "ferry",
// 60 "udhcp 1.35.0", 61 = 01 + MAC, END at 287, then 12 bytes of padding (RFC 1542 §2.1).
const DISCOVER = pkt(
  '010106003c602f34000080',
  17,
  '020000000002',
  202,
  '638253633501013902024037080103060c0f1c2a790c0566657272793c0c756468637020312e33352e303d0701020000',
  '000002ff',
  12,
);

// DHCPOFFER of 10.77.0.146, 329 bytes: 53=2, 54, 51=3600, 58=1800, 59=3150, 1, 28, 121 (19 bytes:
// 192.168.10.0/24 via .1, 10.0.0.0/8 via .254, default via .1), 15 "ferry.test", 6 (two), 3, END.
const OFFER = pkt(
  '020106003c602f3400008000000000000a4d00920a4d000100000000020000000002',
  202,
  '6382536335010236040a4d0001330400000e103a04000007083b0400000c4e0104ffffff001c040a4d00ff791318c0a8',
  '0a0a4d0001080a0a4d00fe000a4d00010f0a66657272792e7465737406080a4d00010a4d000203040a4d0001ff',
);

// DHCPREQUEST, 300 bytes, no padding: 53=3, 50=10.77.0.146, 54=10.77.0.1, 55, 12, 60, 61, END.
const REQUEST = pkt(
  '010106003c602f34000380',
  17,
  '020000000002',
  202,
  '6382536335010332040a4d009236040a4d00013902024037080103060c0f1c2a790c0566657272793c0c756468637020',
  '312e33352e303d0701020000000002ff',
);

// DHCPACK, 336 bytes: as the offer, plus the client's hostname echoed (12 "ferry").
const ACK = pkt(
  '020106003c602f3400038000000000000a4d00920a4d000100000000020000000002',
  202,
  '6382536335010536040a4d0001330400000e103a04000007083b0400000c4e0104ffffff001c040a4d00ff0c05666572',
  '7279791318c0a80a0a4d0001080a0a4d00fe000a4d00010f0a66657272792e7465737406080a4d00010a4d000203040a',
  '4d0001ff',
);

// A DHCPOFFER from the same setup with three 91-byte private options (224-226) forced on the
// client's 576-byte maximum: dnsmasq moved option 224 into `file` and added option 52 = 1
// (RFC 2132 §9.3). The main area ends 226, 225, 52, 6, 3, END; file holds 224, END, padding.
const OVERLOAD_OFFER = pkt(
  '02010600038f996100008000000000000a4d00920a4d000100000000020000000002',
  74,
  'e05b41787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878',
  '787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878ff',
  34,
  '6382536335010236040a4d0001330400000e103a04000007083b0400000c4e0104ffffff001c040a4d00ffe25b437878',
  '787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878',
  '78787878787878787878787878787878787878787878787878787878787878787878787878787878e15b427878787878',
  '787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878',
  '7878787878787878787878787878787878787878787878787878787878787878787878787834010106040a4d00010304',
  '0a4d0001ff',
);

const REAL = { DISCOVER, OFFER, REQUEST, ACK, OVERLOAD_OFFER };

function wrapOk(b: Uint8Array, off = 0, len = b.length - off): Dhcpv4View {
  const v = new Dhcpv4View();
  expect(v.wrap(b, off, len)).toBe(WireError.Ok);
  return v;
}

function codes(v: Dhcpv4View): number[] {
  return optionList(v).map((o) => o.code);
}

/** A message built from a repr: fixed fields from the real DISCOVER, options as given. */
function build(
  options: Dhcpv4Option[],
  extra: Partial<Dhcpv4Repr> = {},
  minLen = 0,
): { bytes: Uint8Array; repr: Dhcpv4Repr } {
  const repr: Dhcpv4Repr = {
    ...parseDhcpv4(wrapOk(DISCOVER)),
    options,
    trailer: new Uint8Array(0),
    ...extra,
  };
  const bytes = new Uint8Array(Math.max(dhcpv4Len(repr), minLen));
  emitDhcpv4(repr, bytes, 0, minLen);
  return { bytes, repr };
}

const opt = (code: number, hex = ''): Dhcpv4Option => ({ code, data: fromHex(hex) });
const END: Dhcpv4Option = { code: DHCP_OPT_END, data: new Uint8Array(0) };
const PAD: Dhcpv4Option = { code: DHCP_OPT_PAD, data: new Uint8Array(0) };

describe('Dhcpv4View header fields (RFC 2131 §2)', () => {
  it('reads every fixed field of the real DISCOVER', () => {
    const v = wrapOk(DISCOVER);
    expect([v.op, v.htype, v.hlen, v.hops]).toEqual([1, 1, 6, 0]);
    expect(v.xid).toBe(0x3c602f34);
    expect(v.secs).toBe(0);
    expect(v.flags).toBe(0x8000);
    expect(v.broadcast).toBe(true);
    expect([v.ciaddr, v.yiaddr, v.siaddr, v.giaddr]).toEqual([0, 0, 0, 0]);
    expect(v.chaddr).toBe(0x020000000002);
    expect(v.chaddrOff).toBe(DHCP_CHADDR);
    expect(v.snameOff).toBe(DHCP_SNAME);
    expect(v.fileOff).toBe(DHCP_FILE);
    expect(v.optionsOff).toBe(DHCP_OPTIONS);
    expect(v.hasMagic).toBe(true);
    expect(v.overload).toBe(0);
    expect(v.endOff).toBe(287);
    expect(v.messageType).toBe(DHCPDISCOVER);
  });

  it('reads the server fields of the real OFFER and the message type of every capture', () => {
    const v = wrapOk(OFFER);
    expect(v.op).toBe(2);
    expect(formatIpv4(v.yiaddr)).toBe('10.77.0.146');
    expect(formatIpv4(v.siaddr)).toBe('10.77.0.1');
    expect(v.endOff).toBe(328);
    expect(v.messageType).toBe(DHCPOFFER);
    expect(wrapOk(REQUEST).messageType).toBe(DHCPREQUEST);
    expect(wrapOk(REQUEST).secs).toBe(3);
    expect(wrapOk(ACK).messageType).toBe(DHCPACK);
  });

  it('setters write in place at the RFC 2131 offsets, as a relay does with hops and giaddr', () => {
    const b = DISCOVER.slice();
    const v = wrapOk(b);
    v.hops = 1;
    v.giaddr = ip('192.0.2.1');
    v.ciaddr = ip('10.0.0.1');
    v.yiaddr = ip('10.0.0.2');
    v.siaddr = ip('10.0.0.3');
    expect(b[3]).toBe(1);
    expect(toHex(b, 12, 16)).toBe('0a0000010a0000020a000003c0000201');
    expect(v.hops).toBe(1);
    expect([v.ciaddr, v.yiaddr, v.siaddr, v.giaddr].map(formatIpv4)).toEqual([
      '10.0.0.1',
      '10.0.0.2',
      '10.0.0.3',
      '192.0.2.1',
    ]);
    v.broadcast = false;
    expect(u16(b, 10)).toBe(0);
    expect(v.broadcast).toBe(false);
    v.flags = 0x0001;
    v.broadcast = true;
    expect(v.flags).toBe(0x8001);
    v.broadcast = false;
    expect(v.flags).toBe(0x0001);
  });

  it('chaddr is a number only for 6-byte hardware addresses', () => {
    const b = DISCOVER.slice();
    b[2] = 16;
    const v = wrapOk(b);
    expect(v.hlen).toBe(16);
    expect(v.chaddr).toBe(-1);
  });
});

describe('option walking (RFC 2132)', () => {
  it('walks the DISCOVER options in order and finds each by code', () => {
    const v = wrapOk(DISCOVER);
    expect(codes(v)).toEqual([53, 57, 55, 12, 60, 61]);
    expect(v.findOption(57)).toBe(true);
    expect([v.optOff, v.optLen, u16(DISCOVER, v.optOff)]).toEqual([245, 2, 576]);
    expect(v.findOption(DHCP_OPT_HOSTNAME)).toBe(true);
    expect([v.optOff, v.optLen]).toEqual([259, 5]);
    expect(v.findOption(DHCP_OPT_SERVER_ID)).toBe(false);
    expect(v.findOption(DHCP_OPT_PAD)).toBe(false);
    expect(v.findOption(DHCP_OPT_END)).toBe(false);
  });

  it('the cursor reports code, value offset, length and area', () => {
    const v = wrapOk(OFFER);
    const cur = new Dhcpv4OptionCursor();
    cur.start(v);
    expect(cur.next()).toBe(true);
    expect([cur.code, cur.valueOff, cur.len, cur.area]).toEqual([53, 242, 1, AREA_OPTIONS]);
    let n = 1;
    while (cur.next()) n++;
    expect(n).toBe(11);
    expect(cur.next()).toBe(false);
  });

  it('skips PAD between options and stops at END; bytes after END are not options', () => {
    const { bytes } = build([PAD, opt(53, '01'), PAD, PAD, opt(12, '6162'), END], {
      trailer: fromHex('0c01ff'),
    });
    const v = wrapOk(bytes);
    expect(codes(v)).toEqual([53, 12]);
    expect(hostname(v)).toBe('ab');
  });

  it('an options area without END runs to the end of the message', () => {
    const { bytes } = build([opt(53, '03'), opt(50, '0a4d0092')]);
    const v = wrapOk(bytes);
    expect(v.endOff).toBe(-1);
    expect(codes(v)).toEqual([53, 50]);
    expect(formatIpv4(requestedIp(v))).toBe('10.77.0.146');
  });

  it('real overload: option 52 = 1 continues the options in file (RFC 2131 §4.1)', () => {
    const v = wrapOk(OVERLOAD_OFFER);
    expect(v.overload).toBe(OVERLOAD_FILE);
    const list = optionList(v);
    expect(list.map((o) => o.code)).toEqual([53, 54, 51, 58, 59, 1, 28, 226, 225, 52, 6, 3, 224]);
    expect(list.at(-1)!.area).toBe(AREA_FILE);
    expect(list.at(-1)!.data.length).toBe(91);
    expect(optionText(v, 224)).toBe(`A${'x'.repeat(90)}`);
    expect(v.findOption(224)).toBe(true);
    expect(v.optOff).toBe(DHCP_FILE + 2);
    expect(v.messageType).toBe(DHCPOFFER);
  });

  it('overload 3 walks options, then file, then sname', () => {
    const file = new Uint8Array(128);
    emitDhcpv4Options([opt(15, '6669'), END], file, 0);
    const sname = new Uint8Array(64);
    emitDhcpv4Options([PAD, opt(12, '6869'), END], sname, 0);
    const { bytes } = build([opt(53, '02'), opt(DHCP_OPT_OVERLOAD, '03'), END], { file, sname });
    const v = wrapOk(bytes);
    expect(v.overload).toBe(OVERLOAD_FILE | OVERLOAD_SNAME);
    expect(optionList(v).map((o) => [o.code, o.area])).toEqual([
      [53, AREA_OPTIONS],
      [52, AREA_OPTIONS],
      [15, AREA_FILE],
      [12, AREA_SNAME],
    ]);
    expect(hostname(v)).toBe('hi');
    expect(optionText(v, DHCP_OPT_DOMAIN_NAME)).toBe('fi');
  });

  it('overload 2 walks sname only; without option 52, sname and file are not options', () => {
    const sname = new Uint8Array(64);
    emitDhcpv4Options([opt(12, '6869'), END], sname, 0);
    const with2 = wrapOk(build([opt(DHCP_OPT_OVERLOAD, '02'), END], { sname }).bytes);
    expect(optionList(with2).map((o) => [o.code, o.area])).toEqual([
      [52, AREA_OPTIONS],
      [12, AREA_SNAME],
    ]);
    const none = wrapOk(build([END], { sname }).bytes);
    expect(codes(none)).toEqual([]);
    expect(none.overload).toBe(0);
  });

  it('option 52 inside file does not count (RFC 2131 §4.1)', () => {
    const file = new Uint8Array(128);
    emitDhcpv4Options([opt(DHCP_OPT_OVERLOAD, '02'), END], file, 0);
    const sname = new Uint8Array(64).fill(0x63); // garbage that would be a TLV overrun if walked
    const v = wrapOk(build([opt(DHCP_OPT_OVERLOAD, '01'), END], { file, sname }).bytes);
    expect(v.overload).toBe(OVERLOAD_FILE);
    expect(codes(v)).toEqual([52, 52]);
  });

  it('joins an option split across areas (RFC 3396) and decodes the joined classless routes', () => {
    // 121 = 10.0.0.0/8 via 10.77.0.254, split after 3 bytes; the tail is in file.
    const file = new Uint8Array(128);
    emitDhcpv4Options([opt(121, '4d00fe'), END], file, 0);
    const v = wrapOk(build([opt(121, '080a0a'), opt(DHCP_OPT_OVERLOAD, '01'), END], { file }).bytes);
    expect(v.findOption(121)).toBe(true);
    expect(v.optLen).toBe(3);
    const joined = optionBytes(v, 121)!;
    expect(toHex(joined)).toBe('080a0a4d00fe');
    const r = new ClasslessRouteReader();
    expect(r.wrap(joined, 0, joined.length)).toBe(WireError.Ok);
    expect(r.next()).toBe(true);
    expect([formatIpv4(r.prefix), r.prefixLen, formatIpv4(r.gateway)]).toEqual([
      '10.0.0.0',
      8,
      '10.77.0.254',
    ]);
    expect(optionBytes(v, 99)).toBeNull();
  });
});

describe('typed option decoders', () => {
  it('decodes every option of the real OFFER', () => {
    const v = wrapOk(OFFER);
    expect(formatIpv4(serverId(v))).toBe('10.77.0.1');
    expect(leaseTime(v)).toBe(3600);
    expect(renewalTime(v)).toBe(1800);
    expect(rebindingTime(v)).toBe(3150);
    expect(formatIpv4(subnetMask(v))).toBe('255.255.255.0');
    expect(formatIpv4(optionU32(v, 28))).toBe('10.77.0.255');
    const out = new Uint32Array(4);
    expect(dnsServers(v, out)).toBe(2);
    expect([...out.subarray(0, 2)].map(formatIpv4)).toEqual(['10.77.0.1', '10.77.0.2']);
    expect(routers(v, out)).toBe(1);
    expect(formatIpv4(out[0]!)).toBe('10.77.0.1');
    expect(optionText(v, DHCP_OPT_DOMAIN_NAME)).toBe('ferry.test');
    expect(requestedIp(v)).toBe(OPT_ABSENT);
    expect(hostname(v)).toBeNull();
  });

  it('decodes the client options of the real REQUEST and ACK', () => {
    const v = wrapOk(REQUEST);
    expect(formatIpv4(requestedIp(v))).toBe('10.77.0.146');
    expect(formatIpv4(serverId(v))).toBe('10.77.0.1');
    expect(hostname(v)).toBe('ferry');
    expect(toHex(clientId(v)!)).toBe('01020000000002');
    expect(optionText(v, 60)).toBe('udhcp 1.35.0');
    const list = new Uint8Array(16);
    expect(parameterRequestList(v, list)).toBe(8);
    expect([...list.subarray(0, 8)]).toEqual([1, 3, 6, 12, 15, 28, 42, 121]);
    const short = new Uint8Array(2);
    expect(parameterRequestList(v, short)).toBe(8);
    expect([...short]).toEqual([1, 3]);
    expect(isParameterRequested(v, DHCP_OPT_CLASSLESS_ROUTES)).toBe(true);
    expect(isParameterRequested(v, 119)).toBe(false);
    expect(hostname(wrapOk(ACK))).toBe('ferry');
  });

  it('reports absent and malformed options without throwing', () => {
    const v = wrapOk(
      build([
        opt(54, '0a4d00'),
        opt(3, '0a4d00010a4d'),
        opt(6, ''),
        opt(55, ''),
        opt(12, ''),
        opt(61, '01'),
        END,
      ]).bytes,
    );
    const out = new Uint32Array(1);
    expect(serverId(v)).toBe(OPT_MALFORMED);
    expect(leaseTime(v)).toBe(OPT_ABSENT);
    expect(routers(v, out)).toBe(OPT_MALFORMED);
    expect(dnsServers(v, out)).toBe(OPT_MALFORMED);
    expect(optionAddresses(v, 44, out)).toBe(OPT_ABSENT);
    expect(parameterRequestList(v, new Uint8Array(4))).toBe(OPT_MALFORMED);
    expect(parameterRequestList(wrapOk(OFFER), new Uint8Array(4))).toBe(OPT_ABSENT);
    expect(isParameterRequested(wrapOk(OFFER), 1)).toBe(false);
    expect(hostname(v)).toBeNull();
    expect(clientId(v)).toBeNull();
    expect(clientId(wrapOk(OFFER))).toBeNull();
    expect(optionText(v, 15)).toBeNull();
  });

  it('copies only as many addresses as fit but returns the full count', () => {
    const out = new Uint32Array(1);
    expect(dnsServers(wrapOk(OFFER), out)).toBe(2);
    expect(formatIpv4(out[0]!)).toBe('10.77.0.1');
  });

  it('message type is 0 when option 53 is absent or not one byte', () => {
    expect(wrapOk(build([END]).bytes).messageType).toBe(0);
    expect(wrapOk(build([opt(DHCP_OPT_MESSAGE_TYPE, '0101'), END]).bytes).messageType).toBe(0);
  });
});

describe('classless static routes, option 121 (RFC 3442)', () => {
  const routesOf = (b: Uint8Array): Array<[string, number, string]> => {
    const r = new ClasslessRouteReader();
    expect(r.wrap(b, 0, b.length)).toBe(WireError.Ok);
    const out: Array<[string, number, string]> = [];
    while (r.next()) out.push([formatIpv4(r.prefix), r.prefixLen, formatIpv4(r.gateway)]);
    return out;
  };

  it('decodes the three routes dnsmasq sent', () => {
    const v = wrapOk(OFFER);
    expect(v.findOption(DHCP_OPT_CLASSLESS_ROUTES)).toBe(true);
    const r = new ClasslessRouteReader();
    expect(r.wrap(v.buf, v.optOff, v.optLen)).toBe(WireError.Ok);
    const got: Array<[string, number, string]> = [];
    while (r.next()) got.push([formatIpv4(r.prefix), r.prefixLen, formatIpv4(r.gateway)]);
    expect(got).toEqual([
      ['192.168.10.0', 24, '10.77.0.1'],
      ['10.0.0.0', 8, '10.77.0.254'],
      ['0.0.0.0', 0, '10.77.0.1'],
    ]);
    expect(r.next()).toBe(false);
  });

  it('uses ceil(width/8) significant octets for every width class', () => {
    expect(routesOf(fromHex('01 80 01020304  09 0aff 01020305  20 c0000201 01020306'))).toEqual([
      ['128.0.0.0', 1, '1.2.3.4'],
      ['10.128.0.0', 9, '1.2.3.5'],
      ['192.0.2.1', 32, '1.2.3.6'],
    ]);
  });

  it('masks bits past the width in the last significant octet', () => {
    expect(routesOf(fromHex('14 c0a81f 0a000001'))).toEqual([['192.168.16.0', 20, '10.0.0.1']]);
  });

  it('rejects malformed descriptors', () => {
    const r = new ClasslessRouteReader();
    const bad = (h: string) => {
      const b = fromHex(h);
      return r.wrap(b, 0, b.length);
    };
    expect(bad('21 0a00000000 0a000001')).toBe(WireError.BadOption); // width 33, 5 octets
    expect(bad('ff 0a000000 0a000001')).toBe(WireError.BadOption); // width 255
    expect(bad('18 c0a8 0a4d0001')).toBe(WireError.BadOption); // /24 with 2 octets
    expect(bad('08 0a 0a4d00')).toBe(WireError.BadOption); // router cut short
    expect(bad('00 0a4d00')).toBe(WireError.BadOption); // under the 5-byte minimum
    expect(bad('')).toBe(WireError.BadOption);
    expect(bad('00 0a4d0001 00')).toBe(WireError.BadOption); // trailing partial descriptor
    expect(r.next()).toBe(false);
    expect(r.wrap(fromHex('000a4d0001'), 1, 5)).toBe(WireError.Truncated);
  });

  it('emit encodes what the reader decodes', () => {
    const routes = [
      { prefix: ip('0.0.0.0'), prefixLen: 0, gateway: ip('10.0.0.1') },
      { prefix: ip('10.128.0.0'), prefixLen: 9, gateway: ip('10.0.0.2') },
      { prefix: ip('192.168.10.0'), prefixLen: 24, gateway: ip('10.0.0.3') },
      { prefix: ip('192.0.2.77'), prefixLen: 32, gateway: ip('10.0.0.4') },
    ];
    const b = new Uint8Array(64);
    const n = emitClasslessRoutes(routes, b, 0);
    expect(n).toBe(5 + 7 + 8 + 9);
    expect(routesOf(b.subarray(0, n))).toEqual(
      routes.map((r) => [formatIpv4(r.prefix), r.prefixLen, formatIpv4(r.gateway)]),
    );
    expect(() => emitClasslessRoutes(routes, new Uint8Array(10), 0)).toThrow(RangeError);
    expect(() => emitClasslessRoutes([{ prefix: 0, prefixLen: 33, gateway: 0 }], b, 0)).toThrow(RangeError);
  });
});

describe('relay agent information, option 82 (RFC 3046)', () => {
  // circuit-id "eth0", remote-id = a 6-byte MAC, and an unknown sub-option 9 carried raw.
  const INFO = fromHex('0104 65746830  0206 020000000001');

  it('the sub-option view finds circuit-id and remote-id and keeps unknown ones raw', () => {
    const b = fromHex('0104657468300206020000000001 0902abcd');
    const ri = new RelayAgentInfoView();
    expect(ri.wrap(b, 0, b.length)).toBe(WireError.Ok);
    expect(ri.findCircuitId()).toBe(true);
    expect([ri.subOff, ri.subLen]).toEqual([2, 4]);
    expect(ri.findRemoteId()).toBe(true);
    expect(toHex(b, ri.subOff, ri.subLen)).toBe('020000000001');
    expect(ri.find(9)).toBe(true);
    expect(ri.find(5)).toBe(false);
    expect(parseRelayAgentInfo(ri).map((s) => [s.code, toHex(s.data)])).toEqual([
      [1, '65746830'],
      [2, '020000000001'],
      [9, 'abcd'],
    ]);
  });

  it('rejects overrunning sub-options and views past the buffer', () => {
    const ri = new RelayAgentInfoView();
    expect(ri.wrap(fromHex('0105ab'), 0, 3)).toBe(WireError.BadOption);
    expect(ri.wrap(fromHex('01'), 0, 1)).toBe(WireError.BadOption);
    expect(ri.wrap(fromHex('0100'), 0, 3)).toBe(WireError.Truncated);
    expect(ri.wrap(fromHex(''), 0, 0)).toBe(WireError.Ok);
    expect(ri.findCircuitId()).toBe(false);
  });

  it('emit builds the value a relay inserts', () => {
    const b = new Uint8Array(32);
    const n = emitRelayAgentInfo([opt(1, '65746830'), opt(2, '020000000001')], b, 0);
    expect(toHex(b, 0, n)).toBe(toHex(INFO));
    expect(() => emitRelayAgentInfo([{ code: 1, data: new Uint8Array(256) }], b, 0)).toThrow(RangeError);
    expect(() =>
      emitRelayAgentInfo([opt(1, 'aa'.repeat(200)), opt(2, 'bb'.repeat(60))], new Uint8Array(300), 0),
    ).toThrow(RangeError);
    expect(() => emitRelayAgentInfo([opt(1, '65746830')], new Uint8Array(4), 0)).toThrow(RangeError);
  });

  it('inserts before END of the real DISCOVER, growing it by what the padding cannot hold, and strips back', () => {
    const b = new Uint8Array(400);
    b.set(DISCOVER);
    const v = wrapOk(b, 0, DISCOVER.length);
    expect(insertRelayAgentInfo(v, 576, INFO, 0, INFO.length)).toBe(WireError.Ok);
    // END was at 287: 82, 14, the value, END = 304 bytes (12 of padding reused, 4 added).
    expect(v.len).toBe(304);
    expect(v.endOff).toBe(303);
    expect(toHex(b, 287, 17)).toBe(`520e${toHex(INFO)}ff`);
    const again = wrapOk(b, 0, v.len);
    expect(codes(again)).toEqual([53, 57, 55, 12, 60, 61, 82]);
    expect(again.findOption(DHCP_OPT_RELAY_AGENT_INFO)).toBe(true);
    const ri = new RelayAgentInfoView();
    expect(ri.wrap(again.buf, again.optOff, again.optLen)).toBe(WireError.Ok);
    expect(ri.findCircuitId()).toBe(true);
    expect(optionText(again, 82)?.slice(2, 6)).toBe('eth0');
    expect(stripRelayAgentInfo(again)).toBe(300);
    expect(again.len).toBe(300);
    expect(again.endOff).toBe(287);
    expect(toHex(b, 0, 300)).toBe(toHex(DISCOVER));
  });

  it('fits a small value into the trailing padding without growing the message', () => {
    const b = DISCOVER.slice();
    const v = wrapOk(b);
    const info = fromHex('01026531');
    expect(insertRelayAgentInfo(v, 300, info, 0, info.length)).toBe(WireError.Ok);
    expect(v.len).toBe(300);
    expect(toHex(b, 287, 13)).toBe('520401026531ff000000000000');
    expect(stripRelayAgentInfo(wrapOk(b))).toBe(300);
    expect(toHex(b)).toBe(toHex(DISCOVER));
  });

  it('appends option 82 and END to an options area without END', () => {
    const { bytes } = build([opt(53, '01')]);
    const b = new Uint8Array(300);
    b.set(bytes);
    const v = wrapOk(b, 0, bytes.length);
    expect(insertRelayAgentInfo(v, 300, INFO, 0, INFO.length)).toBe(WireError.Ok);
    expect(v.len).toBe(243 + 2 + 14 + 1);
    expect(codes(wrapOk(b, 0, v.len))).toEqual([53, 82]);
  });

  it('refuses: already present, no room, no cookie, bad value', () => {
    const b = new Uint8Array(400);
    b.set(DISCOVER);
    const v = wrapOk(b, 0, 300);
    expect(insertRelayAgentInfo(v, 303, INFO, 0, INFO.length)).toBe(WireError.NoRoom);
    expect(insertRelayAgentInfo(wrapOk(DISCOVER.slice()), 1500, INFO, 0, INFO.length)).toBe(WireError.NoRoom);
    expect(toHex(b, 0, 300)).toBe(toHex(DISCOVER));
    expect(insertRelayAgentInfo(v, 1500, fromHex('0105ab'), 0, 3)).toBe(WireError.BadOption);
    expect(insertRelayAgentInfo(v, 1500, new Uint8Array(300), 0, 256)).toBe(WireError.BadLength);
    expect(insertRelayAgentInfo(v, 1500, INFO, 4, INFO.length)).toBe(WireError.BadLength);
    expect(insertRelayAgentInfo(v, 1500, INFO, 0, INFO.length)).toBe(WireError.Ok);
    expect(insertRelayAgentInfo(v, 1500, INFO, 0, INFO.length)).toBe(WireError.Duplicate);
    const bootp = build([], { hasMagic: false, trailer: new Uint8Array(64) }).bytes;
    expect(insertRelayAgentInfo(wrapOk(bootp), 1500, INFO, 0, INFO.length)).toBe(WireError.Unsupported);
    expect(stripRelayAgentInfo(wrapOk(bootp))).toBe(300);
  });

  it('strips the option a server echoed in a reply, restoring the original ACK', () => {
    const repr = parseDhcpv4(wrapOk(ACK));
    const echoed = [...repr.options.slice(0, -1), { code: 82, data: INFO }, END];
    const { bytes } = build(echoed, { ...repr, options: echoed });
    expect(bytes.length).toBe(ACK.length + 16);
    const v = wrapOk(bytes);
    expect(stripRelayAgentInfo(v)).toBe(ACK.length);
    expect(toHex(bytes, 0, v.len)).toBe(toHex(ACK));
    expect(stripRelayAgentInfo(wrapOk(ACK.slice()))).toBe(ACK.length);
  });

  it('strips every instance, wherever it sits, and keeps 300 bytes with PAD', () => {
    const { bytes } = build([opt(82, '0101aa'), opt(53, '05'), opt(82, '0201bb'), END], {}, 310);
    const v = wrapOk(bytes);
    expect(stripRelayAgentInfo(v)).toBe(300);
    const after = wrapOk(bytes, 0, 300);
    expect(codes(after)).toEqual([53]);
    expect(after.endOff).toBe(243);
    expect(toHex(bytes, 244, 56)).toBe('00'.repeat(56));
    // Below 300 bytes to start with: the message only shrinks.
    const small = build([opt(53, '05'), opt(82, '0101aa'), END]).bytes;
    expect(stripRelayAgentInfo(wrapOk(small))).toBe(small.length - 5);
    // Without END the option is still found and removed.
    const noEnd = build([opt(53, '05'), opt(82, '0101aa')]).bytes;
    const w = wrapOk(noEnd);
    expect(stripRelayAgentInfo(w)).toBe(243);
    expect(w.endOff).toBe(-1);
  });
});

describe('errors', () => {
  it('every truncation of the DISCOVER is Truncated, cookie-less, a clean cut, or BadOption', () => {
    const boundaries = [240, 243, 247, 257, 264, 278, 287];
    const v = new Dhcpv4View();
    for (let n = 0; n <= DISCOVER.length; n++) {
      const err = v.wrap(DISCOVER, 0, n);
      if (n < 236) expect(err, `len ${n}`).toBe(WireError.Truncated);
      else if (n < 240) {
        expect(err, `len ${n}`).toBe(WireError.Ok);
        expect(v.hasMagic).toBe(false);
        expect(v.messageType).toBe(0);
      } else if (boundaries.includes(n) || n >= 288) {
        expect(err, `len ${n}`).toBe(WireError.Ok);
        expect(v.hasMagic).toBe(true);
      } else expect(err, `len ${n}`).toBe(WireError.BadOption);
    }
  });

  it('a view past the end of the buffer is Truncated', () => {
    expect(new Dhcpv4View().wrap(DISCOVER, 1, 300)).toBe(WireError.Truncated);
  });

  it('hlen over 16 is BadLength; op other than 1 or 2 is BadValue', () => {
    const v = new Dhcpv4View();
    const b = DISCOVER.slice();
    b[2] = 17;
    expect(v.wrap(b, 0, b.length)).toBe(WireError.BadLength);
    b[2] = 6;
    for (const op of [0, 3, 255]) {
      b[0] = op;
      expect(v.wrap(b, 0, b.length)).toBe(WireError.BadValue);
    }
  });

  it('a TLV running past the options area is BadOption', () => {
    const b = DISCOVER.slice();
    b[258] = 0xf0; // hostname length 5 -> 240
    expect(new Dhcpv4View().wrap(b, 0, b.length)).toBe(WireError.BadOption);
    const lastCode = DISCOVER.slice(0, 241); // a code byte with no length byte
    lastCode[240] = 53;
    expect(new Dhcpv4View().wrap(lastCode, 0, 241)).toBe(WireError.BadOption);
  });

  it('option 52 with a bad length or value, or an overrun in file or sname, is BadOption', () => {
    const v = new Dhcpv4View();
    const wrapWith = (options: Dhcpv4Option[], extra: Partial<Dhcpv4Repr> = {}) => {
      const { bytes } = build(options, extra);
      return v.wrap(bytes, 0, bytes.length);
    };
    expect(wrapWith([opt(52, '0101'), END])).toBe(WireError.BadOption);
    expect(wrapWith([opt(52, ''), END])).toBe(WireError.BadOption);
    expect(wrapWith([opt(52, '')])).toBe(WireError.BadOption);
    expect(wrapWith([opt(52, '00'), END])).toBe(WireError.BadOption);
    expect(wrapWith([opt(52, '04'), END])).toBe(WireError.BadOption);
    const overrun = new Uint8Array(128).fill(0x0c);
    expect(wrapWith([opt(52, '01'), END], { file: overrun })).toBe(WireError.BadOption);
    expect(wrapWith([opt(52, '02'), END], { sname: overrun.subarray(0, 64) })).toBe(WireError.BadOption);
    expect(wrapWith([opt(52, '02'), END], { file: overrun })).toBe(WireError.Ok);
  });

  it('a wrong magic cookie means plain BOOTP, not an error', () => {
    const b = DISCOVER.slice();
    b[239] = 0x64;
    const v = wrapOk(b);
    expect(v.hasMagic).toBe(false);
    expect(codes(v)).toEqual([]);
    expect(v.findOption(53)).toBe(false);
  });
});

describe('repr: parse and emit', () => {
  it('every real capture round-trips byte for byte', () => {
    for (const [name, b] of Object.entries(REAL)) {
      const r = parseDhcpv4(wrapOk(b));
      const out = new Uint8Array(b.length);
      expect(emitDhcpv4(r, out, 0), name).toBe(b.length);
      expect(toHex(out), name).toBe(toHex(b));
    }
  });

  it('parse keeps PAD, END and the trailing padding', () => {
    const r = parseDhcpv4(wrapOk(DISCOVER));
    expect(r.options.map((o) => o.code)).toEqual([53, 57, 55, 12, 60, 61, 255]);
    expect(r.trailer.length).toBe(12);
    expect(r.hasMagic).toBe(true);
    expect([r.op, r.htype, r.hlen, r.hops, r.xid, r.secs, r.flags]).toEqual([
      1, 1, 6, 0, 0x3c602f34, 0, 0x8000,
    ]);
    expect(toHex(r.chaddr)).toBe(`020000000002${'00'.repeat(10)}`);
    const padded = build([PAD, opt(53, '01'), PAD, END]).bytes;
    expect(parseDhcpv4(wrapOk(padded)).options.map((o) => o.code)).toEqual([0, 53, 0, 255]);
  });

  it('pads to the 300-byte BOOTP minimum when asked (RFC 1542 §2.1)', () => {
    const r = { ...parseDhcpv4(wrapOk(DISCOVER)), trailer: new Uint8Array(0) };
    expect(dhcpv4Len(r)).toBe(288);
    const out = new Uint8Array(400).fill(0xee);
    expect(emitDhcpv4(r, out, 50, BOOTP_MIN_LEN)).toBe(300);
    expect(toHex(out, 50, 300)).toBe(toHex(DISCOVER));
    expect(out[49]).toBe(0xee);
    expect(out[350]).toBe(0xee);
    expect(emitDhcpv4(parseDhcpv4(wrapOk(OFFER)), new Uint8Array(400), 0, BOOTP_MIN_LEN)).toBe(329);
  });

  it('a cookie-less BOOTP message round-trips with its vendor area as trailer', () => {
    const { bytes } = build([], { hasMagic: false, trailer: fromHex('01020304') }, 300);
    const v = wrapOk(bytes);
    expect(v.hasMagic).toBe(false);
    expect(v.endOff).toBe(-1);
    const r = parseDhcpv4(v);
    expect(r.options).toEqual([]);
    expect(r.trailer.length).toBe(64);
    const out = new Uint8Array(300);
    emitDhcpv4(r, out, 0);
    expect(toHex(out)).toBe(toHex(bytes));
  });

  it('emit rejects reprs that cannot be encoded and buffers that are too small', () => {
    const r = parseDhcpv4(wrapOk(DISCOVER));
    expect(() => emitDhcpv4(r, new Uint8Array(299), 0)).toThrow(RangeError);
    expect(() => emitDhcpv4(r, new Uint8Array(400), 101)).toThrow(RangeError);
    expect(() => emitDhcpv4({ ...r, chaddr: new Uint8Array(17) }, new Uint8Array(400), 0)).toThrow(
      RangeError,
    );
    const big = { ...r, options: [{ code: 12, data: new Uint8Array(256) }] };
    expect(() => emitDhcpv4(big, new Uint8Array(1000), 0)).toThrow(RangeError);
    const padData = { ...r, options: [{ code: 0, data: fromHex('01') }] };
    expect(() => emitDhcpv4(padData, new Uint8Array(1000), 0)).toThrow(RangeError);
    expect(() => emitDhcpv4Options([opt(12, '6162')], new Uint8Array(3), 0)).toThrow(RangeError);
  });
});

/** Everything a view exposes, so two wraps can be compared. */
function summary(v: Dhcpv4View, err: WireError): unknown {
  if (err !== WireError.Ok) return err;
  const out = new Uint32Array(4);
  const ri = new RelayAgentInfoView();
  const routes = new ClasslessRouteReader();
  let routeList = '';
  if (v.findOption(121) && routes.wrap(v.buf, v.optOff, v.optLen) === WireError.Ok) {
    while (routes.next()) routeList += `${routes.prefix}/${routes.prefixLen}>${routes.gateway};`;
  }
  const repr = parseDhcpv4(v);
  return {
    fixed: [v.op, v.htype, v.hlen, v.hops, v.xid, v.secs, v.flags, v.broadcast, v.chaddr],
    addrs: [v.ciaddr, v.yiaddr, v.siaddr, v.giaddr],
    meta: [v.hasMagic, v.overload, v.endOff < 0 ? -1 : v.endOff - v.off, v.messageType],
    options: optionList(v).map((o) => `${o.area}:${o.code}:${toHex(o.data)}`),
    decoded: [serverId(v), leaseTime(v), subnetMask(v), routers(v, out), dnsServers(v, out), hostname(v)],
    relay: v.findOption(82) ? ri.wrap(v.buf, v.optOff, v.optLen) : -1,
    routeList,
    repr: { ...repr, chaddr: toHex(repr.chaddr), sname: toHex(repr.sname), file: toHex(repr.file) },
  };
}

describe('robustness', () => {
  it('random bytes never throw; whatever wraps also parses, decodes and round-trips', () => {
    const v = new Dhcpv4View();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (b) => {
        const err = v.wrap(b, 0, b.length);
        summary(v, err);
        if (err === WireError.Ok) {
          const out = new Uint8Array(b.length);
          emitDhcpv4(parseDhcpv4(v), out, 0);
          expect(toHex(out)).toBe(toHex(b));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated real messages never throw and round-trip when they wrap', () => {
    const v = new Dhcpv4View();
    const real = Object.values(REAL);
    fc.assert(
      fc.property(
        fc.nat(real.length - 1),
        fc.array(fc.tuple(fc.nat(600), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(600),
        (which, edits, cut) => {
          const b = real[which]!.slice();
          for (const [i, x] of edits) b[i % b.length] = x;
          // Bias towards the fields that steer the walk: hlen, option 52, lengths.
          const len = Math.min(b.length, 236 + (cut % (b.length - 235)));
          const err = v.wrap(b, 0, len);
          summary(v, err);
          if (err === WireError.Ok) {
            const out = new Uint8Array(len);
            emitDhcpv4(parseDhcpv4(v), out, 0);
            expect(toHex(out)).toBe(toHex(b, 0, len));
            const info = fromHex('01026531');
            const big = new Uint8Array(len + 32);
            big.set(b.subarray(0, len));
            const w = new Dhcpv4View();
            w.wrap(big, 0, len);
            if (insertRelayAgentInfo(w, big.length, info, 0, 4) === WireError.Ok) {
              expect(new Dhcpv4View().wrap(big, 0, w.len)).toBe(WireError.Ok);
              stripRelayAgentInfo(w);
              expect(new Dhcpv4View().wrap(big, 0, w.len)).toBe(WireError.Ok);
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never reads past the view: a subarray of a garbage-filled buffer decodes like an exact copy', () => {
    const exact = new Dhcpv4View();
    const inBig = new Dhcpv4View();
    for (const b of Object.values(REAL)) {
      for (const fill of [0x00, 0xff, 0x34, 0x52]) {
        const big = new Uint8Array(b.length + 64).fill(fill);
        big.set(b, 17);
        for (let n = 0; n <= b.length; n++) {
          const copy = b.slice(0, n);
          const a = summary(exact, exact.wrap(copy, 0, n));
          const c = summary(inBig, inBig.wrap(big, 17, n));
          expect(c, `len ${n} fill ${fill}`).toEqual(a);
        }
      }
    }
  });
});
