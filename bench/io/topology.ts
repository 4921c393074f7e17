/**
 * The client -- forwarder -- server namespaces of `npm run bench:io` (the layout of
 * ../shared/baseline/run.sh, with unique names so parallel runs never collide):
 *
 *   cli: c0 10.10.0.2/24 <--veth--> f0 [fwd] f1 <--veth--> s0 10.20.0.2/24 :srv
 *
 * kernel: f0 10.10.0.1, f1 10.20.0.1, ip_forward=1, nft `oifname f1 masquerade`.
 * userspace (afp): fwd has no addresses and ip_forward=0; the endpoints have permanent neighbour
 * entries for their gateway pointing at f0/f1; an nft netdev ingress chain drops every frame on
 * f0/f1 after the AF_PACKET taps copied it, so the fwd namespace's own stack stays out.
 */
import { execa } from 'execa';
import { uniqueName } from '../../test/helpers/netns.js';

export interface Topology {
  cli: string;
  fwd: string;
  srv: string;
  /** MACs of c0 and s0 (the forwarder's next hops). */
  macC: string;
  macS: string;
}

const run = (args: string[]) => execa('ip', args, { timeout: 15_000 });
const nsx = (ns: string, cmd: string, args: string[], input?: string) =>
  execa('ip', ['netns', 'exec', ns, cmd, ...args], {
    timeout: 15_000,
    ...(input !== undefined && { input }),
  });

const OFFLOADS_OFF = ['tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'];

export async function createTopology(kind: 'kernel' | 'afp', offloads: 'on' | 'off'): Promise<Topology> {
  const t: Topology = {
    cli: uniqueName('c'),
    fwd: uniqueName('f'),
    srv: uniqueName('s'),
    macC: '',
    macS: '',
  };
  try {
    for (const ns of [t.cli, t.fwd, t.srv]) {
      await run(['netns', 'add', ns]);
      await nsx(ns, 'sysctl', [
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
      await run(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await run(['-n', t.cli, 'link', 'add', 'c0', 'type', 'veth', 'peer', 'name', 'f0', 'netns', t.fwd]);
    await run(['-n', t.srv, 'link', 'add', 's0', 'type', 'veth', 'peer', 'name', 'f1', 'netns', t.fwd]);
    await run(['-n', t.cli, 'addr', 'add', '10.10.0.2/24', 'dev', 'c0']);
    await run(['-n', t.srv, 'addr', 'add', '10.20.0.2/24', 'dev', 's0']);
    if (offloads === 'off') {
      for (const [ns, dev] of [
        [t.cli, 'c0'],
        [t.fwd, 'f0'],
        [t.fwd, 'f1'],
        [t.srv, 's0'],
      ] as const)
        await nsx(ns, 'ethtool', ['-K', dev, ...OFFLOADS_OFF]);
    }
    await run(['-n', t.cli, 'link', 'set', 'c0', 'up']);
    await run(['-n', t.srv, 'link', 'set', 's0', 'up']);
    await run(['-n', t.fwd, 'link', 'set', 'f0', 'up']);
    await run(['-n', t.fwd, 'link', 'set', 'f1', 'up']);
    await run(['-n', t.cli, 'route', 'add', 'default', 'via', '10.10.0.1']);
    await run(['-n', t.srv, 'route', 'add', 'default', 'via', '10.20.0.1']);
    t.macC = (await nsx(t.cli, 'cat', ['/sys/class/net/c0/address'])).stdout.trim();
    t.macS = (await nsx(t.srv, 'cat', ['/sys/class/net/s0/address'])).stdout.trim();
    if (kind === 'afp') {
      const macF0 = (await nsx(t.fwd, 'cat', ['/sys/class/net/f0/address'])).stdout.trim();
      const macF1 = (await nsx(t.fwd, 'cat', ['/sys/class/net/f1/address'])).stdout.trim();
      await nsx(t.fwd, 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
      await run([
        '-n',
        t.cli,
        'neigh',
        'replace',
        '10.10.0.1',
        'lladdr',
        macF0,
        'dev',
        'c0',
        'nud',
        'permanent',
      ]);
      await run([
        '-n',
        t.srv,
        'neigh',
        'replace',
        '10.20.0.1',
        'lladdr',
        macF1,
        'dev',
        's0',
        'nud',
        'permanent',
      ]);
      await nsx(
        t.fwd,
        'nft',
        ['-f', '-'],
        `table netdev fy_drop {
  chain f0 { type filter hook ingress device "f0" priority 0; policy drop; }
  chain f1 { type filter hook ingress device "f1" priority 0; policy drop; }
}
`,
      );
    } else {
      await run(['-n', t.fwd, 'addr', 'add', '10.10.0.1/24', 'dev', 'f0']);
      await run(['-n', t.fwd, 'addr', 'add', '10.20.0.1/24', 'dev', 'f1']);
      await nsx(t.fwd, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      await nsx(
        t.fwd,
        'nft',
        ['-f', '-'],
        `table ip fy_nat {
  chain post { type nat hook postrouting priority srcnat; policy accept; oifname "f1" masquerade; }
}
`,
      );
    }
    return t;
  } catch (err) {
    await destroyTopology(t);
    throw err;
  }
}

/** Deletes the namespaces (and with them the veths); retries, since a busy machine can time out. */
export async function destroyTopology(t: Topology): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const listed = String((await execa('ip', ['netns', 'list'], { reject: false, timeout: 15_000 })).stdout);
    const names = new Set(listed.split('\n').map((l) => l.split(' ')[0]));
    const left = [t.cli, t.fwd, t.srv].filter((ns) => names.has(ns));
    if (!left.length) return;
    for (const ns of left) await execa('ip', ['netns', 'del', ns], { reject: false, timeout: 30_000 });
  }
}
