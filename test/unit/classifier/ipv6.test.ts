/**
 * IPv6 packets do not reach the router's hooks yet (its stages are IPv4), so these tests run a
 * compiled base chain directly over a batch holding IPv6 packets, as an ip6 path will.
 */
import { describe, expect, it } from 'vitest';
import type { ChainRule } from '../../../src/control/config/types.js';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import { compileRuleset, rulesetDeps } from '../../../src/dataplane/classifier/index.js';
import { NAT_DNAT, NAT_NONE } from '../../../src/dataplane/pipeline/packet-meta.js';
import { VERDICT_ACCEPT, VERDICT_DROP } from '../../../src/dataplane/stages/hook.js';
import { parseIpv6, setU16, toHex } from '../../../src/dataplane/wire/bytes.js';
import { routerRig } from '../../helpers/classifier-rig.js';
import { addrSet, addrs, chain, DROP, ipv6Set, mark, portsOf, rule } from '../../helpers/ruleset-builders.js';

interface V6Opts {
  src?: string;
  dst?: string;
  tc?: number;
  /** Insert a Destination Options header before UDP. */
  destOpts?: boolean;
  /** Insert a Fragment header with this offset (in 8-byte units). */
  fragOffset?: number;
}

/** An IPv6 packet carrying UDP 40000 → 53 (or a fragment of one). */
function v6udp(o: V6Opts = {}): Uint8Array {
  const ext: number[] = [];
  const chainNh: number[] = [];
  if (o.destOpts) chainNh.push(60);
  if (o.fragOffset !== undefined) chainNh.push(44);
  chainNh.push(17);
  if (o.destOpts) ext.push(chainNh[1]!, 0, 1, 4, 0, 0, 0, 0);
  if (o.fragOffset !== undefined)
    ext.push(17, 0, (o.fragOffset << 3) >> 8, (o.fragOffset << 3) & 0xf8, 0, 0, 0x12, 0x34);
  const udpLen = 8 + 12;
  const out = new Uint8Array(40 + ext.length + udpLen);
  const tc = o.tc ?? 0;
  out[0] = 0x60 | (tc >> 4);
  out[1] = (tc & 15) << 4;
  setU16(out, 4, ext.length + udpLen);
  out[6] = chainNh[0]!;
  out[7] = 64;
  out.set(parseIpv6(o.src ?? '2001:db8:1::33')!, 8);
  out.set(parseIpv6(o.dst ?? '2001:db8:2::7')!, 24);
  out.set(ext, 40);
  const u = 40 + ext.length;
  setU16(out, u, 40000);
  setU16(out, u + 2, 53);
  setU16(out, u + 4, udpLen);
  return out;
}

/** Runs one prerouting base chain of `rules` over `pkt`; returns the verdict and the slot's metadata. */
function run(rules: ChainRule[], pkt: Uint8Array, sets = [] as ReturnType<typeof ipv6Set>[]) {
  const r = routerRig();
  const { hooks } = compileRuleset(
    [chain(0, 'c', 'prerouting', rules)],
    sets,
    r.ports.length,
    rulesetDeps(r.engine),
  );
  const pipe = r.engine.pipe;
  const b = new PacketBatch(4, 4096);
  b.data.set(pkt, 0);
  b.count = 1;
  b.length[0] = pkt.length;
  pipe.batch = b;
  const m = pipe.meta;
  m.admit(0, 0, 0);
  m.etherType[0] = 0x86dd;
  m.l3Len[0] = pkt.length;
  const verdict = hooks.prerouting[0]!.run(pipe, 0, r.engine.hooks.prerouting);
  return { verdict, m, bytes: b.data.subarray(0, pkt.length) };
}

const hit = mark(0x77);

describe('IPv6 through a compiled chain', () => {
  it('source in a set of IPv6 prefixes, negated destinations', () => {
    const nets = ipv6Set(0, 'nets', 'fd00::/8', '2001:db8:1::/48', '2001:db8:5::/48');
    expect(run([rule({ src: addrSet(nets) }, hit)], v6udp(), [nets]).m.mark[0]).toBe(0x77);
    expect(run([rule({ src: addrSet(nets) }, hit)], v6udp({ src: '2001:db8:3::1' }), [nets]).m.mark[0]).toBe(
      0,
    );
    expect(run([rule({ dst: addrs('!2001:db8:2::/48') }, hit)], v6udp()).m.mark[0]).toBe(0);
    expect(run([rule({ dst: addrs('!2001:db8:9::/48') }, hit)], v6udp()).m.mark[0]).toBe(0x77);
  });

  it('IPv4 address matches never match an IPv6 packet, negated or not (the implicit nfproto dependency)', () => {
    expect(run([rule({ src: addrs('!10.0.0.0/8') }, hit)], v6udp()).m.mark[0]).toBe(0);
    expect(run([rule({ src: addrs('0.0.0.0/0') }, hit)], v6udp()).m.mark[0]).toBe(0);
  });

  it('proto and ports come from the upper layer, past extension headers', () => {
    expect(run([rule({ proto: 17, dport: portsOf(53) }, hit)], v6udp()).m.mark[0]).toBe(0x77);
    expect(run([rule({ proto: 17, dport: portsOf(53) }, hit)], v6udp({ destOpts: true })).m.mark[0]).toBe(
      0x77,
    );
    expect(
      run([rule({ proto: 17, sport: portsOf('40000-40001') }, hit)], v6udp({ destOpts: true, fragOffset: 0 }))
        .m.mark[0],
    ).toBe(0x77);
  });

  it('a non-first fragment has the protocol but no ports', () => {
    const later = v6udp({ fragOffset: 10 });
    expect(run([rule({ proto: 17 }, hit)], later).m.mark[0]).toBe(0x77);
    expect(run([rule({ proto: 17, dport: portsOf(53) }, hit)], later).m.mark[0]).toBe(0);
    expect(run([rule({ proto: 17, dport: portsOf('!53') }, hit)], later).m.mark[0]).toBe(0);
  });

  it('dscp from the traffic class; dscp set keeps ECN', () => {
    const pkt = v6udp({ tc: (10 << 2) | 3 });
    expect(run([rule({ dscp: 10 }, hit)], pkt).m.mark[0]).toBe(0x77);
    const { bytes } = run([rule({}, { kind: 'dscp', value: 46 })], pkt);
    expect(toHex(bytes, 0, 2)).toBe(toHex(Uint8Array.of(0x6b, 0xb0)));
  });

  it('dnat to an IPv6 address records it for the NAT stage; an IPv4 NAT rule does not apply', () => {
    const dnat6: ChainRule = rule(
      { proto: 17 },
      {
        kind: 'dnat',
        addr: { family: 6, addr: parseIpv6('2001:db8::53')! },
        ports: { min: 5353, max: 5353 },
      },
    );
    const dnat4: ChainRule = rule(
      { proto: 17 },
      { kind: 'dnat', addr: { family: 4, addr: 0x0a000035 }, ports: null },
    );
    const a = run([dnat4, dnat6, rule({}, DROP)], v6udp());
    expect(a.verdict).toBe(VERDICT_ACCEPT);
    expect([a.m.natKind[0], a.m.natPortMin[0], a.m.natPortMax[0]]).toEqual([NAT_DNAT, 5353, 5353]);
    expect(toHex(a.m.natAddr6, 0, 16)).toBe(toHex(parseIpv6('2001:db8::53')!));
    const b = run([dnat4, rule({}, DROP)], v6udp());
    expect([b.verdict, b.m.natKind[0]]).toEqual([VERDICT_DROP, NAT_NONE]);
  });
});
