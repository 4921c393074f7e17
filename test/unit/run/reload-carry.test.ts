/**
 * A reload's handoff (buildRouter's `previous`, as `ferry run` does on SIGHUP), on memory ports
 * and a fake clock: an established, masqueraded TCP flow keeps its binding and its state,
 * resolved neighbours need no new ARP, the brouter's learned host routes stay, the DHCP lease
 * stays installed and is renewed at T1 by the new engine; and what a reload cannot carry is
 * refused (reload-plan's restartNeeded, conntrackCarryProblem).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { conntrackCarryProblem } from '../../../src/control/build-router.js';
import { parseConfig } from '../../../src/control/config/loader.js';
import { CT_ESTABLISHED } from '../../../src/control/config/types.js';
import { describeChanges, restartNeeded } from '../../../src/control/run/reload-plan.js';
import { DHCPACK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST } from '../../../src/dataplane/wire/dhcpv4.js';
import { arpReply, arpRequest, ip, ipFrame } from '../../helpers/frames.js';
import { hdr, tcp } from '../nat/nat-rig.js';
import { CONFIG, LEASED, MACS, RELOADED, ReloadRig, SERVER, serverReply, T1, WAN_GW } from './reload-rig.js';

const SYN = 0x02;
const ACK = 0x10;
const SYN_ACK = 0x12;
const PSH_ACK = 0x18;
const CLIENT_PORT = 40000;

/** A segment from client `c` (".53" or ".54") to the server's port 80, as it arrives on eth1. */
function fromClient(c: 'c53' | 'c54', flags: number, seq: number, ack: number, payload = 0): Uint8Array {
  const src = `192.168.0.${c.slice(1)}`;
  return ipFrame(
    MACS.eth1,
    MACS[c],
    tcp({ src, dst: SERVER }, CLIENT_PORT, 80, { flags, seq, ack, payload }),
  );
}

/** The server's segment to the client's external port, as it arrives on wan from the gateway. */
function fromServer(extPort: number, flags: number, seq: number, ack: number): Uint8Array {
  return ipFrame(
    MACS.wan,
    MACS.dhcpServer,
    tcp({ src: SERVER, dst: LEASED }, 80, extPort, { flags, seq, ack }),
  );
}

interface Running {
  rig: ReloadRig;
  /** The external (masqueraded) port of each client's flow. */
  ext: { c53: number; c54: number };
  /** The client's DHCP messages before the lease (DISCOVER, REQUEST). */
  dora: number[];
}

/** DORA on wan, every neighbour heard, and both clients' handshakes through the NAT. */
function running(): Running {
  const rig = new ReloadRig();
  rig.tickTo(1001.5);
  const [discover] = rig.dhcpSent(rig.sent('wan').frames);
  rig.recv('wan', serverReply(DHCPOFFER, discover!.xid));
  const [request] = rig.dhcpSent(rig.sent('wan').frames);
  rig.recv('wan', serverReply(DHCPACK, request!.xid));
  expect(rig.built.dhcpClients!.client('wan')!.state).toBe('bound');

  rig.recv('eth0', arpRequest(MACS.upstream, '192.168.0.1', '192.168.0.125'));
  rig.recv('eth1', arpRequest(MACS.c53, '192.168.0.53', '192.168.0.126'));
  rig.recv('eth1', arpRequest(MACS.c54, '192.168.0.54', '192.168.0.126'));
  rig.recv('wan', arpRequest(MACS.dhcpServer, WAN_GW, LEASED));
  for (const p of ['eth0', 'eth1', 'wan']) rig.sent(p);

  const ext = { c53: 0, c54: 0 };
  for (const c of ['c53', 'c54'] as const) {
    rig.recv('eth1', fromClient(c, SYN, 1000, 0));
    const [syn] = rig.sent('wan').ipv4;
    const h = hdr(syn!);
    expect(h.src).toBe(LEASED);
    ext[c] = h.sport;
    rig.recv('wan', fromServer(h.sport, SYN_ACK, 5000, 1001));
    expect(rig.sent('eth1').ipv4).toHaveLength(1);
    rig.recv('eth1', fromClient(c, ACK, 1001, 5001));
    expect(rig.sent('wan').ipv4).toHaveLength(1);
  }
  // Both clients used source port 40000: the second one's flow was mapped to another port.
  expect(ext.c53).toBe(CLIENT_PORT);
  expect(ext.c54).not.toBe(CLIENT_PORT);
  return { rig, ext, dora: [discover!.type, request!.type] };
}

describe('reload: the running router’s state carries over to the rebuilt one', () => {
  let r: Running;
  beforeEach(() => {
    r = running();
  });

  it('the reload applies the new config: a new engine, the added chain live', () => {
    const old = r.rig.engine;
    expect(describeChanges(r.rig.cfg, parseConfig(RELOADED, 'ferry.yaml'))).toBe('chain block-8001 added');
    r.rig.reload(RELOADED);
    expect(r.rig.engine).not.toBe(old);
    // The old flows' table is the new engine's (the same object, not a copy that could drift).
    expect(r.rig.engine.conntrack).toBe(old.conntrack);
    r.rig.recv('eth1', ipFrame(MACS.eth1, MACS.c53, tcp({ src: '192.168.0.53', dst: SERVER }, 41000, 8001)));
    const [rst] = r.rig.sent('eth1').ipv4;
    expect(hdr(rst!)).toMatchObject({ src: SERVER, dst: '192.168.0.53', sport: 8001, dport: 41000 });
    expect(rst![33]! & 0x04).toBe(0x04);
    expect(r.rig.sent('wan').ipv4).toHaveLength(0);
  });

  it('an established flow’s next packet keeps its binding (the same external port) and is ESTABLISHED', () => {
    r.rig.reload(RELOADED);
    const seen = r.rig.probe('postrouting');
    r.rig.recv('eth1', fromClient('c54', PSH_ACK, 1001, 5001, 100));
    const { ipv4, arp } = r.rig.sent('wan');
    expect(arp).toHaveLength(0);
    expect(ipv4).toHaveLength(1);
    expect(hdr(ipv4[0]!)).toMatchObject({ src: LEASED, dst: SERVER, sport: r.ext.c54, dport: 80, proto: 6 });
    expect(seen).toEqual([{ state: CT_ESTABLISHED, sport: CLIENT_PORT, dport: 80 }]);
    // The server's answer to that port is un-NATed back to the client.
    r.rig.recv('wan', fromServer(r.ext.c54, ACK, 5001, 1101));
    const back = r.rig.sent('eth1').ipv4;
    expect(back).toHaveLength(1);
    expect(hdr(back[0]!)).toMatchObject({ src: SERVER, dst: '192.168.0.54', sport: 80, dport: CLIENT_PORT });
    expect(r.rig.engine.drops()).toEqual({});
  });

  it('resolved neighbours stay resolved: frames go out at once, with no ARP request', () => {
    r.rig.reload(RELOADED);
    expect(r.rig.engine.ctx.neighbours.count).toBeGreaterThanOrEqual(4);
    r.rig.recv('wan', fromServer(r.ext.c53, ACK, 5001, 1001));
    const toClient = r.rig.sent('eth1');
    expect(toClient.arp).toHaveLength(0);
    expect(toClient.frames).toHaveLength(1);
    // Straight to the client's MAC, from eth1's.
    expect([...toClient.frames[0]!.subarray(0, 12)]).toEqual([
      0x0a, 0, 0, 0, 0, 0x53, 0x02, 0, 0, 0, 0, 0x02,
    ]);
    r.rig.recv('eth1', fromClient('c53', ACK, 1001, 5001));
    const toGateway = r.rig.sent('wan');
    expect(toGateway.arp).toHaveLength(0);
    expect([...toGateway.frames[0]!.subarray(0, 6)]).toEqual([0x0a, 0, 0, 0, 0x05, 0x01]);
  });

  it('the brouter’s learned host routes stay: each host is reached on the leg it was heard on', () => {
    r.rig.reload(RELOADED);
    const learned = r.rig.built.routes.learnedHosts().map((h) => [h.addr, h.port]);
    expect(learned).toEqual(
      expect.arrayContaining([
        [ip('192.168.0.1'), 0],
        [ip('192.168.0.53'), 1],
        [ip('192.168.0.54'), 1],
      ]),
    );
    // Both legs hold 192.168.0.0/24: only the host routes tell which side a host is on.
    r.rig.recv(
      'eth0',
      ipFrame(MACS.eth0, MACS.upstream, tcp({ src: '192.168.0.1', dst: '192.168.0.53' }, 22, 50000)),
    );
    expect(r.rig.sent('eth1').ipv4.map((p) => hdr(p).dst)).toEqual(['192.168.0.53']);
    r.rig.recv(
      'eth1',
      ipFrame(MACS.eth1, MACS.c54, tcp({ src: '192.168.0.54', dst: '192.168.0.1' }, 50000, 22)),
    );
    expect(r.rig.sent('eth0').ipv4.map((p) => hdr(p).dst)).toEqual(['192.168.0.1']);
  });

  it('the DHCP lease stays installed, and the new engine renews it at T1 (unicast, no new DORA)', () => {
    expect(r.dora).toEqual([DHCPDISCOVER, DHCPREQUEST]);
    const built = r.rig.reload(RELOADED);
    const { engine, routes } = built;
    const rib = routes.rib;
    expect(engine.ctx.local.find(ip(LEASED))).toBeGreaterThanOrEqual(0);
    expect(rib.local.v4.get(ip(LEASED), 32)).toBeGreaterThanOrEqual(0);
    const def = rib.table(101)!.v4.get(0, 0);
    expect(def).toBeGreaterThanOrEqual(0);
    expect(rib.store.gw4[def]).toBe(ip(WAN_GW));
    expect(rib.table(101)!.v4.get(ip('10.0.5.0'), 24)).toBeGreaterThanOrEqual(0);
    expect(built.dhcpClients!.client('wan')!.state).toBe('bound');

    // Until T1 the client is quiet; at T1 it unicasts a REQUEST from the leased address (after
    // ARP for the server: the gateway's entry, never confirmed, has failed since).
    const leaseStart = built.dhcpClients!.client('wan')!.lease!.obtainedAt;
    r.rig.tickTo(leaseStart + T1 - 5);
    expect(r.rig.dhcpSent(r.rig.sent('wan').frames)).toEqual([]);
    r.rig.tickTo(leaseStart + T1 + 0.5);
    const wan = r.rig.sent('wan');
    expect(r.rig.dhcpSent(wan.frames)).toEqual([]);
    expect(wan.arp).toHaveLength(1);
    expect([...wan.arp[0]!.subarray(28, 32)].join('.')).toBe(LEASED); // sender: the lease's address
    r.rig.recv('wan', arpReply(MACS.dhcpServer, WAN_GW, MACS.wan, LEASED));
    const [renew, ...more] = r.rig.dhcpSent(r.rig.sent('wan').frames);
    expect(more).toEqual([]);
    expect(renew).toMatchObject({
      type: DHCPREQUEST,
      ciaddr: ip(LEASED),
      dstMac: MACS.dhcpServer,
      ip: { src: LEASED, dst: WAN_GW },
    });
    r.rig.recv('wan', serverReply(DHCPACK, renew!.xid, LEASED));
    expect(r.rig.events.map((e) => e.kind)).toEqual(['bound', 'renewed']);
  });

  it('the new timeouts apply to the carried flows from their next packet', () => {
    r.rig.reload(RELOADED.replace('capacity: 4096', 'capacity: 4096\n  timeouts: { tcp-established: 30s }'));
    r.rig.recv('eth1', fromClient('c54', ACK, 1001, 5001));
    expect(r.rig.sent('wan').ipv4).toHaveLength(1);
    // The client announces itself again before each answer (its entry failed unconfirmed).
    const heard = () => r.rig.recv('eth1', arpRequest(MACS.c54, '192.168.0.54', '192.168.0.126'));
    r.rig.tickTo(r.rig.now + 20);
    heard();
    r.rig.recv('wan', fromServer(r.ext.c54, ACK, 5001, 1001));
    expect(r.rig.sent('eth1').ipv4.map((p) => hdr(p).dst)).toEqual(['192.168.0.54']);
    // 30 s after the last packet the flow is gone: the server's segment is no longer the client's.
    r.rig.tickTo(r.rig.now + 31);
    heard();
    r.rig.recv('wan', fromServer(r.ext.c54, ACK, 5001, 1001));
    expect(r.rig.sent('eth1').ipv4).toEqual([]);
  });

  it('counters continue: the drop totals of the replaced engine are the new one’s starting point', () => {
    r.rig.recv('eth1', arpReply(MACS.c53, '192.168.0.53', MACS.eth1, '192.168.0.126').subarray(0, 30));
    const before = r.rig.engine.drops();
    expect(Object.values(before).reduce((a, b) => a + b, 0)).toBe(1);
    r.rig.reload(RELOADED);
    expect(r.rig.engine.drops()).toEqual(before);
  });
});

describe('reload: what needs a restart', () => {
  const cfg = (text: string) => parseConfig(text, 'ferry.yaml');
  const old = cfg(CONFIG);

  it('an added or removed port, a changed kind or device: refused, naming before and after', () => {
    const added = cfg(
      CONFIG.replace(
        '  - { name: wan,',
        '  - { name: eth2, kind: memory, addresses: [10.9.0.1/24] }\n  - { name: wan,',
      ),
    );
    expect(restartNeeded(old, added)).toEqual([
      'the ports changed (eth0 (memory on eth0), eth1 (memory on eth1), wan (memory on wan) → eth0 (memory on eth0), eth1 (memory on eth1), eth2 (memory on eth2), wan (memory on wan))',
    ]);
    const removed = cfg(CONFIG.replace(/ {2}- \{ name: eth1,.*\n/, ''));
    expect(restartNeeded(old, removed)).toEqual([
      'the ports changed (eth0 (memory on eth0), eth1 (memory on eth1), wan (memory on wan) → eth0 (memory on eth0), wan (memory on wan))',
    ]);
    const kind = cfg(CONFIG.replace('name: eth1, kind: memory', 'name: eth1, kind: afpacket'));
    expect(restartNeeded(old, kind)).toEqual([
      'the ports changed (eth0 (memory on eth0), eth1 (memory on eth1), wan (memory on wan) → eth0 (memory on eth0), eth1 (afpacket on eth1), wan (memory on wan))',
    ]);
    const live = (device: string) =>
      cfg(`ports:\n  - { name: eth0, kind: afpacket, device: ${device}, addresses: [10.0.0.1/24] }\n`);
    expect(restartNeeded(live('enp1s0'), live('enp2s0'))).toEqual([
      'the ports changed (eth0 (afpacket on enp1s0) → eth0 (afpacket on enp2s0))',
    ]);
    expect(restartNeeded(live('enp1s0'), live('enp1s0'))).toEqual([]);
  });

  it('mac and mtu of a port need a restart; chains, addresses and proxy-arp do not', () => {
    const mac = cfg(CONFIG.replace(`mac: ${MACS.eth1}`, 'mac: 02:00:00:00:00:99, mtu: 1400'));
    expect(restartNeeded(old, mac)).toEqual(['port eth1: mac changed', 'port eth1: mtu 1500 → 1400']);
    expect(restartNeeded(old, cfg(RELOADED))).toEqual([]);
    const addr = cfg(CONFIG.replace('192.168.0.126/24], proxy-arp: true', '192.168.0.127/24]'));
    expect(restartNeeded(old, addr)).toEqual([]);
    expect(describeChanges(old, addr)).toBe(
      'port eth1 addresses 192.168.0.126/24 → 192.168.0.127/24; port eth1 proxy-arp on → off',
    );
  });

  it('conntrackCarryProblem: a changed capacity or liberal mode cannot carry the flows', () => {
    const { rig } = running();
    expect(conntrackCarryProblem(rig.built, cfg(RELOADED))).toBeNull();
    const bigger = cfg(RELOADED.replace('capacity: 4096', 'capacity: 8192'));
    expect(conntrackCarryProblem(rig.built, bigger)).toBe('conntrack capacity 4096 → 8192');
    const liberal = cfg(RELOADED.replace('capacity: 4096', 'capacity: 4096\n  liberal: true'));
    expect(conntrackCarryProblem(rig.built, liberal)).toBe('conntrack liberal false → true');
    // buildRouter refuses it too, and the running router is untouched.
    const engine = rig.engine;
    expect(() => rig.reload(RELOADED.replace('capacity: 4096', 'capacity: 8192'))).toThrow(
      'buildRouter: cannot carry the flows over (conntrack capacity 4096 → 8192)',
    );
    expect(rig.engine).toBe(engine);
    // A config with no conntrack left has nothing to carry: no problem.
    const noNat = cfg(RELOADED.replace(/ {2}nat-postrouting:[\s\S]*?masquerade\n/, ''));
    expect(conntrackCarryProblem(rig.built, noNat)).toBeNull();
  });
});
