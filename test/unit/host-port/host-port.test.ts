/**
 * The host port (host-delivery.ts) in the seed-000 brouter: the kernel's TAP carries
 * 192.168.0.125, which is also eth0's address. ferry keeps ARP and ping for itself; the rest for
 * the box goes to the kernel; the kernel's own packets leave as local output, TTL untouched.
 */
import { describe, expect, it } from 'vitest';
import { CT_ESTABLISHED, CT_NEW } from '../../../src/control/config/types.js';
import { ArpView } from '../../../src/dataplane/wire/arp.js';
import { formatMac, setU16, toHex, u16 } from '../../../src/dataplane/wire/bytes.js';
import { Ipv4View } from '../../../src/dataplane/wire/ipv4.js';
import { asFragment, tcp } from '../../helpers/classifier-rig.js';
import { arpReply, arpRequest, icmpEcho, ip, ipFrame, udp } from '../../helpers/frames.js';
import {
  BOX,
  BrouterHostRig,
  CLIENT,
  ETH0,
  ETH1,
  GATEWAY,
  HOSTP,
  ISP,
  KERNEL,
  REMOTE,
} from './brouter-host-rig.js';

const ipv4 = new Ipv4View();
function ipOf(frame: Uint8Array): Ipv4View {
  expect(u16(frame, 12)).toBe(0x0800);
  expect(ipv4.wrap(frame, 14, frame.length - 14)).toBe(0);
  return ipv4;
}

const arp = new ArpView();
function arpOf(frame: Uint8Array): ArpView {
  expect(u16(frame, 12)).toBe(0x0806);
  expect(arp.wrap(frame, 14, 28)).toBe(0);
  return arp;
}

/** The ISP router introduces itself on eth0 (ferry learns it lives there), then outputs are cleared. */
function learnIsp(r: BrouterHostRig): void {
  r.send('eth0', [arpRequest(ISP, GATEWAY, BOX)]);
  r.clear();
}

/** The kernel asks for its gateway (ferry learns the kernel's MAC), then outputs are cleared. */
function learnKernel(r: BrouterHostRig): void {
  r.send('host', [arpRequest(KERNEL, BOX, GATEWAY)]);
  r.clear();
}

/** Bytes [from, to) of `whole`'s payload as a fragment (RFC 791: offsets in 8-byte units). */
function piece(whole: Uint8Array, from: number, to: number, more: boolean): Uint8Array {
  const p = new Uint8Array(20 + to - from);
  p.set(whole.subarray(0, 20));
  p.set(whole.subarray(20 + from, 20 + to), 20);
  setU16(p, 2, p.length);
  return asFragment(p, from / 8, more);
}

const SSH_SYN = () => tcp({ src: REMOTE, dst: BOX, ttl: 50 }, 40000, 22, { seq: 1000 });
const SSH_SYNACK = () =>
  tcp({ src: BOX, dst: REMOTE, ttl: 64 }, 22, 40000, { seq: 5000, ack: 1001, flags: 0x12 });

describe('host port: ARP', () => {
  it('ARP for 192.168.0.125 on eth0 is still answered by ferry (eth0 owns it too); the kernel sees nothing', async () => {
    const r = await BrouterHostRig.create();
    r.send('eth0', [arpRequest(ISP, GATEWAY, BOX)]);
    const [reply] = r.sent('eth0');
    expect(toHex(reply!)).toBe(toHex(arpReply(ETH0, BOX, ISP, GATEWAY)));
    expect(r.sent('host')).toEqual([]);
  });

  it("the kernel's ARP for its gateway is answered with the host port's MAC (proxy-ARP on the host port)", async () => {
    const r = await BrouterHostRig.create();
    learnIsp(r);
    r.send('host', [arpRequest(KERNEL, BOX, GATEWAY)]);
    const [reply] = r.sent('host');
    expect(toHex(reply!)).toBe(toHex(arpReply(HOSTP, GATEWAY, KERNEL, BOX)));
    // Not a brouter leg: the kernel's address did not become a host route towards the TAP.
    const routes = r.engine.ctx.routes as unknown as { hostPort4(a: number): number };
    expect(routes.hostPort4(ip(BOX))).toBe(-1);
  });

  it('a gateway whose side is unknown is asked for on the legs, never on the host port; the retry is answered', async () => {
    const r = await BrouterHostRig.create();
    r.send('host', [arpRequest(KERNEL, BOX, GATEWAY)]);
    expect(r.sent('host')).toEqual([]);
    for (const leg of ['eth0', 'eth1']) {
      const [ask] = r.sent(leg);
      const a = arpOf(ask!);
      expect([a.isRequest, a.targetIp]).toEqual([true, ip(GATEWAY)]);
    }
    r.send('eth0', [arpReply(ISP, GATEWAY, ETH0, BOX)], 0.2);
    r.send('host', [arpRequest(KERNEL, BOX, GATEWAY)], 0.8);
    const [reply] = r.sent('host');
    expect(toHex(reply!)).toBe(toHex(arpReply(HOSTP, GATEWAY, KERNEL, BOX)));
  });

  it("the kernel's ARP for another of ferry's addresses (eth1's) is answered with the host port's MAC", async () => {
    const r = await BrouterHostRig.create();
    learnIsp(r);
    r.send('host', [arpRequest(KERNEL, BOX, '192.168.0.126')]);
    const [own] = r.sent('host');
    expect(toHex(own!)).toBe(toHex(arpReply(HOSTP, '192.168.0.126', KERNEL, BOX)));
  });
});

describe('host port: to the kernel', () => {
  it('an SSH SYN from the ISP side reaches the kernel: ARP probe for its MAC first, then the packet, TTL untouched', async () => {
    const r = await BrouterHostRig.create();
    learnIsp(r);
    const input = r.probe('input');
    const syn = SSH_SYN();
    r.send('eth0', [ipFrame(ETH0, ISP, syn)]);
    // The kernel's MAC is not known yet: an RFC 5227 probe (sender 0.0.0.0) for 192.168.0.125.
    const [probe] = r.sent('host');
    const a = arpOf(probe!);
    expect([a.isRequest, a.senderIp, a.targetIp, formatMac(probe!, 6)]).toEqual([true, 0, ip(BOX), HOSTP]);
    expect(formatMac(probe!, 0)).toBe('ff:ff:ff:ff:ff:ff');
    // Linux answers a probe for its address with target 0.0.0.0.
    r.send('host', [arpReply(KERNEL, BOX, HOSTP, '0.0.0.0')]);
    const [got] = r.sent('host');
    expect(formatMac(got!, 0)).toBe(KERNEL);
    expect(formatMac(got!, 6)).toBe(HOSTP);
    expect(ipOf(got!).ttl).toBe(50);
    expect(toHex(got!, 14)).toBe(toHex(syn)); // delivered, not forwarded: the IP packet is unchanged
    expect(r.sent('eth0')).toEqual([]); // no RST, no ICMP from ferry
    expect(input.map((x) => [x.inPort, x.ctState])).toEqual([[r.port('eth0'), CT_NEW]]);
  });

  it("the host's SYN-ACK leaves eth0 as local output: output hook, not forward; conntrack established; TTL kept", async () => {
    const r = await BrouterHostRig.create();
    learnIsp(r);
    learnKernel(r);
    const output = r.probe('output');
    const forward = r.probe('forward');
    r.send('eth0', [ipFrame(ETH0, ISP, SSH_SYN())]);
    expect(r.sent('host').length).toBe(1);
    const synack = SSH_SYNACK();
    r.send('host', [ipFrame(HOSTP, KERNEL, synack)]);
    const [out] = r.sent('eth0');
    expect(formatMac(out!, 0)).toBe(ISP);
    expect(formatMac(out!, 6)).toBe(ETH0);
    expect(toHex(out!, 14)).toBe(toHex(synack));
    expect(forward).toEqual([]);
    expect(output.length).toBe(1);
    expect(output[0]!.inPort).toBe(r.port('host'));
    expect(output[0]!.ctState & CT_ESTABLISHED).toBe(CT_ESTABLISHED);
  });

  it('ferry answers pings to the box itself; echo replies to the kernel’s own pings go to the kernel', async () => {
    const r = await BrouterHostRig.create();
    learnIsp(r);
    learnKernel(r);
    r.send('eth0', [ipFrame(ETH0, ISP, icmpEcho({ src: REMOTE, dst: BOX }, 1))]);
    const [reply] = r.sent('eth0');
    const v = ipOf(reply!);
    expect([v.src, v.dst, reply![34]]).toEqual([ip(BOX), ip(REMOTE), 0]);
    expect(r.sent('host')).toEqual([]);
    const echoReply = icmpEcho({ src: REMOTE, dst: BOX }, 7, 56, 0);
    r.send('eth0', [ipFrame(ETH0, ISP, echoReply)]);
    const [got] = r.sent('host');
    expect(toHex(got!, 14)).toBe(toHex(echoReply));
  });

  it('UDP for the box with no ferry service goes to the kernel (it answers for itself); ferry’s other address still says port unreachable', async () => {
    const r = await BrouterHostRig.create();
    learnIsp(r);
    learnKernel(r);
    const wg = udp({ src: REMOTE, dst: BOX }, 51820, 51820, 148);
    r.send('eth0', [ipFrame(ETH0, ISP, wg)]);
    expect(toHex(r.sent('host')[0]!, 14)).toBe(toHex(wg));
    expect(r.sent('eth0')).toEqual([]);
    // 192.168.0.126 is eth1's, not the kernel's: unchanged behaviour (RFC 1122 §4.1.3.1).
    r.send('eth1', [arpRequest(CLIENT, '192.168.0.53', '192.168.0.126')]);
    r.clear();
    r.send('eth1', [ipFrame(ETH1, CLIENT, udp({ src: '192.168.0.53', dst: '192.168.0.126' }, 4000, 9))]);
    const [err] = r.sent('eth1');
    expect([ipOf(err!).protocol, err![34], err![35]]).toEqual([1, 3, 3]);
    expect(r.sent('host')).toEqual([]);
  });

  it('fragments for the box go to the kernel, which reassembles them', async () => {
    const r = await BrouterHostRig.create();
    learnIsp(r);
    learnKernel(r);
    const whole = udp({ src: REMOTE, dst: BOX, df: false }, 5000, 6000, 64);
    const fixed = [piece(whole, 0, 40, true), piece(whole, 40, 72, false)];
    r.send(
      'eth0',
      fixed.map((f) => ipFrame(ETH0, ISP, f)),
    );
    const got = r.sent('host');
    expect(got.map((g) => toHex(g, 14))).toEqual(fixed.map((f) => toHex(f)));
  });

  it('a DF packet larger than the TAP’s MTU is answered with fragmentation needed (RFC 1191)', async () => {
    const r = await BrouterHostRig.create({ hostMtu: 1400 });
    learnIsp(r);
    learnKernel(r);
    r.send('eth0', [
      ipFrame(ETH0, ISP, tcp({ src: REMOTE, dst: BOX }, 40000, 22, { flags: 0x10, payload: 1420 })),
    ]);
    expect(r.sent('host')).toEqual([]);
    const [err] = r.sent('eth0');
    const v = ipOf(err!);
    expect([v.src, v.dst, err![34], err![35], u16(err!, 40)]).toEqual([ip(BOX), ip(REMOTE), 3, 4, 1400]);
    expect(r.engine.drops()['host-delivery-too-big']).toBe(1);
  });
});

describe('host port: from the kernel', () => {
  it('a TTL-1 packet from the box leaves as it is: originated, not forwarded (no time exceeded)', async () => {
    const r = await BrouterHostRig.create();
    learnIsp(r);
    const probe = udp({ src: BOX, dst: REMOTE, ttl: 1 }, 33434, 33434);
    r.send('host', [ipFrame(HOSTP, KERNEL, probe)]);
    const [out] = r.sent('eth0');
    expect(ipOf(out!).ttl).toBe(1);
    expect(toHex(out!, 14)).toBe(toHex(probe));
    expect(r.sent('host')).toEqual([]);
    expect(r.engine.drops()['ip4-ttl-exceeded']).toBeUndefined();
  });

  it("the kernel's ping of ferry's other address (eth1's) is answered by ferry back through the TAP", async () => {
    const r = await BrouterHostRig.create();
    learnKernel(r);
    const input = r.probe('input');
    r.send('host', [ipFrame(HOSTP, KERNEL, icmpEcho({ src: BOX, dst: '192.168.0.126' }, 4))]);
    const [reply] = r.sent('host');
    expect(formatMac(reply!, 0)).toBe(KERNEL);
    const v = ipOf(reply!);
    expect([v.src, v.dst, reply![34]]).toEqual([ip('192.168.0.126'), ip(BOX), 0]);
    expect(r.sent('eth0')).toEqual([]);
    expect(input.map((x) => x.inPort)).toEqual([r.port('host')]);
  });

  it('without a learned route the kernel’s packet is routed by ferry’s tables with no input port (iif lo)', async () => {
    const r = await BrouterHostRig.create();
    const output = r.probe('output');
    // 192.168.1.30 is marked into the overlay only in prerouting (forwarded traffic); the box's own
    // packet does not pass prerouting, so it follows the main table's default route: eth0.
    r.send('host', [ipFrame(HOSTP, KERNEL, udp({ src: BOX, dst: '192.168.1.30' }, 1, 2))]);
    expect(r.sent('tailscale0')).toEqual([]);
    const [ask] = r.sent('eth0');
    expect(arpOf(ask!).targetIp).toBe(ip(GATEWAY));
    expect(output.map((x) => x.outPort)).toEqual([r.port('eth0')]);
  });
});
