import { describe, expect, it } from 'vitest';
import { attachDhcpRelay } from '../../../src/dataplane/dhcp-relay/index.js';
import { ArpView } from '../../../src/dataplane/wire/arp.js';
import { toHex } from '../../../src/dataplane/wire/bytes.js';
import {
  DHCP_CIADDR,
  DHCP_FLAG_BROADCAST,
  DHCP_GIADDR,
  DHCP_HOPS,
  DHCPACK,
  DHCPDISCOVER,
  DHCPINFORM,
  DHCPNAK,
  DHCPOFFER,
  DHCPREQUEST,
} from '../../../src/dataplane/wire/dhcpv4.js';
import { arpReply, ip, ipFrame, macNum, udp } from '../../helpers/frames.js';
import { RouterRig } from '../../helpers/router-rig.js';
import {
  clientBroadcast,
  decodeSent,
  dhcpMessage,
  diffOffsets,
  replyMessage,
  udpFrame,
  udpPacket,
} from './dhcp-frames.js';
import { fromServer, GW, R_LAN, R_WAN, routedRelay, SERVER, SERVER2 } from './rig.js';

const C1 = '0a:00:00:00:00:51';
/** Bytes giaddr 0.0.0.0 → 10.1.0.1 (0a 01 00 01) changes; a relayed request also changes hops. */
const GIADDR_DIFF = [DHCP_GIADDR, DHCP_GIADDR + 1, DHCP_GIADDR + 3];
const RELAYED_DIFF = [DHCP_HOPS, ...GIADDR_DIFF];

function discover(o: Parameters<typeof dhcpMessage>[0] = {}): Uint8Array {
  return clientBroadcast(o.chaddr ?? C1, dhcpMessage({ type: DHCPDISCOVER, chaddr: C1, ...o }));
}

describe('requests to the servers (RFC 1542 §4.1.1)', () => {
  it('one copy per configured server, each from the server-facing address via the gateway', () => {
    const { r, relay } = routedRelay({ servers: [ip(SERVER), ip(SERVER2)] });
    const msg = dhcpMessage({ type: DHCPDISCOVER, chaddr: C1 });
    r.send('lan', [clientBroadcast(C1, msg)]);
    const out = r.sent('wan').map((f) => decodeSent(f));
    expect(out.map((o) => [o.dstMac, o.srcMac, o.ip.src, o.ip.dst, o.udp.sport, o.udp.dport])).toEqual([
      [GW, R_WAN, '192.0.2.2', SERVER, 67, 67],
      [GW, R_WAN, '192.0.2.2', SERVER2, 67, 67],
    ]);
    for (const o of out) {
      expect(diffOffsets(o.dhcp, msg)).toEqual(RELAYED_DIFF);
      expect(toHex(o.dhcp, DHCP_GIADDR, 4)).toBe('0a010001');
    }
    expect(r.sent('lan')).toEqual([]);
    expect(relay.counters.snapshot()).toMatchObject({ 'requests-relayed': 1, 'copies-to-servers': 2 });
  });

  it('resolves the gateway first: the copy waits in the neighbour queue, then goes on the ARP reply', () => {
    const { r } = routedRelay({}, { learnGateway: false });
    r.send('lan', [discover()]);
    const [req, ...rest] = r.sent('wan');
    expect(rest).toEqual([]);
    const a = new ArpView();
    expect(a.wrap(req!, 14, 28)).toBe(0);
    expect([a.isRequest, a.targetIp]).toEqual([true, ip('192.0.2.1')]);
    r.send('wan', [arpReply(GW, '192.0.2.1', R_WAN, '192.0.2.2')]);
    const out = decodeSent(r.sent('wan')[0]!);
    expect([out.dstMac, out.ip.dst]).toEqual([GW, SERVER]);
  });

  it('a server with no route: that copy is counted, the others go', () => {
    const { r, relay } = routedRelay({ servers: [ip(SERVER), ip('10.9.9.9')] });
    r.routes.routes.splice(0); // no default route any more, only the connected ones
    r.routes.add(ip('198.51.100.0'), 24, 1, ip('192.0.2.1'));
    r.send('lan', [discover()]);
    expect(r.sent('wan').map((f) => decodeSent(f).ip.dst)).toEqual([SERVER]);
    expect(r.engine.drops()['dhcp-relay-no-route-to-server']).toBe(1);
    expect(relay.counters.copies).toBe(1);
  });

  it('REBINDING broadcast with ciaddr: relayed with ciaddr kept and giaddr filled', () => {
    const { r } = routedRelay();
    const msg = dhcpMessage({ type: DHCPREQUEST, chaddr: C1, ciaddr: '10.1.0.50' });
    r.send('lan', [
      udpFrame(
        {
          dstMac: 'ff:ff:ff:ff:ff:ff',
          srcMac: C1,
          src: '10.1.0.50',
          dst: '255.255.255.255',
          sport: 68,
          dport: 67,
        },
        msg,
      ),
    ]);
    const out = decodeSent(r.sent('wan')[0]!);
    expect(toHex(out.dhcp, DHCP_CIADDR, 4)).toBe('0a010032');
    expect(diffOffsets(out.dhcp, msg)).toEqual(RELAYED_DIFF);
  });

  it('a request unicast to the relay address (a client told to use it) is relayed too', () => {
    const { r } = routedRelay();
    const msg = dhcpMessage({ type: DHCPREQUEST, chaddr: C1, ciaddr: '10.1.0.50' });
    r.send('lan', [
      udpFrame({ dstMac: R_LAN, srcMac: C1, src: '10.1.0.50', dst: '10.1.0.1', sport: 68, dport: 67 }, msg),
    ]);
    expect(decodeSent(r.sent('wan')[0]!).ip.dst).toBe(SERVER);
  });

  it('the server-facing port may be an L3 overlay: the copy leaves bare, from the overlay address', () => {
    const r = new RouterRig([
      { name: 'lan', mac: R_LAN, address: '10.1.0.1' },
      { name: 'tun', mtu: 1280, address: '100.64.0.2', prefixLen: 32 },
    ]);
    r.routes.add(ip('198.51.100.0'), 24, 1);
    attachDhcpRelay(r.engine, { listen: [0], servers: [ip(SERVER)], hopLimit: 4, option82: null });
    r.send('lan', [discover()]);
    const out = decodeSent(r.sent('tun')[0]!, 0);
    expect([out.ip.src, out.ip.dst]).toEqual(['100.64.0.2', SERVER]);
    // and the reply, arriving bare, leaves on lan with an Ethernet header of its own
    const reply = replyMessage({ type: DHCPOFFER, chaddr: C1, yiaddr: '10.1.0.50', giaddr: '10.1.0.1' });
    r.send('tun', [udpPacket({ src: SERVER, dst: '10.1.0.1', sport: 67, dport: 67 }, reply)]);
    const down = decodeSent(r.sent('lan')[0]!);
    expect([down.dstMac, down.srcMac, down.ip.src, down.ip.dst]).toEqual([
      C1,
      R_LAN,
      '10.1.0.1',
      '10.1.0.50',
    ]);
    expect(toHex(down.dhcp)).toBe(toHex(reply));
  });

  it('requests on a port it does not listen on are dropped and counted', () => {
    const { r } = routedRelay();
    r.send('wan', [discover()]);
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['dhcp-relay-not-listening']).toBe(1);
  });
});

describe('hops (RFC 1542 §4.1.1)', () => {
  it('relays up to the configured limit and drops from there, counted', () => {
    const { r } = routedRelay({ hopLimit: 4 });
    r.send('lan', [discover({ hops: 3 })]);
    expect(decodeSent(r.sent('wan')[0]!).dhcp[DHCP_HOPS]).toBe(4);
    r.send('lan', [discover({ hops: 4 }), discover({ hops: 200 })]);
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['dhcp-relay-hop-limit']).toBe(2);
  });

  it('never relays what arrived with more than 16, whatever the configuration says', () => {
    const { r } = routedRelay({ hopLimit: 40 });
    r.send('lan', [discover({ hops: 15 })]);
    expect(decodeSent(r.sent('wan')[0]!).dhcp[DHCP_HOPS]).toBe(16);
    r.send('lan', [discover({ hops: 16 }), discover({ hops: 17 })]);
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['dhcp-relay-hop-limit']).toBe(2);
  });
});

describe('giaddr (RFC 1542 §4.1.1, RFC 3046 §2.1.1)', () => {
  it('a request relayed before keeps its giaddr; only hops changes', () => {
    const { r } = routedRelay();
    const msg = dhcpMessage({ type: DHCPDISCOVER, chaddr: C1, giaddr: '10.7.0.1', hops: 1 });
    r.send('lan', [
      udpFrame(
        {
          dstMac: R_LAN,
          srcMac: '0a:00:00:00:07:01',
          src: '10.1.0.7',
          dst: '10.1.0.1',
          sport: 67,
          dport: 67,
        },
        msg,
      ),
    ]);
    const out = decodeSent(r.sent('wan')[0]!);
    expect(diffOffsets(out.dhcp, msg)).toEqual([DHCP_HOPS]);
    expect(out.dhcp[DHCP_HOPS]).toBe(2);
  });

  it('a request whose giaddr is one of ours is dropped (spoofed, or our own looping back)', () => {
    const { r } = routedRelay();
    const msg = dhcpMessage({ type: DHCPDISCOVER, chaddr: C1, giaddr: '192.0.2.2', hops: 1 });
    r.send('lan', [clientBroadcast(C1, msg)]);
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['dhcp-relay-own-giaddr']).toBe(1);
  });
});

describe('replies to the clients (RFC 2131 §4.1, RFC 1542 §4.1.2)', () => {
  function deliver(msg: Uint8Array) {
    const { r, relay } = routedRelay();
    r.send('wan', [fromServer(msg)]);
    expect(r.sent('wan')).toEqual([]);
    const frames = r.sent('lan');
    expect(frames.length).toBe(1);
    return { out: decodeSent(frames[0]!), r, relay };
  }

  it('unicast to yiaddr at chaddr when the client can take it', () => {
    const { out } = deliver(replyMessage({ type: DHCPOFFER, chaddr: C1, yiaddr: '10.1.0.50' }));
    expect([out.dstMac, out.srcMac, out.ip.src, out.ip.dst, out.udp.sport, out.udp.dport]).toEqual([
      C1,
      R_LAN,
      '10.1.0.1',
      '10.1.0.50',
      67,
      68,
    ]);
    expect(out.ip).toMatchObject({ ttl: 64, df: false, headerLen: 20 });
  });

  it('broadcast when the client set the broadcast bit', () => {
    const msg = replyMessage({
      type: DHCPOFFER,
      chaddr: C1,
      yiaddr: '10.1.0.50',
      flags: DHCP_FLAG_BROADCAST,
    });
    const { out, relay } = deliver(msg);
    expect([out.dstMac, out.srcMac, out.ip.src, out.ip.dst, out.udp.dport]).toEqual([
      'ff:ff:ff:ff:ff:ff',
      R_LAN,
      '10.1.0.1',
      '255.255.255.255',
      68,
    ]);
    expect(diffOffsets(out.dhcp, msg)).toEqual(GIADDR_DIFF);
    expect(relay.counters.repliesBroadcast).toBe(1);
  });

  it('broadcast for a DHCPNAK even without the bit: the client’s address may be wrong', () => {
    const { out } = deliver(replyMessage({ type: DHCPNAK, chaddr: C1, ciaddr: '10.1.0.50' }));
    expect([out.dstMac, out.ip.dst]).toEqual(['ff:ff:ff:ff:ff:ff', '255.255.255.255']);
  });

  it('unicast to ciaddr for the ACK to a DHCPINFORM (no yiaddr)', () => {
    const { r, relay } = routedRelay();
    const inform = dhcpMessage({ type: DHCPINFORM, chaddr: C1, ciaddr: '10.1.0.60' });
    r.send('lan', [
      udpFrame(
        {
          dstMac: 'ff:ff:ff:ff:ff:ff',
          srcMac: C1,
          src: '10.1.0.60',
          dst: '255.255.255.255',
          sport: 68,
          dport: 67,
        },
        inform,
      ),
    ]);
    expect(decodeSent(r.sent('wan')[0]!).ip.dst).toBe(SERVER);
    r.send('wan', [fromServer(replyMessage({ type: DHCPACK, chaddr: C1, ciaddr: '10.1.0.60' }))]);
    const out = decodeSent(r.sent('lan')[0]!);
    expect([out.dstMac, out.ip.dst]).toEqual([C1, '10.1.0.60']);
    expect(relay.counters.snapshot()).toMatchObject({ 'request-INFORM': 1, 'reply-ACK': 1 });
    // no yiaddr: nothing leased, nothing learned
    expect(relay.counters.learnedNeighbours).toBe(0);
  });

  it('broadcast when there is no usable hardware address (not Ethernet, group bit set, zero)', () => {
    for (const o of [
      { htype: 6, hlen: 6 },
      { hlen: 0 },
      { chaddr: '01:00:5e:00:00:01' },
      { chaddr: '00:00:00:00:00:00' },
    ]) {
      const { out } = deliver(replyMessage({ type: DHCPOFFER, chaddr: C1, yiaddr: '10.1.0.50', ...o }));
      expect([out.dstMac, out.ip.dst]).toEqual(['ff:ff:ff:ff:ff:ff', '255.255.255.255']);
    }
  });

  it('broadcast when neither yiaddr nor ciaddr names a host', () => {
    const { out } = deliver(replyMessage({ type: DHCPOFFER, chaddr: C1, yiaddr: '10.1.0.255' }));
    expect(out.ip.dst).toBe('255.255.255.255');
  });

  it('the reply’s message bytes reach the client unchanged (giaddr stays as the server set it)', () => {
    const msg = replyMessage({ type: DHCPACK, chaddr: C1, yiaddr: '10.1.0.50', hops: 1 });
    const { out } = deliver(msg);
    expect(diffOffsets(out.dhcp, msg)).toEqual(GIADDR_DIFF);
  });

  it('drops a reply whose giaddr is not ours, or ours on a port it does not serve', () => {
    const { r } = routedRelay();
    const msg = replyMessage({ type: DHCPOFFER, chaddr: C1, yiaddr: '10.1.0.50' });
    // sent to our address, but for a giaddr that is not ours; then for our address on wan
    r.send('wan', [fromServer(msg, { giaddr: '10.1.0.9', dst: '10.1.0.1' })]);
    r.send('wan', [fromServer(msg, { giaddr: '192.0.2.2' })]);
    expect(r.sent('lan')).toEqual([]);
    expect(r.engine.drops()['dhcp-relay-reply-unknown-giaddr']).toBe(2);
  });

  it('drops a spoofed reply from anyone but a configured server, counted', () => {
    const { r, relay } = routedRelay();
    const msg = replyMessage({ type: DHCPACK, chaddr: C1, yiaddr: '10.1.0.50' });
    r.send('wan', [fromServer(msg, { server: '198.51.100.66' })]);
    const rogue = udpFrame(
      { dstMac: R_LAN, srcMac: '0a:00:00:00:00:66', src: '10.1.0.66', dst: '10.1.0.1', sport: 67, dport: 67 },
      msg.map((b, i) => (i >= DHCP_GIADDR && i < DHCP_GIADDR + 4 ? [10, 1, 0, 1][i - DHCP_GIADDR]! : b)),
    );
    r.send('lan', [rogue]);
    expect(r.sent('lan')).toEqual([]);
    expect(r.engine.drops()['dhcp-relay-reply-not-from-server']).toBe(2);
    expect(relay.counters.replies).toBe(0);
    expect(r.engine.ctx.neighbours.find(ip('10.1.0.50'), 0)).toBe(-1);
  });

  it('drops a reply that would not fit the client port’s MTU', () => {
    const r = new RouterRig([
      { name: 'lan', mac: R_LAN, address: '10.1.0.1', mtu: 576 },
      { name: 'wan', mac: R_WAN, address: '192.0.2.2' },
    ]);
    r.routes.add(0, 0, 1, ip('192.0.2.1'));
    attachDhcpRelay(r.engine, { listen: [0], servers: [ip(SERVER)], hopLimit: 4, option82: null });
    const big = replyMessage({
      type: DHCPOFFER,
      chaddr: C1,
      yiaddr: '10.1.0.50',
      options: [
        { code: 43, data: new Uint8Array(255) },
        { code: 43, data: new Uint8Array(100) },
      ],
    });
    r.send('wan', [fromServer(big)]);
    expect(r.sent('lan')).toEqual([]);
    expect(r.engine.drops()['dhcp-relay-reply-too-big']).toBe(1);
  });
});

describe('learning the lease', () => {
  it('a routed relay (no proxy-ARP) learns the neighbour but installs no host route', () => {
    const { r, relay } = routedRelay({}, { hosts: true });
    r.send('wan', [fromServer(replyMessage({ type: DHCPACK, chaddr: C1, yiaddr: '10.1.0.50' }))]);
    r.sent('lan');
    const e = r.engine.ctx.neighbours.find(ip('10.1.0.50'), 0);
    expect(r.engine.ctx.neighbours.mac[e]).toBe(macNum(C1));
    expect(r.routes.hostPort4(ip('10.1.0.50'))).toBe(-1);
    expect(relay.counters.snapshot()).toMatchObject({ 'learned-neighbours': 1 });
    expect(relay.counters.learnedHostRoutes).toBe(0);
  });

  it('a packet that was waiting for the client’s MAC goes out when the ACK teaches it', () => {
    const { r } = routedRelay();
    const pkt = udp({ src: '198.51.100.80', dst: '10.1.0.50' }, 5000, 6000);
    r.send('wan', [ipFrame(R_WAN, GW, pkt)]);
    const [arp] = r.sent('lan');
    const a = new ArpView();
    expect(a.wrap(arp!, 14, 28)).toBe(0);
    expect(a.targetIp).toBe(ip('10.1.0.50'));
    r.send('wan', [fromServer(replyMessage({ type: DHCPACK, chaddr: C1, yiaddr: '10.1.0.50' }))]);
    const frames = r.sent('lan');
    expect(frames.length).toBe(2);
    const waited = frames.find((f) => f[14 + 9] === 17 && f[14 + 20 + 3] === 0x70)!; // dport 6000
    expect(toHex(waited, 0, 6)).toBe(toHex(Uint8Array.from(C1.split(':'), (x) => Number.parseInt(x, 16))));
  });

  it('neither OFFER nor NAK nor a broadcast delivery teaches anything', () => {
    const { r } = routedRelay();
    r.send('wan', [
      fromServer(replyMessage({ type: DHCPOFFER, chaddr: C1, yiaddr: '10.1.0.50' })),
      fromServer(replyMessage({ type: DHCPNAK, chaddr: C1, yiaddr: '10.1.0.51' })),
      fromServer(
        replyMessage({ type: DHCPACK, chaddr: C1, yiaddr: '10.1.0.52', flags: DHCP_FLAG_BROADCAST }),
      ),
    ]);
    for (const a of ['10.1.0.50', '10.1.0.51', '10.1.0.52'])
      expect(r.engine.ctx.neighbours.find(ip(a), 0)).toBe(-1);
  });
});

describe('building the relay', () => {
  it('refuses a listen port that does not carry Ethernet, an unknown port, no servers, a bad hop limit', () => {
    const r = new RouterRig([
      { name: 'lan', mac: R_LAN, address: '10.1.0.1' },
      { name: 'tun', address: '100.64.0.2', prefixLen: 32 },
    ]);
    const base = { listen: [0], servers: [ip(SERVER)], hopLimit: 4, option82: null };
    expect(() => attachDhcpRelay(r.engine, { ...base, listen: [1] })).toThrow(/Ethernet/);
    expect(() => attachDhcpRelay(r.engine, { ...base, listen: [7] })).toThrow(/no port 7/);
    expect(() => attachDhcpRelay(r.engine, { ...base, servers: [] })).toThrow(/no servers/);
    expect(() => attachDhcpRelay(r.engine, { ...base, hopLimit: 0 })).toThrow(/hop limit/);
  });

  it('a listen port without an address drops requests, counted (no giaddr to give)', () => {
    const r = new RouterRig([
      { name: 'lan', mac: R_LAN },
      { name: 'wan', mac: R_WAN, address: '192.0.2.2' },
    ]);
    r.routes.add(0, 0, 1, ip('192.0.2.1'));
    attachDhcpRelay(r.engine, { listen: [0], servers: [ip(SERVER)], hopLimit: 4, option82: null });
    r.send('lan', [discover()]);
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['dhcp-relay-no-address']).toBe(1);
  });
});
