/**
 * RFC 4787 REQ-14 — "A NAT MUST support receiving in-order and out-of-order fragments" — through
 * the whole router on memory ports with a fake clock, with real fragments: cut by ferry's IPv4
 * codec (fragments.ts) or taken from fixtures/pcap/ipv4-fragments.pcap. Every datagram is
 * reassembled on the far side and its L4 checksum verified against the addresses it left with.
 * How it works: src/dataplane/stages/ip4-frag-track.ts and conntrack/frag-table.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCaptureBuffer } from '../../../src/dataplane/pcap/index.js';
import type { Pipeline } from '../../../src/dataplane/pipeline/pipeline.js';
import { VERDICT_ACCEPT, VERDICT_DROP } from '../../../src/dataplane/stages/hook.js';
import { setU16, setU32, u16 } from '../../../src/dataplane/wire/bytes.js';
import { checksum, csumReplace16 } from '../../../src/dataplane/wire/checksum.js';
import { parseIpv4 } from '../../../src/dataplane/wire/ipv4.js';
import { ip, ipFrame, udp } from '../../helpers/frames.js';
import { fragment, ipv4, piece, reassemble } from './fragments.js';
import { echo, fromLan, fromWan, GW, HOSTS, hdr, idle, natRig, out, R0, R1, tcp, WAN_IP } from './nat-rig.js';

const SERVER = '198.51.100.7';
const A = '10.1.0.33';
const B = '10.1.0.34';

type Rig = ReturnType<typeof natRig>;

/** One batch of packets from an inside host. */
function lanBatch(r: Rig, host: string, pkts: Uint8Array[]): void {
  r.send(
    'lan',
    pkts.map((p) => ipFrame(R0, HOSTS[host]!, p)),
  );
}

function wanBatch(r: Rig, pkts: Uint8Array[]): void {
  r.send(
    'wan',
    pkts.map((p) => ipFrame(R1, GW, p)),
  );
}

/** B takes 192.0.2.2:40000 first, so A's datagrams from port 40000 get another port. */
function occupyPort(r: Rig): void {
  fromLan(r, B, udp({ src: B, dst: SERVER }, 40000, 4789));
  expect(hdr(out(r, 'wan')[0]!)).toMatchObject({ src: WAN_IP, sport: 40000 });
}

/** A 3000-byte UDP datagram from A:40000 to the server, and its three fragments (1480, 1480, 20). */
function bigUdp(id = 0x5001) {
  const dgram = udp({ src: A, dst: SERVER, id }, 40000, 4789, 2972);
  return { dgram, frags: fragment(dgram, 1480) };
}

/** Reassembles what left, checks every fragment carries `src`/`dst`, returns the datagram's ports. */
function arrived(pkts: Uint8Array[], src: string, dst: string, original: Uint8Array) {
  for (const p of pkts) {
    const v = ipv4(p);
    expect([v.src, v.dst]).toEqual([ip(src), ip(dst)]);
  }
  const whole = reassemble(pkts);
  const h = hdr(whole); // verifies the UDP checksum over the reassembled datagram
  expect(whole.subarray(28)).toEqual(original.subarray(28));
  return h;
}

describe('RFC 4787 REQ-14 (fragments)', () => {
  for (const together of [true, false]) {
    it(`REQ-14: in-order fragments of a UDP datagram (${together ? 'one batch' : 'one batch each'}) all leave masqueraded; reassembled, the UDP checksum verifies`, () => {
      const r = natRig();
      occupyPort(r);
      const { dgram, frags } = bigUdp();
      expect(frags).toHaveLength(3);
      if (together) lanBatch(r, A, frags);
      else for (const f of frags) fromLan(r, A, f);
      const sent = out(r, 'wan');
      expect(sent).toHaveLength(3);
      const h = arrived(sent, WAN_IP, SERVER, dgram);
      expect(h.sport).not.toBe(40000);
      expect(h.dport).toBe(4789);
      const frags2 = r.engine.conntrack!.frags;
      expect(frags2.stats.held).toBe(0); // in order: nothing copied, not even within one batch
      expect(frags2.count).toBe(0); // the whole datagram passed: its entry is gone
      expect(frags2.audit()).toBe('');
    });
  }

  it('REQ-14: out of order — last fragment first, then the first, then the middle', () => {
    const r = natRig();
    occupyPort(r);
    const ft = r.engine.conntrack!.frags;
    const { dgram, frags } = bigUdp();
    const [first, middle, last] = frags as [Uint8Array, Uint8Array, Uint8Array];
    fromLan(r, A, last);
    expect(out(r, 'wan')).toEqual([]);
    expect(ft.heldCount).toBe(1);
    fromLan(r, A, first);
    const afterFirst = out(r, 'wan');
    expect(afterFirst.map((p) => ipv4(p).fragOffset)).toEqual([0, 2960]); // the held one follows its first
    expect(ft.heldCount).toBe(0);
    fromLan(r, A, middle);
    const sent = [...afterFirst, ...out(r, 'wan')];
    expect(sent).toHaveLength(3);
    expect(arrived(sent, WAN_IP, SERVER, dgram).sport).not.toBe(40000);
    expect(ft.stats.released).toBe(1);
    expect(ft.count).toBe(0);
    // The same order within one batch.
    const again = bigUdp(0x5002);
    lanBatch(r, A, [again.frags[2]!, again.frags[0]!, again.frags[1]!]);
    expect(arrived(out(r, 'wan'), WAN_IP, SERVER, again.dgram).sport).not.toBe(40000);
    expect(ft.audit()).toBe('');
  });

  it('REQ-14: fragments of an inbound reply to a translated flow are translated back (middle, last, first)', () => {
    const r = natRig();
    occupyPort(r);
    fromLan(r, A, udp({ src: A, dst: SERVER }, 40000, 4789));
    const p = hdr(out(r, 'wan')[0]!).sport;
    const reply = udp({ src: SERVER, dst: WAN_IP, id: 0x6001 }, 4789, p, 2972);
    const [f0, f1, f2] = fragment(reply, 1480) as [Uint8Array, Uint8Array, Uint8Array];
    fromWan(r, f1);
    fromWan(r, f2);
    expect(out(r, 'lan')).toEqual([]);
    fromWan(r, f0);
    const h = arrived(out(r, 'lan'), SERVER, A, reply);
    expect(h).toMatchObject({ dst: A, dport: 40000, src: SERVER, sport: 4789 });
  });

  it('REQ-14: real fragments (ipv4-fragments.pcap, 4028-byte echo), shuffled, both ways; the echo id is translated in the first fragment only', () => {
    const r = natRig();
    // The capture's echo: 10.0.1.10 → 10.0.2.2 id 0x7a87, request cut for 1500, reply for 1280.
    const pkts = [...parseCaptureBuffer(readFileSync('fixtures/pcap/ipv4-fragments.pcap')).packets()];
    const ipOf = (i: number, src: string, dst: string) => {
      const p = pkts[i]!.data.slice(14);
      setU32(p, 12, ip(src));
      setU32(p, 16, ip(dst));
      setU16(p, 10, 0);
      setU16(p, 10, checksum(p, 0, 20));
      return p;
    };
    const request = [0, 1, 2].map((i) => ipOf(i, A, SERVER));
    expect(request.map((p) => ipv4(p).fragOffset)).toEqual([0, 1480, 2960]);
    // B pings the server with the same id first: A's id must be changed.
    fromLan(r, B, echo(B, SERVER, 0x7a87));
    expect(hdr(out(r, 'wan')[0]!).sport).toBe(0x7a87);
    lanBatch(r, A, [request[2]!, request[0]!]);
    fromLan(r, A, request[1]!);
    const sent = out(r, 'wan');
    expect(sent).toHaveLength(3);
    for (const p of sent) expect(ipv4(p).src).toBe(ip(WAN_IP));
    const whole = reassemble(sent);
    const id = hdr(whole).sport; // hdr verifies the ICMP checksum over all 4008 bytes
    expect(id).not.toBe(0x7a87);
    // The server's reply, fragmented as captured, echoing the id it saw.
    const reply = [3, 4, 5, 6].map((i) => ipOf(i, SERVER, WAN_IP));
    setU16(reply[0]!, 26, csumReplace16(u16(reply[0]!, 26), 0x7a87, id));
    setU16(reply[0]!, 24, id);
    wanBatch(r, [reply[3]!, reply[1]!]);
    fromWan(r, reply[0]!);
    fromWan(r, reply[2]!);
    const back = out(r, 'lan');
    expect(back).toHaveLength(4);
    for (const p of back) expect(ipv4(p).dst).toBe(ip(A));
    expect(hdr(reassemble(back))).toMatchObject({ src: SERVER, dst: A, sport: 0x7a87, proto: 1 });
  });

  it('REQ-14: local output too — the kernel’s fragments from the host port, out of order, leave masqueraded', () => {
    const r = natRig();
    // The tunnel port plays the host port: the kernel's packets take the local-output path.
    r.engine.setHostPort(r.port('tun'));
    r.engine.addHostAddress(ip('100.64.0.2'), 32);
    const dgram = udp({ src: '100.64.0.2', dst: SERVER, id: 0x4444 }, 41000, 4789, 2972);
    const [f0, f1, f2] = fragment(dgram, 1480) as [Uint8Array, Uint8Array, Uint8Array];
    r.send('tun', [f2]);
    expect(out(r, 'wan')).toEqual([]);
    r.send('tun', [f0]);
    r.send('tun', [f1]);
    const sent = out(r, 'wan');
    expect(sent.map((p) => ipv4(p).fragOffset)).toEqual([0, 2960, 1480]);
    expect(arrived(sent, WAN_IP, SERVER, dgram).sport).toBe(41000);
    const ft = r.engine.conntrack!.frags;
    expect([ft.stats.held, ft.stats.released, ft.count]).toEqual([1, 1, 0]);
  });

  it('REQ-14: later fragments take the first fragment’s mark, so the whole datagram follows its policy route', () => {
    const r = natRig();
    // Mark 42 routes to the tunnel (table 42); only the first fragment has the port to match.
    r.engine.hooks.prerouting.programs.push({
      run(pipe: Pipeline, s: number): number {
        const d = pipe.batch.data;
        const l3 = pipe.meta.l3Off[s]!;
        if ((u16(d, l3 + 6) & 0x1fff) === 0 && u16(d, pipe.meta.l4Off[s]! + 2) === 4789)
          pipe.meta.mark[s] = 42;
        return VERDICT_ACCEPT;
      },
    });
    const { dgram, frags } = bigUdp();
    for (const f of frags) fromLan(r, A, f);
    expect(out(r, 'wan')).toEqual([]);
    expect(arrived(r.sent('tun'), A, SERVER, dgram).sport).toBe(40000);
  });

  it('REQ-14: a first fragment dropped by a chain takes its later fragments with it (counted)', () => {
    const r = natRig();
    let blocked = true;
    r.engine.hooks.forward.programs.push({
      run(pipe: Pipeline, s: number): number {
        const d = pipe.batch.data;
        const l3 = pipe.meta.l3Off[s]!;
        const first = (u16(d, l3 + 6) & 0x1fff) === 0;
        return blocked && first && u16(d, pipe.meta.l4Off[s]! + 2) === 4789 ? VERDICT_DROP : VERDICT_ACCEPT;
      },
    });
    const { dgram, frags } = bigUdp();
    lanBatch(r, A, frags);
    expect(out(r, 'wan')).toEqual([]);
    const ft = r.engine.conntrack!.frags;
    expect(ft.heldCount).toBe(2); // waiting for a first fragment that will not pass
    idle(r, 0.2);
    expect(r.engine.drops()['frag-first-dropped']).toBe(2);
    expect(ft.heldCount).toBe(0);
    fromLan(r, A, frags[1]!); // a late copy goes the same way at once
    expect(r.engine.drops()['frag-first-dropped']).toBe(3);
    expect(out(r, 'wan')).toEqual([]);
    // The sender retransmits the datagram (same id) once the rule is gone: it gets through whole.
    blocked = false;
    lanBatch(r, A, frags);
    expect(arrived(out(r, 'wan'), WAN_IP, SERVER, dgram).sport).toBe(40000);
  });

  it('REQ-14: a lone non-first fragment is held, then dropped and counted when its time runs out', () => {
    const r = natRig();
    const ft = r.engine.conntrack!.frags;
    fromLan(r, A, bigUdp().frags[1]!);
    expect(out(r, 'wan')).toEqual([]);
    expect(ft.heldCount).toBe(1);
    idle(r, 2.5);
    expect(ft.heldCount).toBe(1);
    idle(r, 0.6);
    expect(r.engine.drops()['frag-timeout']).toBe(1);
    expect([ft.heldCount, ft.heldBytes, ft.count]).toEqual([0, 0, 0]);
    expect(ft.audit()).toBe('');
  });

  it('REQ-14: a full pool (count or bytes) and a full table are counted, never a crash; unfragmented traffic still flows (REQ-14a)', () => {
    const r = natRig();
    const ft = r.engine.conntrack!.frags;
    const lone = (id: number, size: number) =>
      fragment(udp({ src: A, dst: SERVER, id }, 40000, 4789, size), [8])[1]!;
    // 70 small lone fragments: 64 buffers.
    for (let b = 0; b < 2; b++)
      lanBatch(
        r,
        A,
        Array.from({ length: 35 }, (_, i) => lone(1 + b * 35 + i, 100)),
      );
    expect(ft.heldCount).toBe(ft.holdSlots);
    expect(r.engine.drops()['frag-hold-full']).toBe(70 - ft.holdSlots);
    expect(ft.count).toBe(ft.holdSlots); // a fragment that could not be held leaves no entry behind
    fromLan(r, B, udp({ src: B, dst: SERVER }, 41000, 53));
    expect(hdr(out(r, 'wan')[0]!)).toMatchObject({ src: WAN_IP, sport: 41000 });
    idle(r, 3.1);
    expect(r.engine.drops()['frag-timeout']).toBe(ft.holdSlots);
    // 50 full-size lone fragments: the byte budget ends it first.
    const big = Array.from({ length: 50 }, (_, i) => lone(100 + i, 1480));
    expect(big[0]!.length).toBe(1500);
    lanBatch(r, A, big);
    const fit = Math.floor(ft.holdBytes / 1500);
    expect(ft.heldCount).toBe(fit);
    expect(ft.heldBytes).toBeLessThanOrEqual(ft.holdBytes);
    expect(r.engine.drops()['frag-hold-full']).toBe(70 - ft.holdSlots + 50 - fit);
    idle(r, 3.1);
    // More datagrams at once than the table tracks: first fragments of 1030 datagrams.
    const firsts = Array.from(
      { length: 1030 },
      (_, i) => fragment(udp({ src: A, dst: SERVER, id: 2000 + i }, 40000, 4789, 100), [16])[0]!,
    );
    for (let i = 0; i < firsts.length; i += 64) lanBatch(r, A, firsts.slice(i, i + 64));
    expect(ft.count).toBe(ft.capacity);
    expect(r.engine.drops()['frag-table-full']).toBe(1030 - ft.capacity);
    expect(out(r, 'wan')).toHaveLength(ft.capacity);
    expect(ft.audit()).toBe('');
    idle(r, 3.1);
    expect(ft.count).toBe(0);
    const { dgram, frags } = bigUdp(0x7777);
    lanBatch(r, A, frags);
    expect(arrived(out(r, 'wan'), WAN_IP, SERVER, dgram).sport).toBe(40000);
  });

  it('REQ-14: duplicate and overlapping fragments do not corrupt the state; a TCP fragment over the TCP header and a too-short first fragment are dropped', () => {
    const r = natRig();
    occupyPort(r);
    const ft = r.engine.conntrack!.frags;
    const { dgram, frags } = bigUdp();
    const [f0, f1, f2] = frags as [Uint8Array, Uint8Array, Uint8Array];
    const hdrRepr = parseIpv4(ipv4(dgram));
    const payload = dgram.subarray(20);
    const overlap = piece(hdrRepr, payload, 1000, 2000);
    for (const f of [f0, f1, f1, overlap, f0, f2]) fromLan(r, A, f);
    const sent = out(r, 'wan');
    expect(sent).toHaveLength(6);
    for (const p of sent) expect(ipv4(p).src).toBe(ip(WAN_IP));
    // The overlap crossed as it came (the receiver's reassembly decides about overlaps).
    expect(sent[3]!.subarray(20)).toEqual(overlap.subarray(20));
    // The duplicate first fragment was tracked on its own: same flow, same translation.
    expect(sent[4]).toEqual(sent[0]);
    const canonical = [sent[0]!, sent[1]!, sent[5]!];
    expect(arrived(canonical, WAN_IP, SERVER, dgram).sport).not.toBe(40000);
    expect(ft.audit()).toBe('');
    // The same id again later (after the entry's time): a new datagram, translated the same way.
    idle(r, 3.1);
    lanBatch(r, A, [f2, f0, f1]);
    expect(arrived(out(r, 'wan'), WAN_IP, SERVER, dgram).sport).not.toBe(40000);
    // RFC 1858: a TCP fragment at offset 8 would overwrite ports and flags on reassembly.
    const seg = tcp({ src: A, dst: SERVER }, 40001, 443, { payload: 100 });
    const segRepr = parseIpv4(ipv4(seg));
    fromLan(r, A, piece(segRepr, seg.subarray(20), 8, 64));
    expect(r.engine.drops()['frag-overlaps-tcp-header']).toBe(1);
    // A first fragment with 8 bytes of TCP carries no checksum to translate.
    fromLan(r, A, piece(segRepr, seg.subarray(20), 0, 8));
    expect(r.engine.drops()['frag-first-too-short']).toBe(1);
    expect(out(r, 'wan')).toEqual([]);
    expect(ft.audit()).toBe('');
  });
});
