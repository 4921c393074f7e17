import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CT_ASSURED } from '../../../src/dataplane/conntrack/flow-layout.js';
import { FlowTable, INSERT_CLASH, INSERT_FULL } from '../../../src/dataplane/conntrack/flow-table.js';

// A reference model in Maps and arrays, driven by the same random command sequences as the table.
// Small value universes make key clashes, NAT'd reply keys that collide with other flows, full
// tables and same-tick deadlines common.

type Tuple = readonly [src: number, dst: number, sport: number, dport: number];

interface ModelFlow {
  id: number;
  keys: [string, string];
  tuples: [Tuple, Tuple];
  proto: number;
  zone: number;
  deadline: number;
  lastSeen: number;
  assured: boolean;
  packets: [number, number];
  bytes: [number, number];
}

const ADDRS = [0x0a000001, 0x0a000002, 0xc0a80001, 0xffffffff];
const PORTS = [0, 1, 53, 65535];
const SECS = [0, 0.001, 0.0015, 0.5, 1, 30, 65.6, 120, 432000];

const keyOf = (t: Tuple, proto: number, zone: number): string => `${t.join(',')}/${proto}/${zone}`;

const tupleArb = fc.tuple(
  fc.constantFrom(...ADDRS),
  fc.constantFrom(...ADDRS),
  fc.constantFrom(...PORTS),
  fc.constantFrom(0, 80, 65535),
);

const command = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      orig: tupleArb,
      proto: fc.constantFrom(6, 17),
      zone: fc.constantFrom(0, 7),
      nat: fc.constantFrom('none', 'snat', 'dnat'),
      natAddr: fc.constantFrom(...ADDRS),
      natPort: fc.constantFrom(...PORTS),
      secs: fc.constantFrom(...SECS),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('lookup' as const),
      tuple: tupleArb,
      proto: fc.constantFrom(6, 17),
      zone: fc.constantFrom(0, 7),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('lookupLive' as const), pick: fc.nat(), dir: fc.nat(1) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('tick' as const),
      ms: fc.oneof(fc.nat(2000), fc.constantFrom(29_999, 30_000, 65_536, 3_600_000, 500_000_000)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('expire' as const),
      budget: fc.constantFrom(1, 2, 5, Number.POSITIVE_INFINITY),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('timeout' as const),
      pick: fc.nat(),
      secs: fc.constantFrom(...SECS),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('assure' as const), pick: fc.nat(), on: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('account' as const),
      pick: fc.nat(),
      dir: fc.nat(1),
      bytes: fc.nat(1500),
    }),
  },
);

const config = fc.record({
  capacity: fc.constantFrom(8, 256),
  wheelSlots: fc.constantFrom(64, 256, 65536),
  dense: fc.boolean(),
});

type Command = typeof command extends fc.Arbitrary<infer T> ? T : never;

function run(cfg: { capacity: number; wheelSlots: number; dense: boolean }, cmds: readonly Command[]): void {
  // dense: the smallest index allowed (load up to ~0.97), so probe runs are long.
  const indexSlots = cfg.dense ? (cfg.capacity === 8 ? 32 : 1024) : undefined;
  const table = new FlowTable({
    capacity: cfg.capacity,
    wheelSlots: cfg.wheelSlots,
    hashKey: [0x1234, 0x5678],
    ...(indexSlots ? { indexSlots } : {}),
  });
  const flows = new Map<number, ModelFlow>();
  const byKey = new Map<string, { flow: ModelFlow; dir: number }>();
  /** Unassured flows, oldest first: the early-drop candidates. */
  let fifo: ModelFlow[] = [];
  let now = 1_700_000_000_000;

  const live = (): ModelFlow[] => [...flows.values()].sort((a, b) => a.id - b.id);
  const drop = (m: ModelFlow): void => {
    flows.delete(m.id);
    byKey.delete(m.keys[0]);
    byKey.delete(m.keys[1]);
    fifo = fifo.filter((x) => x !== m);
  };
  /** Model flows the table no longer holds as they were (gone, or index reused by `reused`). */
  const vanished = (reused: number): ModelFlow[] =>
    live().filter((m) => m.id === reused || !table.isLive(m.id));

  for (const cmd of cmds) {
    switch (cmd.op) {
      case 'insert': {
        const { orig, proto, zone, nat, natAddr, natPort, secs } = cmd;
        const [s, d, sp, dp] = orig;
        let reply: Tuple = [d, s, dp, sp];
        if (nat === 'snat') reply = [d, natAddr, dp, natPort];
        if (nat === 'dnat') reply = [natAddr, s, natPort, sp];
        const k0 = keyOf(orig, proto, zone);
        const k1 = keyOf(reply, proto, zone);
        // Policy victim if an early drop happens: least recently seen of the 8 oldest unassured.
        let victim: ModelFlow | undefined;
        for (const m of fifo.slice(0, 8)) if (!victim || m.lastSeen < victim.lastSeen) victim = m;
        const wasFull = flows.size === cfg.capacity;
        const r = table.insert(s, d, sp, dp, proto, reply[0], reply[1], reply[2], reply[3], now, secs, zone);
        if (k0 === k1 || byKey.has(k0) || byKey.has(k1)) {
          expect(r).toBe(INSERT_CLASH);
          break;
        }
        if (wasFull) {
          const gone = vanished(r);
          if (r === INSERT_FULL) {
            expect(gone).toEqual([]);
            expect(fifo).toEqual([]); // refused only when nothing unassured exists
            break;
          }
          expect(r).toBeGreaterThanOrEqual(0);
          expect(gone.length).toBeGreaterThan(0);
          const evicted = gone.filter((m) => m.deadline > now);
          expect(evicted.length).toBeLessThanOrEqual(1);
          if (evicted.length === 1) expect(evicted[0]).toBe(victim);
          for (const m of gone) drop(m);
        }
        expect(r).toBeGreaterThanOrEqual(0);
        expect(flows.has(r)).toBe(false);
        const m: ModelFlow = {
          id: r,
          keys: [k0, k1],
          tuples: [orig, reply],
          proto,
          zone,
          deadline: now + Math.round(secs * 1000),
          lastSeen: now,
          assured: false,
          packets: [0, 0],
          bytes: [0, 0],
        };
        flows.set(r, m);
        byKey.set(k0, { flow: m, dir: 0 });
        byKey.set(k1, { flow: m, dir: 1 });
        fifo.push(m);
        break;
      }
      case 'lookup': {
        const { tuple, proto, zone } = cmd;
        const hit = byKey.get(keyOf(tuple, proto, zone));
        const h = table.lookup(tuple[0], tuple[1], tuple[2], tuple[3], proto, zone);
        expect(h).toBe(hit ? hit.flow.id * 2 + hit.dir : -1);
        break;
      }
      case 'lookupLive': {
        const all = live();
        if (all.length === 0) break;
        const m = all[cmd.pick % all.length]!;
        const dir = cmd.dir;
        const t = m.tuples[dir]!;
        expect(table.lookup(t[0], t[1], t[2], t[3], m.proto, m.zone)).toBe(m.id * 2 + dir);
        // Signed spelling of the same address finds the same flow.
        expect(table.lookup(t[0] | 0, t[1] | 0, t[2], t[3], m.proto, m.zone)).toBe(m.id * 2 + dir);
        break;
      }
      case 'remove': {
        const all = live();
        if (all.length === 0) break;
        const m = all[cmd.pick % all.length]!;
        table.remove(m.id);
        drop(m);
        break;
      }
      case 'tick':
        now += cmd.ms;
        break;
      case 'expire': {
        const budget = cmd.budget;
        const n = table.expire(now, budget);
        const gone = vanished(-1);
        expect(n).toBe(gone.length);
        expect(n).toBeLessThanOrEqual(budget);
        for (const m of gone) {
          expect(m.deadline).toBeLessThanOrEqual(now);
          drop(m);
        }
        if (budget === Number.POSITIVE_INFINITY) {
          for (const m of flows.values()) expect(m.deadline).toBeGreaterThan(now);
        }
        break;
      }
      case 'timeout': {
        const all = live();
        if (all.length === 0) break;
        const m = all[cmd.pick % all.length]!;
        table.setTimeout(m.id, now, cmd.secs);
        m.deadline = now + Math.round(cmd.secs * 1000);
        break;
      }
      case 'assure': {
        const all = live();
        if (all.length === 0) break;
        const m = all[cmd.pick % all.length]!;
        if (cmd.on) {
          table.setStatusBits(m.id, CT_ASSURED);
          if (!m.assured) fifo = fifo.filter((x) => x !== m);
          m.assured = true;
        } else {
          table.clearStatusBits(m.id, CT_ASSURED);
          if (m.assured) fifo.push(m);
          m.assured = false;
        }
        break;
      }
      case 'account': {
        const all = live();
        if (all.length === 0) break;
        const m = all[cmd.pick % all.length]!;
        const dir = cmd.dir;
        table.account(m.id * 2 + dir, cmd.bytes, now);
        m.lastSeen = now;
        m.packets[dir]!++;
        m.bytes[dir]! += cmd.bytes;
        break;
      }
    }
    expect(table.count).toBe(flows.size);
    expect(table.unassuredCount).toBe(fifo.length);
    expect(table.audit()).toBe('');
  }

  for (const m of flows.values()) {
    expect(table.deadline(m.id)).toBe(m.deadline);
    expect(table.lastSeen(m.id)).toBe(m.lastSeen);
    expect(table.proto(m.id)).toBe(m.proto);
    expect(table.zone(m.id)).toBe(m.zone);
    expect(table.hasStatus(m.id, CT_ASSURED)).toBe(m.assured);
    for (const dir of [0, 1]) {
      const h = m.id * 2 + dir;
      const t = m.tuples[dir]!;
      expect([table.src(h), table.dst(h), table.sport(h), table.dport(h)]).toEqual([...t]);
      expect(table.packets(h)).toBe(m.packets[dir]);
      expect(table.bytes(h)).toBe(m.bytes[dir]);
    }
  }
  const seen: number[] = [];
  for (let f = table.nextFlow(-1); f !== -1; f = table.nextFlow(f)) seen.push(f);
  expect(seen).toEqual(live().map((m) => m.id));
}

describe('FlowTable against a reference model', () => {
  it('agrees on random insert/lookup/remove/expire/refresh/assure sequences (both directions, NAT)', () => {
    fc.assert(
      fc.property(config, fc.array(command, { minLength: 20, maxLength: 250, size: 'max' }), (cfg, cmds) => {
        run(cfg, cmds);
      }),
      { numRuns: 300 },
    );
  });
});
