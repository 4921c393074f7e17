/**
 * wireguard-go on one site of seed 000: the parents' router, or tailscaled's part on the brouter
 * (a TUN wireguard-go owns, which ferry attaches to as an L3 AF_PACKET port).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type Options, type ResultPromise } from 'execa';
import { waitUntil } from './wait.js';

/** Runs `wg ARGS` against one wireguard-go (bounded). */
export type WgControl = (args: string[], opts?: Options) => ResultPromise;

type Spawn = (ns: string, cmd: string, args: string[], opts?: Options) => ResultPromise;

export async function wgKeys(): Promise<{ priv: string; pub: string }> {
  const priv = String((await execa('wg', ['genkey'], { timeout: 5000 })).stdout).trim();
  // The private key goes on stdin, never in argv.
  const pub = String((await execa('wg', ['pubkey'], { input: priv, timeout: 5000 })).stdout).trim();
  return { priv, pub };
}

/**
 * wireguard-go creates `dev` in `ns`; `wg set` configures it; the link comes up, no address.
 * wireguard-go's control socket lives at the fixed path /var/run/wireguard/<dev>.sock, shared by
 * every network namespace: two runs (or the brouter's tailscale0 and a real one) would collide.
 * `ip netns exec` already gives each command its own mount namespace, so there a directory of
 * `dir` is bind-mounted on /var/run/wireguard for wireguard-go, and `wg` reaches its socket by
 * entering that mount namespace (nsenter).
 */
export async function wireguardUp(
  spawn: Spawn,
  dir: string,
  ns: string,
  dev: string,
  priv: string,
  settings: string[],
): Promise<WgControl> {
  const sockDir = join(dir, `wg-${dev}`);
  await mkdir(sockDir, { recursive: true });
  const proc = spawn(
    ns,
    'sh',
    [
      '-c',
      `mkdir -p /var/run/wireguard && mount --bind ${sockDir} /var/run/wireguard && exec wireguard-go -f ${dev}`,
    ],
    { env: { LOG_LEVEL: 'error' } },
  );
  const pid = proc.pid;
  if (pid === undefined) throw new Error(`wireguard-go for ${dev} did not start`);
  const wg: WgControl = (args, opts = {}) =>
    execa('nsenter', ['--target', String(pid), '--mount', '--net', 'wg', ...args], {
      timeout: 10_000,
      ...opts,
    });
  await waitUntil(`wireguard-go to create ${dev}`, 10_000, async () => {
    if (proc.exitCode !== null)
      throw new Error(`wireguard-go for ${dev} exited: ${String((await proc).stderr)}`);
    const r = await wg(['show', dev], { reject: false });
    return r.exitCode === 0;
  });
  const keyFile = join(dir, `${dev}.key`);
  await writeFile(keyFile, `${priv}\n`, { mode: 0o600 });
  await wg(['set', dev, 'private-key', keyFile, ...settings]);
  await execa('ip', ['-n', ns, 'link', 'set', dev, 'up'], { timeout: 10_000 });
  return wg;
}
