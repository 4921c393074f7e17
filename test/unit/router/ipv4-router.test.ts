import { describe, expect, it } from 'vitest';
import type { Pipeline } from '../../../src/dataplane/pipeline/pipeline.js';
import { type ChainProgram, VERDICT_ACCEPT } from '../../../src/dataplane/stages/hook.js';
import { ArpView } from '../../../src/dataplane/wire/arp.js';
import { formatMac, toHex, u16, u32 } from '../../../src/dataplane/wire/bytes.js';
import { verify } from '../../../src/dataplane/wire/checksum.js';
import { Ipv4View } from '../../../src/dataplane/wire/ipv4.js';
import { arpReply, arpRequest, icmpEcho, ip, ipFrame, udp } from '../../helpers/frames.js';
import { RouterRig } from '../../helpers/router-rig.js';

const R0 = '02:00:00:00:00:01'; // router on lan
const R1 = '02:00:00:00:00:02'; // router on wan
const HOST = '0a:00:00:00:00:33';
const GW = '0a:00:00:00:00:01';

/** lan 10.1.0.1/24 (eth-lan), wan 192.0.2.2/24 (eth-wan, default via 192.0.2.1), tun 100.64.0.2/32 (mtu 1280). */
function rig(): RouterRig {
  const r = new RouterRig([
    { name: 'lan', mac: R0, address: '10.1.0.1' },
    { name: 'wan', mac: R1, address: '192.0.2.2' },
    { name: 'tun', mtu: 1280, address: '100.64.0.2', prefixLen: 32 },
  ]);
  r.routes.add(0, 0, 1, ip('192.0.2.1'));
  r.routes.add(ip('172.16.0.0'), 12, 2);
  return r;
}

/** Teaches the router where the gateway and the host are (their ARP requests for its addresses). */
function learnNeighbours(r: RouterRig): void {
  r.send('wan', [arpRequest(GW, '192.0.2.1', '192.0.2.2')]);
  r.send('lan', [arpRequest(HOST, '10.1.0.33', '10.1.0.1')]);
  r.sent('wan');
  r.sent('lan');
}

const ipv4 = new Ipv4View();
function ipOf(frame: Uint8Array, l2 = 14): Ipv4View {
  expect(ipv4.wrap(frame, l2, frame.length - l2)).toBe(0);
  return ipv4;
}

describe('ARP (RFC 826)', () => {
  it('answers a request for its own address with its MAC, from the port it came in on', () => {
    const r = rig();
    r.send('lan', [arpRequest(HOST, '10.1.0.33', '10.1.0.1')]);
    const [reply] = r.sent('lan');
    expect(toHex(reply!)).toBe(toHex(arpReply(R0, '10.1.0.1', HOST, '10.1.0.33')));
    expect(r.sent('wan')).toEqual([]);
  });

  it('ignores requests for addresses that are not its own (no proxy-ARP)', () => {
    const r = rig();
    r.send('lan', [arpRequest(HOST, '10.1.0.33', '10.1.0.77')]);
    expect(r.sent('lan')).toEqual([]);
    expect(r.engine.drops()['arp-not-for-us']).toBe(1);
  });
});

describe('IPv4 forwarding (RFC 1812)', () => {
  it('forwards to the gateway: TTL-1 with a valid checksum, MACs rewritten, payload untouched', () => {
    const r = rig();
    learnNeighbours(r);
    const pkt = udp({ src: '10.1.0.33', dst: '198.51.100.7', ttl: 64 }, 40000, 53);
    r.send('lan', [ipFrame(R0, HOST, pkt)]);
    const [out] = r.sent('wan');
    expect(formatMac(out!, 0)).toBe(GW);
    expect(formatMac(out!, 6)).toBe(R1);
    const v = ipOf(out!);
    expect(v.ttl).toBe(63);
    expect(v.verifyChecksum()).toBe(true);
    expect(toHex(out!, 14 + 20)).toBe(toHex(pkt, 20));
  });

  it('resolves an unknown next hop: queues the packet, sends ARP, releases the packet on the reply', () => {
    const r = rig();
    const pkt = udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 53);
    r.send('lan', [ipFrame(R0, HOST, pkt)]);
    const [req] = r.sent('wan');
    const a = new ArpView();
    expect(a.wrap(req!, 14, 28)).toBe(0);
    expect([a.isRequest, a.targetIp, a.senderIp]).toEqual([true, ip('192.0.2.1'), ip('192.0.2.2')]);
    r.send('wan', [arpReply(GW, '192.0.2.1', R1, '192.0.2.2')]);
    const [out] = r.sent('wan');
    expect(formatMac(out!, 0)).toBe(GW);
    expect(ipOf(out!).ttl).toBe(63);
  });

  it('after three unanswered ARP requests, answers the queued packet with ICMP host unreachable', () => {
    const r = rig();
    learnNeighbours(r);
    r.send('lan', [ipFrame(R0, HOST, udp({ src: '10.1.0.33', dst: '10.1.0.99' }, 1, 2))]);
    expect(r.sent('lan').length).toBe(1); // the first ARP request
    r.advance(1);
    r.advance(1);
    expect(r.sent('lan').length).toBe(2); // two retransmissions
    r.advance(1);
    const [err] = r.sent('lan');
    const v = ipOf(err!);
    expect([v.protocol, err![34], err![35]]).toEqual([1, 3, 1]);
    expect(v.dst).toBe(ip('10.1.0.33'));
  });

  it('TTL 1: drops and sends ICMP time exceeded quoting the header (RFC 1812 §5.3.1)', () => {
    const r = rig();
    learnNeighbours(r);
    const pkt = udp({ src: '10.1.0.33', dst: '198.51.100.7', ttl: 1 }, 40000, 33434);
    r.send('lan', [ipFrame(R0, HOST, pkt)]);
    expect(r.sent('wan')).toEqual([]);
    const [err] = r.sent('lan');
    const v = ipOf(err!);
    expect([v.src, v.dst, v.protocol]).toEqual([ip('10.1.0.1'), ip('10.1.0.33'), 1]);
    expect([err![34], err![35]]).toEqual([11, 0]);
    expect(toHex(err!, 42, 28)).toBe(toHex(pkt, 0, 28));
    expect(verify(err!, 34, err!.length - 34)).toBe(true);
    expect(r.engine.drops()['ip4-ttl-exceeded']).toBe(1);
  });

  it('DF packet bigger than the overlay MTU: ICMP fragmentation needed with next-hop MTU 1280 (RFC 1191)', () => {
    const r = rig();
    learnNeighbours(r);
    r.send('lan', [ipFrame(R0, HOST, icmpEcho({ src: '10.1.0.33', dst: '172.16.0.9', df: true }, 1, 1400))]);
    expect(r.sent('tun')).toEqual([]);
    const [err] = r.sent('lan');
    expect([err![34], err![35], u16(err!, 40)]).toEqual([3, 4, 1280]);
  });

  it('fragments a non-DF packet for the overlay: 8-byte multiples, MF on all but the last, bytes preserved', () => {
    const r = rig();
    learnNeighbours(r);
    const pkt = icmpEcho({ src: '10.1.0.33', dst: '172.16.0.9', df: false, id: 0xbeef }, 1, 3000);
    r.send('lan', [ipFrame(R0, HOST, pkt)]);
    const frags = r.sent('tun');
    expect(frags.length).toBe(3);
    let payload: number[] = [];
    frags.forEach((f, i) => {
      const v = ipOf(f, 0);
      expect(v.verifyChecksum()).toBe(true);
      expect(f.length).toBeLessThanOrEqual(1280);
      expect(v.id).toBe(0xbeef);
      expect(v.moreFragments).toBe(i < 2);
      expect(v.fragOffsetRaw * 8).toBe(payload.length);
      expect(v.ttl).toBe(63);
      payload = payload.concat(Array.from(f.subarray(20)));
    });
    expect(toHex(Uint8Array.from(payload))).toBe(toHex(pkt, 20));
  });

  it('no route: ICMP net unreachable and a counted drop', () => {
    const r = new RouterRig([{ name: 'lan', mac: R0, address: '10.1.0.1' }]);
    r.send('lan', [arpRequest(HOST, '10.1.0.33', '10.1.0.1')]);
    r.sent('lan');
    r.send('lan', [ipFrame(R0, HOST, udp({ src: '10.1.0.33', dst: '203.0.113.1' }, 1, 2))]);
    const [err] = r.sent('lan');
    expect([err![34], err![35]]).toEqual([3, 0]);
    expect(r.engine.drops()['ip4-no-route']).toBe(1);
  });

  it('never answers an ICMP error with an ICMP error (RFC 1812 §4.3.2.7)', () => {
    const r = rig();
    learnNeighbours(r);
    const err = icmpEcho({ src: '10.1.0.33', dst: '198.51.100.7', ttl: 1 }, 1, 28, 11);
    r.send('lan', [ipFrame(R0, HOST, err)]);
    expect(r.sent('lan')).toEqual([]);
    expect(r.engine.drops()['icmp-error-suppressed']).toBe(1);
  });
});

describe('local delivery', () => {
  it('answers a ping to its address; the echo reply resolves the asker by ARP first', () => {
    const r = rig();
    const ping = icmpEcho({ src: '10.1.0.33', dst: '10.1.0.1' }, 7, 56);
    r.send('lan', [ipFrame(R0, HOST, ping)]);
    const [arp] = r.sent('lan');
    expect(u16(arp!, 12)).toBe(0x0806);
    r.send('lan', [arpReply(HOST, '10.1.0.33', R0, '10.1.0.1')]);
    const [reply] = r.sent('lan');
    const v = ipOf(reply!);
    expect([v.src, v.dst, reply![34]]).toEqual([ip('10.1.0.1'), ip('10.1.0.33'), 0]);
    expect(verify(reply!, 34, reply!.length - 34)).toBe(true);
    expect(toHex(reply!, 38)).toBe(toHex(ping, 24));
  });

  it('answers UDP to a closed port with ICMP port unreachable', () => {
    const r = rig();
    learnNeighbours(r);
    r.send('lan', [ipFrame(R0, HOST, udp({ src: '10.1.0.33', dst: '10.1.0.1' }, 5000, 9))]);
    const [err] = r.sent('lan');
    expect([err![34], err![35]]).toEqual([3, 3]);
  });
});

describe('malformed input is dropped and counted by reason, never thrown', () => {
  it('counts runts, bad IHL, bad checksum, length lies and unknown EtherTypes', () => {
    const r = rig();
    learnNeighbours(r);
    const good = ipFrame(R0, HOST, udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 1, 2));
    const badIhl = good.slice();
    badIhl[14] = 0x43;
    const badSum = good.slice();
    badSum[24] ^= 0xff;
    const lie = good.slice();
    lie[16] = 0x0f;
    const unknown = good.slice();
    unknown[12] = 0x88;
    unknown[13] = 0xb5;
    r.send('lan', [good.subarray(0, 10), badIhl, badSum, lie, unknown, good.subarray(0, 30)]);
    expect(r.engine.drops()).toMatchObject({
      'eth-truncated': 1,
      'ip4-bad-header-length': 1,
      'ip4-bad-checksum': 1,
      'ip4-bad-length': 1,
      'eth-unknown-ethertype': 1,
      'ip4-truncated': 1,
    });
    expect(r.sent('wan')).toEqual([]);
  });

  it('drops frames addressed to another host (promiscuous capture)', () => {
    const r = rig();
    r.send('lan', [ipFrame('0a:00:00:00:00:99', HOST, udp({ src: '10.1.0.33', dst: '10.1.0.99' }, 1, 2))]);
    expect(r.engine.drops()['eth-not-for-us']).toBe(1);
  });
});

describe('policy routing by mark into an L3 overlay port (seed 000)', () => {
  it('a prerouting program marks 192.168.1.0/24; rule fwmark 1 → table 100 → default dev tun', () => {
    const r = rig();
    learnNeighbours(r);
    r.routes.add(0, 0, 2, 0, 100);
    r.routes.rules.push({ mark: 1, table: 100 });
    const markVpn: ChainProgram = {
      run(pipe: Pipeline, s: number): number {
        const d = pipe.batch.data;
        if (u32(d, pipe.meta.l3Off[s]! + 16) >>> 8 === ip('192.168.1.0') >>> 8) pipe.meta.mark[s] = 1;
        return VERDICT_ACCEPT;
      },
    };
    r.engine.hooks.prerouting.programs.push(markVpn);
    r.engine.pipe.tracer.arm(1);
    const pkt = icmpEcho({ src: '10.1.0.33', dst: '192.168.1.30' }, 1, 56);
    r.send('lan', [ipFrame(R0, HOST, pkt)]);
    const [out] = r.sent('tun');
    expect(out!.length).toBe(pkt.length);
    expect(ipOf(out!, 0).ttl).toBe(63);
    expect(r.sent('wan')).toEqual([]);
    const [trace] = r.engine.pipe.drainTrace();
    expect(trace!.steps.map((s) => `${s.stage}: ${s.text}`)).toEqual([
      'eth-input: unicast to us IPv4 frame',
      'ip4-input: 10.1.0.33 → 192.168.1.30 proto icmp ttl 64 len 84: header valid',
      'ip4-lookup: route 192.168.1.30 (mark 0x1) via table 100: dev tun',
      'ip4-forward: forward: ttl now 63 (egress mtu 1280)',
      'eth-output: out tun as a bare IP packet (L3 port)',
      'port-output: transmitted on tun (84 bytes)',
    ]);
  });
});

describe('proxy-ARP brouter (seed 000: both legs in one subnet, as parprouted)', () => {
  function brouter(): RouterRig {
    return new RouterRig(
      [
        { name: 'eth0', mac: R1, address: '192.168.0.125', proxyArp: true },
        { name: 'eth1', mac: R0, address: '192.168.0.126', proxyArp: true },
      ],
      { hostRoutes: true },
    );
  }

  it('asks the other leg for an unknown target, learns its side, then answers the retry with its own MAC', () => {
    const r = brouter();
    const ISP = '0a:00:00:00:00:01';
    r.send('eth1', [arpRequest(HOST, '192.168.0.53', '192.168.0.1')]);
    expect(r.sent('eth1')).toEqual([]);
    const [ask] = r.sent('eth0');
    const a = new ArpView();
    expect(a.wrap(ask!, 14, 28)).toBe(0);
    expect([a.isRequest, a.targetIp, a.senderIp]).toEqual([true, ip('192.168.0.1'), ip('192.168.0.125')]);
    r.send('eth0', [arpReply(ISP, '192.168.0.1', R1, '192.168.0.125')]);
    r.send('eth1', [arpRequest(HOST, '192.168.0.53', '192.168.0.1')], 1);
    const [reply] = r.sent('eth1');
    expect(toHex(reply!)).toBe(toHex(arpReply(R0, '192.168.0.1', HOST, '192.168.0.53')));
    // And traffic from the host to the ISP router now crosses the brouter.
    r.send('eth1', [ipFrame(R0, HOST, icmpEcho({ src: '192.168.0.53', dst: '192.168.0.1' }))]);
    const [fwd] = r.sent('eth0');
    expect(formatMac(fwd!, 0)).toBe(ISP);
    expect(formatMac(fwd!, 6)).toBe(R1);
  });

  it('learns nothing from a sender claiming one of its own addresses (no host route capturing them)', () => {
    const r = brouter();
    const ISP = '0a:00:00:00:00:01';
    // A misconfigured client on eth1 announces 192.168.0.125, eth0's address.
    r.send('eth1', [arpRequest(HOST, '192.168.0.125', '192.168.0.125')]);
    r.sent('eth1');
    r.sent('eth0');
    expect(r.routes.hostPort4(ip('192.168.0.125'))).toBe(-1);
    // The ISP router still reaches ferry itself at .125: the echo is answered on eth0.
    r.send('eth0', [arpReply(ISP, '192.168.0.1', R1, '192.168.0.125')]);
    r.send('eth0', [ipFrame(R1, ISP, icmpEcho({ src: '192.168.0.1', dst: '192.168.0.125' }))]);
    expect(r.sent('eth1')).toEqual([]);
    const [reply] = r.sent('eth0');
    expect(reply).toBeDefined();
    const v = ipOf(reply!);
    expect([v.src, v.dst]).toEqual([ip('192.168.0.125'), ip('192.168.0.1')]);
  });

  it('does not answer for a host on the same leg as the asker', () => {
    const r = brouter();
    r.send('eth1', [arpRequest('0a:00:00:00:00:44', '192.168.0.44', '192.168.0.126')]);
    r.sent('eth1');
    r.send('eth1', [arpRequest(HOST, '192.168.0.53', '192.168.0.44')]);
    expect(r.sent('eth1')).toEqual([]);
  });
});
