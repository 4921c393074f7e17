/** The Markdown report of a matrix result: one table per section, medians (min–max) and ratios. */
import type { LiveSection, MatrixResult, ReplayCaseResult, ScaleRow } from '../types.js';
import { isNum, MISSING, mdTable, num, stat, times } from './format.js';

function header(r: MatrixResult): string[] {
  const m = r.machine;
  const min = Math.floor(r.durationSec / 60);
  const sec = Math.round(r.durationSec % 60);
  return [
    `# ferry benchmark matrix — ${r.date}`,
    '',
    `- Run: ${r.startedAt} → ${r.finishedAt} (${min} min ${sec} s), ${r.mode} matrix, sections: ${r.sections.join(', ')}`,
    `- Code: git ${r.git.commit}${r.git.dirty ? ' (with uncommitted changes)' : ''}`,
    `- Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memGiB} GiB, kernel ${m.kernel}, Node ${m.node}`,
    `- Reproduce: \`${r.reproduce}\` (root for the live section; \`-- --quick\` for a smaller matrix, \`-- --only replay|live|scale\` for one section)`,
    '- Every figure: median of the runs (min–max); ratios are of medians measured in this run.',
    '',
  ];
}

function targets(r: MatrixResult): string[] {
  const met = (m: boolean | null) => (m === null ? MISSING : m ? 'yes' : 'no');
  return [
    '## Targets',
    '',
    mdTable(
      ['target', 'goal', 'measured', 'met'],
      r.targets.map((t) => [t.what, t.goal, t.value, met(t.met)]),
      ['l', 'l', 'l', 'l'],
    ),
    '',
  ];
}

function replay(r: MatrixResult): string[] {
  const out = ['## Replay (pipeline only, in-process, from memory)', ''];
  if (r.replay.skipped) return [...out, `Skipped: ${r.replay.skipped}`, ''];
  const cases = r.replay.cases;
  out.push(
    `Each case in its own process: the flows opened through the router first (handshakes, NAT mappings), then a fixed cycle of batches of up to 256 frames per ingress port replayed ${r.replay.runs} times (timed runs), each batch restored from a pristine copy first (ferry rewrites in place; the restore is included, its cost apart). GCs and heap growth are counted over the timed runs: 0 GCs means no allocation on the path.`,
    '',
    mdTable(
      [
        'case',
        'config',
        'Mpps',
        'ns/packet',
        'Gbit/s',
        'GCs (per run)',
        'heap B/packet',
        'restore ns/packet',
        'drops',
      ],
      cases.map((c) => [
        c.label,
        c.config,
        stat(c.mpps, 2),
        stat(c.nsPerPacket, 0),
        stat(c.gbps, 2),
        stat(c.gcs, 0),
        stat(c.heapBytesPerPacket, 3),
        num(c.refillNsPerPacket, 1),
        Object.entries(c.drops)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || '0',
      ]),
    ),
    '',
    ...cases.map(
      (c) =>
        `- **${c.label}**: ${c.traffic}; ${c.cycleFrames} frames per cycle, ${num(c.meanFrameBytes, 0)} bytes mean.`,
    ),
    '',
  );
  if (cases.length) out.push(...stages(cases));
  for (const e of r.replay.errors) out.push(`- Failed: ${e}`);
  return out;
}

function stages(cases: ReplayCaseResult[]): string[] {
  const names: string[] = [];
  for (const c of cases) for (const s of c.stages) if (!names.includes(s.stage)) names.push(s.stage);
  const rows = names.map((n) => [
    n,
    ...cases.map((c) => {
      const s = c.stages.find((x) => x.stage === n);
      return s ? `${num(s.nsPerPacket, 1)} (${num(s.vector, 0)})` : MISSING;
    }),
  ]);
  return [
    '### ns per packet per stage (one profiled run; average vector in brackets)',
    '',
    'Per-stage timing adds two clock reads per stage call, so the sum exceeds the unprofiled ns/packet.',
    '',
    mdTable(['stage', ...cases.map((c) => c.id)], rows),
    '',
  ];
}

function live(l: LiveSection): string[] {
  const out = ['## Live (network namespaces, seed-000 topology)', ''];
  if (l.skipped) return [...out, `Skipped: ${l.skipped}`, ''];
  out.push(
    'Client 192.168.0.53 (ns cli) → forwarder (ns fwd: eth1 / eth0 to the ISP router ns / tailscale0 veth) → server 192.168.1.30 (ns srv), the same topology for every engine; ' +
      `${l.rounds} rounds, engine order rotated per round, a fresh topology per engine and round; ${l.secsPerTest} s per test. ` +
      `UDP: ${l.udpSenders} udpgen senders (sendmmsg, ${l.udpPayloadBytes}-byte payloads, ${l.udpPayloadBytes + 42}-byte frames) as fast as they can. ` +
      `TCP: iperf3, ${l.tcpStreams} parallel streams. Ping: ${l.pingIdleCount} echoes 10 ms apart alone (light load), and every 10 ms during the TCP test (under load). ` +
      'CPU % are of one core (2 cores = 200); fwd = the forwarder process, machine = everything (for the kernel, forwarding runs in softirq inside the senders).',
    '',
    ...l.engines.map((e) => `- **${e.id}**: ${e.label}${e.command ? ` — \`${e.command}\`` : ''}`),
    '',
    mdTable(
      [
        'engine',
        'UDP rx kpps',
        'offered kpps',
        'UDP loss %',
        'TCP Gbit/s',
        'TCP retr',
        'ping p50 ms',
        'ping p99 ms',
        'loaded p50 ms',
        'loaded p99 ms',
        'fwd CPU % UDP',
        'machine CPU % UDP',
        'machine µs/pkt UDP',
        'fwd CPU % TCP',
        'TTL',
        'bg load %',
      ],
      l.engines.map((e) => [
        e.id,
        stat(e.udp?.rxPps, 0, 1e-3),
        stat(e.udp?.offeredPps, 0, 1e-3),
        stat(e.udp?.lossPct, 1),
        stat(e.tcp?.gbps, 2),
        stat(e.tcp?.retransmits, 0),
        stat(e.pingIdle.p50Ms, 3),
        stat(e.pingIdle.p99Ms, 3),
        stat(e.pingLoaded?.p50Ms, 3),
        stat(e.pingLoaded?.p99Ms, 3),
        stat(e.udp?.fwdCpuPct, 0),
        stat(e.udp?.machineCpuPct, 0),
        stat(e.udp?.machineUsPerPacket, 2),
        stat(e.tcp?.fwdCpuPct, 0),
        e.ttl ? String(e.ttl) : MISSING,
        stat(e.bgLoadPct, 0),
      ]),
    ),
    '',
    ...ratios(l),
  );
  const errs = l.engines.flatMap((e) => e.errors.map((x) => `- ${e.id}: ${x}`));
  if (errs.length || l.errors.length)
    out.push('Failures:', '', ...errs, ...l.errors.map((x) => `- ${x}`), '');
  const logs = l.engines.filter((e) => e.log);
  if (logs.length) {
    out.push(
      '<details><summary>Forwarder reports (last round)</summary>',
      '',
      ...logs.map(
        (e) =>
          `- ${e.id}: \`${e.log
            .replace(/`/g, "'")
            .replace(/\s*\n\s*/g, ' ')
            .slice(-3000)}\``,
      ),
      '',
      '</details>',
      '',
    );
  }
  return out;
}

/** Ratios as a table: a row per metric, a column per pair (ferry / kernel, ferry / c, ...). */
function ratios(l: LiveSection): string[] {
  if (!l.ratios.length) return [];
  const metrics = [...new Set(l.ratios.map((x) => x.metric))];
  const pairs = [...new Set(l.ratios.map((x) => x.pair))];
  const rows = metrics.map((m) => [
    m,
    ...pairs.map((p) => {
      const x = l.ratios.find((q) => q.metric === m && q.pair === p);
      return x ? times(x.value) : '';
    }),
  ]);
  return ['### Ratios (of medians)', '', mdTable(['metric', ...pairs], rows), ''];
}

function scale(r: MatrixResult): string[] {
  const out = ['## Scale (conntrack flow table)', ''];
  if (r.scale.skipped) return [...out, `Skipped: ${r.scale.skipped}`, ''];
  const m = (s: ScaleRow['lookupPerSec']) => stat(s, 2, 1e-6);
  out.push(
    `Per size: memory measured as ArrayBuffer growth of a new table, then ${r.scale.runs} runs of: new flows into the empty table, established lookups in random order (both directions), misses, a mixed stream (90 % hits, 10 % new flows replacing old ones), churn on the full table. Rates in millions per second. Growth columns: versus the next smaller size.`,
    '',
    mdTable(
      [
        'flows',
        'B/flow',
        'B/flow (arrays)',
        'lookups M/s',
        'misses M/s',
        'new flows M/s',
        'mixed M/s',
        'churn M/s',
        'lookup rate vs previous',
        'B/flow vs previous',
      ],
      r.scale.rows.map((x) => [
        x.flows.toLocaleString('en-US'),
        num(x.bytesPerFlow, 1),
        num(x.arrayBytesPerFlow, 1),
        m(x.lookupPerSec),
        m(x.missPerSec),
        m(x.insertPerSec),
        m(x.mixedPerSec),
        m(x.churnPerSec),
        isNum(x.lookupVsPrevious) ? times(x.lookupVsPrevious) : MISSING,
        isNum(x.bytesVsPrevious) ? times(x.bytesVsPrevious) : MISSING,
      ]),
    ),
    '',
  );
  for (const e of r.scale.errors) out.push(`- Failed: ${e}`);
  return out;
}

export function markdownReport(r: MatrixResult): string {
  return [...header(r), ...targets(r), ...replay(r), ...live(r.live), ...scale(r)]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}
