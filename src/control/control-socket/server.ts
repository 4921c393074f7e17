/**
 * The control socket of a running ferry: a unix stream socket, root-only (its directory made
 * 0700 when ferry creates it, the socket itself 0600), speaking the JSON-lines protocol of
 * protocol.ts. `ferry status`, `ferry reload`, `ferry conntrack` and `ferry trace --live` are
 * its clients. A bad request gets an error answer; nothing a client sends stops the server.
 */
import { chmod, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Runtime } from '../run/runtime.js';
import { sampleRates } from '../status/collect.js';
import { PortRates } from '../status/rates.js';
import { type HandlerContext, handle } from './handlers.js';
import { LineSplitter } from './lines.js';
import { TraceBusyError } from './live-trace.js';
import {
  type ControlResponse,
  encodeLine,
  MAX_REQUEST_BYTES,
  parseRequestLine,
  RequestError,
  type RequestId,
} from './protocol.js';
import { prepareSocketPath } from './socket-path.js';
import { TraceFilterError } from './trace-filter.js';

export interface ControlLog {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

export interface ControlServer {
  close(): Promise<void>;
}

/** Errors that are the request's fault, answered without logging. */
function expected(e: unknown): boolean {
  return e instanceof RequestError || e instanceof TraceFilterError || e instanceof TraceBusyError;
}

class Connection {
  private readonly lines = new LineSplitter(MAX_REQUEST_BYTES);
  private readonly aborts = new Set<() => void>();
  private closed = false;
  private overflowed = false;
  private peerEnded = false;
  /** Requests not answered yet. */
  private pending = 0;

  constructor(
    private readonly socket: Socket,
    private readonly runtime: Runtime,
    private readonly rates: PortRates,
    private readonly log: ControlLog,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // The peer stopped sending: it may still read (`nc -U` at the end of its input) or be gone
    // (Ctrl-C on `ferry trace --live`); the two look alike. Answer what it asked, but stop
    // streaming (a live trace ends as cancelled), then end the connection.
    socket.on('end', () => {
      this.peerEnded = true;
      const rest = this.overflowed ? '' : this.lines.end();
      if (rest) this.onLine(rest);
      this.abortStreams();
      if (this.pending === 0) socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A client that went away while we answered (Ctrl-C) is not worth a warning.
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET')
        log.warn({ err: err.message }, 'control connection error');
    });
    socket.on('close', () => this.onClose());
  }

  private send(msg: ControlResponse): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(encodeLine(msg));
  }

  private onData(chunk: Buffer): void {
    if (this.overflowed) return;
    const { lines, overflow } = this.lines.push(chunk);
    for (const line of lines) this.onLine(line);
    if (overflow) {
      // Answer, then stop reading: what follows is the rest of a line we will not read.
      this.overflowed = true;
      this.send({
        id: null,
        ok: false,
        error: `request line over ${MAX_REQUEST_BYTES} bytes; closing the connection`,
      });
      this.socket.end();
    }
  }

  private onLine(line: string): void {
    const parsed = parseRequestLine(line);
    if (!('request' in parsed)) {
      this.send({ id: parsed.id, ok: false, error: parsed.error });
      return;
    }
    const req = parsed.request;
    let abort: (() => void) | null = null;
    const ctx: HandlerContext = {
      runtime: this.runtime,
      rates: this.rates,
      emit: (event) => this.send({ id: req.id, event } as ControlResponse),
      onAbort: (fn) => {
        abort = fn;
        this.aborts.add(fn);
      },
    };
    this.pending++;
    const finish = (msg: ControlResponse): void => {
      if (abort) this.aborts.delete(abort);
      this.send(msg);
      if (--this.pending === 0 && this.peerEnded) this.socket.end();
    };
    let pending: Promise<unknown>;
    try {
      pending = handle(req, ctx);
    } catch (e) {
      pending = Promise.reject(e);
    }
    pending.then(
      (result) => finish({ id: req.id, ok: true, result } as ControlResponse),
      (e: unknown) => {
        if (!expected(e))
          this.log.warn(
            { cmd: req.cmd, err: e instanceof Error ? e.stack : String(e) },
            'control request failed',
          );
        finish(this.errorAnswer(req.id, e));
      },
    );
  }

  private errorAnswer(id: RequestId, e: unknown): ControlResponse {
    return { id, ok: false, error: e instanceof Error ? e.message : String(e) };
  }

  private abortStreams(): void {
    const fns = [...this.aborts];
    this.aborts.clear();
    for (const fn of fns) fn();
  }

  private onClose(): void {
    this.closed = true;
    this.abortStreams();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Starts answering on `path` (default /run/ferry/ferry.sock, the caller's choice). Refuses when
 * another ferry answers there; replaces a stale socket file.
 */
export async function startControlServer(
  runtime: Runtime,
  path: string,
  log: ControlLog,
): Promise<ControlServer> {
  await prepareSocketPath(path);
  const rates = new PortRates();
  // The first `ferry status` gets rates since now.
  sampleRates(runtime, rates);
  const connections = new Set<Connection>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const c = new Connection(socket, runtime, rates, log);
    connections.add(c);
    socket.on('close', () => connections.delete(c));
  });
  server.on('error', (err) => log.warn({ err: err.message, path }, 'control socket error'));
  await listen(server, path);
  try {
    await chmod(path, 0o600);
  } catch (e) {
    server.close();
    throw e;
  }
  log.info({ path }, 'control socket listening');
  let closing: Promise<void> | null = null;
  return {
    close(): Promise<void> {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const c of connections) c.destroy();
        await closed;
        await unlink(path).catch(() => undefined);
        log.info({ path }, 'control socket closed');
      })();
      return closing;
    },
  };
}
