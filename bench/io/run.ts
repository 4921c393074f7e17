/**
 * `npm run bench:io`: forwarding between two namespaces through (a) the kernel (ip_forward +
 * nft masquerade), (b) the C reference AF_PACKET forwarder of ../shared/baseline (built here
 * into a temporary directory), (c) a minimal ferry forwarder on the native addon
 * (bench/io/forwarder.ts). Per variant: ping RTT, TCP (iperf3), 64-byte UDP flat out and paced
 * (udpgen from ../shared/baseline), forwarder CPU; then the ratios c/a and c/b.
 * Writes bench/results/io-<date>[-<tag>].md and .json. Root only; bounded (DUR s per test).
 *
 * env: FERRY_BENCH_VARIANTS="kernel c-mmsg ferry ..." (see VARIANTS)   FERRY_BENCH_DUR=5
 *      FERRY_BENCH_PACED=100000   FERRY_BENCH_TAG=name   FERRY_BASELINE_DIR=../shared/baseline
 *      FERRY_BENCH_QUIET_WAIT=20 (max seconds to wait for an idle machine before each test)
 *      FERRY_BENCH_LATENCY=0, FERRY_BENCH_TXCOST=0, FERRY_BENCH_TXAB=0 (skip the RX latency / TX cost /
 *      TX A/B tables)
 *      FERRY_BENCH_NICE=-10 (priority of every benchmark process; the machine may be shared)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { buildBaselineTools } from './baseline.js';
import { type CpuUse, since, snap, waitQuiet } from './cpu.js';
import { type LatencyRow, latencyTable, rxLatency } from './rx-latency.js';
import { createTopology, destroyTopology, type Topology } from './topology.js';
import { type TxAbRound, txAbTable, txForwardAb } from './tx-ab.js';
import { type TxCostRow, txCost, txCostTable } from './tx-cost.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DUR = Number(process.env.FERRY_BENCH_DUR ?? 5);
const PACED = Number(process.env.FERRY_BENCH_PACED ?? 100_000);
/** Longest wait (s) for other load on the machine to drop before each measurement. */
const QUIET_WAIT = Number(process.env.FERRY_BENCH_QUIET_WAIT ?? 20);
/** Scheduling priority of every benchmark process (root may go below 0). */
const NICE = process.env.FERRY_BENCH_NICE ?? '-10';

type Fwd =
  | { type: 'kernel' }
  | { type: 'c'; mode: 'plain' | 'mmsg' | 'ring' }
  | { type: 'ferry'; args: string[] };
interface Variant {
  what: string;
  topo: 'kernel' | 'afp';
  offloads: 'on' | 'off';
  fwd: Fwd;
}

const VARIANTS: Record<string, Variant> = {
  kernel: {
    what: '(a) kernel ip_forward + nft masquerade, offloads off',
    topo: 'kernel',
    offloads: 'off',
    fwd: { type: 'kernel' },
  },
  'kernel-offon': {
    what: 'kernel, default veth offloads (TSO/GSO on)',
    topo: 'kernel',
    offloads: 'on',
    fwd: { type: 'kernel' },
  },
  'c-mmsg': {
    what: '(b) C afp_fwd, recvmmsg/sendmmsg',
    topo: 'afp',
    offloads: 'off',
    fwd: { type: 'c', mode: 'mmsg' },
  },
  'c-ring': {
    what: 'C afp_fwd, TPACKET_V3 ring + sendmmsg',
    topo: 'afp',
    offloads: 'off',
    fwd: { type: 'c', mode: 'ring' },
  },
  ferry: {
    what: '(c) ferry, defaults (V2 RX ring, V2 TX ring)',
    topo: 'afp',
    offloads: 'off',
    fwd: { type: 'ferry', args: [] },
  },
  'ferry-vnet': {
    what: 'ferry, offloads vnet (GSO passthrough; recvmmsg RX, TX ring), endpoint offloads on',
    topo: 'afp',
    offloads: 'on',
    fwd: { type: 'ferry', args: ['--offloads', 'vnet'] },
  },
  'ferry-vnet-v3': {
    what: 'ferry, offloads vnet, TPACKET_V3 RX ring',
    topo: 'afp',
    offloads: 'on',
    fwd: { type: 'ferry', args: ['--offloads', 'vnet', '--rx', 'v3'] },
  },
  'ferry-v3': {
    what: 'ferry, TPACKET_V3 RX ring (1 ms)',
    topo: 'afp',
    offloads: 'off',
    fwd: { type: 'ferry', args: ['--rx', 'v3'] },
  },
  'ferry-rxmmsg': {
    what: 'ferry, recvmmsg RX',
    topo: 'afp',
    offloads: 'off',
    fwd: { type: 'ferry', args: ['--rx', 'mmsg'] },
  },
  'ferry-txmmsg': {
    what: 'ferry, sendmmsg TX',
    topo: 'afp',
    offloads: 'off',
    fwd: { type: 'ferry', args: ['--tx', 'mmsg'] },
  },
  'ferry-copy': {
    what: 'ferry, RX copied into a V8 slab',
    topo: 'afp',
    offloads: 'off',
    fwd: { type: 'ferry', args: ['--rx-memory', 'copy'] },
  },
  'ferry-bypass': {
    what: 'ferry, PACKET_QDISC_BYPASS (as afp_fwd)',
    topo: 'afp',
    offloads: 'off',
    fwd: { type: 'ferry', args: ['--qdisc-bypass'] },
  },
};
const DEFAULT_SET = ['kernel', 'c-mmsg', 'c-ring', 'ferry', 'kernel-offon', 'ferry-vnet'];

interface Row {
  variant: string;
  what: string;
  pingAvgMs: number;
  pingMaxMs: number;
  ttl: number;
  tcpGbps: number;
  tcpRetr: number;
  tcpFwdCpu: number;
  udpRxPps: number;
  udpTxPps: number;
  udpLossPct: number;
  udpFwdCpu: number;
  udpMachineUsPerPkt: number;
  pacedRxPps: number;
  pacedLossPct: number;
  pacedFwdCpu: number;
  pacedFwdUsPerPkt: number;
  pacedMachineCpu: number;
  csumErrors: string;
  bgLoadPct: number;
  forwarderLog: string;
}

/**
 * `ip netns exec NS nice -n NICE CMD...`: every process of a measurement runs ahead of unrelated
 * load on a shared machine, the same for all variants (nice, like ip, execs: the PID stays).
 */
const inNs = (ns: string, cmd: string, args: string[]) => [
  'netns',
  'exec',
  ns,
  'nice',
  '-n',
  NICE,
  cmd,
  ...args,
];
const nsx = (ns: string, cmd: string, args: string[], timeoutSec: number) =>
  execa('ip', inNs(ns, cmd, args), { timeout: timeoutSec * 1000, reject: false });

/**
 * Starts the forwarder in the fwd namespace; resolves once it reports that it runs. (Wrapped in
 * an object: an async function returning the execa promise itself would wait for it to exit.)
 */
async function startForwarder(v: Variant, t: Topology, afpFwd: string): Promise<{ proc?: ResultPromise }> {
  const life = 10 * DUR + 60;
  let p: ResultPromise;
  if (v.fwd.type === 'kernel') return {};
  if (v.fwd.type === 'c') {
    p = execa(
      'ip',
      inNs(t.fwd, afpFwd, [
        '-a',
        'f0',
        '-b',
        'f1',
        '-A',
        t.macC,
        '-B',
        t.macS,
        '-m',
        v.fwd.mode,
        '-t',
        String(life),
        '-n',
        '10.10.0.2,10.20.0.1',
      ]),
      { reject: false, timeout: (life + 10) * 1000 },
    );
  } else {
    p = execa(
      'ip',
      inNs(t.fwd, process.execPath, [
        '--import',
        'tsx',
        join(ROOT, 'bench/io/forwarder.ts'),
        '--a',
        'f0',
        '--b',
        'f1',
        '--mac-a',
        t.macC,
        '--mac-b',
        t.macS,
        '--snat',
        '10.10.0.2,10.20.0.1',
        '--secs',
        String(life),
        ...v.fwd.args,
      ]),
      { reject: false, timeout: (life + 10) * 1000, cwd: ROOT },
    );
  }
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('forwarder did not start within 20 s')), 20_000);
    p.stderr?.on('data', (d: Buffer) => {
      if (/afp_fwd: mode|ferry forwarder:/.test(String(d))) {
        clearTimeout(timer);
        ok();
      }
    });
    p.then((r) => {
      clearTimeout(timer);
      fail(new Error(`forwarder exited: ${r.stderr || r.stdout}`));
    });
  });
  await new Promise((r) => setTimeout(r, 300));
  return { proc: p };
}

async function udp(t: Topology, udpgen: string, pps: number, pid: number | undefined) {
  const sink = nsx(t.srv, udpgen, ['recv', '9000', String(DUR + 3)], DUR + 15);
  await new Promise((r) => setTimeout(r, 500));
  const s0 = snap(pid);
  const args = ['send', '10.20.0.2', '9000', String(DUR), '64', '64', ...(pps ? [String(pps)] : [])];
  const tx = await nsx(t.cli, udpgen, args, DUR + 15);
  const cpu = since(s0, pid);
  const rx = await sink;
  const sent = Number(/sent=(\d+)/.exec(String(tx.stdout))?.[1] ?? 0);
  const recv = Number(/recv=(\d+)/.exec(String(rx.stdout))?.[1] ?? 0);
  return { sent, recv, cpu };
}

/** What an interrupted run must clean up. */
const live: { topology?: Topology | undefined; procs: ResultPromise[]; tmp?: string } = { procs: [] };

async function runVariant(id: string, v: Variant, tools: { afpFwd: string; udpgen: string }): Promise<Row> {
  console.log(`== ${id}: ${v.what}`);
  const t = await createTopology(v.topo, v.offloads);
  live.topology = t;
  let fwd: ResultPromise | undefined;
  let server: ResultPromise | undefined;
  try {
    fwd = (await startForwarder(v, t, tools.afpFwd)).proc;
    if (fwd) live.procs.push(fwd);
    const pid = fwd?.pid;
    server = execa('ip', inNs(t.srv, 'iperf3', ['-s', '-p', '5201']), {
      reject: false,
      timeout: (10 * DUR + 60) * 1000,
    });
    live.procs.push(server);
    await new Promise((r) => setTimeout(r, 500));

    const ping = await nsx(t.cli, 'ping', ['-c', '20', '-i', '0.05', '-W', '1', '10.20.0.2'], 15);
    const rtt = /= [\d.]+\/([\d.]+)\/([\d.]+)\//.exec(String(ping.stdout));
    const ttl = Number(/ttl=(\d+)/.exec(String(ping.stdout))?.[1] ?? 0);

    const bg = await waitQuiet(15, QUIET_WAIT);
    let s0 = snap(pid);
    const tcp = await nsx(
      t.cli,
      'iperf3',
      ['-c', '10.20.0.2', '-p', '5201', '-t', String(DUR), '-J'],
      DUR + 20,
    );
    const tcpCpu: CpuUse = since(s0, pid);
    let tcpGbps = 0;
    let tcpRetr = 0;
    try {
      const j = JSON.parse(String(tcp.stdout));
      tcpGbps = (j.end?.sum_received?.bits_per_second ?? 0) / 1e9;
      tcpRetr = j.end?.sum_sent?.retransmits ?? 0;
    } catch {
      // iperf3 failed (printed its error as text): the row shows 0
    }

    await waitQuiet(15, QUIET_WAIT);
    const u = await udp(t, tools.udpgen, 0, pid);
    await waitQuiet(15, QUIET_WAIT);
    const pc = await udp(t, tools.udpgen, PACED, pid);
    s0 = snap(pid);

    const nstat = await nsx(
      t.srv,
      'nstat',
      ['-asz', 'TcpInCsumErrors', 'UdpInCsumErrors', 'IpInHdrErrors'],
      10,
    );
    const csum = String(nstat.stdout)
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/).slice(0, 2).join('='))
      .filter((x) => x.includes('='))
      .join(' ');

    let log = '';
    if (fwd) {
      fwd.kill('SIGTERM');
      const r = await fwd;
      log = `${String(r.stdout).trim()} ${String(r.stderr).trim()}`.trim();
      fwd = undefined;
    }
    const udpRx = u.recv / DUR;
    const pacedRx = pc.recv / DUR;
    return {
      variant: id,
      what: v.what,
      pingAvgMs: Number(rtt?.[1] ?? Number.NaN),
      pingMaxMs: Number(rtt?.[2] ?? Number.NaN),
      ttl,
      tcpGbps,
      tcpRetr,
      tcpFwdCpu: pid ? tcpCpu.proc : Number.NaN,
      udpRxPps: udpRx,
      udpTxPps: u.sent / DUR,
      udpLossPct: u.sent ? (100 * (u.sent - u.recv)) / u.sent : 0,
      udpFwdCpu: pid ? u.cpu.proc : Number.NaN,
      udpMachineUsPerPkt: udpRx ? (u.cpu.machine / 100 / udpRx) * 1e6 : 0,
      pacedRxPps: pacedRx,
      pacedLossPct: pc.sent ? (100 * (pc.sent - pc.recv)) / pc.sent : 0,
      pacedFwdCpu: pid ? pc.cpu.proc : Number.NaN,
      pacedFwdUsPerPkt: pid && pacedRx ? (pc.cpu.proc / 100 / pacedRx) * 1e6 : Number.NaN,
      pacedMachineCpu: pc.cpu.machine,
      csumErrors: csum,
      bgLoadPct: bg,
      forwarderLog: log,
    };
  } finally {
    fwd?.kill('SIGKILL');
    server?.kill('SIGKILL');
    await Promise.allSettled([fwd, server].filter(Boolean));
    live.procs = [];
    await destroyTopology(t);
    live.topology = undefined;
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.error(`bench:io: ${sig}, cleaning up`);
    for (const p of live.procs) p.kill('SIGKILL');
    const done = live.topology ? destroyTopology(live.topology) : Promise.resolve();
    void done.finally(() => {
      if (live.tmp) rmSync(live.tmp, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const k = (x: number) => (Number.isFinite(x) ? `${(x / 1000).toFixed(0)}k` : '-');

function table(rows: Row[]): string {
  const lines = [
    '| variant | ping avg / max ms | TCP Gbit/s (retr) | fwd CPU % TCP | UDP64 rx pps (offered, loss) | fwd CPU % UDP | paced ' +
      `${k(PACED)}: loss, fwd CPU %, fwd us/pkt, machine CPU % | machine us/pkt UDP | bg % |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.variant} | ${f(r.pingAvgMs, 3)} / ${f(r.pingMaxMs, 3)} | ${f(r.tcpGbps, 2)} (${r.tcpRetr}) | ${f(r.tcpFwdCpu, 0)} | ` +
        `${k(r.udpRxPps)} (${k(r.udpTxPps)}, ${f(r.udpLossPct)}%) | ${f(r.udpFwdCpu, 0)} | ` +
        `${f(r.pacedLossPct, 2)}%, ${f(r.pacedFwdCpu, 0)}, ${f(r.pacedFwdUsPerPkt, 2)}, ${f(r.pacedMachineCpu, 0)} | ` +
        `${f(r.udpMachineUsPerPkt, 2)} | ${f(r.bgLoadPct, 0)} |`,
    );
  }
  return lines.join('\n');
}

function ratios(rows: Row[]): string {
  const by = (id: string) => rows.find((r) => r.variant === id);
  const c = by('ferry');
  const out: string[] = [];
  for (const [name, ref] of [
    ['c/a (ferry / kernel)', by('kernel')],
    ['c/b (ferry / C afp_fwd mmsg)', by('c-mmsg')],
    ['ferry / C afp_fwd ring', by('c-ring')],
  ] as const) {
    if (!c || !ref) continue;
    out.push(
      `| ${name} | ${f(c.udpRxPps / ref.udpRxPps, 2)} | ${f(c.tcpGbps / ref.tcpGbps, 2)} | ${f(c.pingAvgMs / ref.pingAvgMs, 2)} | ` +
        `${Number.isFinite(ref.pacedFwdUsPerPkt) ? f(c.pacedFwdUsPerPkt / ref.pacedFwdUsPerPkt, 2) : '-'} | ` +
        `${f(c.udpMachineUsPerPkt / ref.udpMachineUsPerPkt, 2)} |`,
    );
  }
  const vnet = by('ferry-vnet');
  if (c && vnet) {
    out.push(`| ferry offloads off / vnet (TCP) | - | ${f(c.tcpGbps / vnet.tcpGbps, 2)} | - | - | - |`);
  }
  if (!out.length) return '';
  return [
    '| ratio | UDP64 rx pps | TCP Gbit/s | ping RTT | fwd us/pkt @paced | machine us/pkt |',
    '|---|---|---|---|---|---|',
    ...out,
  ].join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench:io needs root (network namespaces, AF_PACKET)');
    process.exit(1);
  }
  setPriority(Number(NICE)); // the in-process latency and TX-cost measurements too
  const ids = (process.env.FERRY_BENCH_VARIANTS ?? DEFAULT_SET.join(' ')).split(/\s+/).filter(Boolean);
  for (const id of ids)
    if (!VARIANTS[id]) throw new Error(`unknown variant ${id}; known: ${Object.keys(VARIANTS).join(', ')}`);
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-bench-io-'));
  live.tmp = tmp;
  const rows: Row[] = [];
  try {
    const tools = await buildBaselineTools(ROOT, tmp);
    const started = new Date();
    for (const id of ids) {
      const row = await runVariant(id, VARIANTS[id]!, tools);
      rows.push(row);
      console.log(table([row]).split('\n')[2]);
    }
    let latency: LatencyRow[] = [];
    if (process.env.FERRY_BENCH_LATENCY !== '0') {
      console.log('== RX wake-up latency per RX mode');
      latency = await rxLatency();
      console.log(latencyTable(latency));
    }
    let tx: TxCostRow[] = [];
    if (process.env.FERRY_BENCH_TXCOST !== '0') {
      console.log('== TX cost per frame: TX ring vs sendmmsg');
      tx = await txCost();
      console.log(txCostTable(tx));
    }
    let ab: TxAbRound[] = [];
    if (process.env.FERRY_BENCH_TXAB !== '0') {
      console.log('== TX ring vs sendmmsg in the forwarder, alternating rounds');
      ab = await txForwardAb({ root: ROOT, udpgen: tools.udpgen, nice: NICE, pps: PACED });
      console.log(txAbTable(ab, PACED));
    }
    const date = started.toISOString().slice(0, 10);
    const tag = process.env.FERRY_BENCH_TAG ?? (process.env.FERRY_BENCH_VARIANTS ? 'custom' : '');
    const base = join(ROOT, 'bench/results', `io-${date}${tag ? `-${tag}` : ''}`);
    mkdirSync(dirname(base), { recursive: true });
    const md = [
      `# bench:io ${started.toISOString()} (DUR=${DUR}s per test, paced ${PACED} pps)`,
      '',
      `Machine: ${(await execa('nproc')).stdout} cores, kernel ${(await execa('uname', ['-r'])).stdout}, node ${process.version}.`,
      `Every benchmark process runs at nice ${NICE}. bg % = other load on the machine just before a variant's first test.`,
      'CPU % are of one core (2 cores = 200). fwd us/pkt = forwarder CPU per delivered packet at the paced rate;',
      'machine us/pkt = whole-machine CPU per delivered packet in the flat-out UDP test (sender + forwarder + receiver).',
      '',
      ...rows.map((r) => `- **${r.variant}**: ${r.what}`),
      '',
      table(rows),
      '',
      ratios(rows),
      '',
      ...(latency.length
        ? [
            'RX wake-up latency, one frame at a time (veth peer sendBatch -> RX callback, bench/io/rx-latency.ts):',
            '',
            latencyTable(latency),
            '',
          ]
        : []),
      ...(tx.length
        ? ['TX cost per frame, sender CPU time (bench/io/tx-cost.ts):', '', txCostTable(tx), '']
        : []),
      ...(ab.length
        ? [
            'TX ring vs sendmmsg in the ferry forwarder, forwarder CPU per packet, alternating rounds (bench/io/tx-ab.ts):',
            '',
            txAbTable(ab, PACED),
            '',
          ]
        : []),
      'Checks (server namespace): ',
      ...rows.map((r) => `- ${r.variant}: ttl=${r.ttl} ${r.csumErrors}`),
      '',
      'Forwarder logs:',
      ...rows
        .filter((r) => r.forwarderLog)
        .map((r) => `- ${r.variant}: \`${r.forwarderLog.replace(/`/g, "'")}\``),
      '',
    ].join('\n');
    writeFileSync(`${base}.md`, md);
    writeFileSync(
      `${base}.json`,
      `${JSON.stringify({ started, dur: DUR, paced: PACED, rows, latency, txCost: tx, txForwardAb: ab }, null, 2)}\n`,
    );
    console.log(`\n${table(rows)}\n\n${ratios(rows)}\n\nwritten: ${base}.md, ${base}.json`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
