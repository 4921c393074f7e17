import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../src/dataplane/wire/bytes.js';
import { WireError } from '../../../src/dataplane/wire/errors.js';
import {
  emitL2tpv3Ip,
  emitL2tpv3Udp,
  L2TP_CONTROL_FLAGS,
  type L2tpv3DataRepr,
  L2tpv3IpView,
  type L2tpv3Repr,
  L2tpv3UdpView,
  l2tpv3HeaderLen,
  parseL2tpv3,
} from '../../../src/dataplane/wire/l2tpv3.js';

// No L2TPv3 kernel module here to capture from, so the messages are assembled by hand from the
// layouts of RFC 3931 (field by field below). The inner frame is the start of a real ARP request.
const INNER = 'ffffffffffff 020000000001 0806 0001 0800 0604 0001';

/** Concatenated hex fields, one per line so each can carry its comment. */
const fields = (...parts: string[]): Uint8Array => fromHex(parts.join(''));

// Data over IP (§4.1.1.1), session with a 64-bit cookie and the Default L2-Specific Sublayer (§4.6).
const IP_DATA = fields(
  '0001e240', // Session ID 123456
  '0123456789abcdef', // Cookie, 64 bits
  '40 000102', // |x|S=1|x x x x x x| Sequence Number 258
  INNER, // payload: the Ethernet frame
);

// Data over UDP (§4.1.2.1), 32-bit cookie, no sublayer.
const UDP_DATA = fields(
  '0003 0000', // |T=0|x…|Ver=3| Reserved
  '0001e240', // Session ID
  'deadbeef', // Cookie, 32 bits
  INNER,
);

// Control over IP (§4.1.1.2): Session ID 0, then the control header (§3.2.1) of a HELLO.
const IP_CONTROL = fields(
  '00000000', // Session ID 0: a control message follows
  'c803 0014', // |T=1|L=1|x|x|S=1|x…|Ver=3| Length 20
  '0000abcd', // Control Connection ID
  '0001 0002', // Ns, Nr
  '8008 0000 0000 0006', // AVP: M bit, length 8, vendor 0, Message Type = 6 (HELLO)
);

// Control over UDP: the header directly, T=1; a ZLB acknowledgement (Length 12, no AVPs).
const UDP_CONTROL = fields('c803 000c', '0000abcd', '0002 0003');

describe('L2TPv3 data over IP (RFC 3931 §4.1.1.1)', () => {
  it('reads session, cookie, sublayer and payload', () => {
    const v = new L2tpv3IpView();
    expect(v.wrap(IP_DATA, 0, IP_DATA.length, 8, true)).toBe(WireError.Ok);
    expect(v.isControl).toBe(false);
    expect(v.sessionId).toBe(123456);
    expect(v.cookieLen).toBe(8);
    expect(v.cookieOff).toBe(4);
    expect(v.cookieWord(0)).toBe(0x01234567);
    expect(v.cookieWord(1)).toBe(0x89abcdef);
    expect(v.cookieEquals(fromHex('0123456789abcdef'))).toBe(true);
    expect(v.cookieEquals(fromHex('0123456789abcdee'))).toBe(false);
    expect(v.cookieEquals(fromHex('01234567'))).toBe(false);
    expect(v.hasSublayer).toBe(true);
    expect(v.sequenced).toBe(true);
    expect(v.sequence).toBe(258);
    expect(v.headerLen).toBe(16);
    expect(v.payloadOff).toBe(16);
    expect(v.payloadLen).toBe(22);
    expect(toHex(IP_DATA, v.payloadOff, v.payloadLen)).toBe(toHex(fromHex(INNER)));
  });

  it('setters write in place and keep the neighbouring bits', () => {
    const b = IP_DATA.slice();
    const v = new L2tpv3IpView();
    expect(v.wrap(b, 0, b.length, 8, true)).toBe(WireError.Ok);
    v.sessionId = 0xfedcba98;
    expect(toHex(b, 0, 4)).toBe('fedcba98');
    v.setCookieWord(1, 0x11223344);
    expect(toHex(b, 4, 8)).toBe('0123456711223344');
    v.setCookieWord(0, 0);
    expect(v.cookieWord(0)).toBe(0);
    b[12] = 0xc0; // a reserved x bit set besides S
    v.sequence = 0xabcdef;
    expect(toHex(b, 12, 4)).toBe('c0abcdef');
    v.sequenced = false;
    expect(b[12]).toBe(0x80);
    expect(v.sequenced).toBe(false);
    v.sequenced = true;
    expect(b[12]).toBe(0xc0);
    expect(v.sequence).toBe(0xabcdef);
  });

  it('peek the session with the defaults, then set the layout the session is configured with', () => {
    const v = new L2tpv3IpView();
    expect(v.wrap(IP_DATA, 0, IP_DATA.length)).toBe(WireError.Ok);
    expect([v.sessionId, v.cookieLen, v.hasSublayer, v.payloadOff]).toEqual([123456, 0, false, 4]);
    expect(v.setLayout(8, true)).toBe(WireError.Ok);
    expect([v.payloadOff, v.sequence]).toEqual([16, 258]);
    expect(v.setLayout(4, false)).toBe(WireError.Ok);
    expect([v.payloadOff, v.cookieWord(0)]).toEqual([8, 0x01234567]);
    expect(v.setLayout(3, false)).toBe(WireError.BadValue);
    expect(v.wrap(IP_DATA, 0, 12)).toBe(WireError.Ok);
    expect(v.setLayout(8, true)).toBe(WireError.Truncated);
  });

  it('wrong-kind accessors are programming errors (RangeError)', () => {
    const v = new L2tpv3IpView();
    expect(v.wrap(IP_DATA, 0, IP_DATA.length, 4, false)).toBe(WireError.Ok);
    expect(() => v.cookieWord(1)).toThrow(RangeError);
    expect(() => v.cookieWord(-1)).toThrow(RangeError);
    expect(() => v.setCookieWord(1, 0)).toThrow(RangeError);
    expect(() => v.sequence).toThrow(RangeError);
    expect(() => v.sequenced).toThrow(RangeError);
    expect(() => {
      v.sequence = 1;
    }).toThrow(RangeError);
    expect(() => {
      v.sequenced = true;
    }).toThrow(RangeError);
    expect(() => v.connectionId).toThrow(RangeError);
    expect(() => v.controlLength).toThrow(RangeError);
    expect(() => v.ns).toThrow(RangeError);
  });
});

describe('L2TPv3 data over UDP (RFC 3931 §4.1.2.1)', () => {
  it('reads the prefix word, session, cookie and payload', () => {
    const v = new L2tpv3UdpView();
    expect(v.wrap(UDP_DATA, 0, UDP_DATA.length, 4, false)).toBe(WireError.Ok);
    expect(v.isControl).toBe(false);
    expect(v.sessionId).toBe(123456);
    expect(v.cookieOff).toBe(8);
    expect(v.cookieWord(0)).toBe(0xdeadbeef);
    expect(v.dataReserved).toBe(0);
    expect([v.headerLen, v.payloadOff, v.payloadLen]).toEqual([12, 12, 22]);
    const b = UDP_DATA.slice();
    expect(v.wrap(b, 0, b.length, 4, false)).toBe(WireError.Ok);
    v.sessionId = 42;
    expect(toHex(b, 0, 8)).toBe('000300000000002a');
  });

  it('ignores reserved bits on receipt but keeps them for the round trip', () => {
    const b = UDP_DATA.slice();
    b[0] = 0x40;
    b[2] = 0x12;
    b[3] = 0x34;
    const v = new L2tpv3UdpView();
    expect(v.wrap(b, 0, b.length, 4, false)).toBe(WireError.Ok);
    expect(v.dataReserved).toBe(0x40001234);
    const out = new Uint8Array(12);
    expect(emitL2tpv3Udp(parseL2tpv3(v), out, 0)).toBe(12);
    expect(toHex(out)).toBe(toHex(b, 0, 12));
  });
});

describe('L2TPv3 control messages (RFC 3931 §3.2.1), recognised and counted', () => {
  it('over IP: Session ID 0 then the control header', () => {
    const v = new L2tpv3IpView();
    expect(v.wrap(IP_CONTROL, 0, IP_CONTROL.length, 8, true)).toBe(WireError.Ok);
    expect(v.isControl).toBe(true);
    expect(v.sessionId).toBe(0);
    expect(v.controlFlags).toBe(L2TP_CONTROL_FLAGS);
    expect(v.controlVersion).toBe(3);
    expect(v.controlLength).toBe(20);
    expect(v.connectionId).toBe(0xabcd);
    expect([v.ns, v.nr]).toEqual([1, 2]);
    expect([v.headerLen, v.payloadOff, v.payloadLen]).toEqual([16, 16, 8]);
    expect(v.cookieLen).toBe(0);
    expect(v.hasSublayer).toBe(false);
    expect(v.cookieEquals(new Uint8Array(0))).toBe(false);
    expect(v.setLayout(8, true)).toBe(WireError.Ok);
    expect(v.cookieLen).toBe(0);
    expect(() => v.sequence).toThrow(RangeError);
    expect(() => {
      v.sessionId = 1;
    }).toThrow(RangeError);
  });

  it('over UDP: the T bit marks it, no session id in front', () => {
    const v = new L2tpv3UdpView();
    expect(v.wrap(UDP_CONTROL, 0, UDP_CONTROL.length, 4, true)).toBe(WireError.Ok);
    expect(v.isControl).toBe(true);
    expect(v.sessionId).toBe(0);
    expect([v.controlLength, v.connectionId, v.ns, v.nr]).toEqual([12, 0xabcd, 2, 3]);
    expect([v.headerLen, v.payloadOff, v.payloadLen]).toEqual([12, 12, 0]);
  });

  it('the Length field bounds the AVPs even when the datagram is longer', () => {
    const b = new Uint8Array(UDP_CONTROL.length + 6);
    b.set(UDP_CONTROL);
    const v = new L2tpv3UdpView();
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    expect(v.payloadLen).toBe(0);
  });
});

describe('errors', () => {
  const ip = new L2tpv3IpView();
  const udp = new L2tpv3UdpView();

  it('every truncation gives Truncated (or BadLength once the Length field is visible)', () => {
    for (let n = 0; n <= IP_DATA.length; n++) {
      expect(ip.wrap(IP_DATA, 0, n, 8, true), `ip data ${n}`).toBe(
        n < 16 ? WireError.Truncated : WireError.Ok,
      );
    }
    for (let n = 0; n <= UDP_DATA.length; n++) {
      expect(udp.wrap(UDP_DATA, 0, n, 4, false), `udp data ${n}`).toBe(
        n < 12 ? WireError.Truncated : WireError.Ok,
      );
    }
    for (let n = 0; n <= IP_CONTROL.length; n++) {
      const want = n < 16 ? WireError.Truncated : n < 24 ? WireError.BadLength : WireError.Ok;
      expect(ip.wrap(IP_CONTROL, 0, n), `ip control ${n}`).toBe(want);
    }
    for (let n = 0; n <= UDP_CONTROL.length; n++) {
      expect(udp.wrap(UDP_CONTROL, 0, n), `udp control ${n}`).toBe(
        n < 12 ? WireError.Truncated : WireError.Ok,
      );
    }
    expect(ip.wrap(IP_DATA, 1, IP_DATA.length)).toBe(WireError.Truncated);
    expect(udp.wrap(UDP_DATA, 1, UDP_DATA.length)).toBe(WireError.Truncated);
  });

  it('Ver other than 3 is BadVersion, over UDP (data and control) and in an IP control header', () => {
    for (const ver of [0, 2, 4, 15]) {
      const d = UDP_DATA.slice();
      d[1] = ver;
      expect(udp.wrap(d, 0, d.length, 4, false)).toBe(WireError.BadVersion);
      const c = UDP_CONTROL.slice();
      c[1] = ver;
      expect(udp.wrap(c, 0, c.length)).toBe(WireError.BadVersion);
      const i = IP_CONTROL.slice();
      i[5] = ver;
      expect(ip.wrap(i, 0, i.length)).toBe(WireError.BadVersion);
    }
  });

  it('a control header without T, L or S set is BadValue (§3.2.1 MUST be 1)', () => {
    for (const first of [0x48, 0x88, 0xc0]) {
      const i = IP_CONTROL.slice();
      i[4] = first;
      expect(ip.wrap(i, 0, i.length)).toBe(WireError.BadValue);
    }
    for (const first of [0x88, 0xc0]) {
      const c = UDP_CONTROL.slice();
      c[0] = first;
      expect(udp.wrap(c, 0, c.length)).toBe(WireError.BadValue);
    }
  });

  it('a Length under the header size or past the message is BadLength', () => {
    const c = UDP_CONTROL.slice();
    c[3] = 11;
    expect(udp.wrap(c, 0, c.length)).toBe(WireError.BadLength);
    c[3] = 13;
    expect(udp.wrap(c, 0, c.length)).toBe(WireError.BadLength);
    const i = IP_CONTROL.slice();
    i[7] = 0x15;
    expect(ip.wrap(i, 0, i.length)).toBe(WireError.BadLength);
  });

  it('a cookie length other than 0, 4, 8 is BadValue; Session ID 0 with T=0 over UDP is BadValue', () => {
    expect(ip.wrap(IP_DATA, 0, IP_DATA.length, 3, false)).toBe(WireError.BadValue);
    expect(udp.wrap(UDP_DATA, 0, UDP_DATA.length, 12, false)).toBe(WireError.BadValue);
    const d = UDP_DATA.slice();
    d.fill(0, 4, 8);
    expect(udp.wrap(d, 0, d.length, 4, false)).toBe(WireError.BadValue);
  });
});

describe('repr: parse and emit', () => {
  const cases: Array<[string, Uint8Array, 'ip' | 'udp', number, boolean]> = [
    ['ip data', IP_DATA, 'ip', 8, true],
    ['ip data, 4-byte cookie', IP_DATA, 'ip', 4, false],
    ['ip data, bare', IP_DATA, 'ip', 0, false],
    ['udp data', UDP_DATA, 'udp', 4, false],
    ['udp data with sublayer', UDP_DATA, 'udp', 0, true],
    ['ip control', IP_CONTROL, 'ip', 0, false],
    ['udp control', UDP_CONTROL, 'udp', 0, false],
  ];

  it('every header round-trips byte for byte', () => {
    for (const [name, b, enc, cookieLen, sublayer] of cases) {
      const v = enc === 'ip' ? new L2tpv3IpView() : new L2tpv3UdpView();
      expect(v.wrap(b, 0, b.length, cookieLen, sublayer), name).toBe(WireError.Ok);
      const r = parseL2tpv3(v);
      expect(l2tpv3HeaderLen(r, enc === 'udp'), name).toBe(v.headerLen);
      const out = new Uint8Array(v.headerLen);
      const n = enc === 'ip' ? emitL2tpv3Ip(r, out, 0) : emitL2tpv3Udp(r, out, 0);
      expect(n, name).toBe(v.headerLen);
      expect(toHex(out), name).toBe(toHex(b, 0, n));
    }
  });

  it('parse exposes the fields', () => {
    const v = new L2tpv3IpView();
    v.wrap(IP_DATA, 0, IP_DATA.length, 8, true);
    const r = parseL2tpv3(v) as L2tpv3DataRepr;
    expect(r.control).toBe(false);
    expect(r.sessionId).toBe(123456);
    expect(toHex(r.cookie)).toBe('0123456789abcdef');
    expect(r.sublayer).toEqual({ sequenced: true, sequence: 258, reserved: 0 });
    expect(r.reserved).toBe(0);
    v.wrap(IP_CONTROL, 0, IP_CONTROL.length);
    expect(parseL2tpv3(v)).toEqual({
      control: true,
      flags: 0xc80,
      length: 20,
      connectionId: 0xabcd,
      ns: 1,
      nr: 2,
    });
  });

  it('emit builds headers from scratch, sublayer reserved bits included', () => {
    const data: L2tpv3Repr = {
      control: false,
      sessionId: 0x11223344,
      cookie: fromHex('a1a2a3a4'),
      sublayer: { sequenced: true, sequence: 5, reserved: 0x80 },
      reserved: 0,
    };
    const out = new Uint8Array(20).fill(0xee);
    expect(emitL2tpv3Ip(data, out, 1)).toBe(12);
    expect(toHex(out, 0, 14)).toBe('ee11223344a1a2a3a4c0000005ee');
    expect(emitL2tpv3Udp(data, out, 0)).toBe(16);
    expect(toHex(out, 0, 16)).toBe('0003000011223344a1a2a3a4c0000005');
    const zlb: L2tpv3Repr = {
      control: true,
      flags: L2TP_CONTROL_FLAGS,
      length: 12,
      connectionId: 9,
      ns: 0,
      nr: 1,
    };
    expect(emitL2tpv3Ip(zlb, out, 0)).toBe(16);
    expect(toHex(out, 0, 16)).toBe('00000000c803000c0000000900000001');
    expect(emitL2tpv3Udp(zlb, out, 0)).toBe(12);
    expect(toHex(out, 0, 12)).toBe('c803000c0000000900000001');
  });

  it('emit rejects a bad cookie and a short buffer', () => {
    const data: L2tpv3Repr = {
      control: false,
      sessionId: 1,
      cookie: fromHex('aabbcc'),
      sublayer: null,
      reserved: 0,
    };
    expect(() => emitL2tpv3Ip(data, new Uint8Array(16), 0)).toThrow(RangeError);
    expect(() => emitL2tpv3Udp({ ...data, cookie: new Uint8Array(8) }, new Uint8Array(15), 0)).toThrow(
      RangeError,
    );
    const zlb: L2tpv3Repr = {
      control: true,
      flags: L2TP_CONTROL_FLAGS,
      length: 12,
      connectionId: 9,
      ns: 0,
      nr: 1,
    };
    expect(() => emitL2tpv3Ip(zlb, new Uint8Array(15), 0)).toThrow(RangeError);
  });
});

type AnyView = L2tpv3IpView | L2tpv3UdpView;

/** Everything a view exposes, so two wraps can be compared. */
function summary(v: AnyView, err: WireError): unknown {
  if (err !== WireError.Ok) return err;
  const r = parseL2tpv3(v);
  const base = { r: r.control ? r : { ...r, cookie: toHex(r.cookie) }, hl: v.headerLen, pl: v.payloadLen };
  if (v.isControl) return { ...base, c: [v.controlFlags, v.controlVersion, v.controlLength, v.connectionId] };
  const words = [];
  for (let i = 0; 4 * i < v.cookieLen; i++) words.push(v.cookieWord(i));
  return { ...base, s: v.sessionId, words, seq: v.hasSublayer ? [v.sequenced, v.sequence] : null };
}

describe('robustness', () => {
  const cookieLens = [0, 3, 4, 8];

  it('random bytes never throw; what wraps round-trips and stays inside the view', () => {
    const views: AnyView[] = [new L2tpv3IpView(), new L2tpv3UdpView()];
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.nat(1),
        fc.constantFrom(...cookieLens),
        fc.boolean(),
        fc.boolean(),
        (b, which, cookieLen, sublayer, zeroSession) => {
          if (zeroSession && b.length >= 4) b.fill(0, 0, 4);
          if (which === 1 && b.length >= 2) b[1] = (b[1]! & 0xf0) | 3;
          const v = views[which]!;
          const err = v.wrap(b, 0, b.length, cookieLen, sublayer);
          summary(v, err);
          if (err !== WireError.Ok) return;
          expect(v.payloadLen).toBeGreaterThanOrEqual(0);
          expect(v.payloadOff + v.payloadLen).toBeLessThanOrEqual(b.length);
          const out = new Uint8Array(v.headerLen);
          const r = parseL2tpv3(v);
          const n = which === 0 ? emitL2tpv3Ip(r, out, 0) : emitL2tpv3Udp(r, out, 0);
          expect(toHex(out, 0, n)).toBe(toHex(b, 0, n));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never reads past the view: a subarray of a garbage-filled buffer decodes like an exact copy', () => {
    const a = { ip: new L2tpv3IpView(), udp: new L2tpv3UdpView() };
    const c = { ip: new L2tpv3IpView(), udp: new L2tpv3UdpView() };
    const msgs: Array<[Uint8Array, 'ip' | 'udp']> = [
      [IP_DATA, 'ip'],
      [IP_CONTROL, 'ip'],
      [UDP_DATA, 'udp'],
      [UDP_CONTROL, 'udp'],
    ];
    for (const [b, enc] of msgs) {
      for (const fill of [0x00, 0xff, 0x40]) {
        const big = new Uint8Array(b.length + 32).fill(fill);
        big.set(b, 9);
        for (let n = 0; n <= b.length; n++) {
          for (const cookieLen of [0, 4, 8]) {
            for (const sublayer of [false, true]) {
              const copy = b.slice(0, n);
              const x = summary(a[enc], a[enc].wrap(copy, 0, n, cookieLen, sublayer));
              const y = summary(c[enc], c[enc].wrap(big, 9, n, cookieLen, sublayer));
              expect(y, `${enc} len ${n} fill ${fill}`).toEqual(x);
            }
          }
        }
      }
    }
  });
});
