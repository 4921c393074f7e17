/**
 * Config errors. Every problem found in a file is one `ConfigIssue` pointing at the exact YAML
 * node (file, 1-based line and column, the key path) so editors can jump to it; a load that finds
 * any issue throws one `ConfigError` listing all of them, sorted by position.
 */

export interface ConfigIssue {
  readonly file: string;
  /** 1-based; 0 when the problem is the file itself (unreadable). */
  readonly line: number;
  readonly column: number;
  /** Key path such as `ports[1].addresses[0]`; empty for file-level and syntax errors. */
  readonly path: string;
  readonly message: string;
}

/** `file:line:col: path: message` (parts that do not apply are left out). */
export function formatIssue(i: ConfigIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.column}` : i.file;
  return `${where}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const sorted = [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
    super(sorted.map(formatIssue).join('\n'));
    this.issues = sorted;
  }
}

/** A path segment list as shown to users: `ports[1].addresses[0]`, `tables["100"][0].dev`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else {
      const k = String(seg);
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k)) s += s ? `.${k}` : k;
      else s += `[${JSON.stringify(k)}]`;
    }
  }
  return s;
}
