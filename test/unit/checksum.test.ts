import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, setU16, setU32, u16 } from '../../src/dataplane/wire/bytes.js';
import {
  checksum,
  csumReplace16,
  csumReplace32,
  pseudoSumV4,
  rewrite16,
  udpCsumReplace16,
  verify,
} from '../../src/dataplane/wire/checksum.js';

// An IPv4 header as sent by `ping -c1 192.168.0.1` (checksum 0x5d3d at offset 10, as Linux computed it).
const IP = fromHex('45000054 5b9d4000 4001 5d3d c0a8007d c0a80001');

describe('internet checksum (RFC 1071)', () => {
  it('verifies a real IPv4 header and recomputes its stored checksum', () => {
    expect(verify(IP, 0, 20)).toBe(true);
    const copy = IP.slice();
    setU16(copy, 10, 0);
    expect(checksum(copy, 0, 20)).toBe(0x5d3d);
  });

  it('pads an odd trailing byte with zero (RFC 1071 §4.1)', () => {
    expect(checksum(fromHex('0102 03'), 0, 3)).toBe(~(0x0102 + 0x0300) & 0xffff);
  });

  it('RFC 1071 §3 worked example: 0001 f203 f4f5 f6f7 sums to ddf2', () => {
    expect(~checksum(fromHex('0001f203f4f5f6f7'), 0, 8) & 0xffff).toBe(0xddf2);
  });

  it('pseudo-header sum for UDP over IPv4 matches a UDP datagram from the wire', () => {
    // 10.0.0.1:1234 -> 10.0.0.2:53, payload "hi": the checksum over pseudo-header + datagram verifies.
    const udp = fromHex('04d2 0035 000a 0000 6869');
    const ph = pseudoSumV4(0x0a000001, 0x0a000002, 17, 10);
    const c = checksum(udp, 0, 10, ph);
    setU16(udp, 6, c);
    expect(verify(udp, 0, 10, ph)).toBe(true);
  });
});

describe('incremental update (RFC 1624)', () => {
  it('TTL decrement matches a full recompute', () => {
    const h = IP.slice();
    const oldWord = u16(h, 8);
    h[8] = h[8]! - 1;
    setU16(h, 10, csumReplace16(u16(h, 10), oldWord, u16(h, 8)));
    const full = h.slice();
    setU16(full, 10, 0);
    expect(u16(h, 10)).toBe(checksum(full, 0, 20));
  });

  it('any 16- or 32-bit field rewrite equals a full recompute', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 64 }),
        fc.nat(9),
        fc.integer({ min: 0, max: 0xffffffff }),
        (bytes, wordIdx, val) => {
          const b = bytes.slice(0, bytes.length & ~1);
          setU16(b, 0, 0);
          setU16(b, 0, checksum(b, 0, b.length));
          const fieldOff = 2 + ((wordIdx * 2) % (b.length - 4));
          const old = ((u16(b, fieldOff) << 16) | u16(b, fieldOff + 2)) >>> 0;
          setU16(b, 0, csumReplace32(u16(b, 0), old, val));
          setU32(b, fieldOff, val);
          // Both are valid checksums for the same bytes (±0 may differ only when the sum is 0).
          expect(verify(b, 0, b.length)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('rewrite16 rewrites a port and keeps the checksum valid', () => {
    const udp = fromHex('04d2 0035 000a 0000 6869');
    const ph = pseudoSumV4(0x0a000001, 0x0a000002, 17, 10);
    setU16(udp, 6, checksum(udp, 0, 10, ph));
    rewrite16(udp, 0, 40000, 6);
    expect(u16(udp, 0)).toBe(40000);
    expect(verify(udp, 0, 10, ph)).toBe(true);
  });

  it('UDP checksum 0 (none) stays 0; a computed 0 becomes 0xffff (RFC 768)', () => {
    expect(udpCsumReplace16(0, 1234, 4321)).toBe(0);
    // Find old/new so that the plain update yields 0: ~(~c + ~o + n) = 0 → choose c=0xffff... search.
    let found = false;
    for (let n = 0; n < 0x10000 && !found; n++) {
      if (csumReplace16(0x1234, 0x0001, n) === 0) {
        expect(udpCsumReplace16(0x1234, 0x0001, n)).toBe(0xffff);
        found = true;
      }
    }
    expect(found).toBe(true);
  });
});
