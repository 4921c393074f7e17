/**
 * The engines of the live matrix, each on its own fresh brouter topology (topology.ts):
 * - kernel / kernel-offon: Linux doing seed 000's recipe, veth offloads off / on (TSO, GSO);
 * - c: the C reference forwarder afp_fwd (recvmmsg/sendmmsg) of ../shared/baseline, static MACs
 *   and a static 1:1 SNAT 192.168.0.53 <-> 100.120.7.128 (no ARP, no conntrack);
 * - ferry / ferry-vnet: ferry running the brouter config (configs.ts) on AF_PACKET ports in the
 *   forwarder namespace, offloads off / 'vnet' (GSO super-frames with their virtio-net header, the
 *   config's `offloads: vnet` port key): `node bin/ferry.js run -c FILE` where it can
 *   (ferryCommand), else bench/matrix/live/ferry-engine.ts (the config through buildRouter and
 *   the LiveDriver);
 * - ferry-io-vnet: ferry's I/O path alone with GSO passthrough (bench/io/forwarder.ts: static MACs
 *   and SNAT like afp_fwd, no router pipeline), to show what the offload mode carries.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import type { BaselineTools } from '../../io/baseline.js';
import { writeLiveBrouterConfig } from './configs.js';
import { inNs, waitReachable } from './probes.js';
import { type BrouterTopology, CLIENT_IP, OVERLAY_IP, SERVER_IP, type TopologyOptions } from './topology.js';

export const ENGINE_IDS = ['kernel', 'kernel-offon', 'c', 'ferry', 'ferry-vnet', 'ferry-io-vnet'] as const;
export type EngineId = (typeof ENGINE_IDS)[number];

export interface EngineEnv {
  root: string;
  tools: BaselineTools;
  /** The live brouter config (configs.ts). */
  configFile: string;
  /** A scratch directory of the run (control sockets, state). */
  workDir: string;
  /** Upper bound of the engine's life, seconds (it is stopped long before). */
  lifeSec: number;
}

export interface RunningEngine {
  /** The forwarder process (undefined for the kernel). */
  pid: number | undefined;
  /** The command that runs it, for the report. */
  command: string;
  /** Stops it; returns its output (counters, errors). */
  stop(): Promise<string>;
}

export interface EngineSpec {
  id: EngineId;
  label: string;
  topology: TopologyOptions;
  /** 64-byte UDP flood (engines with offloads on skip it: it would measure the same as off). */
  udp: boolean;
  start(t: BrouterTopology, env: EngineEnv): Promise<RunningEngine>;
}

/** Numbers each `ferry run` of this process (its control socket and state directory). */
let ferryStarts = 0;

/**
 * The ferry command line. FERRY_BENCH_FERRY=auto (default): `ferry run` when the command exists
 * (for 'vnet' on a copy of the config with `offloads: vnet` on every afpacket port), else the
 * bench's LiveDriver runner; =run or =driver force one of them.
 */
export function ferryCommand(env: EngineEnv, offloads: 'off' | 'vnet'): string[] {
  const want = process.env.FERRY_BENCH_FERRY ?? 'auto';
  if (want !== 'auto' && want !== 'run' && want !== 'driver') {
    throw new Error(`FERRY_BENCH_FERRY=${want}: expected auto, run or driver`);
  }
  const hasRun = existsSync(join(env.root, 'src/control/cli/run.ts'));
  if (want === 'run' && !hasRun)
    throw new Error('FERRY_BENCH_FERRY=run, but src/control/cli/run.ts does not exist');
  if (hasRun && want !== 'driver') {
    const tag = `${process.pid}-${++ferryStarts}`;
    const config =
      offloads === 'vnet' ? writeLiveBrouterConfig(env.root, env.workDir, 'vnet') : env.configFile;
    return [
      join(env.root, 'bin/ferry.js'),
      'run',
      '-c',
      config,
      '--control',
      join(env.workDir, `ferry-${tag}.sock`),
      '--metrics',
      'off',
      '--log-level',
      'info',
      '--state-dir',
      join(env.workDir, `state-${tag}`),
    ];
  }
  return [
    '--import',
    'tsx',
    join(env.root, 'bench/matrix/live/ferry-engine.ts'),
    '-c',
    env.configFile,
    '--offloads',
    offloads,
    '--secs',
    String(env.lifeSec),
  ];
}
/** Starts `cmd` in the forwarder namespace; resolves once the client reaches the server through it. */
async function startProcess(
  t: BrouterTopology,
  env: EngineEnv,
  cmd: string,
  args: string[],
): Promise<RunningEngine> {
  const p: ResultPromise = inNs(t.fwd, cmd, args, env.lifeSec + 30);
  let exited = false;
  p.finally(() => {
    exited = true;
  }).catch(() => {});
  const stop = async (): Promise<string> => {
    p.kill('SIGTERM');
    const killer = setTimeout(() => p.kill('SIGKILL'), 5000);
    const r = await p;
    clearTimeout(killer);
    return `${String(r.stdout).trim()} ${String(r.stderr).trim()}`.trim();
  };
  await new Promise((r) => setTimeout(r, 300));
  const reachable = exited ? false : await waitReachable(t.cli, SERVER_IP, 40);
  if (!reachable || exited) {
    const log = await stop();
    throw new Error(
      `${cmd} ${args.join(' ')}: the server never answered a ping through it. Output: ${log.slice(0, 600)}`,
    );
  }
  return { pid: p.pid, command: [cmd, ...args].join(' '), stop };
}

const kernel = (offloads: 'on' | 'off'): Pick<EngineSpec, 'topology' | 'start'> => ({
  topology: { kind: 'kernel', offloads },
  async start(t) {
    if (!(await waitReachable(t.cli, SERVER_IP, 20))) throw new Error('kernel: the server is not reachable');
    return {
      pid: undefined,
      command: 'kernel (ip_forward, proxy_arp, mark, fwmark rule, masquerade)',
      stop: async () => '',
    };
  },
});

export const ENGINES: Record<EngineId, EngineSpec> = {
  kernel: {
    id: 'kernel',
    label:
      'Linux, seed-000 recipe (proxy_arp, mangle mark, fwmark rule → table 100, MASQUERADE), offloads off',
    udp: true,
    ...kernel('off'),
  },
  'kernel-offon': {
    id: 'kernel-offon',
    label: 'Linux, the same recipe, veth offloads on (TSO/GSO)',
    udp: false,
    ...kernel('on'),
  },
  c: {
    id: 'c',
    label: 'C reference afp_fwd (recvmmsg/sendmmsg, static MACs + 1:1 SNAT), offloads off',
    udp: true,
    topology: { kind: 'userspace', offloads: 'off', staticNeighbours: true },
    start: (t, env) =>
      startProcess(t, env, env.tools.afpFwd, [
        '-a',
        'eth1',
        '-b',
        'tailscale0',
        '-A',
        t.mac.c0,
        '-B',
        t.mac.s0,
        '-m',
        'mmsg',
        '-t',
        String(env.lifeSec),
        '-n',
        `${CLIENT_IP},${OVERLAY_IP}`,
      ]),
  },
  ferry: {
    id: 'ferry',
    label: 'ferry, brouter config (proxy-ARP, mark, policy route, masquerade with conntrack), offloads off',
    udp: true,
    topology: { kind: 'userspace', offloads: 'off' },
    start: (t, env) => startProcess(t, env, process.execPath, ferryCommand(env, 'off')),
  },
  'ferry-vnet': {
    id: 'ferry-vnet',
    label:
      'ferry, brouter config with `offloads: vnet` on its ports (GSO super-frames), endpoint offloads on',
    udp: false,
    topology: { kind: 'userspace', offloads: 'on' },
    start: (t, env) => startProcess(t, env, process.execPath, ferryCommand(env, 'vnet')),
  },
  'ferry-io-vnet': {
    id: 'ferry-io-vnet',
    label:
      "ferry's I/O path only (bench/io/forwarder.ts: static MACs + 1:1 SNAT, no pipeline), offloads vnet",
    udp: false,
    topology: { kind: 'userspace', offloads: 'on', staticNeighbours: true },
    start: (t, env) =>
      startProcess(t, env, process.execPath, [
        '--import',
        'tsx',
        join(env.root, 'bench/io/forwarder.ts'),
        '--a',
        'eth1',
        '--b',
        'tailscale0',
        '--mac-a',
        t.mac.c0,
        '--mac-b',
        t.mac.s0,
        '--snat',
        `${CLIENT_IP},${OVERLAY_IP}`,
        '--offloads',
        'vnet',
        '--secs',
        String(env.lifeSec),
      ]),
  },
};
