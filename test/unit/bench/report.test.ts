/**
 * The matrix report from a small fixed result (fixtures/matrix-small.json, as the runner writes
 * it: missing figures are null): the Markdown tables with their ratio columns, the targets, and
 * the chart, rendered by vega-lite + vega to SVG.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderChart } from '../../../bench/matrix/report/chart.js';
import { markdownReport } from '../../../bench/matrix/report/markdown.js';
import { evaluateTargets } from '../../../bench/matrix/report/targets.js';
import type { MatrixResult } from '../../../bench/matrix/types.js';
import { wellFormedXml } from './well-formed-xml.js';

const load = (): MatrixResult =>
  JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/matrix-small.json'), 'utf8')) as MatrixResult;

describe('benchmark matrix report', () => {
  const r = load();
  r.targets = evaluateTargets(r);
  const md = markdownReport(r);
  const lines = md.split('\n');
  const row = (first: string) => lines.find((l) => l.startsWith(`| ${first} |`)) ?? '';

  it('says what machine, which commit and how to reproduce', () => {
    expect(md).toContain('# ferry benchmark matrix — 2026-11-22');
    expect(md).toContain('AMD EPYC, 2 cores, 23.5 GiB, kernel 6.18.44-fc-v669, Node v20.20.2');
    expect(md).toContain('git 0123456789abcdef0123456789abcdef01234567');
    expect(md).toContain('`sudo npm run bench`');
    expect(md).toContain('(18 min 30 s)');
  });

  it('one table per section, medians with (min–max)', () => {
    for (const h of ['## Targets', '## Replay', '## Live', '## Scale']) expect(md).toContain(h);
    expect(row('seed 000, 64-byte UDP, established flows')).toContain('| 3.20 (3.10–3.30) |');
    expect(row('seed 003, dual WAN, stateful filter + NAT')).toContain('ip4-no-route 3');
    expect(row('ferry')).toContain('| 184 (176–192) |');
    expect(row('kernel')).toContain('| 3.00 (2.90–3.20) |');
    expect(row('1,000,000')).toContain('| 2.50 (2.40–2.60) |');
    expect(row('1,000,000')).toContain('| 0.50× |');
  });

  it('the live ratios as columns: ferry / kernel, ferry / c, offloads on', () => {
    const head = lines.find((l) => l.startsWith('| metric |'))!;
    expect(head).toBe('| metric | ferry / kernel | ferry / c | ferry-vnet / kernel-offon |');
    expect(row('UDP 64 B rx pps')).toBe('| UDP 64 B rx pps | 0.80× | 0.92× |  |');
    // null (not measured) prints as a dash, never as "null" or "NaN"
    expect(row('TCP Gbit/s, offloads on')).toBe('| TCP Gbit/s, offloads on |  |  | – |');
    expect(md).not.toMatch(/null|NaN/);
  });

  it('an engine without a test shows dashes, and its failures are listed', () => {
    const vnet = row('ferry-vnet')
      .split('|')
      .map((c) => c.trim());
    expect(vnet[1]).toBe('ferry-vnet');
    expect(vnet[2]).toBe('–'); // UDP rx kpps
    expect(vnet[5]).toBe('–'); // TCP Gbit/s
    expect(md).toContain('- ferry-vnet: round 1: TCP: iperf3 moved no data');
  });

  it('targets: measured values against the goals', () => {
    const t = Object.fromEntries(r.targets.map((x) => [x.goal, x]));
    expect(t['≥ 0.9 × kernel']).toMatchObject({ met: false });
    expect(t['≥ 0.9 × kernel']!.value).toContain('0.80×');
    expect(t['≥ 3 Mpps with 0 allocations']).toMatchObject({ met: true });
    expect(t['≤ 1.5 × kernel']).toMatchObject({ met: false });
    expect(t['≥ 0.5 × kernel with offloads on']!.value).toContain('ferry offloads off 0.10×');
    expect(t.reported!.value).toContain('ferry 20.000 ms');
    expect(row('replay, seed 000, 64-byte established flows')).toContain('| yes |');
  });

  it('the chart is well-formed SVG naming every engine and case', async () => {
    const svg = await renderChart(r);
    const elements = wellFormedXml(svg);
    expect(elements[0]).toBe('svg');
    for (const name of ['kernel', 'kernel-offon', 'ferry', 'seed000-udp64', 'seed003-dualwan']) {
      expect(svg).toContain(`>${name}<`);
    }
    expect(svg).toContain('UDP 64 B, kpps received');
    expect(svg).toContain('TCP, Gbit/s');
  });
});
