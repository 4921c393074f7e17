/** The `ferry run` JIT warm-up: bounded, and it leaves no trace in the live router built after it. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildRouter } from '../../../src/control/build-router.js';
import { loadConfig } from '../../../src/control/config/loader.js';
import { WARM_UP_BUDGET_MS, warmUp } from '../../../src/control/run/warm-up.js';
import { turnAround } from '../../../src/control/run/warm-up-traffic.js';
import { MemoryPort } from '../../../src/dataplane/ports/memory-port.js';
import { u32 } from '../../../src/dataplane/wire/bytes.js';
import { checksum, pseudoSumV4, verify } from '../../../src/dataplane/wire/checksum.js';
import { arpRequest, ipFrame, udp } from '../../helpers/frames.js';

const examples = readdirSync('examples').filter((f) => f.endsWith('.yaml'));

describe('warmUp', () => {
  it.each(examples)('%s: pushes traffic through a scratch router within its bound', async (file) => {
    const cfg = await loadConfig(`examples/${file}`);
    const w = warmUp(cfg);
    const ipv4 = cfg.ports.some((p) => p.addresses.some((a) => a.family === 4));
    if (ipv4) {
      expect(w.batches).toBeGreaterThan(1000);
      expect(w.sent).toBeGreaterThan(w.packets / 4);
    } else {
      // The warm-up synthesizes IPv4 only: an IPv6-only config (the L2TP broker) gets none.
      expect(w.packets).toBe(0);
    }
    // The bound is checked between batches: one batch of at most 64 packets may run past it.
    expect(w.ms).toBeLessThan(WARM_UP_BUDGET_MS + 250);
  });

  it('stops at its time bound', async () => {
    const cfg = await loadConfig('examples/brouter.yaml');
    const w = warmUp(cfg, { budgetMs: 20, maxBatches: 1e9 });
    expect(w.stoppedBy).toBe('time');
    expect(w.ms).toBeLessThan(300);
  });

  it.each(examples)('%s: a router built afterwards starts empty', async (file) => {
    const cfg = await loadConfig(`examples/${file}`);
    warmUp(cfg);
    const ports = cfg.ports.map((p) => new MemoryPort(p.name, p.kind !== 'tun', 0x020000000001 + p.index));
    const built = buildRouter(cfg, ports, { dhcpClient: false });
    const e = built.engine;
    expect(e.ctx.neighbours.count).toBe(0);
    expect(e.conntrack?.table.count ?? 0).toBe(0);
    expect(Object.values(e.drops()).every((n) => n === 0)).toBe(true);
    expect(built.routes.learnedHosts()).toHaveLength(0);
    for (const p of ports) {
      expect(p.sent).toHaveLength(0);
      expect(p.stats.txPackets).toBe(0);
    }
  });
});

describe('turnAround', () => {
  it('answers UDP with addresses and ports swapped and valid checksums', () => {
    const f = ipFrame(
      '0a:00:00:00:00:02',
      '0a:00:00:00:00:01',
      udp({ src: '10.0.0.1', dst: '10.0.1.2' }, 4000, 53),
    );
    expect(turnAround(f, f.length, true, true)).toBe(f.length);
    expect([...f.subarray(0, 6)]).toEqual([0x0a, 0, 0, 0, 0, 1]);
    expect([...f.subarray(26, 34)]).toEqual([10, 0, 1, 2, 10, 0, 0, 1]);
    expect((f[34]! << 8) | f[35]!).toBe(53);
    expect(verify(f, 14, 20)).toBe(true);
    expect(turnAround(f, f.length, true, false)).toBe(0); // a UDP answer is not answered again
  });

  it('answers a TCP SYN with SYN-ACK and that with the ACK, checksums valid', () => {
    const syn = tcpSyn();
    expect(turnAround(syn, syn.length, false, false)).toBe(syn.length);
    expect(syn[33]).toBe(0x12); // SYN|ACK
    expect(u32(syn, 28)).toBe(1001); // acknowledges the SYN (seq 1000)
    expect(verify(syn, 20, 20, pseudoSumV4(u32(syn, 12), u32(syn, 16), 6, 20))).toBe(true);
    expect(turnAround(syn, syn.length, false, false)).toBe(syn.length);
    expect(syn[33]).toBe(0x10); // ACK
    expect(u32(syn, 24)).toBe(1001);
    expect(turnAround(syn, syn.length, false, true)).toBe(0); // a bare ACK gets no answer
  });

  it('answers an ARP request with a reply for its target', () => {
    const f = arpRequest('0a:00:00:00:00:01', '10.0.0.1', '10.0.0.9');
    expect(turnAround(f, f.length, true, false)).toBe(f.length);
    expect(f[21]).toBe(2);
    expect([...f.subarray(28, 32)]).toEqual([10, 0, 0, 9]); // sender: the target
    expect([...f.subarray(38, 42)]).toEqual([10, 0, 0, 1]);
  });
});

/** A bare IPv4/TCP SYN 10.0.0.1:4000 → 10.0.1.2:443, seq 1000, with valid checksums. */
function tcpSyn(): Uint8Array {
  const p = new Uint8Array(40);
  p.set([0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 1, 2]);
  p.set([0x0f, 0xa0, 0x01, 0xbb, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff], 20);
  const ipc = checksum(p, 0, 20);
  p[10] = ipc >> 8;
  p[11] = ipc & 0xff;
  const c = checksum(p, 20, 20, pseudoSumV4(u32(p, 12), u32(p, 16), 6, 20));
  p[36] = c >> 8;
  p[37] = c & 0xff;
  return p;
}
