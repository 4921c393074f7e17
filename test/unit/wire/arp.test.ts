import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ARP_LEN,
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  ArpView,
  emitArp,
  parseArp,
} from '../../../src/dataplane/wire/arp.js';
import { fromHex, toHex } from '../../../src/dataplane/wire/bytes.js';
import { WireError } from '../../../src/dataplane/wire/errors.js';

// ARP payloads captured on a veth pair (tcpdump -w), Ethernet header stripped.
// 10.9.0.1 / 02:00:00:00:00:0a asks who has 10.9.0.2:
const REQUEST = fromHex('0001 0800 06 04 0001 02000000000a 0a090001 000000000000 0a090002');
// …and 02:00:00:00:00:0b answers:
const REPLY = fromHex('0001 0800 06 04 0002 02000000000b 0a090002 02000000000a 0a090001');
// Gratuitous ARP Linux sent on link up (arp_notify=1): sender IP == target IP.
const GARP = fromHex('0001 0800 06 04 0001 02000000000a 0a090001 000000000000 0a090001');
// RFC 5227 probe (hand-built): sender IP 0.0.0.0, asking for 10.9.0.7.
const PROBE = fromHex('0001 0800 06 04 0001 02000000000a 00000000 000000000000 0a090007');

const noise = fc.uint8Array({ minLength: 1, maxLength: 16 });

/** pkt[0..len) at offset `pad` of a bigger buffer whose other bytes repeat `fill`. */
function embed(pkt: Uint8Array, len: number, pad: number, fill: Uint8Array): Uint8Array {
  const b = new Uint8Array(pad + pkt.length + 16);
  for (let i = 0; i < b.length; i++) b[i] = fill[i % fill.length]!;
  b.set(pkt.subarray(0, len), pad);
  return b;
}

function snapshot(v: ArpView, buf: Uint8Array, off: number, len: number): unknown[] {
  const e = v.wrap(buf, off, len);
  if (e !== WireError.Ok) return [e];
  return [e, v.operation, v.senderMac, v.senderIp, v.targetMac, v.targetIp, v.isGratuitous, v.isProbe];
}

describe('ArpView (RFC 826)', () => {
  const v = new ArpView();

  it('reads a request', () => {
    expect(v.wrap(REQUEST, 0, REQUEST.length)).toBe(WireError.Ok);
    expect(v.operation).toBe(ARP_OP_REQUEST);
    expect(v.isRequest).toBe(true);
    expect(v.isReply).toBe(false);
    expect(v.senderMac).toBe(0x02000000000a);
    expect(v.senderIp).toBe(0x0a090001);
    expect(v.targetMac).toBe(0);
    expect(v.targetIp).toBe(0x0a090002);
    expect(v.isGratuitous).toBe(false);
    expect(v.isProbe).toBe(false);
  });

  it('reads a reply', () => {
    expect(v.wrap(REPLY, 0, REPLY.length)).toBe(WireError.Ok);
    expect(v.operation).toBe(ARP_OP_REPLY);
    expect(v.isReply).toBe(true);
    expect(v.senderMac).toBe(0x02000000000b);
    expect(v.senderIp).toBe(0x0a090002);
    expect(v.targetMac).toBe(0x02000000000a);
    expect(v.targetIp).toBe(0x0a090001);
  });

  it('recognises gratuitous ARP and probes (RFC 5227)', () => {
    expect(v.wrap(GARP, 0, GARP.length)).toBe(WireError.Ok);
    expect(v.isGratuitous).toBe(true);
    expect(v.isProbe).toBe(false);
    expect(v.wrap(PROBE, 0, PROBE.length)).toBe(WireError.Ok);
    expect(v.isProbe).toBe(true);
    expect(v.isGratuitous).toBe(false);
  });

  it('accepts Ethernet padding after the 28 bytes', () => {
    const padded = new Uint8Array(46);
    padded.set(REQUEST);
    expect(v.wrap(padded, 0, padded.length)).toBe(WireError.Ok);
    expect(v.targetIp).toBe(0x0a090002);
  });

  it('makeReply turns the captured request into the captured reply, in place', () => {
    const b = REQUEST.slice();
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    v.makeReply(0x02000000000b);
    expect(toHex(b)).toBe(toHex(REPLY));
  });

  it('setters write the fields in place', () => {
    const b = REQUEST.slice();
    expect(v.wrap(b, 0, b.length)).toBe(WireError.Ok);
    v.operation = ARP_OP_REPLY;
    v.senderMac = 0xaabbccddeeff;
    v.senderIp = 0xc0a80001;
    v.targetMac = 0x112233445566;
    v.targetIp = 0xffffffff;
    expect(toHex(b)).toBe('0001080006040002aabbccddeeffc0a80001112233445566ffffffff');
    expect(v.senderMac).toBe(0xaabbccddeeff);
    expect(v.targetIp).toBe(0xffffffff);
  });

  it('is Truncated at every length below 28 and past the buffer', () => {
    for (let n = 0; n < ARP_LEN; n++) expect(v.wrap(REQUEST, 0, n)).toBe(WireError.Truncated);
    expect(v.wrap(REQUEST, 1, ARP_LEN)).toBe(WireError.Truncated);
  });

  it('refuses other hardware/protocol types (Unsupported) and wrong address lengths (BadValue)', () => {
    const ieee802 = fromHex('0006 0800 06 04 0001 02000000000a 0a090001 000000000000 0a090002');
    const ipv6 = fromHex('0001 86dd 06 04 0001 02000000000a 0a090001 000000000000 0a090002');
    const hlen = fromHex('0001 0800 08 04 0001 02000000000a 0a090001 000000000000 0a090002');
    const plen = fromHex('0001 0800 06 10 0001 02000000000a 0a090001 000000000000 0a090002');
    expect(v.wrap(ieee802, 0, 28)).toBe(WireError.Unsupported);
    expect(v.wrap(ipv6, 0, 28)).toBe(WireError.Unsupported);
    expect(v.wrap(hlen, 0, 28)).toBe(WireError.BadValue);
    expect(v.wrap(plen, 0, 28)).toBe(WireError.BadValue);
  });

  it('emit(parse(msg)) reproduces the bytes', () => {
    for (const m of [REQUEST, REPLY, GARP, PROBE]) {
      expect(v.wrap(m, 0, m.length)).toBe(WireError.Ok);
      const out = new Uint8Array(ARP_LEN + 4).fill(0xee);
      expect(emitArp(parseArp(v), out, 2)).toBe(ARP_LEN);
      expect(toHex(out, 2, ARP_LEN)).toBe(toHex(m));
      expect(out[1]).toBe(0xee);
      expect(out[ARP_LEN + 2]).toBe(0xee);
    }
  });

  it('parse gives plain values', () => {
    expect(v.wrap(REPLY, 0, REPLY.length)).toBe(WireError.Ok);
    const r = parseArp(v);
    expect(r.operation).toBe(ARP_OP_REPLY);
    expect(toHex(r.senderMac)).toBe('02000000000b');
    expect(r.senderIp).toBe(0x0a090002);
    expect(toHex(r.targetMac)).toBe('02000000000a');
    expect(r.targetIp).toBe(0x0a090001);
  });

  it('emit throws RangeError when the buffer is too small', () => {
    expect(v.wrap(REPLY, 0, REPLY.length)).toBe(WireError.Ok);
    expect(() => emitArp(parseArp(v), new Uint8Array(27), 0)).toThrow(RangeError);
  });

  it('never throws on random bytes; what wraps Ok round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (b, fix) => {
        if (fix && b.length >= 6) b.set([0, 1, 8, 0, 6, 4]);
        if (v.wrap(b, 0, b.length) !== WireError.Ok) return;
        const out = new Uint8Array(ARP_LEN);
        emitArp(parseArp(v), out, 0);
        expect(toHex(out)).toBe(toHex(b, 0, ARP_LEN));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads nothing outside buf[off..off+len)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(REQUEST, REPLY, GARP),
        fc.nat(30),
        fc.nat(9),
        noise,
        noise,
        (m, cut, pad, n1, n2) => {
          const len = Math.min(cut, m.length);
          expect(snapshot(v, embed(m, m.length, pad, n1), pad, len)).toEqual(
            snapshot(v, embed(m, len, pad, n2), pad, len),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
