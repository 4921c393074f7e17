/**
 * The control socket's protocol: JSON lines over a unix stream socket (`/run/ferry/ferry.sock`).
 *
 *   → {"id":1,"cmd":"status","args":{}}
 *   ← {"id":1,"ok":true,"result":{…}}            one final answer per request, or
 *   ← {"id":1,"ok":false,"error":"…"}
 *
 * A streaming command (`trace`) sends any number of `{"id":1,"event":{…}}` lines before its final
 * answer. Requests on one connection may overlap: the id (a number or a string the client picks)
 * says which request a line answers. A line that is not a request gets an error answer with the
 * id it carried, or null when it carried none.
 */
import type { CtSnapshot } from '../conntrack/records.js';
import type { ReloadResult } from '../run/runtime.js';
import type { StatusSnapshot } from '../status/types.js';
import type { TraceRecord } from '../trace/record.js';

/** Longest request line the daemon accepts (requests are small; this only bounds a bad client). */
export const MAX_REQUEST_BYTES = 1 << 20;
/** Longest answer line a client accepts (a conntrack listing of a full table is tens of MB). */
export const MAX_ANSWER_BYTES = 1 << 30;

export type RequestId = number | string;

/** Who answers on the socket (also how a starting ferry tells a live socket from a stale one). */
export interface HelloResult {
  readonly ferry: string;
  readonly pid: number;
  readonly configPath: string;
  readonly startedAt: number;
}

/** `ferry trace --live FILTER --count N --timeout S`. */
export interface TraceArgs {
  /** The filter as typed (trace-filter.ts); empty: every packet. */
  readonly filter: string;
  readonly count: number;
  /** Seconds, or null to wait until `count` packets were traced. */
  readonly timeout: number | null;
}

export type TraceEndReason = 'count' | 'timeout' | 'reloaded' | 'cancelled';

export interface TraceEnd {
  readonly traced: number;
  readonly reason: TraceEndReason;
}

/** Per command: what it takes, what it answers, and what it streams before answering. */
export interface CommandMap {
  hello: { args: Record<string, never>; result: HelloResult; event: never };
  status: { args: Record<string, never>; result: StatusSnapshot; event: never };
  reload: { args: Record<string, never>; result: ReloadResult; event: never };
  conntrack: { args: Record<string, never>; result: CtSnapshot; event: never };
  trace: { args: TraceArgs; result: TraceEnd; event: TraceRecord };
}

export type CommandName = keyof CommandMap;
export type ArgsOf<C extends CommandName> = CommandMap[C]['args'];
export type ResultOf<C extends CommandName> = CommandMap[C]['result'];
export type EventOf<C extends CommandName> = CommandMap[C]['event'];

export const COMMAND_NAMES: readonly CommandName[] = ['hello', 'status', 'reload', 'conntrack', 'trace'];

export interface ControlRequest<C extends CommandName = CommandName> {
  readonly id: RequestId;
  readonly cmd: C;
  readonly args: ArgsOf<C>;
}

export type ControlResponse<C extends CommandName = CommandName> =
  | { readonly id: RequestId | null; readonly ok: true; readonly result: ResultOf<C> }
  | { readonly id: RequestId | null; readonly ok: false; readonly error: string }
  | { readonly id: RequestId; readonly event: EventOf<C> };

/** A request line as read: the command is known, its args are still unchecked. */
export interface RawRequest {
  readonly id: RequestId;
  readonly cmd: CommandName;
  readonly args: Readonly<Record<string, unknown>>;
}

export type ParsedLine =
  | { readonly request: RawRequest }
  | { readonly id: RequestId | null; readonly error: string };

/** A request the daemon refuses, with the reason the client shows (not the daemon's fault: not logged). */
export class RequestError extends Error {
  override readonly name = 'RequestError';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is RequestId {
  return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 200);
}

/** Checks one request line; what is wrong with a bad one is said in the error. */
export function parseRequestLine(line: string): ParsedLine {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { id: null, error: 'malformed request: not JSON (expected {"id":…,"cmd":…,"args":{…}})' };
  }
  if (!isRecord(v)) return { id: null, error: 'malformed request: not a JSON object' };
  const id = isId(v.id) ? v.id : null;
  if (id === null) return { id: null, error: 'malformed request: "id" must be a number or a string' };
  if (typeof v.cmd !== 'string') return { id, error: 'malformed request: "cmd" must be a string' };
  const cmd = v.cmd;
  if (!(COMMAND_NAMES as readonly string[]).includes(cmd))
    return { id, error: `unknown command "${cmd}" (known: ${COMMAND_NAMES.join(', ')})` };
  const args = v.args === undefined ? {} : v.args;
  if (!isRecord(args)) return { id, error: 'malformed request: "args" must be an object' };
  return { request: { id, cmd: cmd as CommandName, args } };
}

/** One answer line (with its newline). */
export function encodeLine(msg: ControlResponse | ControlRequest): string {
  return `${JSON.stringify(msg)}\n`;
}
