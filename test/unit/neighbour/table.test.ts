import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TIMERS,
  NUD_DELAY,
  NUD_FAILED,
  NUD_INCOMPLETE,
  NUD_PROBE,
  NUD_REACHABLE,
  NUD_STALE,
} from '../../../src/dataplane/neighbour/states.js';
import {
  ACT_BROADCAST_REQUEST,
  ACT_FAILED,
  ACT_UNICAST_REQUEST,
  NeighbourTable,
  OUT_DROP,
  OUT_QUEUED,
  OUT_QUEUED_REQUEST,
  OUT_SEND,
} from '../../../src/dataplane/neighbour/table.js';

const IP = 0xc0a80001; // 192.168.0.1
const MAC = 0x02_00_00_00_00_01;
const pkt = (n: number) => Uint8Array.from({ length: 60 }, (_, i) => (i + n) & 255);

function actions(t: NeighbourTable): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < t.actCount; i++) out.push([t.actEntry[i]!, t.actKind[i]!]);
  return out;
}

describe('neighbour table: resolution', () => {
  it('queues packets while INCOMPLETE, retries 3 broadcasts 1 s apart, then FAILED with the queue for ICMP', () => {
    const t = new NeighbourTable(16);
    const e = t.ensure(IP, 1, 0);
    expect(t.output(e, 0, pkt(1), 0, 60)).toBe(OUT_QUEUED_REQUEST);
    expect(t.output(e, 0.1, pkt(2), 0, 60)).toBe(OUT_QUEUED);
    expect(t.state[e]).toBe(NUD_INCOMPLETE);
    expect(t.tick(0.999)).toBe(0);
    t.tick(1);
    expect(actions(t)).toEqual([[e, ACT_BROADCAST_REQUEST]]);
    t.tick(2);
    expect(actions(t)).toEqual([[e, ACT_BROADCAST_REQUEST]]);
    t.tick(3);
    expect(actions(t)).toEqual([[e, ACT_FAILED]]);
    expect(t.state[e]).toBe(NUD_FAILED);
    const first = t.nextQueued(e);
    expect(Array.from(t.pool.subarray(first * t.slotBytes, first * t.slotBytes + t.poolLen[first]!))).toEqual(
      Array.from(pkt(1)),
    );
    t.release(first);
    const second = t.nextQueued(e);
    expect(t.pool[second * t.slotBytes]).toBe(2);
    t.release(second);
    expect(t.nextQueued(e)).toBe(-1);
  });

  it('a reply confirms: REACHABLE, queued packets delivered in order', () => {
    const t = new NeighbourTable(16);
    const e = t.ensure(IP, 1, 0);
    t.output(e, 0, pkt(1), 0, 60);
    t.output(e, 0, pkt(2), 0, 60);
    t.confirm(IP, 1, MAC, 0.2);
    expect(t.state[e]).toBe(NUD_REACHABLE);
    expect(t.mac[e]).toBe(MAC);
    const order: number[] = [];
    for (let s = t.nextQueued(e); s >= 0; s = t.nextQueued(e)) {
      order.push(t.pool[s * t.slotBytes]!);
      t.release(s);
    }
    expect(order).toEqual([1, 2]);
    expect(t.output(e, 1, pkt(3), 0, 60)).toBe(OUT_SEND);
  });

  it('keeps at most queuePerEntry packets, dropping the oldest', () => {
    const t = new NeighbourTable(16);
    const e = t.ensure(IP, 1, 0);
    for (let i = 1; i <= 5; i++) t.output(e, 0, pkt(i), 0, 60);
    expect(t.queued(e)).toBe(DEFAULT_TIMERS.queuePerEntry);
    expect(t.stats.queueDrops).toBe(2);
    expect(t.pool[t.nextQueued(e) * t.slotBytes]).toBe(3);
  });

  it('drops when the shared pool is exhausted', () => {
    const t = new NeighbourTable(16, DEFAULT_TIMERS, 2);
    const a = t.ensure(IP, 1, 0);
    const b = t.ensure(IP + 1, 1, 0);
    t.output(a, 0, pkt(1), 0, 60);
    t.output(a, 0, pkt(2), 0, 60);
    expect(t.output(b, 0, pkt(3), 0, 60)).toBe(OUT_DROP);
  });
});

describe('neighbour table: NUD timers (RFC 4861 §7.3.3 as Linux applies it to ARP)', () => {
  it('REACHABLE → STALE after reachable time; use → DELAY → PROBE (unicast) → FAILED', () => {
    const t = new NeighbourTable(16);
    const e = t.confirm(IP, 1, MAC, 0);
    t.tick(29.9);
    expect(t.state[e]).toBe(NUD_REACHABLE);
    t.tick(30);
    expect(t.state[e]).toBe(NUD_STALE);
    expect(t.output(e, 31, pkt(1), 0, 60)).toBe(OUT_SEND);
    expect(t.state[e]).toBe(NUD_DELAY);
    t.tick(36);
    expect(t.state[e]).toBe(NUD_PROBE);
    expect(actions(t)).toEqual([[e, ACT_UNICAST_REQUEST]]);
    t.tick(37);
    t.tick(38);
    expect(actions(t)).toEqual([[e, ACT_UNICAST_REQUEST]]);
    t.tick(39);
    expect(t.state[e]).toBe(NUD_FAILED);
  });

  it('a confirmation during PROBE returns to REACHABLE', () => {
    const t = new NeighbourTable(16);
    const e = t.confirm(IP, 1, MAC, 0);
    t.tick(30);
    t.output(e, 31, pkt(1), 0, 60);
    t.tick(36);
    t.confirm(IP, 1, MAC, 36.5);
    expect(t.state[e]).toBe(NUD_REACHABLE);
  });

  it('RFC 826 merge: a request with a new MAC makes the entry STALE; same MAC keeps state', () => {
    const t = new NeighbourTable(16);
    const e = t.confirm(IP, 1, MAC, 0);
    t.learn(IP, 1, MAC, 1);
    expect(t.state[e]).toBe(NUD_REACHABLE);
    t.learn(IP, 1, MAC + 1, 2);
    expect(t.state[e]).toBe(NUD_STALE);
    expect(t.mac[e]).toBe(MAC + 1);
  });

  it('forgets unused STALE entries after gc_stale_time, and permanent ones never', () => {
    const t = new NeighbourTable(16);
    const e = t.learn(IP, 1, MAC, 0);
    const p = t.setPermanent(IP + 9, 1, MAC, 0);
    t.tick(59);
    expect(t.find(IP, 1)).toBe(e);
    t.tick(60);
    expect(t.find(IP, 1)).toBe(-1);
    expect(t.find(IP + 9, 1)).toBe(p);
  });
});

describe('neighbour table: index', () => {
  it('matches a Map model under random ensure/remove sequences (backward-shift deletion)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 })), {
          maxLength: 300,
        }),
        (ops) => {
          const t = new NeighbourTable(64);
          const model = new Map<string, number>();
          for (const [add, a, port] of ops) {
            const key = `${a}/${port}`;
            if (add) {
              const e = t.ensure(a * 0x01000193, port, 0);
              if (e >= 0) model.set(key, e);
            } else if (model.has(key)) {
              t.remove(model.get(key)!);
              model.delete(key);
            }
            for (const [k, e] of model) {
              const [x, p] = k.split('/').map(Number);
              expect(t.find(x! * 0x01000193, p!)).toBe(e);
            }
          }
          expect(t.count).toBe(model.size);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('when full, evicts the least recently used STALE entry, and refuses when none is evictable', () => {
    const t = new NeighbourTable(2);
    const a = t.learn(1, 0, MAC, 0);
    t.learn(2, 0, MAC, 0);
    t.used[a] = -5;
    expect(t.ensure(3, 0, 1)).toBeGreaterThanOrEqual(0);
    expect(t.find(1, 0)).toBe(-1);
    const full = new NeighbourTable(1);
    full.confirm(1, 0, MAC, 0);
    expect(full.ensure(2, 0, 0)).toBe(-1);
    expect(full.stats.tableFull).toBe(1);
  });
});
