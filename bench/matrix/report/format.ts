/**
 * Number formatting for the report. A missing figure (NaN in memory, null once read back from
 * the JSON) prints as "–".
 */
import type { Stat } from '../stats.js';

export const MISSING = '–';

export function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

export function num(x: number | null | undefined, digits = 1): string {
  return isNum(x) ? x.toFixed(digits) : MISSING;
}

/** "1.23×" */
export function times(x: number | null | undefined): string {
  return isNum(x) ? `${x.toFixed(2)}×` : MISSING;
}

/** "median (min–max)", each value multiplied by `scale`; just the median when there was one run. */
export function stat(s: Stat | undefined | null, digits = 1, scale = 1): string {
  if (!s?.n || !isNum(s.median)) return MISSING;
  const f = (x: number) => (x * scale).toFixed(digits);
  return s.n === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** A Markdown table; cells are escaped for pipes. */
export function mdTable(head: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const sep = head.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'r' ? '---:' : '---'));
  return [head, sep, ...rows].map((r, i) => `| ${(i === 1 ? r : r.map(esc)).join(' | ')} |`).join('\n');
}
