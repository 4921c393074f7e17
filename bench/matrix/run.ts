/**
 * `npm run bench`: ferry's benchmark matrix in one invocation — replay (the pipeline from memory,
 * seeds 000 and 003), scale (conntrack at 10k / 100k / 1M flows) and live (network namespaces:
 * the kernel, the C reference forwarder and ferry on the seed-000 topology; root only, skipped
 * with the reason otherwise). Writes bench/results/<date>.{json,md,svg} and copies them to
 * latest.{json,md,svg}; a --quick or --only run writes <date>-quick[-only-<sections>].* or
 * <date>-only-<sections>.* and leaves latest alone. Namespaces and processes are removed however the run ends.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAll, cleanupOnSignals } from './cleanup.js';
import { liveUnavailable } from './live/requirements.js';
import { runLive } from './live/run-live.js';
import { gitInfo, machineInfo } from './machine.js';
import { type MatrixOptions, parseOptions } from './options.js';
import { runReplay } from './replay/run-replay.js';
import { renderChart } from './report/chart.js';
import { markdownReport } from './report/markdown.js';
import { evaluateTargets } from './report/targets.js';
import { runScale } from './scale/run-scale.js';
import type { LiveSection, MatrixResult } from './types.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const t0 = Date.now();

function progress(line: string): void {
  const s = Math.round((Date.now() - t0) / 1000);
  console.log(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${line}`);
}

function emptyLive(o: MatrixOptions, skipped?: string): LiveSection {
  return {
    ...(skipped !== undefined && { skipped }),
    errors: [],
    secsPerTest: o.live.secs,
    rounds: o.live.rounds,
    udpPayloadBytes: o.live.udpPayload,
    udpSenders: o.live.udpSenders,
    tcpStreams: o.live.tcpStreams,
    pingIdleCount: o.live.pingCount,
    engines: [],
    ratios: [],
  };
}

async function matrix(o: MatrixOptions): Promise<MatrixResult> {
  const started = new Date();
  const r: MatrixResult = {
    version: 1,
    date: started.toISOString().slice(0, 10),
    startedAt: started.toISOString(),
    finishedAt: '',
    durationSec: 0,
    mode: o.quick ? 'quick' : 'full',
    sections: o.sections,
    machine: machineInfo(),
    git: await gitInfo(ROOT),
    reproduce: `sudo npm run bench${o.quick ? ' -- --quick' : ''}`,
    replay: { skipped: 'not selected (--only)', errors: [], runs: o.replay.runs, cases: [] },
    live: emptyLive(o, 'not selected (--only)'),
    scale: { skipped: 'not selected (--only)', errors: [], runs: o.scale.runs, rows: [] },
    targets: [],
  };
  if (o.sections.includes('replay')) {
    progress(
      `replay: ${o.replay.cases.length} cases, ${o.replay.runs} timed runs of ${o.replay.packetsPerRun} packets each`,
    );
    const { cases, errors } = await runReplay({
      root: ROOT,
      ...o.replay,
      quietWaitSec: o.quietWaitSec,
      progress,
    });
    r.replay = { errors, runs: o.replay.runs, cases };
  }
  if (o.sections.includes('scale')) {
    progress(`scale: conntrack at ${o.scale.sizes.join(', ')} flows, ${o.scale.runs} runs each`);
    r.scale = { errors: [], runs: o.scale.runs, rows: [] };
    try {
      r.scale.rows = await runScale({ root: ROOT, ...o.scale, quietWaitSec: o.quietWaitSec, progress });
    } catch (err) {
      r.scale.errors.push((err as Error).message);
      progress(`scale: FAILED ${(err as Error).message}`);
    }
  }
  if (o.sections.includes('live')) {
    const why = liveUnavailable();
    if (why) {
      r.live = emptyLive(o, why);
      progress(`live: skipped — ${why}`);
    } else {
      progress(`live: ${o.live.engines.join(', ')}; ${o.live.rounds} rounds, ${o.live.secs} s per test`);
      try {
        r.live = await runLive({ root: ROOT, ...o.live, quietWaitSec: o.quietWaitSec, progress });
      } catch (err) {
        r.live = emptyLive(o);
        r.live.errors.push((err as Error).message);
        progress(`live: FAILED ${(err as Error).message}`);
      }
    }
  }
  const finished = new Date();
  r.finishedAt = finished.toISOString();
  r.durationSec = (finished.getTime() - started.getTime()) / 1000;
  r.targets = evaluateTargets(r);
  return r;
}

async function main(): Promise<void> {
  let o: MatrixOptions;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  cleanupOnSignals((m) => console.error(m));
  let result: MatrixResult;
  try {
    result = await matrix(o);
  } finally {
    await cleanupAll();
  }
  // what the report reads is what the JSON holds (NaN becomes null)
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const back = JSON.parse(json) as MatrixResult;
  const md = markdownReport(back);
  const svg = await renderChart(back);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const complete = !o.quick && o.sections.length === 3;
  const suffix = `${o.quick ? '-quick' : ''}${o.sections.length === 3 ? '' : `-only-${o.sections.join('-')}`}`;
  const base = join(dir, `${result.date}${suffix}`);
  writeFileSync(`${base}.json`, json);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.svg`, svg);
  if (complete)
    for (const ext of ['json', 'md', 'svg']) copyFileSync(`${base}.${ext}`, join(dir, `latest.${ext}`));
  console.log(`\n${md.replace(/<details>[\s\S]*?<\/details>\n?/g, '')}`);
  progress(`written: ${base}.{json,md,svg}${complete ? ' and bench/results/latest.*' : ''}`);
}

await main();
