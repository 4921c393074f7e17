/**
 * NAT behaviour against RFC 4787 (UDP), RFC 5382 (TCP), RFC 5508 (ICMP) and RFC 7857, through the
 * whole router on memory ports with a fake clock. Each test is named after its requirement.
 *
 * Not applicable / not covered here:
 * - RFC 4787 REQ-7 (dynamic external address inside the inside prefix): masquerade reads the
 *   egress port's address per new flow; no address-conflict handling exists.
 * - REQ-8 / RFC 5382 REQ-3 filtering: replies must match a flow, i.e. address-and-port-dependent
 *   filtering (as Linux); endpoint-independent filtering is not offered.
 * - REQ-10 / RFC 5382 REQ-6 ALGs: none exist (so "off by default" holds trivially).
 * - REQ-11 determinism: one mapping rule for all conditions (checked under pressure below).
 * - REQ-14 fragments: in conformance-fragments.test.ts.
 * - RFC 5382 REQ-4 (unsolicited SYN answered after 6 s): in conformance-more.test.ts.
 * - RFC 5508 REQ-9/10/11: policy on which ICMP the NAT generates is the router's (icmp-errors.ts).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS } from '../../../src/control/config/semantic/services.js';
import { CT_ESTABLISHED, CT_INVALID, CT_NEW } from '../../../src/control/config/types.js';
import { CtTimeouts, rfcShortfalls } from '../../../src/dataplane/conntrack/ct-timeouts.js';
import { CT_ASSURED } from '../../../src/dataplane/conntrack/flow-layout.js';
import { TCP_ESTABLISHED } from '../../../src/dataplane/conntrack/tcp-states.js';
import { udp } from '../../helpers/frames.js';
import {
  ctProbe,
  dnat,
  echo,
  fromLan,
  fromWan,
  hdr,
  icmpError,
  idle,
  natRig,
  out,
  quoted,
  snat,
  tcp,
  WAN_IP,
} from './nat-rig.js';

const SERVER = '198.51.100.7';
const OTHER = '203.0.113.9';

function udpOut(r: ReturnType<typeof natRig>, host: string, sport: number, dst = SERVER, dport = 53) {
  fromLan(r, host, udp({ src: host, dst }, sport, dport));
  const [p] = out(r, 'wan');
  expect(p).toBeDefined();
  return hdr(p!);
}

describe('RFC 4787 (UDP)', () => {
  it('REQ-1: endpoint-independent mapping — same inside ip:port, same outside ip:port for any destination', () => {
    const r = natRig();
    const a = udpOut(r, '10.1.0.33', 40000, SERVER, 53);
    const b = udpOut(r, '10.1.0.33', 40000, OTHER, 3478);
    expect(a).toMatchObject({ src: WAN_IP, sport: 40000 });
    expect(b).toMatchObject({ src: WAN_IP, sport: a.sport, dst: OTHER, dport: 3478 });
  });

  it('REQ-2: paired address pooling — every flow of one inside host uses the same external address', () => {
    const r = natRig();
    expect(udpOut(r, '10.1.0.33', 40000).src).toBe(WAN_IP);
    expect(udpOut(r, '10.1.0.33', 40001, OTHER).src).toBe(WAN_IP);
  });

  it('REQ-3: no port overloading — two inside hosts with the same source port get distinct ports of the same class', () => {
    const r = natRig();
    const a = udpOut(r, '10.1.0.33', 40000);
    const b = udpOut(r, '10.1.0.34', 40000);
    expect(a.sport).toBe(40000); // port preservation for the first
    expect(b.sport).not.toBe(40000);
    expect(b.sport).toBeGreaterThanOrEqual(1024);
    const lo1 = udpOut(r, '10.1.0.33', 500);
    const lo2 = udpOut(r, '10.1.0.34', 500);
    expect(lo1.sport).toBe(500);
    expect(lo2.sport).toBeLessThan(1024);
    expect(lo2.sport).not.toBe(500);
    // Replies reach each host by its own port.
    fromWan(r, udp({ src: SERVER, dst: WAN_IP }, 53, b.sport));
    expect(hdr(out(r, 'lan')[0]!)).toMatchObject({ dst: '10.1.0.34', dport: 40000, src: SERVER, sport: 53 });
    fromWan(r, udp({ src: SERVER, dst: WAN_IP }, 53, 40000));
    expect(hdr(out(r, 'lan')[0]!)).toMatchObject({ dst: '10.1.0.33', dport: 40000 });
  });

  it('REQ-4: port parity preserved when the port itself is taken', () => {
    const r = natRig();
    udpOut(r, '10.1.0.33', 40000);
    expect(udpOut(r, '10.1.0.34', 40000).sport % 2).toBe(0);
    udpOut(r, '10.1.0.33', 40001);
    expect(udpOut(r, '10.1.0.34', 40001).sport % 2).toBe(1);
  });

  it('REQ-5: a replied UDP mapping lives 300 s idle (udp-stream), an unreplied one 120 s (the 2 min floor)', () => {
    const r = natRig();
    const ct = r.engine.conntrack!;
    udpOut(r, '10.1.0.33', 40000);
    fromWan(r, udp({ src: SERVER, dst: WAN_IP }, 53, 40000));
    out(r, 'lan');
    udpOut(r, '10.1.0.34', 41000, OTHER); // never answered
    idle(r, 119.5);
    expect(ct.table.count).toBe(2);
    idle(r, 1);
    fromWan(r, udp({ src: OTHER, dst: WAN_IP }, 53, 41000)); // too late: no mapping
    expect(out(r, 'lan')).toEqual([]);
    expect(ct.pool.count).toBe(1); // the unreplied flow's mapping is gone
    idle(r, 178);
    fromWan(r, udp({ src: SERVER, dst: WAN_IP }, 53, 40000)); // 298.5 s idle: alive
    expect(out(r, 'lan')).toHaveLength(1);
    idle(r, 300.1);
    fromWan(r, udp({ src: SERVER, dst: WAN_IP }, 53, 40000));
    expect(out(r, 'lan')).toEqual([]);
    expect(ct.pool.count).toBe(0); // the port went back to the pool
  });

  it('REQ-6: outbound refresh keeps the mapping alive', () => {
    const r = natRig();
    udpOut(r, '10.1.0.33', 40000);
    fromWan(r, udp({ src: SERVER, dst: WAN_IP }, 53, 40000));
    out(r, 'lan');
    for (let t = 0; t < 6; t++) {
      idle(r, 100);
      expect(udpOut(r, '10.1.0.33', 40000).sport).toBe(40000);
    }
    fromWan(r, udp({ src: SERVER, dst: WAN_IP }, 53, 40000));
    expect(out(r, 'lan')).toHaveLength(1);
  });

  it('REQ-9: hairpinning — the inside server sees an inside client by its external ip:port (REQ-9a)', () => {
    const r = natRig({ forward: { port: 22000, to: dnat('10.1.0.53', 22000) } });
    udpOut(r, '10.1.0.33', 40000); // the host's mapping exists: 192.0.2.2:40000
    fromLan(r, '10.1.0.33', udp({ src: '10.1.0.33', dst: WAN_IP }, 40000, 22000));
    const [toServer] = out(r, 'lan');
    expect(hdr(toServer!)).toMatchObject({ src: WAN_IP, sport: 40000, dst: '10.1.0.53', dport: 22000 });
    fromLan(r, '10.1.0.53', udp({ src: '10.1.0.53', dst: WAN_IP }, 22000, 40000));
    const [back] = out(r, 'lan');
    expect(hdr(back!)).toMatchObject({ src: WAN_IP, sport: 22000, dst: '10.1.0.33', dport: 40000 });
  });

  it('REQ-11: deterministic — the mapping rule does not change under port pressure', () => {
    const r = natRig();
    for (let h = 0; h < 3; h++) udpOut(r, ['10.1.0.33', '10.1.0.34', '10.1.0.35'][h]!, 40000);
    const a = udpOut(r, '10.1.0.35', 40000, OTHER);
    const b = udpOut(r, '10.1.0.35', 40000, '203.0.113.10');
    expect(a.sport).toBe(b.sport);
  });

  it('REQ-12: an ICMP error does not end the mapping', () => {
    const r = natRig();
    const sent = udp({ src: WAN_IP, dst: SERVER }, 40000, 53);
    udpOut(r, '10.1.0.33', 40000);
    fromWan(r, icmpError(SERVER, WAN_IP, 3, 3, sent));
    expect(out(r, 'lan')).toHaveLength(1);
    fromWan(r, udp({ src: SERVER, dst: WAN_IP }, 53, 40000));
    expect(out(r, 'lan')).toHaveLength(1);
    expect(r.engine.conntrack!.table.count).toBe(1);
  });

  it('REQ-13: a DF packet too big for the egress is answered with fragmentation needed, not translated', () => {
    const r = natRig();
    r.ports[1]!.mtu = 1500;
    r.engine.ctx.portMtu[1] = 576;
    fromLan(r, '10.1.0.33', udp({ src: '10.1.0.33', dst: SERVER, df: true }, 40000, 53, 1000));
    expect(out(r, 'wan')).toEqual([]);
    const [err] = out(r, 'lan');
    expect(err![20]).toBe(3);
    expect(err![21]).toBe(4);
    expect(quoted(err!)).toMatchObject({ src: '10.1.0.33', sport: 40000 });
  });
});

describe('RFC 5382 (TCP)', () => {
  function handshake(r: ReturnType<typeof natRig>, host = '10.1.0.33', sport = 40000) {
    fromLan(r, host, tcp({ src: host, dst: SERVER }, sport, 443, { seq: 1000, flags: 0x02 }));
    const syn = hdr(out(r, 'wan')[0]!);
    fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 443, syn.sport, { seq: 5000, ack: 1001, flags: 0x12 }));
    expect(hdr(out(r, 'lan')[0]!)).toMatchObject({ dst: host, dport: sport });
    fromLan(r, host, tcp({ src: host, dst: SERVER }, sport, 443, { seq: 1001, ack: 5001, flags: 0x10 }));
    out(r, 'wan');
    return syn.sport;
  }

  it('REQ-1: endpoint-independent mapping for TCP', () => {
    const r = natRig();
    const p = handshake(r);
    fromLan(r, '10.1.0.33', tcp({ src: '10.1.0.33', dst: OTHER }, 40000, 80, { flags: 0x02 }));
    expect(hdr(out(r, 'wan')[0]!)).toMatchObject({ src: WAN_IP, sport: p });
  });

  it('REQ-2: simultaneous open is tracked to ESTABLISHED', () => {
    const r = natRig();
    const ct = r.engine.conntrack!;
    fromLan(r, '10.1.0.33', tcp({ src: '10.1.0.33', dst: SERVER }, 40000, 5000, { seq: 100, flags: 0x02 }));
    out(r, 'wan');
    fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 5000, 40000, { seq: 900, flags: 0x02 }));
    expect(hdr(out(r, 'lan')[0]!)).toMatchObject({ dst: '10.1.0.33' });
    fromLan(
      r,
      '10.1.0.33',
      tcp({ src: '10.1.0.33', dst: SERVER }, 40000, 5000, { seq: 100, ack: 901, flags: 0x12 }),
    );
    fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 5000, 40000, { seq: 900, ack: 101, flags: 0x12 }));
    fromLan(
      r,
      '10.1.0.33',
      tcp({ src: '10.1.0.33', dst: SERVER }, 40000, 5000, { seq: 101, ack: 901, flags: 0x10 }),
    );
    expect(out(r, 'wan')).toHaveLength(2);
    expect(ct.table.getState(ct.table.nextFlow(-1))).toBe(TCP_ESTABLISHED);
  });

  it('REQ-5: established idle timeout ≥ 2 h 4 min; the completed handshake makes the flow assured', () => {
    const r = natRig();
    const ct = r.engine.conntrack!;
    const p = handshake(r);
    const f = ct.table.nextFlow(-1);
    expect(ct.table.hasStatus(f, CT_ASSURED)).toBe(true);
    idle(r, 7439);
    fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 443, p, { seq: 5001, ack: 1001, flags: 0x10 }));
    expect(out(r, 'lan')).toHaveLength(1);
  });

  it('REQ-7: no port overloading for TCP (two hosts, same port, same server)', () => {
    const r = natRig();
    expect(handshake(r, '10.1.0.33')).not.toBe(handshake(r, '10.1.0.34'));
  });

  it('REQ-9: ICMP destination unreachable about a TCP flow is translated for the inside host', () => {
    const r = natRig();
    const p = handshake(r);
    const seg = tcp({ src: WAN_IP, dst: SERVER }, p, 443, { seq: 1001, flags: 0x10 });
    fromWan(r, icmpError(OTHER, WAN_IP, 3, 1, seg));
    const [e] = out(r, 'lan');
    expect(hdr(e!)).toMatchObject({ src: OTHER, dst: '10.1.0.33' });
    expect(quoted(e!)).toMatchObject({ src: '10.1.0.33', sport: 40000, dst: SERVER, dport: 443 });
  });

  it('REQ-10: ICMP does not end the TCP connection', () => {
    const r = natRig();
    const p = handshake(r);
    fromWan(r, icmpError(SERVER, WAN_IP, 3, 3, tcp({ src: WAN_IP, dst: SERVER }, p, 443, { flags: 0x10 })));
    out(r, 'lan');
    fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 443, p, { seq: 5001, ack: 1001, flags: 0x10 }));
    expect(out(r, 'lan')).toHaveLength(1);
  });
});

describe('RFC 5508 (ICMP)', () => {
  it('REQ-1: echo out and back; two hosts using the same id get distinct ids', () => {
    const r = natRig();
    fromLan(r, '10.1.0.33', echo('10.1.0.33', SERVER, 0x77));
    const a = hdr(out(r, 'wan')[0]!);
    fromLan(r, '10.1.0.34', echo('10.1.0.34', SERVER, 0x77));
    const b = hdr(out(r, 'wan')[0]!);
    expect(a).toMatchObject({ src: WAN_IP, sport: 0x77 });
    expect(b.src).toBe(WAN_IP);
    expect(b.sport).not.toBe(0x77);
    fromWan(r, echo(SERVER, WAN_IP, b.sport, 0));
    expect(hdr(out(r, 'lan')[0]!)).toMatchObject({ dst: '10.1.0.34', sport: 0x77 });
    fromWan(r, echo(SERVER, WAN_IP, 0x77, 0));
    expect(hdr(out(r, 'lan')[0]!)).toMatchObject({ dst: '10.1.0.33', sport: 0x77 });
  });

  it('REQ-2: the ICMP query mapping lives 60 s', () => {
    const r = natRig();
    fromLan(r, '10.1.0.33', echo('10.1.0.33', SERVER, 0x77));
    out(r, 'wan');
    idle(r, 59);
    fromWan(r, echo(SERVER, WAN_IP, 0x77, 0));
    expect(out(r, 'lan')).toHaveLength(1);
  });

  it('REQ-3: an ICMP error with a bad checksum is dropped silently', () => {
    const r = natRig();
    udpOut(r, '10.1.0.33', 40000);
    const e = icmpError(SERVER, WAN_IP, 3, 3, udp({ src: WAN_IP, dst: SERVER }, 40000, 53));
    e[22]! ^= 0x55;
    fromWan(r, e);
    expect(out(r, 'lan')).toEqual([]);
    expect(r.engine.drops()['ct-icmp-error-bad-checksum']).toBe(1);
  });

  it('REQ-4: an error from outside gets outer destination, quoted source, ports and all checksums translated', () => {
    const r = natRig();
    udpOut(r, '10.1.0.34', 40000);
    const p = udpOut(r, '10.1.0.33', 40000).sport;
    const sent = udp({ src: WAN_IP, dst: SERVER }, p, 53);
    fromWan(r, icmpError(OTHER, WAN_IP, 11, 0, sent));
    const [e] = out(r, 'lan');
    expect(hdr(e!)).toMatchObject({ src: OTHER, dst: '10.1.0.33', proto: 1 });
    expect(e![20]).toBe(11);
    const q = quoted(e!);
    expect(q).toMatchObject({ src: '10.1.0.33', sport: 40000, dst: SERVER, dport: 53 });
    // The quoted UDP checksum was patched with the quoted pseudo-header: it verifies again.
    expect(hdr(e!.subarray(28))).toMatchObject({ src: '10.1.0.33' });
  });

  it('REQ-4: an error about no known mapping is not translated (and not forwarded inside)', () => {
    const r = natRig();
    fromWan(r, icmpError(SERVER, WAN_IP, 3, 3, udp({ src: WAN_IP, dst: SERVER }, 45000, 53)));
    expect(out(r, 'lan')).toEqual([]);
  });

  it('REQ-5: an error from inside about a port-forwarded flow leaves with the public address', () => {
    const r = natRig({ forward: { port: 22000, to: dnat('10.1.0.53', 22000) } });
    fromWan(r, udp({ src: OTHER, dst: WAN_IP }, 5555, 22000));
    const [inside] = out(r, 'lan');
    expect(hdr(inside!)).toMatchObject({ dst: '10.1.0.53', dport: 22000, src: OTHER });
    fromLan(r, '10.1.0.53', icmpError('10.1.0.53', OTHER, 3, 3, inside!));
    const [e] = out(r, 'wan');
    expect(hdr(e!)).toMatchObject({ src: WAN_IP, dst: OTHER });
    expect(quoted(e!)).toMatchObject({ src: OTHER, sport: 5555, dst: WAN_IP, dport: 22000 });
  });

  it('REQ-6: an ICMP error does not refresh the flow it is about', () => {
    const r = natRig();
    const ct = r.engine.conntrack!;
    udpOut(r, '10.1.0.33', 40000);
    const f = ct.table.nextFlow(-1);
    const before = ct.table.deadline(f);
    idle(r, 10);
    fromWan(r, icmpError(SERVER, WAN_IP, 3, 3, udp({ src: WAN_IP, dst: SERVER }, 40000, 53)));
    expect(ct.table.deadline(f)).toBe(before);
  });

  it('REQ-8: when no port is left the packet is answered with ICMP 3/13 and dropped', () => {
    const r = natRig({ postrouting: snat(WAN_IP, 2000, 2001) });
    udpOut(r, '10.1.0.33', 40000);
    udpOut(r, '10.1.0.34', 40000);
    fromLan(r, '10.1.0.35', udp({ src: '10.1.0.35', dst: SERVER }, 40000, 53));
    expect(out(r, 'wan')).toEqual([]);
    const [e] = out(r, 'lan');
    expect(e![20]).toBe(3);
    expect(e![21]).toBe(13);
    expect(r.engine.drops()['nat-ports-exhausted']).toBe(1);
  });
});

describe('timeouts against the RFC floors', () => {
  it("ferry's defaults meet every floor; Linux's nf_conntrack values fall short of REQ-5 (stream), RFC 5382 REQ-5 (transitory) and RFC 5508 REQ-2", () => {
    expect(rfcShortfalls(CtTimeouts.fromConfig(DEFAULT_TIMEOUTS))).toEqual([]);
    const linux = new CtTimeouts();
    Object.assign(linux, {
      tcpSynSent: 120,
      tcpSynRecv: 60,
      tcpFinWait: 120,
      tcpCloseWait: 60,
      tcpLastAck: 30,
    });
    Object.assign(linux, { tcpTimeWait: 120, tcpClose: 10, udp: 30, udpStream: 120, icmp: 30 });
    const text = rfcShortfalls(linux).join('\n');
    expect(text).toContain('udp-stream 120 s < 300 s');
    expect(text).toContain('icmp 30 s < 60 s');
    expect(text).toContain('tcp-syn-sent 120 s < 240 s');
    expect(text).not.toContain('tcp-established');
  });
});

describe('ct state seen by the chains', () => {
  for (const liberal of [false, true]) {
    it(`NEW, then ESTABLISHED once answered; a segment far out of window is ${liberal ? 'accepted (liberal)' : 'INVALID'} and still translated`, () => {
      const r = natRig({ ct: { liberal } });
      const seen = ctProbe(r, 'forward');
      fromLan(r, '10.1.0.33', tcp({ src: '10.1.0.33', dst: SERVER }, 40000, 443, { seq: 1000, flags: 0x02 }));
      fromWan(r, tcp({ src: SERVER, dst: WAN_IP }, 443, 40000, { seq: 5000, ack: 1001, flags: 0x12 }));
      fromLan(
        r,
        '10.1.0.33',
        tcp({ src: '10.1.0.33', dst: SERVER }, 40000, 443, { seq: 1001, ack: 5001, flags: 0x10 }),
      );
      fromLan(
        r,
        '10.1.0.33',
        tcp({ src: '10.1.0.33', dst: SERVER }, 40000, 443, {
          seq: 900_000_000,
          ack: 5001,
          flags: 0x10,
          payload: 10,
        }),
      );
      expect(seen.map((x) => x.state)).toEqual([
        CT_NEW,
        CT_ESTABLISHED,
        CT_ESTABLISHED,
        liberal ? CT_ESTABLISHED : CT_INVALID,
      ]);
      const wan = out(r, 'wan');
      expect(wan).toHaveLength(3);
      expect(hdr(wan[2]!).src).toBe(WAN_IP);
    });
  }
});
