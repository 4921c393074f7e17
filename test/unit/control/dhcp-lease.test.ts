/**
 * A DHCP client's lease in `ferry status` and /metrics: a real DORA exchange through the engine
 * (ferry's client on wan1, replies crafted as a server sends them), then the lease's address,
 * server and T1/T2/expiry times as status and the metrics give them.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ControlServer, startControlServer } from '../../../src/control/control-socket/server.js';
import { type MetricsServer, startMetricsServer } from '../../../src/control/metrics/server.js';
import type { StatusSnapshot } from '../../../src/control/status/types.js';
import {
  DHCP_OPT_LEASE_TIME,
  DHCP_OPT_REBINDING_TIME,
  DHCP_OPT_RENEWAL_TIME,
  DHCP_OPT_ROUTER,
  DHCP_OPT_SERVER_ID,
  DHCP_OPT_SUBNET_MASK,
  DHCPACK,
  DHCPOFFER,
  Dhcpv4View,
} from '../../../src/dataplane/wire/dhcpv4.js';
import { ip } from '../../helpers/frames.js';
import { decodeSent, replyMessage, udpFrame } from '../dhcp-relay/dhcp-frames.js';
import { ControlRig } from './control-rig.js';
import { cli, recordingLog, TempDirs } from './helpers.js';

const WAN_MAC = '02:00:00:00:00:0a';
const CONFIG = `
ports:
  - { name: lan, kind: memory, mac: 02:00:00:00:00:01, addresses: [10.100.0.1/24] }
  - { name: wan1, kind: memory, mac: ${WAN_MAC}, dhcp: { client: true, table: wanisp1 } }
tables:
  wanisp1: { id: 101, routes: [] }
rules:
  - { priority: 40001, fwmark: 0x1, table: wanisp1 }
`;

const u32b = (a: number) => Uint8Array.of(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);

/** The server's OFFER or ACK for 10.0.5.119: lease 120 s, T1 60 s, T2 105 s, router 10.0.5.1. */
function serverReply(type: number, xid: number): Uint8Array {
  const msg = replyMessage({
    type,
    xid,
    chaddr: WAN_MAC,
    yiaddr: '10.0.5.119',
    options: [
      { code: DHCP_OPT_SERVER_ID, data: u32b(ip('10.0.5.1')) },
      { code: DHCP_OPT_SUBNET_MASK, data: u32b(ip('255.255.255.0')) },
      { code: DHCP_OPT_LEASE_TIME, data: u32b(120) },
      { code: DHCP_OPT_RENEWAL_TIME, data: u32b(60) },
      { code: DHCP_OPT_REBINDING_TIME, data: u32b(105) },
      { code: DHCP_OPT_ROUTER, data: u32b(ip('10.0.5.1')) },
    ],
  });
  return udpFrame(
    {
      dstMac: 'ff:ff:ff:ff:ff:ff',
      srcMac: '02:00:00:00:05:01',
      src: '10.0.5.1',
      dst: '255.255.255.255',
      sport: 67,
      dport: 68,
    },
    msg,
  );
}

/** The xid of the one DHCP message the client just sent on wan1. */
function sentXid(rig: ControlRig): number {
  const dhcp = rig.sent('wan1').filter((f) => f[12] === 0x08 && f[13] === 0x00);
  expect(dhcp).toHaveLength(1);
  const v = new Dhcpv4View();
  const d = decodeSent(dhcp[0]!);
  expect(v.wrap(d.dhcp, 0, d.dhcp.length)).toBe(0);
  return v.xid;
}

const tmp = new TempDirs();
let rig: ControlRig;
let server: ControlServer;
let metrics: MetricsServer;
let sock: string;

beforeEach(async () => {
  const dir = tmp.make();
  rig = new ControlRig(dir, CONFIG, { random: () => 0.5, startDelay: [1, 1], leaseFile: null });
  rig.tickTo(1001.5);
  rig.send('wan1', [serverReply(DHCPOFFER, sentXid(rig))], 0.01);
  rig.send('wan1', [serverReply(DHCPACK, sentXid(rig))], 0.01);
  sock = join(dir, 'ferry.sock');
  server = await startControlServer(rig, sock, recordingLog());
  metrics = await startMetricsServer(rig, { host: '127.0.0.1', port: 0 }, recordingLog());
});

afterEach(async () => {
  await metrics.close();
  await server.close();
  tmp.cleanup();
});

describe('DHCP leases', () => {
  it('status gives the lease, its times on the engine clock, and the routes it installed', async () => {
    const s = JSON.parse((await cli('status', '--json', '--control', sock)).out) as StatusSnapshot;
    expect(s.dhcpClients).toHaveLength(1);
    const c = s.dhcpClients[0]!;
    expect(c).toMatchObject({
      port: 'wan1',
      state: 'bound',
      sent: { DISCOVER: 1, REQUEST: 1 },
      received: { OFFER: 1, ACK: 1 },
    });
    const l = c.lease!;
    expect(l).toMatchObject({
      address: '10.0.5.119',
      prefixLen: 24,
      server: '10.0.5.1',
      routers: ['10.0.5.1'],
      leaseTime: 120,
    });
    expect(l.t1At - l.obtainedAt).toBe(60);
    expect(l.t2At - l.obtainedAt).toBe(105);
    expect(l.expiresAt! - l.obtainedAt).toBe(120);
    expect(l.expiresIn).toBeCloseTo(l.expiresAt! - rig.engine.ctx.now, 9);
    expect(l.t1In).toBeGreaterThan(59);
    expect(l.t1In).toBeLessThanOrEqual(60);
    expect(s.routes.find((t) => t.id === 101)?.routes.map((r) => r.text)).toEqual([
      'default via 10.0.5.1 dev wan1',
      '10.0.5.0/24 dev wan1',
    ]);
    const text = (await cli('status', '--control', sock)).out;
    expect(text).toMatch(
      /^dhcp clients\n\s+PORT\s+STATE\s+ADDRESS\s+SERVER\s+RENEW \(T1\)\s+REBIND \(T2\)\s+EXPIRES\n\s+wan1\s+bound\s+10\.0\.5\.119\/24\s+10\.0\.5\.1\s+(59s|1m 00s)\s+1m 4\ds\s+1m 59s$/m,
    );
    expect(text).toContain('routes, table wanisp1 (101)');
  });

  it('metrics give the seconds until the lease expires', async () => {
    const text = await (await fetch(metrics.url)).text();
    const line = text.split('\n').find((x) => x.startsWith('ferry_dhcp_lease_expiry_seconds{port="wan1"} '));
    expect(line).toBeDefined();
    const lease = rig.current().built.dhcpClients!.client('wan1')!.lease!;
    expect(Number(line!.split(' ')[1])).toBeCloseTo(lease.obtainedAt + 120 - rig.engine.ctx.now, 6);
  });
});
