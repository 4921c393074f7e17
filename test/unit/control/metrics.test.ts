/**
 * /metrics over HTTP on 127.0.0.1 (an ephemeral port): the series carry what the engine counted
 * for frames sent through its memory ports (ports, drops, conntrack, NAT, rule counters, the DHCP
 * relay) and what the Runtime reports of the overlays, next to Node's process metrics.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MetricsServer, startMetricsServer } from '../../../src/control/metrics/server.js';
import { DHCPDISCOVER, DHCPOFFER } from '../../../src/dataplane/wire/dhcpv4.js';
import { icmpEcho, udp } from '../../helpers/frames.js';
import {
  clientBroadcast,
  dhcpMessage,
  replyMessage,
  udpFrame,
  withGiaddr,
} from '../dhcp-relay/dhcp-frames.js';
import { ControlRig, GW_MAC, R_WAN, SERVER, WAN_IP } from './control-rig.js';
import { recordingLog, TempDirs } from './helpers.js';

const tmp = new TempDirs();
let rig: ControlRig;
let metrics: MetricsServer;

/** The value of the series `name{labels}` in an exposition (labels in prom-client's order), or undefined. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(): Promise<string> {
  const res = await fetch(metrics.url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

beforeEach(async () => {
  rig = new ControlRig(tmp.make());
  rig.learnNeighbours();
  rig.fromLan('10.1.0.33', udp({ src: '10.1.0.33', dst: SERVER }, 40000, 53));
  rig.fromWan(udp({ src: SERVER, dst: WAN_IP }, 53, 40000));
  rig.fromLan('10.1.0.34', icmpEcho({ src: '10.1.0.34', dst: SERVER }));
  rig.fromLan('10.1.0.34', icmpEcho({ src: '10.1.0.34', dst: SERVER, ttl: 1 }));
  // A DHCP exchange through the relay: the client's DISCOVER out to the server, its OFFER back.
  const client = '0a:00:00:00:00:51';
  rig.send('lan', [clientBroadcast(client, dhcpMessage({ type: DHCPDISCOVER, chaddr: client }))]);
  const offer = withGiaddr(
    replyMessage({ type: DHCPOFFER, chaddr: client, yiaddr: '10.1.0.50' }),
    '10.1.0.1',
  );
  rig.send('wan', [
    udpFrame({ dstMac: R_WAN, srcMac: GW_MAC, src: SERVER, dst: '10.1.0.1', sport: 67, dport: 67 }, offer),
  ]);
  rig.peers.push({
    interface: 'wg0',
    publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
    endpoint: '203.0.113.5:51820',
    allowedIps: ['10.9.0.0/24'],
    latestHandshake: 1_700_000_123,
    rxBytes: 1234,
    txBytes: 5678,
    persistentKeepalive: null,
  });
  metrics = await startMetricsServer(rig, { host: '127.0.0.1', port: 0 }, recordingLog());
});

afterEach(async () => {
  await metrics.close();
  tmp.cleanup();
});

describe('/metrics', () => {
  it('listens on 127.0.0.1 on the port it was given (0: any)', () => {
    expect(metrics.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(Number(new URL(metrics.url).port)).toBeGreaterThan(0);
  });

  it('exports the port counters the engine kept', async () => {
    const text = await scrape();
    for (const p of rig.ports) {
      expect(value(text, `ferry_port_rx_packets_total{port="${p.name}"}`)).toBe(p.stats.rxPackets);
      expect(value(text, `ferry_port_rx_bytes_total{port="${p.name}"}`)).toBe(p.stats.rxBytes);
      expect(value(text, `ferry_port_tx_packets_total{port="${p.name}"}`)).toBe(p.stats.txPackets);
      expect(value(text, `ferry_port_tx_bytes_total{port="${p.name}"}`)).toBe(p.stats.txBytes);
      expect(value(text, `ferry_port_drops_total{port="${p.name}",reason="tx-error"}`)).toBe(0);
    }
    expect(rig.ports[0]!.stats.rxPackets).toBe(6);
    expect(text).toContain('# TYPE ferry_port_rx_packets_total counter');
  });

  it('exports drops by reason, conntrack, NAT, rule counters, the relay and the overlays', async () => {
    const text = await scrape();
    const drops = rig.engine.drops();
    expect(Object.keys(drops).length).toBeGreaterThan(0);
    for (const [reason, n] of Object.entries(drops))
      expect(value(text, `ferry_drops_total{reason="${reason}"}`)).toBe(n);
    expect(value(text, 'ferry_conntrack_flows{proto="udp",state="REPLIED"}')).toBe(1);
    expect(value(text, 'ferry_conntrack_flows{proto="icmp",state="UNREPLIED"}')).toBe(1);
    expect(value(text, 'ferry_conntrack_capacity')).toBe(1024);
    expect(value(text, 'ferry_nat_bindings')).toBe(rig.engine.conntrack!.pool.count);
    expect(rig.engine.conntrack!.pool.count).toBeGreaterThanOrEqual(2);
    expect(value(text, 'ferry_conntrack_early_drops_total')).toBe(0);
    // The DNS query hit rule 1, the first ping rule 2; the TTL-1 ping died in ip4-forward, before the chain.
    expect(value(text, 'ferry_rule_matches_total{chain="filter-forward",rule="1"}')).toBe(1);
    expect(value(text, 'ferry_rule_matches_total{chain="filter-forward",rule="2"}')).toBe(1);
    expect(value(text, 'ferry_dhcp_relay_messages_total{type="DISCOVER",direction="to_server"}')).toBe(1);
    expect(value(text, 'ferry_dhcp_relay_messages_total{type="OFFER",direction="to_client"}')).toBe(1);
    const peer = 'interface="wg0",peer="xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="';
    expect(value(text, `ferry_overlay_peer_last_handshake_seconds{${peer}}`)).toBe(1_700_000_123);
    expect(value(text, `ferry_overlay_peer_rx_bytes{${peer}}`)).toBe(1234);
    expect(value(text, `ferry_overlay_peer_tx_bytes{${peer}}`)).toBe(5678);
  });

  it('reads the engine at scrape time: a later packet shows in the next scrape', async () => {
    const before = value(await scrape(), 'ferry_port_rx_packets_total{port="wan"}')!;
    rig.fromWan(udp({ src: SERVER, dst: WAN_IP }, 53, 40000));
    expect(value(await scrape(), 'ferry_port_rx_packets_total{port="wan"}')).toBe(before + 1);
  });

  it('leaves the overlay series out when the peers cannot be read, and scrapes the rest', async () => {
    rig.overlayPeers = async () => {
      throw new Error('wg show: exit 1');
    };
    const text = await scrape();
    expect(text).not.toMatch(/^ferry_overlay_peer_rx_bytes\{/m);
    expect(value(text, 'ferry_port_rx_packets_total{port="wan"}')).toBe(rig.ports[1]!.stats.rxPackets);
  });

  it('has Node’s default process metrics', async () => {
    const text = await scrape();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_total_bytes \d/m);
  });

  it('answers 404 anywhere but /metrics, and 405 to other methods', async () => {
    const base = new URL(metrics.url);
    expect((await fetch(new URL('/', base))).status).toBe(404);
    expect((await fetch(new URL('/metrics/x', base))).status).toBe(404);
    expect((await fetch(metrics.url, { method: 'POST' })).status).toBe(405);
  });

  it('stops listening on close', async () => {
    await metrics.close();
    await expect(fetch(metrics.url)).rejects.toThrow();
    metrics = await startMetricsServer(rig, { host: '127.0.0.1', port: 0 }, recordingLog());
  });
});
