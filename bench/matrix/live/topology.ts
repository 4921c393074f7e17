/**
 * Seed 000's brouter as namespaces, the same for every engine of the live matrix:
 *
 *   ns isp: i0 192.168.0.1/24 ──veth── eth0 ┐
 *   ns cli: c0 192.168.0.53/24 ──veth── eth1 ├ ns fwd (the engine under test)
 *   ns srv: s0 192.168.1.30/24 ──veth── tailscale0 (100.120.7.128) ┘
 *
 * The client's default gateway is the ISP router (192.168.0.1), reached through the forwarder by
 * proxy-ARP; traffic for 192.168.1.0/24 is marked, policy-routed into tailscale0 and masqueraded
 * to 100.120.7.128. tailscale0 is a veth here (not a TUN), so every engine, the C forwarder
 * included, sees Ethernet on all three legs; the server routes 100.120.7.128 on its link.
 *
 * - kernel: the seed's recipe on the forwarder namespace: addresses on the legs, proxy_arp on
 *   both, ip_forward=1, the mangle mark (nftables form of `iptables -t mangle -A PREROUTING -d
 *   192.168.1.0/24 -j MARK --set-mark 1`), `ip rule fwmark 1 table 100`, `default dev tailscale0
 *   table 100`, MASQUERADE out tailscale0 — plus the host routes for the two hosts of the shared
 *   subnet that ferry learns by itself (brouter host routes), so replies find their leg.
 * - userspace (C, ferry): no addresses, ip_forward=0, and an nftables netdev ingress chain that
 *   drops every frame on the three legs after the AF_PACKET taps copied it, so the namespace's
 *   own stack stays out. `staticNeighbours` (the C forwarder, which answers no ARP) gives the
 *   endpoints permanent neighbour entries for their gateways.
 */
import { execa } from 'execa';
import { uniqueName } from '../../../test/helpers/netns.js';
import { deleteNamespaces, trackNamespace } from '../cleanup.js';

export const CLIENT_IP = '192.168.0.53';
export const ISP_IP = '192.168.0.1';
export const SERVER_IP = '192.168.1.30';
export const OVERLAY_IP = '100.120.7.128';

export interface BrouterTopology {
  isp: string;
  cli: string;
  fwd: string;
  srv: string;
  /** MACs of the endpoints and of the forwarder's legs. */
  mac: { c0: string; s0: string; i0: string; eth0: string; eth1: string; tailscale0: string };
}

export interface TopologyOptions {
  kind: 'kernel' | 'userspace';
  /** 'off': tx/tso/gso/gro off on every veth end; 'on': the veth defaults (TSO/GSO on). */
  offloads: 'on' | 'off';
  staticNeighbours?: boolean;
}

const ip = (args: string[]) => execa('ip', args, { timeout: 15_000 });
const nsx = (ns: string, cmd: string, args: string[], input?: string) =>
  execa('ip', ['netns', 'exec', ns, cmd, ...args], {
    timeout: 15_000,
    ...(input !== undefined && { input }),
  });

const OFFLOADS_OFF = ['tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'];

async function macOf(ns: string, dev: string): Promise<string> {
  return String((await nsx(ns, 'cat', [`/sys/class/net/${dev}/address`])).stdout).trim();
}

export async function createBrouterTopology(o: TopologyOptions): Promise<BrouterTopology> {
  const t: BrouterTopology = {
    isp: uniqueName('i'),
    cli: uniqueName('c'),
    fwd: uniqueName('f'),
    srv: uniqueName('s'),
    mac: { c0: '', s0: '', i0: '', eth0: '', eth1: '', tailscale0: '' },
  };
  const all = [t.isp, t.cli, t.fwd, t.srv];
  try {
    for (const ns of all) {
      await ip(['netns', 'add', ns]);
      trackNamespace(ns);
      await nsx(ns, 'sysctl', [
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const legs = [
      [t.isp, 'i0', 'eth0'],
      [t.cli, 'c0', 'eth1'],
      [t.srv, 's0', 'tailscale0'],
    ] as const;
    for (const [ns, end, leg] of legs) {
      await ip(['-n', ns, 'link', 'add', end, 'type', 'veth', 'peer', 'name', leg, 'netns', t.fwd]);
      if (o.offloads === 'off') {
        await nsx(ns, 'ethtool', ['-K', end, ...OFFLOADS_OFF]);
        await nsx(t.fwd, 'ethtool', ['-K', leg, ...OFFLOADS_OFF]);
      }
      await ip(['-n', ns, 'link', 'set', end, 'up']);
      await ip(['-n', t.fwd, 'link', 'set', leg, 'up']);
    }
    await ip(['-n', t.isp, 'addr', 'add', `${ISP_IP}/24`, 'dev', 'i0']);
    await ip(['-n', t.cli, 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'c0']);
    await ip(['-n', t.cli, 'route', 'add', 'default', 'via', ISP_IP, 'dev', 'c0']);
    await ip(['-n', t.srv, 'addr', 'add', `${SERVER_IP}/24`, 'dev', 's0']);
    await ip(['-n', t.srv, 'route', 'add', `${OVERLAY_IP}/32`, 'dev', 's0']);
    t.mac = {
      c0: await macOf(t.cli, 'c0'),
      s0: await macOf(t.srv, 's0'),
      i0: await macOf(t.isp, 'i0'),
      eth0: await macOf(t.fwd, 'eth0'),
      eth1: await macOf(t.fwd, 'eth1'),
      tailscale0: await macOf(t.fwd, 'tailscale0'),
    };
    if (o.kind === 'kernel') await kernelRecipe(t);
    else await userspaceForwarder(t, o.staticNeighbours ?? false);
    return t;
  } catch (err) {
    await deleteNamespaces(all);
    throw err;
  }
}

async function kernelRecipe(t: BrouterTopology): Promise<void> {
  const f = t.fwd;
  await ip(['-n', f, 'addr', 'add', '192.168.0.125/24', 'dev', 'eth0']);
  await ip(['-n', f, 'addr', 'add', '192.168.0.126/24', 'dev', 'eth1']);
  await ip(['-n', f, 'addr', 'add', `${OVERLAY_IP}/32`, 'dev', 'tailscale0']);
  // The seed's /etc/sysctl.d/99-proxyarp.conf; rp_filter off, as the fwmark route is asymmetric.
  await nsx(f, 'sysctl', [
    '-qw',
    'net.ipv4.ip_forward=1',
    'net.ipv4.conf.eth0.proxy_arp=1',
    'net.ipv4.conf.eth1.proxy_arp=1',
    'net.ipv4.conf.all.rp_filter=0',
    'net.ipv4.conf.default.rp_filter=0',
    // answer proxy ARP at once (the default delays it up to 0.8 s)
    'net.ipv4.neigh.eth1.proxy_delay=0',
    'net.ipv4.neigh.eth0.proxy_delay=0',
  ]);
  await ip(['-n', f, 'route', 'add', `${ISP_IP}/32`, 'dev', 'eth0']);
  await ip(['-n', f, 'route', 'add', `${CLIENT_IP}/32`, 'dev', 'eth1']);
  await ip(['-n', f, 'rule', 'add', 'fwmark', '1', 'table', '100']);
  await ip(['-n', f, 'route', 'add', 'default', 'dev', 'tailscale0', 'table', '100']);
  await nsx(
    f,
    'nft',
    ['-f', '-'],
    `table ip mangle {
  chain PREROUTING { type filter hook prerouting priority mangle; policy accept; ip daddr 192.168.1.0/24 meta mark set 0x1; }
}
table ip nat {
  chain POSTROUTING { type nat hook postrouting priority srcnat; policy accept; oifname "tailscale0" masquerade; }
}
`,
  );
}

async function userspaceForwarder(t: BrouterTopology, staticNeighbours: boolean): Promise<void> {
  await nsx(t.fwd, 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
  await nsx(
    t.fwd,
    'nft',
    ['-f', '-'],
    `table netdev fy_drop {
  chain eth0 { type filter hook ingress device "eth0" priority 0; policy drop; }
  chain eth1 { type filter hook ingress device "eth1" priority 0; policy drop; }
  chain tailscale0 { type filter hook ingress device "tailscale0" priority 0; policy drop; }
}
`,
  );
  if (staticNeighbours) {
    await ip([
      '-n',
      t.cli,
      'neigh',
      'replace',
      ISP_IP,
      'lladdr',
      t.mac.eth1,
      'dev',
      'c0',
      'nud',
      'permanent',
    ]);
    await ip([
      '-n',
      t.srv,
      'neigh',
      'replace',
      OVERLAY_IP,
      'lladdr',
      t.mac.tailscale0,
      'dev',
      's0',
      'nud',
      'permanent',
    ]);
  }
}

export async function destroyBrouterTopology(t: BrouterTopology): Promise<void> {
  await deleteNamespaces([t.isp, t.cli, t.fwd, t.srv]);
}
