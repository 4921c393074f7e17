/**
 * The running ferry's control-socket commands as the demo uses them: which of them this ferry
 * has (`ferry status`, `ferry trace --live`), and a live trace started in the background.
 */
import { type FerryProcess, ferryCli } from './ferry-process.js';

export interface ControlTools {
  readonly status: boolean;
  readonly liveTrace: boolean;
}

/** Asks the CLI itself (its help) which control commands it has. */
export async function controlTools(): Promise<ControlTools> {
  const top = await ferryCli(['--help']);
  const trace = await ferryCli(['trace', '--help']);
  return {
    status: /^\s+status\b/m.test(String(top.stdout)),
    liveTrace: /--live\b/.test(String(trace.stdout)),
  };
}

export interface TraceOutcome {
  readonly ok: boolean;
  /** The packets' stories (stdout), or what went wrong (stderr). */
  readonly text: string;
}

/**
 * Starts `ferry trace --live FILTER --count N --timeout S` against the running ferry; resolves
 * when it ends (N packets traced, or S seconds passed). The CLI takes a second or two to start
 * and arm the trace: start it well before the traffic it should catch.
 */
export function startLiveTrace(
  ferry: FerryProcess,
  filter: string,
  count: number,
  timeoutS = 20,
): Promise<TraceOutcome> {
  return ferry
    .cli(['trace', '--live', filter, '--count', String(count), '--timeout', String(timeoutS)], {
      timeout: (timeoutS + 10) * 1000,
    })
    .then((r) => ({
      ok: r.exitCode === 0 && String(r.stdout).trim() !== '',
      text: String(r.stdout).trim() || String(r.stderr).trim() || `(exit ${r.exitCode}, no output)`,
    }));
}
