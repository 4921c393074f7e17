/**
 * The one statistic every figure of the matrix carries: the median of its runs with the min and
 * the max (the machine is shared and noisy, so the spread is part of the result). Runs that
 * produced no number (NaN: a test that failed) are left out and counted in `n` only when valid.
 */

export interface Stat {
  median: number;
  min: number;
  max: number;
  /** Valid runs the figure is made of. */
  n: number;
  /** The values of those runs, in run order. */
  runs: number[];
}

/** Median (mean of the two middle values for an even count), min and max of the finite values. */
export function summarize(values: readonly number[]): Stat {
  const runs = values.filter((v) => Number.isFinite(v));
  if (!runs.length) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0, runs: [] };
  const s = [...runs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, n: runs.length, runs };
}

/** Ratio of two medians (NaN when either is missing or the denominator is 0). */
export function ratioOf(num: Stat | undefined, den: Stat | undefined): number {
  if (!num || !den || !num.n || !den.n || den.median === 0) return Number.NaN;
  return num.median / den.median;
}
