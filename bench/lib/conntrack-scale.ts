/**
 * The flow-table scale measurements (conntrack at 10k / 100k / 1M flows): memory per flow,
 * established-flow lookups, misses, new-flow inserts, a mixed packet stream, churn on a full
 * table and expiry. Used by bench/conntrack.bench.ts (best of N, printed) and the benchmark
 * matrix (bench/matrix/scale: median, min and max of N).
 *
 * Keys are drawn from precomputed typed arrays so the loop measures the table, not key generation.
 * Lookup order is a random permutation (cache-unfriendly, like real traffic over many flows).
 * Run with --expose-gc for steadier figures (gc() between runs).
 */
import { CT_ASSURED } from '../../src/dataplane/conntrack/flow-layout.js';
import { FlowTable } from '../../src/dataplane/conntrack/flow-table.js';

const T0 = 1_700_000_000_000;
export const SIZES = [10_000, 100_000, 1_000_000];

interface Keys {
  src: Uint32Array;
  sport: Uint16Array;
  natAddr: Uint32Array;
  natPort: Uint16Array;
}

/** n distinct flows: client 10.x.y.z:port → 8.8.8.8:443/tcp, SNAT to 198.51.100.x:port. */
function makeKeys(n: number, salt: number): Keys {
  const k: Keys = {
    src: new Uint32Array(n),
    sport: new Uint16Array(n),
    natAddr: new Uint32Array(n),
    natPort: new Uint16Array(n),
  };
  for (let i = 0; i < n; i++) {
    const j = i + salt;
    k.src[i] = (0x0a000000 + (j >>> 4)) >>> 0;
    k.sport[i] = 1024 + (j & 15) * 1000 + (j % 997);
    k.natAddr[i] = (0xc6336400 + (j >>> 16)) >>> 0;
    k.natPort[i] = j & 0xffff;
  }
  return k;
}

function permutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  let s = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

const SERVER = 0x08080808;

function insertAll(t: FlowTable, k: Keys, n: number, now: number, secs: number): void {
  for (let i = 0; i < n; i++) {
    const f = t.insert(
      k.src[i]!,
      SERVER,
      k.sport[i]!,
      443,
      6,
      SERVER,
      k.natAddr[i]!,
      443,
      k.natPort[i]!,
      now,
      secs,
    );
    if (f < 0) throw new Error(`insert ${i} failed (${f})`);
  }
}

export interface Row {
  flows: number;
  bytesPerFlow: number;
  computedPerFlow: number;
  insertPerSec: number;
  lookupPerSec: number;
  missPerSec: number;
  mixedPerSec: number;
  churnPerSec: number;
  expireNsPerFlow: number;
  idleExpireNs: number;
  avgProbe: number;
  maxProbe: number;
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Tables built by measureBytesPerFlow stay referenced so no free lands inside a later delta. */
export const measured: FlowTable[] = [];

/** Bytes of ArrayBuffer memory a new table of n flows takes, measured by the process. */
export function measureBytesPerFlow(n: number): number {
  const before = process.memoryUsage().arrayBuffers;
  const t = new FlowTable({ capacity: n });
  const bytes = process.memoryUsage().arrayBuffers - before;
  measured.push(t);
  return bytes / n;
}

/** Best of several runs per size (highest rates, lowest costs): the host is shared. */
export function best(rows: Row[]): Row {
  const r = { ...rows[0]! };
  for (const x of rows) {
    r.insertPerSec = Math.max(r.insertPerSec, x.insertPerSec);
    r.lookupPerSec = Math.max(r.lookupPerSec, x.lookupPerSec);
    r.missPerSec = Math.max(r.missPerSec, x.missPerSec);
    r.mixedPerSec = Math.max(r.mixedPerSec, x.mixedPerSec);
    r.churnPerSec = Math.max(r.churnPerSec, x.churnPerSec);
    r.expireNsPerFlow = Math.min(r.expireNsPerFlow, x.expireNsPerFlow);
    r.idleExpireNs = Math.min(r.idleExpireNs, x.idleExpireNs);
  }
  return r;
}

export function scaleRun(n: number, bytesPerFlow: number): Row {
  const keys = makeKeys(n, 0);
  const fresh = makeKeys(n, 1 << 26); // keys never inserted: misses and new flows
  const order = permutation(n, 0x9e3779b9 ^ n);
  const t = new FlowTable({ capacity: n });
  const computedPerFlow = t.storageBytes / n;

  // New flows: fill the empty table, empty it (untimed), again until at least 1M inserts were
  // timed (a small table fills in a millisecond: one fill alone is at the mercy of one pause).
  // The earlier fills are short-lived flows (1 s at T0 - 10 s) so that expire(T0) empties them.
  const fills = Math.max(2, Math.ceil(1_000_000 / n));
  let insertMs = 0;
  let start = 0;
  for (let k = 0; k < fills; k++) {
    const last = k === fills - 1;
    start = performance.now();
    insertAll(t, keys, n, last ? T0 : T0 - 10_000, last ? 7440 : 1);
    if (k > 0) insertMs += performance.now() - start;
    if (!last) t.expire(T0, Number.POSITIVE_INFINITY);
  }
  const insertPerSec = (n * (fills - 1)) / (insertMs / 1000);
  for (let f = t.nextFlow(-1); f !== -1; f = t.nextFlow(f)) t.setStatusBits(f, CT_ASSURED);

  // Expiry with nothing due: 60k calls 1 ms apart (every flow is filed 65.5 s ahead).
  let acc = 0;
  start = performance.now();
  for (let ms = 1; ms <= 60_000; ms++) acc += t.expire(T0 + ms, 256);
  const idleExpireNs = ((performance.now() - start) * 1e6) / 60_000;

  // Established: lookups in random order, alternating directions; at least 2M lookups.
  const rounds = Math.max(1, Math.ceil(2_000_000 / n));
  start = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (let x = 0; x < n; x++) {
      const i = order[x]!;
      acc +=
        (x & 1) === 0
          ? t.lookup(keys.src[i]!, SERVER, keys.sport[i]!, 443, 6)
          : t.lookup(SERVER, keys.natAddr[i]!, 443, keys.natPort[i]!, 6);
    }
  }
  const lookupPerSec = (rounds * n) / ((performance.now() - start) / 1000);

  // Misses (the first lookup of every new flow).
  start = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (let x = 0; x < n; x++) {
      const i = order[x]!;
      acc += t.lookup(fresh.src[i]!, SERVER, fresh.sport[i]!, 443, 6);
    }
  }
  const missPerSec = (rounds * n) / ((performance.now() - start) / 1000);

  // Mixed stream on the full table: per packet a lookup; 90% hit an established flow (account +
  // refresh), 10% are new flows that replace a short-lived flow (lookup miss, remove, insert).
  // expire() runs every 256 packets with the clock advancing 1 ms per 256 packets.
  const packets = Math.max(2_000_000, n * 2);
  let now = T0 + 60_001;
  let nextFresh = 0;
  start = performance.now();
  for (let p = 0; p < packets; p++) {
    const i = order[p % n]!;
    if (p % 10 !== 9) {
      const h = t.lookup(keys.src[i]!, SERVER, keys.sport[i]!, 443, 6);
      if (h >= 0) {
        t.account(h, 1200, now);
        t.setTimeout(h >>> 1, now, 7440);
      }
    } else {
      const j = nextFresh;
      nextFresh = (nextFresh + 1) % n;
      const s = fresh.src[j]!;
      const sp = fresh.sport[j]!;
      let h = t.lookup(s, SERVER, sp, 443, 6);
      if (h >= 0) t.remove(h >>> 1);
      // Insert into the full table: an unassured new flow makes room by early drop or expiry.
      h = t.insert(s, SERVER, sp, 443, 6, SERVER, fresh.natAddr[j]!, 443, fresh.natPort[j]!, now, 30);
      acc += h;
    }
    if ((p & 255) === 255) {
      now += 1;
      t.expire(now, 256);
    }
  }
  const mixedPerSec = packets / ((performance.now() - start) / 1000);

  // Churn: new flows per second on a full table where every insert must early-drop.
  const churn = Math.min(n, 500_000);
  start = performance.now();
  for (let j = 0; j < churn; j++) {
    acc += t.insert(
      fresh.src[j]!,
      SERVER,
      fresh.sport[j]! ^ 1,
      443,
      17,
      SERVER,
      fresh.natAddr[j]!,
      443,
      fresh.natPort[j]!,
      now,
      30,
    );
  }
  const churnPerSec = churn / ((performance.now() - start) / 1000);

  // Expiry of everything: all flows due, reaped in batches of 4096.
  const end = now + 7440 * 1000 + 1;
  const live = t.count;
  start = performance.now();
  let reaped = 0;
  for (let r = t.expire(end, 4096); r > 0; r = t.expire(end, 4096)) reaped += r;
  const expireNsPerFlow = ((performance.now() - start) * 1e6) / Math.max(1, reaped);
  if (reaped !== live || t.count !== 0) throw new Error(`expired ${reaped} of ${live}`);

  if (acc === 0.5) console.log(''); // keep results observable
  return {
    flows: n,
    bytesPerFlow,
    computedPerFlow,
    insertPerSec,
    lookupPerSec,
    missPerSec,
    mixedPerSec,
    churnPerSec,
    expireNsPerFlow,
    idleExpireNs,
    avgProbe: t.stats.avgProbe,
    maxProbe: t.stats.maxProbe,
  };
}
