/** Every match kind, positive, negative and negated, on a router with memory ports. */
import { describe, expect, it } from 'vitest';
import type { Match, SetConfig } from '../../../src/control/config/types.js';
import { CT_ESTABLISHED, CT_NEW, CT_RELATED } from '../../../src/control/config/types.js';
import type { Pipeline } from '../../../src/dataplane/pipeline/pipeline.js';
import { type HookName, VERDICT_ACCEPT } from '../../../src/dataplane/stages/hook.js';
import { setU16 } from '../../../src/dataplane/wire/bytes.js';
import { checksum } from '../../../src/dataplane/wire/checksum.js';
import { asFragment, fromLan, probe, routerRig, tcp, withRuleset } from '../../helpers/classifier-rig.js';
import { icmpEcho, udp } from '../../helpers/frames.js';
import {
  addrSet,
  addrs,
  chain,
  ipv4Set,
  mark,
  portNumbers,
  portSet,
  portsOf,
  rule,
} from '../../helpers/ruleset-builders.js';

const LAN = 0;
const WAN = 1;
const TUN = 2;

const toWan = () => udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 53);

/** True when a rule with `match` at `hook` marks `pkt` (sent from the lan host and forwarded). */
function matches(
  match: Partial<Match>,
  pkt: Uint8Array,
  opts: { hook?: HookName; sets?: SetConfig[]; ctState?: number } = {},
): boolean {
  const r = routerRig();
  if (opts.ctState !== undefined) {
    // Stands in for conntrack-in: gives the packet a state before the ruleset sees it.
    const st = opts.ctState;
    r.engine.hooks.prerouting.programs.push({
      run(pipe: Pipeline, s: number): number {
        pipe.meta.ctState[s] = st;
        return VERDICT_ACCEPT;
      },
    });
  }
  withRuleset(r, [chain(0, 'c', opts.hook ?? 'prerouting', [rule(match, mark(0x77))])], opts.sets);
  const seen = probe(r, 'postrouting');
  fromLan(r, pkt);
  expect(seen.length).toBe(1);
  return seen[0]!.mark === 0x77;
}

describe('iif / oif', () => {
  it('iif: the arrival port, in a set of ports, negated', () => {
    expect(matches({ iif: { negate: false, ports: [LAN] } }, toWan())).toBe(true);
    expect(matches({ iif: { negate: false, ports: [WAN] } }, toWan())).toBe(false);
    expect(matches({ iif: { negate: false, ports: [WAN, LAN] } }, toWan())).toBe(true);
    expect(matches({ iif: { negate: true, ports: [WAN] } }, toWan())).toBe(true);
    expect(matches({ iif: { negate: true, ports: [LAN, TUN] } }, toWan())).toBe(false);
  });

  it('oif: the port routing chose, at forward', () => {
    const toTun = udp({ src: '10.1.0.33', dst: '172.16.0.9' }, 40000, 53);
    expect(matches({ oif: { negate: false, ports: [WAN] } }, toWan(), { hook: 'forward' })).toBe(true);
    expect(matches({ oif: { negate: false, ports: [TUN] } }, toWan(), { hook: 'forward' })).toBe(false);
    expect(matches({ oif: { negate: false, ports: [TUN] } }, toTun, { hook: 'postrouting' })).toBe(true);
    expect(matches({ oif: { negate: true, ports: [TUN] } }, toWan(), { hook: 'forward' })).toBe(true);
  });

  it("oif at output: the port routing chose for the router's own packet", () => {
    const r = routerRig();
    withRuleset(r, [chain(0, 'out', 'output', [rule({ oif: { negate: false, ports: [LAN] } }, mark(0x77))])]);
    const seen = probe(r, 'postrouting');
    fromLan(r, icmpEcho({ src: '10.1.0.33', dst: '10.1.0.1' }));
    expect(seen.map((x) => [x.outPort, x.mark])).toEqual([[LAN, 0x77]]);
  });

  it("iif at output: the router's own packets have no input port (Linux LOCAL_OUT)", () => {
    for (const [m, expected] of [
      [{ negate: false, ports: [LAN] }, false],
      [{ negate: true, ports: [LAN] }, true],
    ] as const) {
      const r = routerRig();
      withRuleset(r, [chain(0, 'out', 'output', [rule({ iif: m }, mark(0x77))])]);
      const seen = probe(r, 'postrouting');
      // Answered by the router with an echo reply and an ICMP port unreachable: output packets. The
      // error remembers the lan as the port it relates to (for its own suppression rules); iif
      // must still see no input port, as Linux's LOCAL_OUT hook does.
      fromLan(r, icmpEcho({ src: '10.1.0.33', dst: '10.1.0.1' }));
      fromLan(r, udp({ src: '10.1.0.33', dst: '10.1.0.1' }, 5000, 9));
      expect(seen.length).toBe(2);
      expect(seen[1]!.inPort).toBe(LAN);
      expect(seen.map((x) => x.mark === 0x77)).toEqual([expected, expected]);
    }
  });
});

describe('src / dst', () => {
  it('inline prefixes, one or several, negated', () => {
    expect(matches({ dst: addrs('198.51.100.0/24') }, toWan())).toBe(true);
    expect(matches({ dst: addrs('198.51.100.8/29') }, toWan())).toBe(false);
    expect(matches({ dst: addrs('203.0.113.0/24', '198.51.100.7') }, toWan())).toBe(true);
    expect(matches({ src: addrs('10.1.0.0/24') }, toWan())).toBe(true);
    expect(matches({ src: addrs('!10.1.0.0/24') }, toWan())).toBe(false);
    expect(matches({ dst: addrs('!10.0.0.0/8') }, toWan())).toBe(true);
  });

  it('addresses above 2^31 compare as unsigned', () => {
    const pkt = udp({ src: '10.1.0.33', dst: '192.168.1.30' }, 1, 2);
    expect(matches({ dst: addrs('192.168.1.0/24') }, pkt)).toBe(true);
    expect(matches({ dst: addrs('192.168.0.0/24', '10.0.0.0/8') }, pkt)).toBe(false);
    expect(matches({ dst: addrs('128.0.0.0/1') }, pkt)).toBe(true);
    expect(matches({ dst: addrs('0.0.0.0/1') }, pkt)).toBe(false);
  });

  it('named sets of many prefixes, negated', () => {
    const many = Array.from({ length: 300 }, (_, i) => `203.${i >> 8}.${i & 255}.0/24`);
    const bogons = ipv4Set(0, 'bogons', ...many, '198.51.100.0/24');
    const others = ipv4Set(1, 'others', ...many);
    expect(matches({ dst: addrSet(bogons) }, toWan(), { sets: [bogons, others] })).toBe(true);
    expect(matches({ dst: addrSet(others) }, toWan(), { sets: [bogons, others] })).toBe(false);
    expect(matches({ dst: addrSet(others, true) }, toWan(), { sets: [bogons, others] })).toBe(true);
    expect(matches({ src: addrSet(bogons, true) }, toWan(), { sets: [bogons, others] })).toBe(true);
  });
});

describe('proto, ports, dscp', () => {
  it('proto', () => {
    expect(matches({ proto: 17 }, toWan())).toBe(true);
    expect(matches({ proto: 6 }, toWan())).toBe(false);
    expect(matches({ proto: 6 }, tcp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443))).toBe(true);
  });

  it('sport/dport: single ports, inclusive ranges, lists, negation', () => {
    expect(matches({ proto: 17, dport: portsOf(53) }, toWan())).toBe(true);
    expect(matches({ proto: 17, dport: portsOf(54) }, toWan())).toBe(false);
    expect(matches({ proto: 17, sport: portsOf('40000-40010') }, toWan())).toBe(true);
    expect(matches({ proto: 17, sport: portsOf('39990-40000') }, toWan())).toBe(true);
    expect(matches({ proto: 17, sport: portsOf('40001-40010') }, toWan())).toBe(false);
    expect(matches({ proto: 17, dport: portsOf(123, 67, 53) }, toWan())).toBe(true);
    expect(matches({ proto: 17, dport: portsOf('!53') }, toWan())).toBe(false);
    expect(matches({ proto: 17, dport: portsOf('!22') }, toWan())).toBe(true);
    expect(matches({ proto: 6, dport: portsOf(53) }, toWan())).toBe(false);
    expect(
      matches({ proto: 6, dport: portsOf(443) }, tcp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443)),
    ).toBe(true);
  });

  it('port sets', () => {
    const dns = portNumbers(0, 'dns-ntp', 53, 123, '5353-5354');
    const web = portNumbers(1, 'web', 80, 443);
    const sets = [dns, web];
    expect(matches({ proto: 17, dport: portSet(dns) }, toWan(), { sets })).toBe(true);
    expect(matches({ proto: 17, dport: portSet(web) }, toWan(), { sets })).toBe(false);
    expect(matches({ proto: 17, dport: portSet(web, true) }, toWan(), { sets })).toBe(true);
  });

  it('fragments: the first one carries the ports; a later one never matches a port match, negated or not', () => {
    const whole = udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 53, 200);
    const first = asFragment(whole.subarray(0, 20 + 104), 0, true);
    first[3] = 124; // total length of the first fragment
    setU16(first, 10, 0);
    setU16(first, 10, checksum(first, 0, 20));
    const later = asFragment(whole, 13, false);
    expect(matches({ proto: 17, dport: portsOf(53) }, first)).toBe(true);
    expect(matches({ proto: 17, dport: portsOf(53) }, later)).toBe(false);
    expect(matches({ proto: 17, dport: portsOf('!53') }, later)).toBe(false);
    expect(matches({ proto: 17, sport: portsOf('0-65535') }, later)).toBe(false);
    // The protocol itself is known for every fragment.
    expect(matches({ proto: 17 }, later)).toBe(true);
  });

  it('dscp', () => {
    const ef = toWan();
    ef[1] = (46 << 2) | 1;
    setU16(ef, 10, 0);
    setU16(ef, 10, checksum(ef, 0, 20));
    expect(matches({ dscp: 46 }, ef)).toBe(true);
    expect(matches({ dscp: 0 }, ef)).toBe(false);
    expect(matches({ dscp: 0 }, toWan())).toBe(true);
  });
});

describe('marks and conntrack fields', () => {
  /** Rule 1 sets mark 0x1234 and ct mark 0xab00; rule 2 has `match` and sets bit 0x10000 of the mark. */
  function secondRuleMatches(match: Partial<Match>): boolean {
    const r = routerRig();
    withRuleset(r, [
      chain(0, 'c', 'prerouting', [
        rule({}, mark(0x1234), { kind: 'ct-mark', op: 'set', value: 0xab00, mask: 0xffffffff }),
        rule(match, mark(0x10000, 0x10000)),
      ]),
    ]);
    const seen = probe(r, 'postrouting');
    fromLan(r, toWan());
    return (seen[0]!.mark & 0x10000) !== 0;
  }

  it('meta mark with and without a mask', () => {
    expect(secondRuleMatches({ mark: { value: 0x1234, mask: 0xffffffff } })).toBe(true);
    expect(secondRuleMatches({ mark: { value: 0x34, mask: 0xff } })).toBe(true);
    expect(secondRuleMatches({ mark: { value: 0x35, mask: 0xff } })).toBe(false);
    expect(secondRuleMatches({ mark: { value: 0x34, mask: 0xffffffff } })).toBe(false);
  });

  it('ct mark with and without a mask', () => {
    expect(secondRuleMatches({ ctMark: { value: 0xab00, mask: 0xffffffff } })).toBe(true);
    expect(secondRuleMatches({ ctMark: { value: 0xa000, mask: 0xf000 } })).toBe(true);
    expect(secondRuleMatches({ ctMark: { value: 0, mask: 0xff00 } })).toBe(false);
  });

  it('marks above 2^31 compare as unsigned', () => {
    const r = routerRig();
    withRuleset(r, [
      chain(0, 'c', 'prerouting', [
        rule({}, mark(0xdeadbeef)),
        rule({ mark: { value: 0xde000000, mask: 0xff000000 } }, mark(0x1, 0x1)),
      ]),
    ]);
    const seen = probe(r, 'postrouting');
    fromLan(r, toWan());
    expect(seen[0]!.mark).toBe(0xdeadbeef);
  });

  it('ct state: untracked packets (state 0: every packet when no conntrack runs) match no state', () => {
    expect(matches({ ctState: CT_NEW }, toWan())).toBe(false);
    expect(matches({ ctState: CT_ESTABLISHED | CT_RELATED }, toWan())).toBe(false);
    expect(matches({ ctState: CT_NEW | CT_ESTABLISHED | CT_RELATED | 8 }, toWan())).toBe(false);
  });

  it('ct state: a tracked packet matches when its state is in the set', () => {
    expect(matches({ ctState: CT_ESTABLISHED | CT_RELATED }, toWan(), { ctState: CT_ESTABLISHED })).toBe(
      true,
    );
    expect(matches({ ctState: CT_NEW }, toWan(), { ctState: CT_ESTABLISHED })).toBe(false);
    expect(matches({ ctState: CT_NEW }, toWan(), { ctState: CT_NEW })).toBe(true);
  });

  it('all matches of a rule must hold', () => {
    const m: Partial<Match> = {
      iif: { negate: false, ports: [LAN] },
      proto: 17,
      dport: portsOf(53),
      dst: addrs('198.51.100.0/24'),
    };
    expect(matches(m, toWan())).toBe(true);
    expect(matches({ ...m, dst: addrs('203.0.113.0/24') }, toWan())).toBe(false);
    expect(matches({ ...m, iif: { negate: false, ports: [WAN] } }, toWan())).toBe(false);
  });
});

describe('a rule with no matches', () => {
  it('matches every packet', () => {
    expect(matches({}, toWan())).toBe(true);
    expect(matches({}, icmpEcho({ src: '10.1.0.33', dst: '198.51.100.7' }))).toBe(true);
  });
});
