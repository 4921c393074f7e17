/**
 * The chart of a matrix result, a Vega-Lite spec rendered headless to SVG by Vega: live 64-byte
 * UDP kpps and TCP Gbit/s per engine (bars side by side per metric, min–max error bars), and
 * replay Mpps per case (the same). Missing figures are left out.
 */
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { compile } from 'vega-lite';
import type { Stat } from '../stats.js';
import type { MatrixResult } from '../types.js';
import { isNum } from './format.js';

interface Bar {
  group: string;
  name: string;
  median: number;
  min: number;
  max: number;
}

const bar = (group: string, name: string, s: Stat | undefined, scale = 1): Bar[] =>
  s?.n && isNum(s.median)
    ? [{ group, name, median: s.median * scale, min: s.min * scale, max: s.max * scale }]
    : [];

function bars(values: Bar[], title: string, yTitle: string) {
  const x = { field: 'name', type: 'nominal' as const, title: null, sort: null, axis: { labelAngle: -30 } };
  return {
    title,
    data: { values },
    facet: {
      column: {
        field: 'group',
        type: 'nominal' as const,
        title: null,
        sort: [...new Set(values.map((v) => v.group))],
      },
    },
    spec: {
      width: 210,
      height: 200,
      layer: [
        {
          mark: { type: 'bar' as const, tooltip: true },
          encoding: {
            x,
            y: { field: 'median', type: 'quantitative' as const, title: yTitle },
            color: { field: 'name', type: 'nominal' as const, legend: null, sort: null },
          },
        },
        {
          mark: { type: 'rule' as const, color: 'black' },
          encoding: { x, y: { field: 'min', type: 'quantitative' as const }, y2: { field: 'max' } },
        },
        {
          mark: { type: 'text' as const, dy: -8, fontSize: 9 },
          encoding: {
            x,
            y: { field: 'max', type: 'quantitative' as const },
            text: { field: 'median', type: 'quantitative' as const, format: '.3~r' },
          },
        },
      ],
    },
    resolve: { scale: { y: 'independent' as const, x: 'independent' as const } },
  };
}

export function chartSpec(r: MatrixResult): TopLevelSpec {
  const live = r.live.engines.flatMap((e) => [
    ...bar('UDP 64 B, kpps received', e.id, e.udp?.rxPps, 1e-3),
    ...bar('TCP, Gbit/s', e.id, e.tcp?.gbps),
  ]);
  const replay = r.replay.cases.flatMap((c) => bar('replay, Mpps', c.id, c.mpps));
  const parts = [
    ...(live.length ? [bars(live, 'Live, per engine (median, min–max)', 'median, min–max')] : []),
    ...(replay.length ? [bars(replay, 'Replay, per case (median, min–max)', 'Mpps')] : []),
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `ferry benchmark matrix, ${r.date}`,
      subtitle: `${r.machine.cpuModel}, ${r.machine.cores} cores, Node ${r.machine.node}, git ${r.git.commit.slice(0, 10)}`,
    },
    vconcat: parts.length ? parts : [{ mark: 'text', encoding: { text: { value: 'no figures measured' } } }],
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}

export async function renderChart(r: MatrixResult): Promise<string> {
  const view = new vega.View(vega.parse(compile(chartSpec(r)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
