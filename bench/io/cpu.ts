/**
 * CPU accounting for the I/O benchmark, as ../shared/baseline/run.sh does it: whole-machine busy
 * time = ncpu x elapsed - idle from /proc/stat (with NO_HZ the idle time is exact, while
 * user/system are tick-sampled), and a process's utime+stime from /proc/<pid>/stat (scaled by
 * the kernel to the scheduler's exact runtime). Percentages are of ONE core (2 cores = 200).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const HZ = 100; // USER_HZ: what /proc reports in, fixed at 100 on Linux (proc(5))

interface Snap {
  t: number;
  idle: number;
  total: number;
  proc: number;
}

function machine(): { idle: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const idle = v[3]! + v[4]!;
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { idle, total };
}

export function processTicks(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime stime (fields 14, 15)
  } catch {
    return 0;
  }
}

export function snap(pid?: number): Snap {
  const m = machine();
  return { t: performance.now() / 1000, idle: m.idle, total: m.total, proc: processTicks(pid) };
}

export interface CpuUse {
  /** Whole machine, % of one core. */
  machine: number;
  /** The process, % of one core. */
  proc: number;
  seconds: number;
}

export function since(a: Snap, pid?: number): CpuUse {
  const b = snap(pid);
  const el = b.t - a.t;
  const n = cpus().length;
  const idleSec = (b.idle - a.idle) / HZ;
  return {
    machine: Math.max(0, (100 * (n * el - idleSec)) / el),
    proc: (100 * (b.proc - a.proc)) / HZ / el,
    seconds: el,
  };
}

/** Busy % (of one core) over `ms`. */
export async function busy(ms = 1000): Promise<number> {
  const a = snap();
  await new Promise((r) => setTimeout(r, ms));
  return since(a).machine;
}

/**
 * Waits (bounded) until other load on the machine drops below `pct`; returns the load seen last,
 * which is recorded with each row (the machine may be shared).
 */
export async function waitQuiet(pct = 15, maxSec = 60): Promise<number> {
  let b = await busy();
  for (let waited = 1; b > pct && waited < maxSec; waited += 3) {
    await new Promise((r) => setTimeout(r, 2000));
    b = await busy();
  }
  return b;
}
