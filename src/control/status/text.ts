/** Text helpers for `ferry status`: aligned columns and human-sized numbers and durations. */

export interface Column {
  readonly title: string;
  /** Numbers read best right-aligned. */
  readonly right?: boolean;
}

/** Rows under a header, each column as wide as its widest cell; the last column is not padded. */
export function table(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  indent = '  ',
): string[] {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    indent +
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        if (c.right) return cell.padStart(widths[i]!);
        return i === columns.length - 1 ? cell : cell.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), ...rows.map(line)];
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1234567 → "1.2 MiB" (exact below 1 KiB). */
export function bytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${BYTE_UNITS[u]}`;
}

/** 12345.6 → "12.3k" (SI, for rates). */
export function si(n: number): string {
  const units = ['', 'k', 'M', 'G', 'T'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  const digits = u === 0 && Number.isInteger(v) ? 0 : v < 10 ? 2 : v < 100 ? 1 : 0;
  return `${v.toFixed(digits)}${units[u]}`;
}

/** Seconds as "2d 03h", "1h 02m", "3m 20s", "45s", "0.5s". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'never';
  const neg = seconds < 0;
  const s = Math.abs(seconds);
  let text: string;
  if (s < 10 && !Number.isInteger(s)) text = `${s.toFixed(1)}s`;
  else if (s < 60) text = `${Math.floor(s)}s`;
  else if (s < 3600) text = `${Math.floor(s / 60)}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  else if (s < 86400)
    text = `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  else text = `${Math.floor(s / 86400)}d ${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
  return neg ? `${text} ago` : text;
}
