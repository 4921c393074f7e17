/**
 * The steps of seed 000 live, shared by `npm run demo` (which prints them) and
 * test/netns/seed000-live.test.ts (which asserts them): each runs real software in the
 * topology's namespaces and returns what it observed, never a judgement.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST_TAP, JELLYFIN, JELLYFIN_PORT, TAILSCALE_DEV } from './addresses.js';
import type { Topology } from './topology.js';
import { readOr, sleep } from './wait.js';

const UDHCPC_SCRIPT = fileURLToPath(new URL('./udhcpc-script.sh', import.meta.url));

export interface Lease {
  readonly address: string;
  readonly prefixLen: number;
  /** The default gateway the server offered (option 3). */
  readonly router: string;
  /** Who leased it (option 54, server identifier). */
  readonly serverId: string;
  readonly leaseSeconds: number;
  /** udhcpc's own account of it, line by line. */
  readonly said: string[];
  /** `ip -4 -br addr show dev c0` and `ip route` in the client after the lease. */
  readonly ipAddr: string;
  readonly ipRoute: string;
}

/**
 * The LAN client asks for a lease: busybox udhcpc on c0, in the foreground, quitting once bound
 * (-q) or after 8 unanswered DISCOVERs a second apart (-n -t 8 -T 1). The event script configures
 * the address and default route and logs the lease.
 */
export async function obtainLease(topo: Topology): Promise<Lease> {
  const events = join(topo.dir, 'udhcpc.events');
  const r = await topo.exec(
    topo.ns.client,
    'udhcpc',
    ['-f', '-q', '-n', '-t', '8', '-T', '1', '-A', '1', '-i', 'c0', '-s', UDHCPC_SCRIPT],
    { env: { SEED000_EVENTS: events }, reject: false, timeout: 20_000 },
  );
  const said = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim());
  const bound = (await readOr(events)).split('\n').filter((l) => l.startsWith('bound '));
  const last = bound.at(-1);
  if (r.exitCode !== 0 || !last) {
    throw new Error(`the client got no lease (udhcpc exit ${r.exitCode}):\n  ${said.join('\n  ')}`);
  }
  const field = (k: string) => new RegExp(`\\b${k}=(\\S*)`).exec(last)?.[1] ?? '';
  const ipAddr = String(
    (await topo.exec(topo.ns.client, 'ip', ['-4', '-br', 'addr', 'show', 'dev', 'c0'])).stdout,
  );
  const ipRoute = String((await topo.exec(topo.ns.client, 'ip', ['route'])).stdout);
  return {
    address: field('ip'),
    prefixLen: Number(field('mask')),
    router: field('router'),
    serverId: field('serverid'),
    leaseSeconds: Number(field('lease')),
    said,
    ipAddr: ipAddr.trim(),
    ipRoute: ipRoute.trim(),
  };
}

/** One relayed DHCP packet as tcpdump -v printed it on the ISP router's i0. */
export interface DhcpOnWire {
  /** "192.168.0.125.67 > 192.168.0.1.67: BOOTP/DHCP, Request from …" */
  readonly line: string;
  readonly src: string;
  readonly dst: string;
  readonly kind: 'Request' | 'Reply';
  /** giaddr (tcpdump: "Gateway-IP"), absent when 0.0.0.0. */
  readonly gatewayIp: string | null;
  /** Option 53 ("DHCP-Message (53), length 1: Discover"). */
  readonly messageType: string | null;
}

/**
 * The DHCP exchange as the ISP router's i0 saw it (what the blog's `tcpdump 'port bootps'`
 * shows), once it holds an ACK (waiting at most `waitMs`: the capture is written as it comes).
 */
export async function dhcpOnIspWire(topo: Topology, waitMs = 2000): Promise<DhcpOnWire[]> {
  const end = Date.now() + waitMs;
  for (;;) {
    const seen = parseDhcpDump(await readOr(topo.files.ispDhcpDump));
    if (seen.some((w) => w.messageType === 'ACK') || Date.now() >= end) return seen;
    await sleep(100);
  }
}

function parseDhcpDump(text: string): DhcpOnWire[] {
  const out: DhcpOnWire[] = [];
  // tcpdump -v: a header line per packet ("HH:MM:SS.us IP (tos …)"), then indented detail lines.
  for (const block of text.split(/\n(?=\d\d:\d\d:\d\d\.\d+ )/)) {
    const m =
      /^\s+(\d+\.\d+\.\d+\.\d+)\.\d+ > (\d+\.\d+\.\d+\.\d+)\.\d+: BOOTP\/DHCP, (Request|Reply)[^\n]*/m.exec(
        block,
      );
    if (!m) continue;
    out.push({
      line: m[0].trim(),
      src: m[1]!,
      dst: m[2]!,
      kind: m[3] as 'Request' | 'Reply',
      gatewayIp: /Gateway-IP (\S+)/.exec(block)?.[1] ?? null,
      messageType: /DHCP-Message \(53\), length 1: (\S+)/.exec(block)?.[1] ?? null,
    });
  }
  return out;
}

export interface PingResult {
  readonly transmitted: number;
  readonly received: number;
  /** The summary lines ("N packets transmitted, …", "rtt …"). */
  readonly summary: string;
  readonly output: string;
}

/** `ping -c COUNT` from `ns` to `addr`, 0.2 s apart, each reply awaited at most 2 s. */
export async function ping(topo: Topology, ns: string, addr: string, count = 3): Promise<PingResult> {
  const r = await topo.exec(ns, 'ping', ['-n', '-c', String(count), '-i', '0.2', '-W', '2', addr], {
    reject: false,
    timeout: 20_000,
  });
  const out = String(r.stdout);
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  return {
    transmitted: Number(m?.[1] ?? 0),
    received: Number(m?.[2] ?? 0),
    summary: out
      .split('\n')
      .filter((l) => /packets transmitted|^rtt/.test(l))
      .join('\n'),
    output: out,
  };
}

export interface FetchResult {
  /** HTTP status, 0 when there was no answer. */
  readonly status: number;
  readonly body: string;
  /** curl's error when it failed. */
  readonly error: string;
  readonly seconds: number;
}

/** The client fetches http://192.168.1.30:8096/ (Jellyfin, across the overlay). */
export async function fetchJellyfin(topo: Topology, maxSeconds = 10): Promise<FetchResult> {
  const url = `http://${JELLYFIN}:${JELLYFIN_PORT}/`;
  const marker = '\n--seed000-status--';
  const r = await topo.exec(
    topo.ns.client,
    'curl',
    ['-sS', '--max-time', String(maxSeconds), '-w', `${marker}%{http_code} %{time_total}`, url],
    { reject: false, timeout: (maxSeconds + 5) * 1000, stripFinalNewline: false },
  );
  const out = String(r.stdout);
  const at = out.lastIndexOf(marker);
  const [code, secs] = (at >= 0 ? out.slice(at + marker.length) : '0 0').split(' ');
  return {
    status: Number(code),
    body: at >= 0 ? out.slice(0, at) : out,
    error: String(r.stderr).trim(),
    seconds: Number(secs),
  };
}

export interface RemoteView {
  /** Jellyfin's access log lines. */
  readonly accessLog: string[];
  /** Client addresses in the access log. */
  readonly webClients: string[];
  /** tcpdump lines on the parents' wg0 (TCP port 8096). */
  readonly tunDump: string[];
  /** Source addresses of the packets toward Jellyfin in that capture. */
  readonly tunSources: string[];
}

/**
 * What the parents' side saw of the fetch: who Jellyfin thinks asked, and the tunnel's capture.
 * Waits (at most `waitMs`) until both have something: the capture is written as packets come.
 */
export async function remoteView(topo: Topology, waitMs = 3000): Promise<RemoteView> {
  const end = Date.now() + waitMs;
  for (;;) {
    const v = await readRemoteView(topo);
    if ((v.accessLog.length > 0 && v.tunSources.length > 0) || Date.now() >= end) return v;
    await sleep(100);
  }
}

async function readRemoteView(topo: Topology): Promise<RemoteView> {
  const accessLog = (await readOr(topo.files.webLog)).split('\n').filter((l) => l.includes('"GET '));
  const tunDump = (await readOr(topo.files.remoteDump)).split('\n').filter((l) => l.trim());
  const toJellyfin = new RegExp(
    `IP (\\d+\\.\\d+\\.\\d+\\.\\d+)\\.\\d+ > ${JELLYFIN.replaceAll('.', '\\.')}\\.${JELLYFIN_PORT}:`,
  );
  return {
    accessLog,
    webClients: [...new Set(accessLog.map((l) => l.split(' ')[0]!))],
    tunDump,
    tunSources: [...new Set(tunDump.map((l) => toJellyfin.exec(l)?.[1]).filter((s): s is string => !!s))],
  };
}

export interface BrouterKernelView {
  /** `ip -4 -br addr` in the brouter namespace. */
  readonly addresses: string;
  /** `ip route` there. */
  readonly routes: string;
  readonly ipForward: string;
  /** Whether the TAP ferry gives the kernel exists. */
  readonly hostTap: boolean;
  /** `wg show tailscale0 latest-handshakes` as seconds since the epoch (0 = never). */
  readonly latestHandshake: number;
}

/** What the brouter's kernel looks like: only the TAP carries an address, and the default route. */
export async function brouterKernel(topo: Topology): Promise<BrouterKernelView> {
  const b = topo.ns.brouter;
  const addresses = String((await topo.exec(b, 'ip', ['-4', '-br', 'addr'])).stdout).trim();
  const routes = String((await topo.exec(b, 'ip', ['route'])).stdout).trim();
  const ipForward = String((await topo.exec(b, 'sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout).trim();
  const tap = await topo.exec(b, 'ip', ['link', 'show', HOST_TAP], { reject: false });
  const hs = await topo.wg.brouter(['show', TAILSCALE_DEV, 'latest-handshakes'], { reject: false });
  return {
    addresses,
    routes,
    ipForward,
    hostTap: tap.exitCode === 0,
    latestHandshake: Number(String(hs.stdout).trim().split(/\s+/)[1] ?? 0),
  };
}
