import { describe, expect, it } from 'vitest';
import { CT_ASSURED } from '../../../src/dataplane/conntrack/flow-layout.js';
import { FlowTable, INSERT_FULL } from '../../../src/dataplane/conntrack/flow-table.js';

const CAP = 1 << 20; // 1,048,576 flows
const T0 = 1_700_000_000_000;
const NAT_BASE = 0xc6336400; // 198.51.100.0/24 pool

// Flow i: 10.(i>>16).(i>>8).(i) : (1024 + i % 60000) → 8.8.8.8:53/udp, SNAT'd to pool address
// NAT_BASE + (i >>> 16) port (i & 0xffff): every reply key differs from the original.
const origSrc = (i: number): number => (0x0a000000 + i) >>> 0;
const origSport = (i: number): number => 1024 + (i % 60000);
const natAddr = (i: number): number => NAT_BASE + (i >>> 16);

describe('FlowTable at 1,048,576 flows', () => {
  it('fills to capacity in bounded time and memory, finds every flow both ways, then expires all', () => {
    const before = process.memoryUsage().arrayBuffers;
    const t = new FlowTable({ capacity: CAP });
    const bytesPerFlow = (process.memoryUsage().arrayBuffers - before) / CAP;
    // 210 B of per-flow arrays + 32 B of index (2^22 cells × 8 B) + the wheel (~0.26 B/flow).
    expect(t.storageBytes / CAP).toBeCloseTo(242.26, 1);
    expect(bytesPerFlow).toBeGreaterThan(240);
    expect(bytesPerFlow).toBeLessThan(246);

    const start = performance.now();
    for (let i = 0; i < CAP; i++) {
      const f = t.insert(
        origSrc(i),
        0x08080808,
        origSport(i),
        53,
        17,
        0x08080808,
        natAddr(i),
        53,
        i & 0xffff,
        T0,
        30,
      );
      if (f < 0) throw new Error(`insert ${i} failed: ${f}`);
    }
    const filled = performance.now() - start;
    expect(t.count).toBe(CAP);

    let wrong = 0;
    for (let i = 0; i < CAP; i++) {
      const o = t.lookup(origSrc(i), 0x08080808, origSport(i), 53, 17);
      const r = t.lookup(0x08080808, natAddr(i), 53, i & 0xffff, 17);
      if (o < 0 || (o & 1) !== 0 || r !== o + 1) wrong++;
    }
    expect(wrong).toBe(0);
    expect(t.stats.found).toBe(2 * CAP);
    expect(t.stats.avgProbe).toBeLessThan(2);

    // Full: the next flow early-drops an unassured one; once all are assured, it is refused.
    expect(
      t.insert(0x0b000000, 0x08080808, 1, 53, 17, 0x08080808, 0x0b000000, 53, 1, T0 + 1, 30),
    ).toBeGreaterThanOrEqual(0);
    expect(t.stats.earlyDrops).toBe(1);
    for (let f = t.nextFlow(-1); f !== -1; f = t.nextFlow(f)) t.setStatusBits(f, CT_ASSURED);
    expect(t.insert(0x0b000001, 0x08080808, 1, 53, 17, 0x08080808, 0x0b000001, 53, 1, T0 + 1, 30)).toBe(
      INSERT_FULL,
    );

    const expireStart = performance.now();
    let reaped = 0;
    for (let n = t.expire(T0 + 30_001, 65536); n > 0; n = t.expire(T0 + 30_001, 65536)) reaped += n;
    const expired = performance.now() - expireStart;
    expect(reaped).toBe(CAP);
    expect(t.count).toBe(0);
    expect(t.lookup(origSrc(7), 0x08080808, origSport(7), 53, 17)).toBe(-1);
    expect(t.audit()).toBe('');

    // Generous bounds for a shared 2-core CI box; measured ~1.5 s and ~0.3 s.
    expect(filled).toBeLessThan(20_000);
    expect(expired).toBeLessThan(10_000);
  });
});
