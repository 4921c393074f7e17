/** The demo's output: numbered steps with a short explanation, indented results, ✓/✗ checks. */

const tty = process.stdout.isTTY === true;
export const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
export const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);

const INDENT = '       ';

export class DemoPrinter {
  readonly #t0 = Date.now();
  /** Checks that failed so far. */
  failures = 0;
  /** Set once interrupted: the steps still unwinding print nothing (`say` still does). */
  quiet = false;

  clock(): string {
    return dim(`[${((Date.now() - this.#t0) / 1000).toFixed(1).padStart(4)}s]`);
  }

  say(s = ''): void {
    process.stdout.write(`${s}\n`);
  }

  /** A step's title, and what is going on in it (dimmed). */
  step(n: number, title: string, why: readonly string[]): void {
    if (this.quiet) return;
    this.say();
    this.say(`${this.clock()} ${bold(`${n}. ${title}`)}`);
    for (const l of why) this.say(`${INDENT}${dim(l)}`);
  }

  /** Result lines (blank ones skipped); `deeper` indents them under the line before. */
  show(lines: string | readonly string[], deeper = false): void {
    if (this.quiet) return;
    const pad = deeper ? `${INDENT}  ` : INDENT;
    for (const l of typeof lines === 'string' ? lines.split('\n') : lines)
      if (l.trim()) this.say(`${pad}${l}`);
  }

  /** A ✓ or ✗ line; a ✗ counts as a failure. */
  check(ok: boolean, text: string): void {
    if (!ok) this.failures++;
    if (this.quiet) return;
    this.say(`${INDENT}${ok ? '✓' : '✗'} ${text}`);
  }
}
