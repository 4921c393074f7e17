/**
 * What the benchmark matrix must undo however it ends (done, failed, SIGINT/SIGTERM): the
 * namespaces it created, the processes it started and its temporary directories. Every creator
 * registers here right after creating; `cleanupAll()` kills and removes what is still registered.
 */
import { rmSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';

const namespaces = new Set<string>();
const processes = new Set<ResultPromise>();
const dirs = new Set<string>();

export function trackNamespace(ns: string): void {
  namespaces.add(ns);
}

/** Deletes `names` (retrying: a busy machine can time out) and forgets them. */
export async function deleteNamespaces(names: readonly string[]): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const listed = String((await execa('ip', ['netns', 'list'], { reject: false, timeout: 15_000 })).stdout);
    const present = new Set(listed.split('\n').map((l) => l.split(' ')[0]));
    const left = names.filter((ns) => present.has(ns));
    if (!left.length) break;
    for (const ns of left) await execa('ip', ['netns', 'del', ns], { reject: false, timeout: 30_000 });
  }
  for (const ns of names) namespaces.delete(ns);
}

/** Registers a started process; it is forgotten once it exits. */
export function trackProcess<T extends ResultPromise>(p: T): T {
  processes.add(p);
  p.finally(() => processes.delete(p)).catch(() => {});
  return p;
}

export function trackDir(dir: string): void {
  dirs.add(dir);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Kills every tracked process (SIGTERM, then SIGKILL after 3 s), removes namespaces and dirs. */
export async function cleanupAll(): Promise<void> {
  const procs = [...processes];
  for (const p of procs) p.kill('SIGTERM');
  await Promise.allSettled(
    procs.map((p) =>
      Promise.race([p, new Promise((r) => setTimeout(r, 3000))]).then(() => {
        if (p.exitCode === null) p.kill('SIGKILL');
      }),
    ),
  );
  await deleteNamespaces([...namespaces]);
  for (const d of [...dirs]) removeDir(d);
}

/** Installs SIGINT/SIGTERM handlers that clean up and exit with 130 / 143. */
export function cleanupOnSignals(log: (msg: string) => void): void {
  let busy = false;
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(sig, () => {
      if (busy) return;
      busy = true;
      log(`bench: ${sig}, cleaning up (namespaces, processes)`);
      void cleanupAll().finally(() => process.exit(code));
    });
  }
}
