/**
 * `npm run demo`: seed 000 ("Bodging a brouter") live, in network namespaces. Builds the flat's
 * ISP router, the Internet, the parents' site behind WireGuard and a LAN client; starts the real
 * `ferry run -c examples/brouter.yaml` on the brouter (no kernel addresses on its legs, kernel
 * forwarding off, wireguard-go as tailscaled); then shows, step by step, the client's DHCP lease
 * through ferry's relay, pings, the fetch from Jellyfin over the overlay as 100.120.7.128, the
 * box's own traffic through the host port, one packet's story, and `ferry status`. Everything
 * is torn down at the end, on an error, and on Ctrl-C. Exit status 0 when every check held.
 *
 * Needs root (namespaces, AF_PACKET, TUN). Without it: `npm run demo:offline` (a replay).
 */
import {
  BEYOND_ISP,
  BROUTER_ETH0,
  GIADDR,
  ISP_LAN,
  JELLYFIN,
  JELLYFIN_PORT,
  TAILSCALE_ADDR,
} from './seed000/addresses.js';
import { controlTools, startLiveTrace, type TraceOutcome } from './seed000/control.js';
import { type FerryProcess, startFerry } from './seed000/ferry-process.js';
import { bold, DemoPrinter, dim } from './seed000/print.js';
import {
  brouterKernel,
  dhcpOnIspWire,
  fetchJellyfin,
  obtainLease,
  ping,
  remoteView,
} from './seed000/scenario.js';
import { missingTools } from './seed000/tools.js';
import { buildTopology, type Topology } from './seed000/topology.js';

const out = new DemoPrinter();
let topo: Topology | null = null;
let ferry: FerryProcess | null = null;
/** Ctrl-C while the topology is being built stops the build (it removes what it had made). */
const abort = new AbortController();
let building: Promise<Topology> | null = null;
let cleaning: Promise<void> | null = null;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (building && !topo) topo = await building.catch(() => null);
    if (!topo) return;
    out.say();
    out.say(
      `${out.clock()} ${bold('Tearing down')} ${dim('(ferry first: on SIGTERM it removes ferry0 and its routes)')}`,
    );
    try {
      if (ferry) {
        const r = await ferry.stop().catch((e: Error) => ({ exitCode: undefined, signal: e.message }));
        const last = ferry.log.at(-1);
        out.say(
          `       ferry run exited ${r.exitCode ?? r.signal}${last ? `, last log line "${last.msg}"` : ''}`,
        );
      }
    } finally {
      await topo.teardown();
    }
    out.say(`${out.clock()} every namespace and process removed.`);
  })();
  return cleaning;
}

/** Root and the tools, or a word on what is missing and the offline demo. */
function cannotRun(): string[] | null {
  if (process.getuid?.() !== 0) {
    return [
      'npm run demo builds network namespaces and runs ferry on real interfaces: it needs root.',
      '  sudo npm run demo            # the live demo',
      '  npm run demo:offline         # the same scenario replayed from captures, no root needed',
    ];
  }
  const missing = missingTools();
  if (missing.length === 0) return null;
  return [
    `npm run demo needs ${missing.join(', ')} (scripts/install-system-deps.sh installs them).`,
    'Without them: npm run demo:offline (a replay, no root, no tools).',
  ];
}

/**
 * The live trace may have armed after step 4's fetch (the CLI takes a moment to start): the client
 * fetches again every half second until the trace ends (at most 15 s).
 */
async function refetchUntil(trace: Promise<TraceOutcome>, t: Topology): Promise<TraceOutcome> {
  let ended = false;
  void trace.finally(() => {
    ended = true;
  });
  for (const end = Date.now() + 15_000; !ended && Date.now() < end; ) {
    await Promise.race([trace, new Promise((r) => setTimeout(r, 500))]);
    if (!ended) await fetchJellyfin(t, 2);
  }
  return await trace;
}

async function main(): Promise<number> {
  const problem = cannotRun();
  if (problem) {
    out.show(problem);
    return 1;
  }
  // The CLI's help says which control commands this ferry has (it takes a moment: asked meanwhile).
  const tools = controlTools();
  out.say(bold('ferry — seed 000 live: "Bodging a brouter"'));
  out.say(
    dim(
      'A Raspberry Pi between the ISP router and the LAN answers ARP on both sides, relays DHCP and routes',
    ),
  );
  out.say(
    dim(
      "only the parents' 192.168.1.0/24 into Tailscale, masqueraded as 100.120.7.128. Here ferry does all of it.",
    ),
  );

  out.step(0, 'Building the world in network namespaces', [
    'isp: the ISP router (192.168.0.1, dnsmasq, masquerade to the Internet)   net: the Internet (198.51.100.1)',
    "remote: the parents' router (wireguard-go at 203.0.113.2)   jellyfin: 192.168.1.30:8096 on their LAN",
    'client: a LAN client, no address yet',
    "brouter: eth0/eth1 without addresses, ip_forward=0, no netfilter; wireguard-go on tailscale0 (tailscaled's part)",
  ]);
  building = buildTopology({ lifetimeMs: 120_000, signal: abort.signal });
  topo = await building;
  out.show(Object.entries(topo.ns).map(([role, name]) => `${role.padEnd(8)} ${name}`));

  out.step(1, 'Starting ferry on the brouter', [
    `ip netns exec ${topo.ns.brouter} node bin/ferry.js run -c examples/brouter.yaml --metrics off --control …`,
  ]);
  ferry = await startFerry(topo, {
    onLog: (l) => {
      if (l.level === 'warn' || l.level === 'error' || l.level === 'fatal')
        out.show(`ferry ${l.level}: ${l.msg}`);
    },
  });
  const running = ferry.log.find((l) => l.msg === 'running');
  out.show(`ferry: "running", ports ${JSON.stringify(running?.ports ?? [])} (pid ${ferry.pid})`);
  const kernel = await brouterKernel(topo);
  out.show("the brouter's kernel now (ip -4 -br addr; ip route):");
  out.show([...kernel.addresses.split('\n'), ...kernel.routes.split('\n')], true);
  out.check(
    kernel.hostTap && kernel.ipForward === '0',
    `only ferry0, ferry's host-port TAP, carries ${BROUTER_ETH0}; ip_forward=${kernel.ipForward}`,
  );

  out.step(2, "The client asks for a lease: DHCP through ferry's relay", [
    `udhcpc broadcasts on the LAN; ferry relays it from ${BROUTER_ETH0} to ${ISP_LAN} with giaddr ${GIADDR} (eth1's`,
    "address) and sends the server's replies back out eth1: isc-dhcp-relay's job in the blog.",
  ]);
  const lease = await obtainLease(topo);
  out.show(lease.said.filter((l) => /obtained/.test(l)));
  out.show(`client: ${lease.ipAddr.replace(/\s+/g, ' ')}; ${lease.ipRoute.split('\n')[0]}`);
  const wire = await dhcpOnIspWire(topo);
  out.show("on the ISP router's wire (tcpdump -v port 67 on i0):");
  out.show(
    wire.map(
      (w) => `${w.src} > ${w.dst}  ${w.messageType ?? w.kind}${w.gatewayIp ? `  giaddr ${w.gatewayIp}` : ''}`,
    ),
    true,
  );
  out.check(
    lease.serverId === ISP_LAN &&
      wire.some((w) => w.kind === 'Request') &&
      wire.every((w) => w.kind !== 'Request' || w.gatewayIp === GIADDR),
    `leased ${lease.address}/${lease.prefixLen} by ${lease.serverId}, every request relayed with giaddr ${GIADDR}`,
  );

  // Started now, well before the fetch of step 4 (the CLI takes a moment to start and arm it): it
  // catches the first packet of the client's connection to Jellyfin.
  const traceFilter = `iif eth1 and tcp and dst host ${JELLYFIN} and dst port ${JELLYFIN_PORT}`;
  const trace = (await tools).liveTrace ? startLiveTrace(ferry, traceFilter, 1) : null;

  out.step(3, 'Ping the ISP router and a host beyond it', [
    'The client believes it talks to 192.168.0.1 directly: ferry answers ARP for it on eth1 (proxy-ARP)',
    'and forwards in userspace; the ISP router masquerades what goes further.',
  ]);
  for (const addr of [ISP_LAN, BEYOND_ISP]) {
    const p = await ping(topo, topo.ns.client, addr);
    out.show(`client$ ping -c 3 ${addr}`);
    out.show(p.summary, true);
    out.check(p.received > 0, `${p.received}/${p.transmitted} replies from ${addr}`);
  }

  out.step(4, 'Fetch Jellyfin over the overlay', [
    `client$ curl http://${JELLYFIN}:${JELLYFIN_PORT}/   The mangle rule marks 192.168.1.0/24, fwmark 1 → table 100`,
    `→ tailscale0, masquerade rewrites the source to ${TAILSCALE_ADDR}; wireguard-go encrypts it and its UDP`,
    "goes kernel → ferry0 → ferry → eth0 → the ISP router → the Internet → the parents' router.",
  ]);
  const f = await fetchJellyfin(topo);
  out.show(`HTTP ${f.status} in ${f.seconds.toFixed(3)} s${f.error ? ` (${f.error})` : ''}`);
  out.show(`body: ${JSON.stringify(f.body)}`);
  out.check(f.status === 200 && f.body === topo.webBody, 'the known page came back');

  out.step(5, "What the parents' side saw", [
    "Their LAN only knows the way back to the brouter's Tailscale address: without masquerade, no replies",
    "(the blog's first tcpdump).",
  ]);
  const rv = await remoteView(topo);
  out.show(`tcpdump -n -i ${topo.remoteWg} tcp port ${JELLYFIN_PORT} on the parents' router:`);
  out.show(
    rv.tunDump.slice(0, 4).map((l) => l.replace(/, options \[.*?\]/, '')),
    true,
  );
  out.show(`Jellyfin's access log: ${rv.accessLog.at(-1) ?? '(empty)'}`);
  out.check(
    rv.tunSources.length > 0 &&
      rv.tunSources.every((s) => s === TAILSCALE_ADDR) &&
      rv.webClients.every((s) => s === TAILSCALE_ADDR),
    `everything arrived from ${TAILSCALE_ADDR}, nothing from the client's ${lease.address}`,
  );

  out.step(6, "The brouter's own traffic", [
    `Its kernel's only address, ${BROUTER_ETH0}, is on ferry0: whatever the box sends goes through ferry.`,
  ]);
  const own = await ping(topo, topo.ns.brouter, ISP_LAN);
  out.show(`brouter$ ping -c 3 ${ISP_LAN}`);
  out.show(own.summary, true);
  out.check(own.received > 0, `${own.received}/${own.transmitted} replies through the host port`);
  const hs = (await brouterKernel(topo)).latestHandshake;
  out.check(
    hs > 0,
    `wireguard-go's handshake went the same way (wg show tailscale0: ${hs > 0 ? `${Math.round(Date.now() / 1000 - hs)} s ago` : 'never'})`,
  );

  out.step(7, "One of the client's packets, as ferry tells it", [
    `ferry trace --live '${traceFilter}' --count 1`,
    '(started before step 3; the client fetches the page again until the trace has caught a packet)',
  ]);
  if (trace) {
    const done = await refetchUntil(trace, topo);
    out.show(done.text);
    out.check(done.ok, 'ferry told the story of the packet');
  } else out.show('(this ferry has no `ferry trace --live`)');

  out.step(8, 'ferry status', ['The running engine, through its control socket.']);
  if ((await tools).status) {
    const st = await ferry.cli(['status']);
    out.show(st.exitCode === 0 ? String(st.stdout) : String(st.stderr));
    out.check(st.exitCode === 0, `ferry status exited ${st.exitCode}`);
  } else out.show('(this ferry has no `ferry status`)');

  out.say();
  out.say(
    `${out.clock()} ${bold(out.failures === 0 ? 'Seed 000 works live.' : `${out.failures} check(s) failed.`)}`,
  );
  return out.failures === 0 ? 0 : 1;
}

// A terminal's Ctrl-C reaches every process of the group, and tsx relays it once more: the first
// signal starts the teardown and later ones are ignored (dying half-way through it would leave
// namespaces behind).
let interrupted: NodeJS.Signals | null = null;
for (const [sig, status] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = sig;
    out.quiet = true;
    out.say(`\n${sig}: stopping`);
    abort.abort();
    void cleanup().finally(() => process.exit(status));
  });
}

let code = 1;
try {
  code = await main();
} catch (e) {
  // Once interrupted, steps fail because their processes got the signal too: not worth a word.
  if (!interrupted) out.say(`\n${out.clock()} demo failed: ${(e as Error).message}`);
} finally {
  await cleanup();
}
process.exit(code);
