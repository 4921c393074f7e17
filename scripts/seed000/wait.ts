/** Bounded waiting for seed 000's processes, and reading the files they write as they go. */
import { readFile } from 'node:fs/promises';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 50 ms for at most `ms`; throws `what` if it never holds (or on abort). */
export async function waitUntil(
  what: string,
  ms: number,
  cond: () => Promise<boolean>,
  signal?: AbortSignal,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    signal?.throwIfAborted();
    if (await cond()) return;
    if (Date.now() >= end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(50);
  }
}

/** A file's text, or '' while it does not exist yet. */
export async function readOr(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}
