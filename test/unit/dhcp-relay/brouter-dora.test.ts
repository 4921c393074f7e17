/**
 * Seed 000: a transparent brouter with both legs in 192.168.0.0/24 — here the fixtures' 10.0.5.0/24 —
 * relays the LAN's DHCP to the ISP router, as isc-dhcp-relay did with INTERFACES="eth1 eth0".
 * The client messages are udhcpc's and dhclient's own bytes (fixtures/pcap); the server's replies
 * are dnsmasq's, given the giaddr a server sets when it answers a relay.
 */
import { describe, expect, it } from 'vitest';
import { attachDhcpRelay } from '../../../src/dataplane/dhcp-relay/index.js';
import { ArpView } from '../../../src/dataplane/wire/arp.js';
import { formatMac, toHex, u16 } from '../../../src/dataplane/wire/bytes.js';
import {
  DHCP_GIADDR,
  DHCP_HOPS,
  DHCPACK,
  DHCPDISCOVER,
  DHCPOFFER,
  DHCPREQUEST,
} from '../../../src/dataplane/wire/dhcpv4.js';
import { Ipv4View } from '../../../src/dataplane/wire/ipv4.js';
import { arpRequest, ip, macNum } from '../../helpers/frames.js';
import { RouterRig } from '../../helpers/router-rig.js';
import {
  clientBroadcast,
  decodeSent,
  dhcpMessage,
  diffOffsets,
  fixtureDhcp,
  replyMessage,
  udpFrame,
  withGiaddr,
} from './dhcp-frames.js';

const ETH0 = '02:00:00:00:00:e0'; // upstream leg, 10.0.5.125
const ETH1 = '02:00:00:00:00:e1'; // downstream leg, 10.0.5.126
const ISP = '02:00:00:00:05:01'; // the ISP router and DHCP server, 10.0.5.1
const CLIENT = '02:00:00:00:05:0c'; // udhcpc / dhclient, leased 10.0.5.119

/** Bytes a relayed request differs in: hops (3) and giaddr 0.0.0.0 → 10.0.5.126 (0a 00 05 7e). */
const GIADDR_126_DIFF = [DHCP_HOPS, DHCP_GIADDR, DHCP_GIADDR + 2, DHCP_GIADDR + 3];

const udhcpc = fixtureDhcp('dhcp-udhcpc.pcap');
const dhclient = fixtureDhcp('dhcp-dhclient.pcapng');

function brouter() {
  const r = new RouterRig(
    [
      { name: 'eth0', mac: ETH0, address: '10.0.5.125', proxyArp: true },
      { name: 'eth1', mac: ETH1, address: '10.0.5.126', proxyArp: true },
    ],
    { hostRoutes: true },
  );
  const relay = attachDhcpRelay(
    r.engine,
    { listen: [1, 0], servers: [ip('10.0.5.1')], hopLimit: 10, option82: null },
    { hosts: r.routes },
  );
  // The ISP router resolves our upstream address; we learn where it lives.
  r.send('eth0', [arpRequest(ISP, '10.0.5.1', '10.0.5.125')]);
  r.sent('eth0');
  return { r, relay };
}

/** The server's reply to the relay: dnsmasq's message with giaddr, from 10.0.5.1:67 to giaddr:67. */
function serverReply(msg: Uint8Array, giaddr = '10.0.5.126'): Uint8Array {
  return udpFrame(
    { dstMac: ETH0, srcMac: ISP, src: '10.0.5.1', dst: giaddr, sport: 67, dport: 67 },
    withGiaddr(msg, giaddr),
  );
}

function onlyFrame(frames: Uint8Array[]): Uint8Array {
  expect(frames.length).toBe(1);
  return frames[0]!;
}

describe('DORA through the brouter (seed 000, udhcpc capture)', () => {
  it('DISCOVER: relayed from the upstream leg to the server, only hops and giaddr changed', () => {
    const { r, relay } = brouter();
    const discover = udhcpc[0]!;
    expect(discover.type).toBe(DHCPDISCOVER);
    r.send('eth1', [discover.frame]);
    expect(r.sent('eth1')).toEqual([]);
    const out = decodeSent(onlyFrame(r.sent('eth0')));
    expect([out.dstMac, out.srcMac, out.etherType]).toEqual([ISP, ETH0, 0x0800]);
    expect(out.ip).toEqual({
      src: '10.0.5.125',
      dst: '10.0.5.1',
      ttl: 64,
      proto: 17,
      df: false,
      totalLen: 328,
      headerLen: 20,
    });
    expect(out.udp).toEqual({ sport: 67, dport: 67, len: 308 });
    // RFC 1542 §4.1.1: hops 0 → 1, giaddr 0 → the receiving leg's address; nothing else moves.
    expect(diffOffsets(out.dhcp, discover.dhcp)).toEqual(GIADDR_126_DIFF);
    expect(out.dhcp[DHCP_HOPS]).toBe(1);
    expect(toHex(out.dhcp, DHCP_GIADDR, 4)).toBe('0a00057e');
    expect(relay.counters.snapshot()).toMatchObject({
      'requests-relayed': 1,
      'copies-to-servers': 1,
      'request-DISCOVER': 1,
    });
  });

  it('OFFER and ACK: delivered on the client leg to yiaddr at chaddr, from giaddr:67 to :68, message untouched', () => {
    const { r, relay } = brouter();
    r.send('eth1', [udhcpc[0]!.frame]);
    r.sent('eth0');
    for (const [i, type] of [
      [2, DHCPOFFER],
      [5, DHCPACK],
    ] as const) {
      const reply = udhcpc[i]!;
      expect(reply.type).toBe(type);
      r.send('eth0', [serverReply(reply.dhcp)]);
      expect(r.sent('eth0')).toEqual([]);
      const frame = onlyFrame(r.sent('eth1'));
      const out = decodeSent(frame);
      // No ARP first: the client has no address to answer with (RFC 2131 §4.1).
      expect([out.dstMac, out.srcMac]).toEqual([CLIENT, ETH1]);
      expect(out.ip).toMatchObject({ src: '10.0.5.126', dst: '10.0.5.119', ttl: 64, proto: 17, df: false });
      expect(out.udp).toMatchObject({ sport: 67, dport: 68 });
      expect(toHex(out.dhcp)).toBe(toHex(withGiaddr(reply.dhcp, '10.0.5.126')));
    }
    expect(relay.counters.snapshot()).toMatchObject({
      'replies-relayed': 2,
      'replies-unicast': 2,
      'reply-OFFER': 1,
      'reply-ACK': 1,
    });
  });

  it('full exchange: REQUEST relayed, ACK teaches the brouter where the client lives', () => {
    const { r, relay } = brouter();
    const neigh = r.engine.ctx.neighbours;
    r.send('eth1', [udhcpc[0]!.frame]);
    r.send('eth0', [serverReply(udhcpc[2]!.dhcp)]);
    // An OFFER binds nothing.
    expect(neigh.find(ip('10.0.5.119'), 1)).toBe(-1);
    expect(r.routes.hostPort4(ip('10.0.5.119'))).toBe(-1);
    const request = udhcpc[4]!;
    expect(request.type).toBe(DHCPREQUEST);
    r.send('eth1', [request.frame]);
    const relayed = decodeSent(r.sent('eth0').at(-1)!);
    expect(diffOffsets(relayed.dhcp, request.dhcp)).toEqual(GIADDR_126_DIFF);
    r.send('eth0', [serverReply(udhcpc[5]!.dhcp)]);
    r.sent('eth1');
    const e = neigh.find(ip('10.0.5.119'), 1);
    expect(e).toBeGreaterThanOrEqual(0);
    expect(neigh.mac[e]).toBe(macNum(CLIENT));
    expect(neigh.usable(e)).toBe(true);
    expect(r.routes.hostPort4(ip('10.0.5.119'))).toBe(1);
    expect(relay.counters.snapshot()).toMatchObject({
      'requests-relayed': 2,
      'replies-relayed': 2,
      'learned-neighbours': 1,
      'learned-host-routes': 1,
    });
  });

  it('after the lease: renew is unicast and plainly forwarded both ways, with no ARP on the client leg', () => {
    const { r, relay } = brouter();
    for (const i of [0, 4]) r.send('eth1', [udhcpc[i]!.frame]);
    for (const i of [2, 5]) r.send('eth0', [serverReply(udhcpc[i]!.dhcp)]);
    r.sent('eth0');
    r.sent('eth1');
    const before = relay.counters.snapshot();
    // The client reaches 10.0.5.1 through the brouter's MAC (proxy-ARP).
    const renew = udhcpc[6]!.frame.slice();
    renew.set(hexMac(ETH1), 0);
    r.send('eth1', [renew]);
    const up = onlyFrame(r.sent('eth0'));
    expect([formatMac(up, 0), formatMac(up, 6)]).toEqual([ISP, ETH0]);
    const ipv = new Ipv4View();
    expect(ipv.wrap(up, 14, up.length - 14)).toBe(0);
    expect(ipv.ttl).toBe(63);
    expect(toHex(up, 34)).toBe(toHex(udhcpc[6]!.frame, 34)); // UDP and DHCP untouched: not relayed
    const ack = udhcpc[7]!.frame.slice();
    ack.set(hexMac(ETH0), 0);
    r.send('eth0', [ack]);
    const down = onlyFrame(r.sent('eth1'));
    expect(u16(down, 12)).toBe(0x0800); // straight to the client: the ACK taught us its MAC
    expect([formatMac(down, 0), formatMac(down, 6)]).toEqual([CLIENT, ETH1]);
    expect(relay.counters.snapshot()).toEqual(before);
  });

  it('after the lease: proxy-ARP answers the ISP router for the client at once', () => {
    const { r } = brouter();
    const ask = arpRequest(ISP, '10.0.5.1', '10.0.5.119');
    r.send('eth0', [ask]);
    expect(r.sent('eth0')).toEqual([]); // side unknown: nothing to answer yet
    r.sent('eth1');
    for (const i of [0, 4]) r.send('eth1', [udhcpc[i]!.frame]);
    for (const i of [2, 5]) r.send('eth0', [serverReply(udhcpc[i]!.dhcp)]);
    r.sent('eth0');
    r.sent('eth1');
    r.send('eth0', [ask], 1);
    const reply = onlyFrame(r.sent('eth0'));
    const a = new ArpView();
    expect(a.wrap(reply, 14, 28)).toBe(0);
    expect([a.isReply, a.senderIp, a.senderMac]).toEqual([true, ip('10.0.5.119'), macNum(ETH0)]);
  });

  it('the client’s unicast RELEASE is forwarded to the server, not relayed', () => {
    const { r, relay } = brouter();
    const release = udhcpc[8]!.frame.slice();
    release.set(hexMac(ETH1), 0);
    r.send('eth1', [release]);
    const up = onlyFrame(r.sent('eth0'));
    expect(toHex(up, 34)).toBe(toHex(udhcpc[8]!.frame, 34));
    expect(relay.counters.requests).toBe(0);
  });

  it('dhclient’s messages (TOS 0x10, TTL 128) are relayed the same way', () => {
    const { r } = brouter();
    for (const i of [0, 2]) {
      r.send('eth1', [dhclient[i]!.frame]);
      const out = decodeSent(onlyFrame(r.sent('eth0')));
      expect(out.ip).toMatchObject({ src: '10.0.5.125', dst: '10.0.5.1', ttl: 64 });
      expect(diffOffsets(out.dhcp, dhclient[i]!.dhcp)).toEqual(GIADDR_126_DIFF);
    }
  });

  it('several clients in one batch: one copy each, and each reply to its own client', () => {
    const { r, relay } = brouter();
    const third = dhcpMessage({ type: DHCPDISCOVER, xid: 0x33, chaddr: '0a:00:00:00:00:33' });
    r.send('eth1', [udhcpc[0]!.frame, dhclient[0]!.frame, clientBroadcast('0a:00:00:00:00:33', third)]);
    const ups = r.sent('eth0').map((f) => decodeSent(f));
    expect(ups.map((u) => toHex(u.dhcp, 4, 4))).toEqual(['7cdac769', 'dc02825c', '00000033']);
    expect(ups.every((u) => u.dhcp[DHCP_HOPS] === 1 && toHex(u.dhcp, DHCP_GIADDR, 4) === '0a00057e')).toBe(
      true,
    );
    const offers = [
      ['02:00:00:00:05:0c', '10.0.5.119', 0x7cdac769],
      ['0a:00:00:00:00:33', '10.0.5.133', 0x33],
      ['0a:00:00:00:00:44', '10.0.5.144', 0x44],
    ] as const;
    r.send(
      'eth0',
      offers.map(([chaddr, yiaddr, xid]) =>
        serverReply(replyMessage({ type: DHCPOFFER, xid, chaddr, yiaddr })),
      ),
    );
    const downs = r.sent('eth1').map((f) => decodeSent(f));
    expect(downs.map((d) => [d.dstMac, d.ip.dst])).toEqual(
      offers.map(([chaddr, yiaddr]) => [chaddr, yiaddr]),
    );
    expect(relay.counters.snapshot()).toMatchObject({ 'requests-relayed': 3, 'replies-relayed': 3 });
  });

  it('a client on the upstream leg is relayed with that leg’s giaddr and answered there', () => {
    const { r } = brouter();
    const msg = dhcpMessage({ type: DHCPDISCOVER, xid: 0x55, chaddr: '0a:00:00:00:00:55' });
    r.send('eth0', [clientBroadcast('0a:00:00:00:00:55', msg)]);
    const up = decodeSent(onlyFrame(r.sent('eth0')));
    expect(toHex(up.dhcp, DHCP_GIADDR, 4)).toBe('0a00057d');
    r.send('eth0', [
      serverReply(
        replyMessage({ type: DHCPOFFER, xid: 0x55, chaddr: '0a:00:00:00:00:55', yiaddr: '10.0.5.155' }),
        '10.0.5.125',
      ),
    ]);
    const down = decodeSent(onlyFrame(r.sent('eth0')));
    expect([down.dstMac, down.srcMac, down.ip.src, down.ip.dst]).toEqual([
      '0a:00:00:00:00:55',
      ETH0,
      '10.0.5.125',
      '10.0.5.155',
    ]);
    expect(r.sent('eth1')).toEqual([]);
  });

  it('traces in words what it did', () => {
    const { r } = brouter();
    r.engine.pipe.tracer.arm(10);
    r.send('eth1', [udhcpc[0]!.frame]);
    r.send('eth0', [serverReply(udhcpc[5]!.dhcp)]);
    const text = r.engine.pipe
      .drainTrace()
      .flatMap((p) => p.steps)
      .filter((s) => s.stage === 'dhcp-relay')
      .map((s) => s.text);
    expect(text).toEqual([
      'DISCOVER xid 0x7cdac769 from 02:00:00:00:05:0c on eth1: giaddr set to 10.0.5.126, hops 1',
      'relayed to 10.0.5.1 from 10.0.5.125:67 via eth0 (300 bytes)',
      'ACK xid 0x7cdac769 for 02:00:00:00:05:0c, yiaddr 10.0.5.119',
      'unicast on eth1 to 10.0.5.119:68 at 02:00:00:00:05:0c (no ARP)',
      '10.0.5.119 is leased to 02:00:00:00:05:0c on eth1: neighbour entry and host route 10.0.5.119/32 dev eth1 installed',
    ]);
  });
});

function hexMac(s: string): Uint8Array {
  return Uint8Array.from(s.split(':'), (x) => Number.parseInt(x, 16));
}
