/**
 * What the daemon does for each command: checks the arguments, reads or acts on the running
 * engine through the Runtime, and answers (or streams, for `trace`).
 */
import { ferryVersion } from '../cli/version.js';
import { snapshotConntrack } from '../conntrack/records.js';
import type { Runtime } from '../run/runtime.js';
import { collectStatus } from '../status/collect.js';
import type { PortRates } from '../status/rates.js';
import { startLiveTrace } from './live-trace.js';
import { type CommandName, type RawRequest, RequestError, type TraceArgs } from './protocol.js';

export interface HandlerContext {
  readonly runtime: Runtime;
  readonly rates: PortRates;
  /** Streams one event of the request. */
  emit(event: unknown): void;
  /** Runs `fn` if the connection closes before the request has answered. */
  onAbort(fn: () => void): void;
}

type Handler = (args: Readonly<Record<string, unknown>>, ctx: HandlerContext) => Promise<unknown>;

/** Longest `--timeout` accepted: a day. */
const MAX_TRACE_TIMEOUT = 86_400;

function noArgs(cmd: CommandName, args: Readonly<Record<string, unknown>>): void {
  const extra = Object.keys(args);
  if (extra.length) throw new RequestError(`${cmd} takes no arguments (got ${extra.join(', ')})`);
}

export function traceArgs(args: Readonly<Record<string, unknown>>): TraceArgs {
  const { filter = '', count, timeout = null, ...rest } = args;
  const extra = Object.keys(rest);
  if (extra.length)
    throw new RequestError(`trace: unknown arguments ${extra.join(', ')} (filter, count, timeout)`);
  if (typeof filter !== 'string') throw new RequestError('trace: "filter" must be a string');
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1)
    throw new RequestError('trace: "count" must be a whole number of packets, at least 1');
  if (timeout !== null && (typeof timeout !== 'number' || !(timeout > 0) || timeout > MAX_TRACE_TIMEOUT))
    throw new RequestError(`trace: "timeout" must be seconds, more than 0 and at most ${MAX_TRACE_TIMEOUT}`);
  return { filter, count, timeout: timeout as number | null };
}

const HANDLERS: Readonly<Record<CommandName, Handler>> = {
  hello: async (args, { runtime }) => {
    noArgs('hello', args);
    return {
      ferry: ferryVersion(),
      pid: process.pid,
      configPath: runtime.configPath,
      startedAt: runtime.startedAt,
    };
  },
  status: async (args, { runtime, rates }) => {
    noArgs('status', args);
    return collectStatus(runtime, { rates });
  },
  reload: async (args, { runtime }) => {
    noArgs('reload', args);
    return runtime.reload();
  },
  conntrack: async (args, { runtime }) => {
    noArgs('conntrack', args);
    const { engine } = runtime.current().built;
    if (!engine.conntrack)
      throw new RequestError(
        `connection tracking is off: no rule of ${runtime.configPath} needs it (NAT, ct state, ct mark)`,
      );
    return snapshotConntrack(engine.conntrack, Math.round(engine.ctx.now * 1000));
  },
  trace: async (args, ctx) => {
    const trace = startLiveTrace(ctx.runtime, traceArgs(args), (r) => ctx.emit(r));
    ctx.onAbort(() => trace.cancel());
    return trace.done;
  },
};

export function handle(req: RawRequest, ctx: HandlerContext): Promise<unknown> {
  return HANDLERS[req.cmd](req.args, ctx);
}
