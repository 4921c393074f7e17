/**
 * TX ring versus sendmmsg inside the real workload: the ferry forwarder of bench/io/forwarder.ts
 * on one client--forwarder--server topology, restarted per round with `--tx mmsg` / `--tx ring`
 * in alternating order, each round a 64-byte UDP load paced at PACED pps. Compared per round
 * (same topology, same minute), on the forwarder's own CPU time per delivered packet -- the
 * figure the TX default is chosen on (native/README.md, "TX").
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { since, snap } from './cpu.js';
import { createTopology, destroyTopology } from './topology.js';

export interface TxAbRound {
  round: number;
  mmsgUsPerPkt: number;
  ringUsPerPkt: number;
}

export async function txForwardAb(opts: {
  root: string;
  udpgen: string;
  nice: string;
  rounds?: number;
  pps?: number;
  secs?: number;
}): Promise<TxAbRound[]> {
  const { root, udpgen, nice, rounds = 3, pps = 100_000, secs = 4 } = opts;
  const inNs = (ns: string, cmd: string, args: string[]) => [
    'netns',
    'exec',
    ns,
    'nice',
    '-n',
    nice,
    cmd,
    ...args,
  ];
  const t = await createTopology('afp', 'off');
  const out: TxAbRound[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const cost: Record<string, number> = {};
      for (const tx of round % 2 ? ['ring', 'mmsg'] : ['mmsg', 'ring']) {
        const fwd = execa(
          'ip',
          inNs(t.fwd, process.execPath, [
            '--import',
            'tsx',
            join(root, 'bench/io/forwarder.ts'),
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
            '--tx',
            tx,
            '--secs',
            String(secs + 30),
          ]),
          { reject: false, cwd: root, timeout: (secs + 40) * 1000 },
        );
        try {
          await new Promise<void>((ok, fail) => {
            const timer = setTimeout(() => fail(new Error('forwarder did not start')), 20_000);
            fwd.stderr?.on('data', (d: Buffer) => {
              if (String(d).includes('ferry forwarder')) {
                clearTimeout(timer);
                ok();
              }
            });
          });
          await new Promise((r) => setTimeout(r, 300));
          const sink = execa('ip', inNs(t.srv, udpgen, ['recv', '9000', String(secs + 3)]), {
            reject: false,
            timeout: (secs + 10) * 1000,
          });
          await new Promise((r) => setTimeout(r, 300));
          const s0 = snap(fwd.pid);
          await execa(
            'ip',
            inNs(t.cli, udpgen, ['send', '10.20.0.2', '9000', String(secs), '64', '64', String(pps)]),
            {
              reject: false,
              timeout: (secs + 10) * 1000,
            },
          );
          const c = since(s0, fwd.pid);
          const recv = Number(/recv=(\d+)/.exec(String((await sink).stdout))?.[1] ?? 0);
          cost[tx] = recv ? (c.proc / 100) * (c.seconds / recv) * 1e6 : Number.NaN;
        } finally {
          fwd.kill('SIGTERM');
          await fwd;
        }
      }
      out.push({ round, mmsgUsPerPkt: cost.mmsg!, ringUsPerPkt: cost.ring! });
    }
  } finally {
    await destroyTopology(t);
  }
  return out;
}

export function txAbTable(rows: TxAbRound[], pps = 100_000): string {
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  return [
    `| round (forwarder at ${pps / 1000} kpps) | sendmmsg us/pkt | TX ring us/pkt |`,
    '|---|---|---|',
    ...rows.map((r) => `| ${r.round} | ${r.mmsgUsPerPkt.toFixed(2)} | ${r.ringUsPerPkt.toFixed(2)} |`),
    `| median | ${med(rows.map((r) => r.mmsgUsPerPkt)).toFixed(2)} | ${med(rows.map((r) => r.ringUsPerPkt)).toFixed(2)} |`,
  ].join('\n');
}
