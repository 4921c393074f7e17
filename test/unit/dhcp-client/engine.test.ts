/**
 * The DHCP client inside a built router (buildRouter's hook), on memory ports and a fake clock:
 * the frames it sends, replies broadcast to 255.255.255.255 reaching it through ip4-local, the
 * lease's address and routes in the named table, the unicast renewal (ARP included), expiry
 * withdrawing everything, the lease file and INIT-REBOOT after a restart.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRouter } from '../../../src/control/build-router.js';
import { parseConfig } from '../../../src/control/config/loader.js';
import type { DhcpEvent } from '../../../src/control/dhcp-client/index.js';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import { MemoryPort } from '../../../src/dataplane/ports/memory-port.js';
import { u32 } from '../../../src/dataplane/wire/bytes.js';
import {
  DHCP_OPT_CLASSLESS_ROUTES,
  DHCP_OPT_LEASE_TIME,
  DHCP_OPT_REBINDING_TIME,
  DHCP_OPT_RENEWAL_TIME,
  DHCP_OPT_REQUESTED_IP,
  DHCP_OPT_ROUTER,
  DHCP_OPT_SERVER_ID,
  DHCP_OPT_SUBNET_MASK,
  DHCPACK,
  DHCPDISCOVER,
  DHCPOFFER,
  DHCPREQUEST,
  type Dhcpv4Option,
  Dhcpv4View,
} from '../../../src/dataplane/wire/dhcpv4.js';
import { emitClasslessRoutes } from '../../../src/dataplane/wire/dhcpv4-options.js';
import { arpReply, ip, macNum } from '../../helpers/frames.js';
import { decodeSent, replyMessage, udpFrame } from '../dhcp-relay/dhcp-frames.js';

const WAN_MAC = '02:00:00:00:00:0a';
const SRV_MAC = '02:00:00:00:05:01';
const CONFIG = `
ports:
  - { name: lan, kind: memory, mac: 02:00:00:00:00:01, addresses: [10.100.0.1/24] }
  - { name: wan1, kind: memory, mac: ${WAN_MAC}, dhcp: { client: true, table: wanisp1 } }
tables:
  wanisp1: { id: 101, routes: [] }
rules:
  - { priority: 40001, fwmark: 0x1, table: wanisp1 }
`;

const u32b = (a: string | number) => {
  const v = typeof a === 'string' ? ip(a) : a;
  return Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
};

function classless(): Uint8Array {
  const b = new Uint8Array(64);
  const n = emitClasslessRoutes(
    [
      { prefix: ip('10.9.0.0'), prefixLen: 16, gateway: ip('10.0.5.2') },
      { prefix: 0, prefixLen: 0, gateway: ip('10.0.5.3') },
    ],
    b,
    0,
  );
  return b.slice(0, n);
}

function serverReply(type: number, xid: number, opts: { classless?: boolean; to?: string } = {}): Uint8Array {
  const options: Dhcpv4Option[] = [
    { code: DHCP_OPT_SERVER_ID, data: u32b('10.0.5.1') },
    { code: DHCP_OPT_SUBNET_MASK, data: u32b('255.255.255.0') },
    { code: DHCP_OPT_LEASE_TIME, data: u32b(120) },
    { code: DHCP_OPT_RENEWAL_TIME, data: u32b(60) },
    { code: DHCP_OPT_REBINDING_TIME, data: u32b(105) },
    { code: DHCP_OPT_ROUTER, data: u32b('10.0.5.1') },
  ];
  if (opts.classless) options.push({ code: DHCP_OPT_CLASSLESS_ROUTES, data: classless() });
  const msg = replyMessage({ type, xid, chaddr: WAN_MAC, yiaddr: '10.0.5.119', options });
  const to = opts.to ?? '255.255.255.255';
  return udpFrame(
    {
      dstMac: to === '255.255.255.255' ? 'ff:ff:ff:ff:ff:ff' : WAN_MAC,
      srcMac: SRV_MAC,
      src: '10.0.5.1',
      dst: to,
      sport: 67,
      dport: 68,
    },
    msg,
  );
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function router(leaseFile: string, events: DhcpEvent[] = []) {
  const cfg = parseConfig(CONFIG, 'dhcp-client.yaml');
  const ports = [
    new MemoryPort('lan', true, macNum('02:00:00:00:00:01')),
    new MemoryPort('wan1', true, macNum(WAN_MAC)),
  ];
  const built = buildRouter(cfg, ports, {
    dhcpClient: {
      random: () => 0.5,
      startDelay: [1, 1],
      leaseFile: () => leaseFile,
      onEvent: (e) => events.push(e),
    },
  });
  const batch = new PacketBatch(8, 8 * 2048);
  let now = 1000;
  const v = new Dhcpv4View();
  return {
    ...built,
    ports,
    events,
    get now() {
      return now;
    },
    tick(to: number) {
      for (; now < to - 1e-9; ) {
        now = Math.min(to, now + 0.5);
        built.engine.tick(now);
      }
    },
    recv(port: number, frame: Uint8Array) {
      now += 0.01;
      batch.count = 1;
      batch.data.set(frame, 0);
      batch.offset[0] = 0;
      batch.length[0] = frame.length;
      batch.wireLength[0] = frame.length;
      batch.port[0] = port;
      built.engine.receive(batch, now);
    },
    /** DHCP messages sent on wan1, decoded (checksums checked); ARP frames returned apart. */
    sent() {
      const out = ports[1]!.sent.splice(0);
      const arp = out.filter((f) => f[12] === 0x08 && f[13] === 0x06);
      const dhcp = out
        .filter((f) => f[12] === 0x08 && f[13] === 0x00)
        .map((f) => {
          const d = decodeSent(f);
          expect(v.wrap(d.dhcp, 0, d.dhcp.length)).toBe(0);
          return { ...d, type: v.messageType, xid: v.xid, ciaddr: v.ciaddr, v };
        });
      return { dhcp, arp };
    },
  };
}

function tmpLease(): string {
  const d = mkdtempSync(join(tmpdir(), 'ferry-dhcp-'));
  dirs.push(d);
  return join(d, 'state', 'dhcp-wan1.json');
}

/** DORA through the engine; returns the router bound to 10.0.5.119. */
function bound(leaseFile: string, o: { classless?: boolean } = {}) {
  const r = router(leaseFile);
  r.tick(1001.5);
  const [d] = r.sent().dhcp;
  r.recv(1, serverReply(DHCPOFFER, d!.xid, o));
  const [q] = r.sent().dhcp;
  r.recv(1, serverReply(DHCPACK, q!.xid, o));
  return { r, discover: d!, request: q! };
}

describe('DHCP client in the router', () => {
  it('DISCOVER and REQUEST leave wan1 as Ethernet + IP broadcasts from 0.0.0.0:68 to :67', () => {
    const { discover, request } = bound(tmpLease());
    for (const m of [discover, request]) {
      expect(m.dstMac).toBe('ff:ff:ff:ff:ff:ff');
      expect(m.srcMac).toBe(WAN_MAC);
      expect(m.ip).toMatchObject({ src: '0.0.0.0', dst: '255.255.255.255', ttl: 64, proto: 17 });
      expect(m.udp).toMatchObject({ sport: 68, dport: 67 });
    }
    expect(discover.type).toBe(DHCPDISCOVER);
    expect(request.type).toBe(DHCPREQUEST);
  });

  it('the ACK (broadcast to 255.255.255.255, through ip4-local) installs address, connected and default routes in wanisp1', () => {
    const lease = tmpLease();
    const { r } = bound(lease);
    const rib = r.routes.rib;
    const t = rib.table(101)!;
    expect(r.engine.ctx.local.find(ip('10.0.5.119'))).toBeGreaterThanOrEqual(0);
    expect(rib.local.v4.get(ip('10.0.5.119'), 32)).toBeGreaterThanOrEqual(0);
    const conn = t.v4.get(ip('10.0.5.0'), 24);
    const def = t.v4.get(0, 0);
    expect(conn).toBeGreaterThanOrEqual(0);
    expect(def).toBeGreaterThanOrEqual(0);
    expect(rib.store.gw4[def]).toBe(ip('10.0.5.1'));
    expect(rib.store.port[def]).toBe(1);
    // Nothing in main: the lease's routes go only to the named table.
    expect(rib.main.v4.get(0, 0)).toBe(-1);
    expect(r.dhcpClients!.client('wan1')!.state).toBe('bound');
    // Persisted.
    const j = JSON.parse(readFileSync(lease, 'utf8'));
    expect(j).toMatchObject({
      port: 'wan1',
      mac: WAN_MAC,
      address: '10.0.5.119',
      prefixLen: 24,
      serverId: '10.0.5.1',
      leaseTime: 120,
    });
    expect(r.engine.drops()).toEqual({});
  });

  it('the trace tells which reply reached the client', () => {
    const r = router(tmpLease());
    r.tick(1001.5);
    const [d] = r.sent().dhcp;
    r.engine.pipe.tracer.arm(1);
    r.recv(1, serverReply(DHCPOFFER, d!.xid));
    const [t] = r.engine.pipe.drainTrace();
    const last = t!.steps.at(-1)!;
    expect(last.stage).toBe('dhcp-client');
    expect(last.text).toBe(
      `OFFER xid 0x${d!.xid.toString(16).padStart(8, '0')} from 10.0.5.1: handed to the DHCP client of wan1`,
    );
  });

  it('option 121: its routes in wanisp1 and option 3 ignored (RFC 3442)', () => {
    const { r } = bound(tmpLease(), { classless: true });
    const rib = r.routes.rib;
    const t = rib.table(101)!;
    const def = t.v4.get(0, 0);
    expect(rib.store.gw4[def]).toBe(ip('10.0.5.3'));
    expect(rib.store.next[def]).toBe(-1); // no second default via the option 3 router
    const net = t.v4.get(ip('10.9.0.0'), 16);
    expect(rib.store.gw4[net]).toBe(ip('10.0.5.2'));
  });

  it('T1: unicast REQUEST from the leased address to the server (after ARP), ACK renews', () => {
    const { r } = bound(tmpLease());
    r.tick(1062);
    const { dhcp, arp } = r.sent();
    expect(dhcp).toHaveLength(0);
    expect(arp).toHaveLength(1); // who-has 10.0.5.1: the REQUEST waits for it
    r.recv(1, arpReply(SRV_MAC, '10.0.5.1', WAN_MAC, '10.0.5.119'));
    const [q] = r.sent().dhcp;
    expect(q).toMatchObject({ dstMac: SRV_MAC, type: DHCPREQUEST, ciaddr: ip('10.0.5.119') });
    expect(q!.ip).toMatchObject({ src: '10.0.5.119', dst: '10.0.5.1' });
    r.recv(1, serverReply(DHCPACK, q!.xid, { to: '10.0.5.119' }));
    expect(r.dhcpClients!.client('wan1')!.state).toBe('bound');
    expect(r.events.map((e) => e.kind)).toEqual(['bound', 'renewed']);
  });

  it('no answer: rebinding broadcasts at T2, expiry removes address and routes, and says so', () => {
    const lease = tmpLease();
    const { r } = bound(lease);
    r.tick(1107);
    const reb = r.sent().dhcp.filter((m) => m.ip.dst === '255.255.255.255');
    expect(reb.length).toBeGreaterThanOrEqual(1);
    expect(reb[0]!.ip.src).toBe('10.0.5.119');
    expect(reb[0]!.ciaddr).toBe(ip('10.0.5.119'));
    expect(r.engine.ctx.local.find(ip('10.0.5.119'))).toBeGreaterThanOrEqual(0);
    r.tick(1123);
    const rib = r.routes.rib;
    expect(r.engine.ctx.local.find(ip('10.0.5.119'))).toBe(-1);
    expect(rib.local.v4.get(ip('10.0.5.119'), 32)).toBe(-1);
    expect(rib.table(101)!.v4.get(0, 0)).toBe(-1);
    expect(rib.table(101)!.v4.get(ip('10.0.5.0'), 24)).toBe(-1);
    expect(existsSync(lease)).toBe(false);
    expect(r.events.map((e) => e.kind)).toContain('expired');
    // Starting over: a DISCOVER right after.
    expect(r.sent().dhcp.map((m) => m.type)).toContain(DHCPDISCOVER);
  });

  it('a restart with the lease file re-requests the address (INIT-REBOOT): REQUEST with option 50, no DISCOVER', () => {
    const lease = tmpLease();
    bound(lease);
    const r2 = router(lease);
    r2.tick(1000.5);
    const [q] = r2.sent().dhcp;
    expect(q!.type).toBe(DHCPREQUEST);
    expect(q!.ip.src).toBe('0.0.0.0');
    expect(q!.v.findOption(DHCP_OPT_REQUESTED_IP) && u32(q!.v.buf, q!.v.optOff)).toBe(ip('10.0.5.119'));
    expect(q!.v.findOption(DHCP_OPT_SERVER_ID)).toBe(false);
    r2.recv(1, serverReply(DHCPACK, q!.xid));
    expect(r2.events.map((e) => e.kind)).toEqual(['rebooted']);
    expect(r2.engine.ctx.local.find(ip('10.0.5.119'))).toBeGreaterThanOrEqual(0);
  });

  it('DHCP replies on a port without a client are dropped and counted', () => {
    const r = router(tmpLease());
    r.recv(0, serverReply(DHCPOFFER, 1));
    expect(r.engine.drops()['dhcp-client-no-client-on-port']).toBe(1);
  });

  it('dhcpClient: false leaves the clients out', () => {
    const cfg = parseConfig(CONFIG, 'dhcp-client.yaml');
    const ports = [new MemoryPort('lan', true, 1), new MemoryPort('wan1', true, 2)];
    expect(buildRouter(cfg, ports, { dhcpClient: false }).dhcpClients).toBeNull();
  });
});
