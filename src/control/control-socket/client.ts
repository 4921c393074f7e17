/**
 * The client side of the control socket, for `ferry status`, `ferry reload`, `ferry conntrack`
 * and `ferry trace --live`: one connection per request, one request per connection.
 */
import { createConnection, type Socket } from 'node:net';
import { LineSplitter } from './lines.js';
import {
  type ArgsOf,
  type CommandName,
  type ControlResponse,
  type EventOf,
  encodeLine,
  MAX_ANSWER_BYTES,
  type ResultOf,
} from './protocol.js';

export const DEFAULT_CONTROL_PATH = '/run/ferry/ferry.sock';
export const CONTROL_PATH_ENV = 'FERRY_CONTROL';

/** Where to find the daemon: `--control PATH`, else $FERRY_CONTROL, else /run/ferry/ferry.sock. */
export function resolveControlPath(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return option;
  const fromEnv = env[CONTROL_PATH_ENV];
  return fromEnv ? fromEnv : DEFAULT_CONTROL_PATH;
}

/**
 * Nobody answers at the path. `reason`: `absent` (no socket file), `refused` (a socket file nobody
 * listens on: stale), `denied` (no permission), `other`.
 */
export class ControlUnavailableError extends Error {
  override readonly name = 'ControlUnavailableError';
  constructor(
    message: string,
    readonly reason: 'absent' | 'refused' | 'denied' | 'other',
  ) {
    super(message);
  }
}

/** The daemon answered the request with an error. */
export class ControlRemoteError extends Error {
  override readonly name = 'ControlRemoteError';
}

/** The exchange broke off: the daemon went away mid-answer, sent garbage, took too long, or we gave up. */
export class ControlExchangeError extends Error {
  override readonly name = 'ControlExchangeError';
  constructor(
    message: string,
    readonly cancelled = false,
  ) {
    super(message);
  }
}

function connectError(path: string, err: NodeJS.ErrnoException): ControlUnavailableError {
  const start = 'start one with `ferry run -c FILE`, or pass --control';
  switch (err.code) {
    case 'ENOENT':
      return new ControlUnavailableError(
        `no ferry is running (no control socket at ${path}; ${start})`,
        'absent',
      );
    case 'ECONNREFUSED':
      return new ControlUnavailableError(
        `no ferry is running (nothing answers on the control socket at ${path}; ${start})`,
        'refused',
      );
    case 'EACCES':
    case 'EPERM':
      return new ControlUnavailableError(
        `cannot use the control socket at ${path}: permission denied (it is root-only)`,
        'denied',
      );
    default:
      return new ControlUnavailableError(`cannot reach ferry at ${path}: ${err.message}`, 'other');
  }
}

export interface RequestOptions {
  /** Give up after this many milliseconds without the final answer (default: 10 s; 0 = never). */
  timeoutMs?: number;
  /** Aborting closes the connection (the daemon then stops what the request started). */
  signal?: AbortSignal;
}

const REQUEST_ID = 1;
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Sends one request and resolves with its result; events of a streaming command go to
 * `onEvent` as they arrive.
 */
export function controlStream<C extends CommandName>(
  path: string,
  cmd: C,
  args: ArgsOf<C>,
  onEvent: (event: EventOf<C>) => void,
  opts: RequestOptions = {},
): Promise<ResultOf<C>> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let connected = false;
    let timer: NodeJS.Timeout | null = null;
    const socket: Socket = createConnection({ path });
    const lines = new LineSplitter(MAX_ANSWER_BYTES);
    const settle = (err: Error | null, result?: ResultOf<C>): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(result as ResultOf<C>);
    };
    const onAbort = (): void => settle(new ControlExchangeError('cancelled', true));
    if (opts.signal?.aborted) {
      onAbort();
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (timeoutMs > 0) {
      timer = setTimeout(
        () =>
          settle(
            new ControlExchangeError(`ferry at ${path} did not answer "${cmd}" within ${timeoutMs / 1000} s`),
          ),
        timeoutMs,
      );
    }
    socket.on('connect', () => {
      connected = true;
      socket.write(encodeLine({ id: REQUEST_ID, cmd, args }));
    });
    socket.on('data', (chunk: Buffer) => {
      const got = lines.push(chunk);
      if (got.overflow) {
        settle(
          new ControlExchangeError(`ferry at ${path} sent an answer line over ${MAX_ANSWER_BYTES} bytes`),
        );
        return;
      }
      for (const line of got.lines) {
        let msg: ControlResponse<C>;
        try {
          msg = JSON.parse(line) as ControlResponse<C>;
        } catch {
          settle(
            new ControlExchangeError(
              `ferry at ${path} sent something that is not JSON: ${line.slice(0, 80)}`,
            ),
          );
          return;
        }
        if (msg.id !== REQUEST_ID && msg.id !== null) continue;
        if ('event' in msg) {
          try {
            onEvent(msg.event);
          } catch (e) {
            settle(e instanceof Error ? e : new Error(String(e)));
            return;
          }
        } else if (msg.ok) settle(null, msg.result);
        else settle(new ControlRemoteError(msg.error));
        if (settled) return;
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      settle(
        connected
          ? new ControlExchangeError(`connection to ferry at ${path}: ${err.message}`)
          : connectError(path, err),
      );
    });
    socket.on('close', () => {
      settle(new ControlExchangeError(`ferry at ${path} closed the connection before answering "${cmd}"`));
    });
  });
}

/** Sends one request and resolves with its result. */
export function controlRequest<C extends CommandName>(
  path: string,
  cmd: C,
  args: ArgsOf<C>,
  opts: RequestOptions = {},
): Promise<ResultOf<C>> {
  return controlStream(
    path,
    cmd,
    args,
    () => {
      throw new ControlExchangeError(`ferry at ${path} streamed events for "${cmd}", which has none`);
    },
    opts,
  );
}

/** The message to show for a failed exchange, or null when `e` is not one (a bug: rethrow it). */
export function controlFailure(e: unknown): string | null {
  if (
    e instanceof ControlUnavailableError ||
    e instanceof ControlRemoteError ||
    e instanceof ControlExchangeError
  )
    return e.message;
  return null;
}
