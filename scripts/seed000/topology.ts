/**
 * Seed 000's world in network namespaces, for `npm run demo` and test/netns/seed000-live.test.ts:
 *
 *   isp       the ISP router: i0 192.168.0.1/24 toward the brouter, dnsmasq serving 192.168.0.0/24
 *             (router 192.168.0.1) to relayed requests; u0 198.51.100.254/24 toward `net`, kernel
 *             forwarding and masquerade (nftables) out of u0, as a home router does.
 *   net       the Internet: 198.51.100.1 (a host beyond the ISP) and 203.0.113.1 toward `remote`.
 *   remote    the parents' router: public 203.0.113.2, a wireguard-go peer (wg0) that knows the
 *             brouter's key with allowed-ips 100.120.7.128/32, and the LAN 192.168.1.0/24 (l0).
 *   jellyfin  on the parents' LAN: 192.168.1.30, a web server on :8096 serving a known file.
 *   client    a LAN client behind the brouter: c0, no address until udhcpc gets a lease.
 *   brouter   the Raspberry Pi: veths eth0 (to isp) and eth1 (to client) with no kernel
 *             addresses, ip_forward=0, no netfilter rules; tailscale0, a TUN owned by wireguard-go
 *             (tailscaled's part) peering with `remote` (endpoint 203.0.113.2:51820, allowed-ips
 *             192.168.1.0/24), no kernel address. ferry (started separately, ferry-process.ts)
 *             runs examples/brouter.yaml there and gives the kernel the TAP ferry0, so the box's
 *             own traffic — wireguard-go's UDP included — goes kernel → ferry0 → ferry → eth0.
 *
 * Every namespace is uniquely named; teardown() kills every process started here and deletes the
 * namespaces (with their veths and TUNs) and the scratch directory. All waits are bounded.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Options, ResultPromise } from 'execa';
import { startDnsmasq } from '../../test/helpers/dnsmasq.js';
import { NetnsSandbox } from '../../test/helpers/netns.js';
import {
  BEYOND_ISP,
  BROUTER_WG_PORT,
  ISP_LAN,
  ISP_WAN,
  JELLYFIN,
  JELLYFIN_PORT,
  LEASE_FIRST,
  LEASE_LAST,
  NET_TO_REMOTE,
  REMOTE_LAN_GATEWAY,
  REMOTE_PUBLIC,
  REMOTE_WG_PORT,
  TAILSCALE_ADDR,
  TAILSCALE_DEV,
} from './addresses.js';
import { readOr, waitUntil } from './wait.js';
import { type WgControl, wgKeys, wireguardUp } from './wireguard.js';

export interface Namespaces {
  readonly isp: string;
  readonly net: string;
  readonly remote: string;
  readonly jellyfin: string;
  readonly client: string;
  readonly brouter: string;
}

/** Files the topology's daemons write, in the scratch directory. */
export interface TopologyFiles {
  readonly dnsmasqLog: string;
  readonly dnsmasqLeases: string;
  /** Jellyfin's access log (python's http.server: "ADDR - - [date] "GET / HTTP/1.1" 200 -"). */
  readonly webLog: string;
  /** tcpdump on the parents' wg0, TCP port 8096, one line per packet. */
  readonly remoteDump: string;
  /** tcpdump -v on the ISP router's i0, UDP port 67 (the relayed DHCP exchange). */
  readonly ispDhcpDump: string;
}

export interface Topology {
  readonly ns: Namespaces;
  /** Scratch directory (logs, keys, the web root); removed by teardown(). */
  readonly dir: string;
  readonly files: TopologyFiles;
  /** What Jellyfin serves at `/` (the known body a fetch must return). */
  readonly webBody: string;
  /** The parents' WireGuard interface (the brouter's is tailscale0). */
  readonly remoteWg: string;
  /** `wg` against each site's wireguard-go (e.g. `wg.brouter(['show', 'tailscale0'])`). */
  readonly wg: { readonly brouter: WgControl; readonly remote: WgControl };
  /** Runs a command in a namespace, bounded (30 s unless told). */
  exec(ns: string, cmd: string, args: string[], opts?: Options): ResultPromise;
  /** Starts a long-running command in a namespace; teardown() kills it if still running. */
  spawn(ns: string, cmd: string, args: string[], opts?: Options): ResultPromise;
  teardown(): Promise<void>;
}

/**
 * tcpdump ARGS on `dev` in `ns`, into `file` line by line as packets come (--immediate-mode:
 * libpcap's TPACKET_V3 would otherwise hand them over in blocks, up to a second late); resolves
 * once it listens.
 */
async function capture(
  spawn: (ns: string, cmd: string, args: string[], opts?: Options) => ResultPromise,
  ns: string,
  dev: string,
  args: string[],
  file: string,
): Promise<void> {
  const p = spawn(ns, 'sh', [
    '-c',
    `exec tcpdump --immediate-mode -l -n -i ${dev} ${args.join(' ')} >${file} 2>${file}.err`,
  ]);
  await waitUntil(`tcpdump on ${dev} to listen`, 10_000, async () => {
    if (p.exitCode !== null) throw new Error(`tcpdump on ${dev} exited: ${await readOr(`${file}.err`)}`);
    return /listening on/.test(await readOr(`${file}.err`));
  });
}

export interface TopologyOptions {
  /** How long the daemons may live at most (ms): a crashed caller never leaves them forever. */
  lifetimeMs?: number;
  /** Stops the build (Ctrl-C): it throws at its next step, having removed what it had made. */
  signal?: AbortSignal;
}

const WEB_SERVER = fileURLToPath(new URL('./web-server.py', import.meta.url));

export const WEB_BODY = "Jellyfin at the parents' house, reached through ferry over the overlay\n";

export async function buildTopology(o: TopologyOptions = {}): Promise<Topology> {
  const lifetime = o.lifetimeMs ?? 120_000;
  const sb = new NetnsSandbox();
  const dir = await mkdtemp(join(tmpdir(), 'ferry-seed000-'));
  const files: TopologyFiles = {
    dnsmasqLog: join(dir, 'dnsmasq.log'),
    dnsmasqLeases: join(dir, 'dnsmasq.leases'),
    webLog: join(dir, 'jellyfin-http.log'),
    remoteDump: join(dir, 'remote-wg0.txt'),
    ispDhcpDump: join(dir, 'isp-dhcp.txt'),
  };
  let tornDown = false;
  const teardown = async () => {
    if (tornDown) return;
    tornDown = true;
    try {
      await sb.cleanup();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const exec = (ns: string, cmd: string, args: string[], opts: Options = {}) => sb.exec(ns, cmd, args, opts);
  const spawn = (ns: string, cmd: string, args: string[], opts: Options = {}) =>
    sb.spawn(ns, cmd, args, { timeout: lifetime, ...opts });
  // While building, every step first checks for an abort: what was made so far is then removed
  // by the catch below, and nothing is made after it.
  const signal = o.signal;
  const live = <T>(f: () => T): T => {
    signal?.throwIfAborted();
    return f();
  };
  const b = {
    ns: () => live(() => sb.ns()),
    veth: (...a: Parameters<NetnsSandbox['veth']>) => live(() => sb.veth(...a)),
    exec: (ns: string, cmd: string, args: string[], opts: Options = {}) =>
      live(() => exec(ns, cmd, args, opts)),
    spawn: (ns: string, cmd: string, args: string[], opts: Options = {}) =>
      live(() => spawn(ns, cmd, args, opts)),
    wait: (what: string, ms: number, cond: () => Promise<boolean>) => waitUntil(what, ms, cond, signal),
  };
  const ip = (ns: string, ...args: string[]) => b.exec(ns, 'ip', args);
  const sysctl = (ns: string, ...kv: string[]) => b.exec(ns, 'sysctl', ['-qw', ...kv]);

  try {
    const isp = await b.ns();
    const net = await b.ns();
    const remote = await b.ns();
    const jellyfin = await b.ns();
    const client = await b.ns();
    const brouter = await b.ns();
    const ns: Namespaces = { isp, net, remote, jellyfin, client, brouter };
    // ferry reads eth0/eth1 with AF_PACKET (no virtio-net header): their peers must not hand it
    // TSO/GSO super-frames or partial checksums.
    await b.veth(isp, 'i0', brouter, 'eth0', { offloadsOff: true });
    await b.veth(brouter, 'eth1', client, 'c0', { offloadsOff: true });
    await b.veth(isp, 'u0', net, 'n0');
    await b.veth(net, 'r0', remote, 'w0');
    await b.veth(remote, 'l0', jellyfin, 'j0');

    // ---- the ISP router: LAN, WAN, forwarding, masquerade out of the WAN
    await ip(isp, 'addr', 'add', `${ISP_LAN}/24`, 'dev', 'i0');
    await ip(isp, 'addr', 'add', `${ISP_WAN}/24`, 'dev', 'u0');
    await ip(isp, 'route', 'add', 'default', 'via', BEYOND_ISP);
    await sysctl(isp, 'net.ipv4.ip_forward=1');
    // iptables -t nat -A POSTROUTING -o u0 -j MASQUERADE, in nftables (no iptables here).
    await b.exec(isp, 'nft', ['-f', '-'], {
      input: [
        'table ip nat {',
        '  chain postrouting {',
        '    type nat hook postrouting priority srcnat;',
        '    oifname "u0" masquerade',
        '  }',
        '}',
        '',
      ].join('\n'),
    });

    // ---- the Internet, and the parents' router behind it
    await ip(net, 'addr', 'add', `${BEYOND_ISP}/24`, 'dev', 'n0');
    await ip(net, 'addr', 'add', `${NET_TO_REMOTE}/24`, 'dev', 'r0');
    await sysctl(net, 'net.ipv4.ip_forward=1');
    await ip(remote, 'addr', 'add', `${REMOTE_PUBLIC}/24`, 'dev', 'w0');
    await ip(remote, 'route', 'add', 'default', 'via', NET_TO_REMOTE);
    await ip(remote, 'addr', 'add', `${REMOTE_LAN_GATEWAY}/24`, 'dev', 'l0');
    await sysctl(remote, 'net.ipv4.ip_forward=1');
    await ip(jellyfin, 'addr', 'add', `${JELLYFIN}/24`, 'dev', 'j0');
    await ip(jellyfin, 'route', 'add', 'default', 'via', REMOTE_LAN_GATEWAY);

    // ---- the brouter: no addresses on its legs, no kernel forwarding, no netfilter rules
    await sysctl(brouter, 'net.ipv4.ip_forward=0');

    // ---- WireGuard: the parents' router and tailscaled's part on the brouter
    const keyR = await wgKeys();
    const keyB = await wgKeys();
    const remoteWg = 'wg0';
    const wgRemote = await wireguardUp(b.spawn, dir, remote, remoteWg, keyR.priv, [
      'listen-port',
      String(REMOTE_WG_PORT),
      'peer',
      keyB.pub,
      'allowed-ips',
      `${TAILSCALE_ADDR}/32`,
    ]);
    await ip(remote, 'route', 'add', `${TAILSCALE_ADDR}/32`, 'dev', remoteWg);
    const wgBrouter = await wireguardUp(b.spawn, dir, brouter, TAILSCALE_DEV, keyB.priv, [
      'listen-port',
      String(BROUTER_WG_PORT),
      'peer',
      keyR.pub,
      'allowed-ips',
      '192.168.1.0/24',
      'endpoint',
      `${REMOTE_PUBLIC}:${REMOTE_WG_PORT}`,
    ]);

    // ---- dnsmasq on the ISP router: the relayed requests carry giaddr 192.168.0.126
    signal?.throwIfAborted();
    startDnsmasq(
      sb,
      isp,
      'i0',
      dir,
      [
        // dnsmasq would otherwise ping each address for 3 s before offering it (so the pool
        // leaves out the brouter's addresses, see addresses.ts).
        '--no-ping',
        `--dhcp-range=${LEASE_FIRST},${LEASE_LAST},255.255.255.0,10m`,
        `--dhcp-option=option:router,${ISP_LAN}`,
      ],
      lifetime,
    );
    await b.wait('dnsmasq to start', 10_000, async () => /started/.test(await readOr(files.dnsmasqLog)));

    // ---- Jellyfin (a web server with a known file) and a capture on the parents' wg0
    const www = join(dir, 'www');
    await mkdir(www);
    await writeFile(join(www, 'index.html'), WEB_BODY);
    const web = b.spawn(jellyfin, 'sh', [
      '-c',
      `exec python3 -u ${WEB_SERVER} ${JELLYFIN} ${JELLYFIN_PORT} ${www} 2>>${files.webLog}`,
    ]);
    await b.wait('the web server to listen', 10_000, async () => {
      if (web.exitCode !== null) throw new Error(`the web server exited: ${await readOr(files.webLog)}`);
      const r = await b.exec(jellyfin, 'ss', ['-ltnH', `sport = :${JELLYFIN_PORT}`], { reject: false });
      return String(r.stdout).includes(`${JELLYFIN}:${JELLYFIN_PORT}`);
    });

    // ---- what the blog looked at with tcpdump: the parents' end of the tunnel, and DHCP on the
    // ISP router's LAN (-v shows the relay agent's address, "Gateway-IP").
    await capture(b.spawn, remote, remoteWg, ['tcp', 'port', String(JELLYFIN_PORT)], files.remoteDump);
    await capture(b.spawn, isp, 'i0', ['-v', 'udp', 'port', '67'], files.ispDhcpDump);

    const wg = { brouter: wgBrouter, remote: wgRemote };
    return { ns, dir, files, webBody: WEB_BODY, remoteWg, wg, exec, spawn, teardown };
  } catch (e) {
    await teardown();
    throw e;
  }
}
