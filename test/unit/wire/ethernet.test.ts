import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../src/dataplane/wire/bytes.js';
import { WireError } from '../../../src/dataplane/wire/errors.js';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_QINQ,
  ETHERTYPE_QINQ_OLD,
  ETHERTYPE_VLAN,
  EthernetView,
  emitEthernet,
  ethernetHeaderLen,
  parseEthernet,
} from '../../../src/dataplane/wire/ethernet.js';

// Captured on a veth pair (tcpdump -w): 10.9.0.1 (02:00:00:00:00:0a) asks who has 10.9.0.2.
const ARP_BCAST = fromHex(
  'ffffffffffff 02000000000a 0806 | 0001 0800 06 04 0001 02000000000a 0a090001 000000000000 0a090002',
);
// Same capture: the ICMP echo request that followed, unicast to 02:00:00:00:00:0b (first 34 bytes).
const IPV4_UNICAST = fromHex(
  '02000000000b 02000000000a 0800 | 45000054 2dbe4000 4001f8d6 0a090001 0a090002 | 08002246 1f600001',
);
// The ARP frame with an 802.1Q tag (PCP 5, DEI 1, VID 100) spliced in after the source MAC.
const ARP_DOT1Q = fromHex('ffffffffffff 02000000000a 8100 b064 0806 0001 0800 0604 0001');
// QinQ: an 802.1ad S-tag (VID 200) around an 802.1Q C-tag (VID 300).
const ARP_QINQ = fromHex('ffffffffffff 02000000000a 88a8 00c8 8100 012c 0806 0001 0800 0604 0001');
// Pre-standard 0x9100 S-tag around an 802.1Q tag.
const ARP_QINQ_OLD = fromHex('ffffffffffff 02000000000a 9100 00c8 8100 012c 0800 4500');
// Three stacked tags: more than MAX_VLAN_TAGS.
const THREE_TAGS = fromHex('ffffffffffff 02000000000a 88a8 00c8 8100 012c 8100 0001 0800 4500');

const noise = fc.uint8Array({ minLength: 1, maxLength: 16 });

/** pkt[0..len) at offset `pad` of a bigger buffer whose other bytes repeat `fill`. */
function embed(pkt: Uint8Array, len: number, pad: number, fill: Uint8Array): Uint8Array {
  const b = new Uint8Array(pad + pkt.length + 16);
  for (let i = 0; i < b.length; i++) b[i] = fill[i % fill.length]!;
  b.set(pkt.subarray(0, len), pad);
  return b;
}

function snapshot(v: EthernetView, buf: Uint8Array, off: number, len: number): unknown[] {
  const e = v.wrap(buf, off, len);
  if (e !== WireError.Ok) return [e];
  const tags: number[] = [];
  for (let i = 0; i < v.tags; i++) tags.push(v.tagTpid(i), v.tagTci(i));
  return [e, v.dst, v.src, v.etherType, v.isBroadcastDst, v.isMulticastDst, v.headerLen, v.payloadLen, tags];
}

describe('EthernetView', () => {
  const v = new EthernetView();

  it('reads an untagged broadcast frame', () => {
    expect(v.wrap(ARP_BCAST, 0, ARP_BCAST.length)).toBe(WireError.Ok);
    expect(v.tags).toBe(0);
    expect(v.dst).toBe(0xffffffffffff);
    expect(v.src).toBe(0x02000000000a);
    expect(v.isBroadcastDst).toBe(true);
    expect(v.isMulticastDst).toBe(true);
    expect(v.etherType).toBe(ETHERTYPE_ARP);
    expect(v.headerLen).toBe(14);
    expect(v.payloadOff).toBe(14);
    expect(v.payloadLen).toBe(28);
  });

  it('reads an untagged unicast frame', () => {
    expect(v.wrap(IPV4_UNICAST, 0, IPV4_UNICAST.length)).toBe(WireError.Ok);
    expect(v.dst).toBe(0x02000000000b);
    expect(v.isBroadcastDst).toBe(false);
    expect(v.isMulticastDst).toBe(false);
    expect(v.etherType).toBe(ETHERTYPE_IPV4);
  });

  it('a multicast (33:33:…) destination is multicast but not broadcast', () => {
    const f = fromHex('333300000016 02000000000a 86dd');
    expect(v.wrap(f, 0, f.length)).toBe(WireError.Ok);
    expect(v.isMulticastDst).toBe(true);
    expect(v.isBroadcastDst).toBe(false);
  });

  it('reads an 802.1Q tag', () => {
    expect(v.wrap(ARP_DOT1Q, 0, ARP_DOT1Q.length)).toBe(WireError.Ok);
    expect(v.tags).toBe(1);
    expect(v.tagTpid(0)).toBe(ETHERTYPE_VLAN);
    expect(v.tagTci(0)).toBe(0xb064);
    expect(v.tagPcp(0)).toBe(5);
    expect(v.tagDei(0)).toBe(1);
    expect(v.tagVid(0)).toBe(100);
    expect(v.etherType).toBe(ETHERTYPE_ARP);
    expect(v.headerLen).toBe(18);
    expect(v.payloadOff).toBe(18);
    expect(v.payloadLen).toBe(ARP_DOT1Q.length - 18);
  });

  it('reads QinQ (802.1ad outer, 802.1Q inner)', () => {
    expect(v.wrap(ARP_QINQ, 0, ARP_QINQ.length)).toBe(WireError.Ok);
    expect(v.tags).toBe(2);
    expect(v.tagTpid(0)).toBe(ETHERTYPE_QINQ);
    expect(v.tagVid(0)).toBe(200);
    expect(v.tagTpid(1)).toBe(ETHERTYPE_VLAN);
    expect(v.tagVid(1)).toBe(300);
    expect(v.etherType).toBe(ETHERTYPE_ARP);
    expect(v.headerLen).toBe(22);
  });

  it('accepts the pre-standard 0x9100 S-tag', () => {
    expect(v.wrap(ARP_QINQ_OLD, 0, ARP_QINQ_OLD.length)).toBe(WireError.Ok);
    expect(v.tags).toBe(2);
    expect(v.tagTpid(0)).toBe(ETHERTYPE_QINQ_OLD);
    expect(v.etherType).toBe(ETHERTYPE_IPV4);
  });

  it('refuses a third tag with TooDeep', () => {
    expect(v.wrap(THREE_TAGS, 0, THREE_TAGS.length)).toBe(WireError.TooDeep);
  });

  it('is Truncated at every length short of the header, tags included', () => {
    for (let n = 0; n < 14; n++) expect(v.wrap(ARP_BCAST, 0, n)).toBe(WireError.Truncated);
    for (let n = 14; n < 18; n++) expect(v.wrap(ARP_DOT1Q, 0, n)).toBe(WireError.Truncated);
    for (let n = 14; n < 22; n++) expect(v.wrap(ARP_QINQ, 0, n)).toBe(WireError.Truncated);
    expect(v.wrap(ARP_QINQ, 0, 22)).toBe(WireError.Ok);
  });

  it('is Truncated when off + len runs past the buffer', () => {
    expect(v.wrap(ARP_BCAST, 1, ARP_BCAST.length)).toBe(WireError.Truncated);
  });

  it('setters write in place', () => {
    const f = ARP_DOT1Q.slice();
    expect(v.wrap(f, 0, f.length)).toBe(WireError.Ok);
    v.etherType = ETHERTYPE_IPV4;
    v.setTagTci(0, 0x2123);
    expect(toHex(f, 12, 6)).toBe('810021230800');
    expect(v.tagPcp(0)).toBe(1);
    expect(v.tagVid(0)).toBe(0x123);
  });

  it('emit(parse(frame)) reproduces the header for 0, 1 and 2 tags', () => {
    for (const f of [ARP_BCAST, IPV4_UNICAST, ARP_DOT1Q, ARP_QINQ, ARP_QINQ_OLD]) {
      expect(v.wrap(f, 0, f.length)).toBe(WireError.Ok);
      const r = parseEthernet(v);
      const out = new Uint8Array(ethernetHeaderLen(r));
      expect(emitEthernet(r, out, 0)).toBe(v.headerLen);
      expect(toHex(out)).toBe(toHex(f, 0, v.headerLen));
    }
  });

  it('emit throws RangeError when the buffer is too small', () => {
    expect(v.wrap(ARP_QINQ, 0, ARP_QINQ.length)).toBe(WireError.Ok);
    expect(() => emitEthernet(parseEthernet(v), new Uint8Array(21), 0)).toThrow(RangeError);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        const e = v.wrap(b, 0, b.length);
        if (e === WireError.Ok) expect(v.headerLen).toBeLessThanOrEqual(b.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads nothing outside buf[off..off+len)', () => {
    const frames = [ARP_BCAST, IPV4_UNICAST, ARP_DOT1Q, ARP_QINQ, THREE_TAGS];
    fc.assert(
      fc.property(fc.constantFrom(...frames), fc.nat(40), fc.nat(9), noise, noise, (f, cut, pad, n1, n2) => {
        const len = Math.min(cut, f.length);
        // One copy continues with the real bytes past the cut, the other with noise.
        const a = embed(f, f.length, pad, n1);
        const b = embed(f, len, pad, n2);
        expect(snapshot(v, a, pad, len)).toEqual(snapshot(v, b, pad, len));
      }),
      { numRuns: 1000 },
    );
  });
});
