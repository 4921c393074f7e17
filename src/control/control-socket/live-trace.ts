/**
 * `ferry trace --live` on the daemon's side: arms the engine's trace buffer for the next N
 * packets the filter takes, and after every pipeline run that traced some (the buffer's
 * `onRunDone`) drains their finished stories and streams them. Ends after N packets, at the
 * timeout, when a reload replaces the engine, or when the client goes away; the buffer is disarmed
 * and unhooked in every case, so an idle engine pays nothing (one `remaining === 0` test per
 * packet, as before).
 */
import type { Pipeline } from '../../dataplane/pipeline/pipeline.js';
import type { Runtime } from '../run/runtime.js';
import { type TraceRecord, toRecord } from '../trace/record.js';
import { RequestError, type TraceArgs, type TraceEnd, type TraceEndReason } from './protocol.js';
import { compileTraceFilter } from './trace-filter.js';

/** How often a running trace checks whether a reload replaced the engine. */
const RELOAD_CHECK_MS = 250;

export class TraceBusyError extends Error {
  override readonly name = 'TraceBusyError';
}

export interface LiveTrace {
  /** Resolves when the trace ends, for whatever reason. */
  readonly done: Promise<TraceEnd>;
  /** Ends it now (the client went away). */
  cancel(): void;
}

/**
 * Starts a live trace on the running engine; throws TraceFilterError for a bad filter and
 * TraceBusyError when another trace holds the buffer.
 */
export function startLiveTrace(runtime: Runtime, args: TraceArgs, emit: (r: TraceRecord) => void): LiveTrace {
  const state = runtime.current();
  const pipe: Pipeline = state.built.engine.pipe;
  const tr = pipe.tracer;
  if (tr.onRunDone !== null || tr.remaining !== 0)
    throw new TraceBusyError('another trace is running on this engine; try again when it ends');
  if (args.count > tr.maxPackets)
    throw new RequestError(`count ${args.count}: at most ${tr.maxPackets} packets per trace`);
  const names = state.ports.map((p) => p.name);
  const l2 = state.ports.map((p) => p.l2);
  const filter = compileTraceFilter(args.filter, names, l2);
  // Records left by an earlier user of the buffer are not this trace's.
  if (tr.recorded) pipe.drainTrace();

  let traced = 0;
  let finished = false;
  let resolveDone!: (end: TraceEnd) => void;
  const done = new Promise<TraceEnd>((res) => {
    resolveDone = res;
  });
  const timers: NodeJS.Timeout[] = [];
  const finish = (reason: TraceEndReason): void => {
    if (finished) return;
    finished = true;
    tr.arm(0);
    tr.filter = null;
    tr.onRunDone = null;
    if (tr.recorded) pipe.drainTrace();
    for (const t of timers) clearTimeout(t);
    resolveDone({ traced, reason });
  };
  tr.onRunDone = () => {
    if (tr.recorded) {
      for (const p of pipe.drainTrace()) {
        traced++;
        emit(toRecord(p, names, (i) => l2[i] === true));
      }
    }
    // Every packet admitted while armed has finished by the end of the run that admitted it.
    if (tr.remaining === 0) finish('count');
  };
  tr.filter = filter;
  tr.arm(args.count);
  if (args.timeout !== null) {
    const t = setTimeout(() => finish('timeout'), args.timeout * 1000);
    t.unref();
    timers.push(t);
  }
  const watch = setInterval(() => {
    if (runtime.current().built.engine.pipe !== pipe) finish('reloaded');
  }, RELOAD_CHECK_MS);
  watch.unref();
  timers.push(watch);
  return { done, cancel: () => finish('cancelled') };
}
