/** The machine and the code a matrix run measured: CPU, cores, memory, kernel, Node, git commit. */
import { cpus, hostname, release, totalmem } from 'node:os';
import { execa } from 'execa';
import type { MachineInfo } from './types.js';

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    hostname: hostname(),
  };
}

export async function gitInfo(root: string): Promise<{ commit: string; dirty: boolean }> {
  const head = await execa('git', ['rev-parse', 'HEAD'], { cwd: root, reject: false, timeout: 10_000 });
  const status = await execa('git', ['status', '--porcelain'], { cwd: root, reject: false, timeout: 10_000 });
  return {
    commit: head.exitCode === 0 ? String(head.stdout).trim() : 'unknown',
    dirty: String(status.stdout).trim().length > 0,
  };
}
