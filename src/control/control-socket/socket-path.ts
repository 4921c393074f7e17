/**
 * Getting the control socket's path ready before listening: its directory made (root-only) if
 * missing, a leftover socket of a ferry that died removed, and a running ferry left alone.
 */
import type { Stats } from 'node:fs';
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ControlUnavailableError, controlRequest } from './client.js';

export class ControlSocketInUseError extends Error {
  override readonly name = 'ControlSocketInUseError';
}

/** How long a socket that accepts a connection has to answer "hello" before we call it busy anyway. */
const PROBE_TIMEOUT_MS = 2000;

async function exists(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Makes `path` free to bind: creates its directory (mode 0700) when missing; a socket nobody
 * answers on is stale and removed; one that answers belongs to a running ferry (or something
 * else), and that is an error, as is a path that is not a socket.
 */
export async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const st = await exists(path);
  if (!st) return;
  if (!st.isSocket())
    throw new ControlSocketInUseError(
      `${path} exists and is not a socket; remove it or pick another --control path`,
    );
  try {
    const hello = await controlRequest(path, 'hello', {}, { timeoutMs: PROBE_TIMEOUT_MS });
    throw new ControlSocketInUseError(
      `another ferry is running with its control socket at ${path} (pid ${hello.pid}, config ${hello.configPath}); stop it first or use another control path`,
    );
  } catch (e) {
    if (e instanceof ControlSocketInUseError) throw e;
    if (e instanceof ControlUnavailableError && e.reason === 'refused') {
      // Nobody listens: the file is what a ferry that died left behind.
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      return;
    }
    // Gone between lstat and connect: free.
    if (e instanceof ControlUnavailableError && e.reason === 'absent') return;
    throw new ControlSocketInUseError(
      `something is listening on ${path} but does not answer as ferry (${e instanceof Error ? e.message : String(e)}); not replacing it`,
    );
  }
}
