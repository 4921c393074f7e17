/** The seeds' rulesets on the router, and what a trace says about them. */
import { describe, expect, it } from 'vitest';
import { CT_ESTABLISHED, CT_INVALID, CT_RELATED } from '../../../src/control/config/types.js';
import { u16 } from '../../../src/dataplane/wire/bytes.js';
import { Ipv4View } from '../../../src/dataplane/wire/ipv4.js';
import { fromLan, fromWan, routerRig, tcp, withRuleset } from '../../helpers/classifier-rig.js';
import { icmpEcho, ip, udp } from '../../helpers/frames.js';
import {
  ACCEPT,
  addrs,
  chain,
  commented,
  DROP,
  jump,
  mark,
  portsOf,
  RETURN,
  rule,
} from '../../helpers/ruleset-builders.js';

const LAN = { negate: false, ports: [0] };
const WAN = { negate: false, ports: [1] };

describe('seed 000: mark the VPN-bound subnet, policy-route the mark into the tunnel', () => {
  it('meta mark set 1 for 192.168.1.0/24 → ip rule fwmark 1 → table 100 → dev tun, explained by the trace', () => {
    const r = routerRig();
    r.routes.add(0, 0, 2, 0, 100);
    r.routes.rules.push({ mark: 1, table: 100 });
    withRuleset(r, [
      chain(0, 'mangle-prerouting', 'prerouting', [rule({ dst: addrs('192.168.1.0/24') }, mark(1))], {
        priority: -150,
      }),
    ]);
    r.engine.pipe.tracer.arm(2);
    const vpn = icmpEcho({ src: '10.1.0.33', dst: '192.168.1.30' }, 1, 56);
    fromLan(r, vpn);
    fromLan(r, icmpEcho({ src: '10.1.0.33', dst: '198.51.100.7' }, 2, 56));
    const [out] = r.sent('tun');
    expect(out!.length).toBe(vpn.length);
    expect(r.sent('wan').length).toBe(1); // the other destination keeps the main table
    const [marked, plain] = r.engine.pipe.drainTrace();
    expect(marked!.steps.map((s) => `${s.stage}: ${s.text}`)).toEqual([
      'eth-input: unicast to us IPv4 frame',
      'ip4-input: 10.1.0.33 → 192.168.1.30 proto icmp ttl 64 len 84: header valid',
      'prerouting: chain mangle-prerouting rule 1 (dst 192.168.1.0/24): mark set 0x1',
      'prerouting: chain mangle-prerouting policy accept',
      'ip4-lookup: route 192.168.1.30 (mark 0x1) via table 100: dev tun',
      'ip4-forward: forward: ttl now 63 (egress mtu 1280)',
      'eth-output: out tun as a bare IP packet (L3 port)',
      'port-output: transmitted on tun (84 bytes)',
    ]);
    expect(plain!.steps.map((s) => s.text)).toContain('chain mangle-prerouting policy accept');
    expect(plain!.steps.map((s) => s.text).some((t) => t.includes('rule 1'))).toBe(false);
  });
});

describe('seed 003: the input and forward filters on a router without conntrack', () => {
  /**
   * The write-up's `table inet filter`, with ferry's ports (lan 0, wan 1), on a rig that runs no
   * conntrack stage: every packet is untracked (ct state 0). nftables gives such packets the
   * separate state `untracked`, so neither `ct state invalid drop` nor `ct state {established,
   * related} accept` matches them: replies are judged by the other rules like any new packet.
   */
  function seed003() {
    const r = routerRig();
    withRuleset(r, [
      chain(
        0,
        'input',
        'input',
        [
          rule({ ctState: CT_INVALID }, DROP),
          rule({ ctState: CT_ESTABLISHED | CT_RELATED }, ACCEPT),
          rule({ proto: 1 }, ACCEPT),
          commented('accept DHCP', rule({ iif: WAN, proto: 17, dport: portsOf(68) }, ACCEPT)),
          commented('DNS, DHCP, NTP', rule({ iif: LAN, proto: 17, dport: portsOf(53, 67, 123) }, ACCEPT)),
          commented('SSH, DNS', rule({ iif: LAN, proto: 6, dport: portsOf(22, 53) }, ACCEPT)),
          commented('drop unmatched public', rule({ iif: WAN }, DROP)),
          rule({}, { kind: 'reject', with: 'port-unreachable' }),
        ],
        { policy: 'drop' },
      ),
      chain(
        1,
        'forward',
        'forward',
        [
          rule({ ctState: CT_INVALID }, DROP),
          rule({ ctState: CT_ESTABLISHED | CT_RELATED }, ACCEPT),
          commented('outbound traffic', rule({ iif: LAN, oif: WAN }, ACCEPT)),
          rule({ iif: WAN, oif: LAN, dst: addrs('10.1.0.53'), proto: 6, dport: portsOf(22000) }, ACCEPT),
          rule({}, { kind: 'reject', with: 'port-unreachable' }),
        ],
        { policy: 'drop' },
      ),
    ]);
    return r;
  }

  it('input: ping and lan DNS are accepted, other lan traffic rejected, wan traffic dropped silently', () => {
    const r = seed003();
    fromLan(r, icmpEcho({ src: '10.1.0.33', dst: '10.1.0.1' }));
    const [reply] = r.sent('lan');
    expect(reply![34]).toBe(0); // echo reply
    // Accepted by rule 5, then nothing listens on 53 here: ip4-local answers port unreachable.
    fromLan(r, udp({ src: '10.1.0.33', dst: '10.1.0.1' }, 5000, 53));
    expect(r.engine.drops()['ip4-local-no-listener']).toBe(1);
    r.sent('lan');
    fromLan(r, udp({ src: '10.1.0.33', dst: '10.1.0.1' }, 5000, 9999));
    const [rej] = r.sent('lan');
    expect([rej![34], rej![35]]).toEqual([3, 3]);
    expect(r.engine.drops()['input-reject']).toBe(1);
    fromWan(r, udp({ src: '198.51.100.7', dst: '192.0.2.2' }, 5000, 9999));
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['input-drop']).toBe(1);
  });

  it('forward: lan → wan passes; the reply from the wan is untracked, so it is rejected like a new packet', () => {
    const r = seed003();
    fromLan(r, tcp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443, { flags: 0x02 }));
    expect(r.sent('wan').length).toBe(1);
    fromWan(r, tcp({ src: '198.51.100.7', dst: '10.1.0.33' }, 443, 40000, { flags: 0x12, ack: 1001 }));
    expect(r.sent('lan')).toEqual([]);
    const [err] = r.sent('wan');
    const v = new Ipv4View();
    expect(v.wrap(err!, 14, err!.length - 14)).toBe(0);
    expect([v.dst, err![34], err![35]]).toEqual([ip('198.51.100.7'), 3, 3]);
    expect(r.engine.drops()['forward-reject']).toBe(1);
  });

  it('forward: the port forward to 10.1.0.53:22000 is accepted from the wan', () => {
    const r = seed003();
    fromWan(r, tcp({ src: '198.51.100.7', dst: '10.1.0.53' }, 5555, 22000));
    // Accepted: the router now resolves 10.1.0.53 on the lan (an ARP request goes out).
    const [arp] = r.sent('lan');
    expect(u16(arp!, 12)).toBe(0x0806);
    expect(r.engine.drops()['forward-reject']).toBeUndefined();
  });
});

describe('traces explain every decision', () => {
  it('jumps, returns, the end of a chain and the policy, with the marks a restore leaves', () => {
    const r = routerRig();
    withRuleset(r, [
      chain(
        0,
        'mangle-prerouting',
        'prerouting',
        [
          rule({ ctState: CT_ESTABLISHED }, jump(1)),
          rule({}, jump(1)),
          rule({}, { kind: 'ct-mark', op: 'restore' }),
        ],
        { priority: -150 },
      ),
      chain(1, 'set_connmark', null, [
        rule({ iif: WAN }, { kind: 'ct-mark', op: 'set', value: 1, mask: 0xffffffff }, RETURN),
        commented(
          'movable',
          rule({ proto: 17 }, { kind: 'ct-mark', op: 'set', value: 0x10, mask: 0xffffffff }, RETURN),
        ),
        rule({}, jump(2)),
      ]),
      chain(2, 'set_connmark_dynamic', null, [
        rule({}, { kind: 'ct-mark', op: 'set', value: 1, mask: 0xffffffff }),
      ]),
      chain(3, 'filter-forward', 'forward', [rule({ dst: addrs('!198.51.100.0/24') }, DROP)], {
        policy: 'drop',
      }),
    ]);
    r.engine.pipe.tracer.arm(2);
    fromLan(r, udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443));
    fromLan(r, tcp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443));
    const [u, t] = r.engine.pipe.drainTrace();
    const hooks = (p: typeof u) =>
      p!.steps
        .filter((s) => s.stage === 'prerouting' || s.stage === 'forward')
        .map((s) => `${s.stage}: ${s.text}`);
    expect(hooks(u)).toEqual([
      'prerouting: chain mangle-prerouting rule 2 (any packet): jump set_connmark',
      'prerouting: chain set_connmark rule 2 "movable" (proto udp): ct mark set 0x10, return',
      'prerouting: chain set_connmark: return, back to chain mangle-prerouting',
      'prerouting: chain mangle-prerouting rule 3 (any packet): mark set ct mark → mark 0x10, ct mark 0x10',
      'prerouting: chain mangle-prerouting policy accept',
      'forward: chain filter-forward policy drop',
      'forward: drop: forward-drop',
    ]);
    expect(hooks(t)).toEqual([
      'prerouting: chain mangle-prerouting rule 2 (any packet): jump set_connmark',
      'prerouting: chain set_connmark rule 3 (any packet): jump set_connmark_dynamic',
      'prerouting: chain set_connmark_dynamic rule 1 (any packet): ct mark set 0x1',
      'prerouting: chain set_connmark_dynamic: end of chain, back to chain set_connmark',
      'prerouting: chain set_connmark: end of chain, back to chain mangle-prerouting',
      'prerouting: chain mangle-prerouting rule 3 (any packet): mark set ct mark → mark 0x1, ct mark 0x1',
      'prerouting: chain mangle-prerouting policy accept',
      'forward: chain filter-forward policy drop',
      'forward: drop: forward-drop',
    ]);
  });

  it('two base chains on one hook: each record is explained by the chain that wrote it', () => {
    const r = routerRig();
    r.engine.hooks.prerouting.programs.push({ run: () => 0 }); // someone else's program comes first
    withRuleset(r, [
      chain(0, 'filter-pre', 'prerouting', [rule({ proto: 17 }, mark(2, 2))], { priority: 0 }),
      chain(1, 'mangle-pre', 'prerouting', [rule({}, mark(1, 1))], { priority: -150 }),
    ]);
    r.engine.pipe.tracer.arm(1);
    fromLan(r, udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 53));
    const [p] = r.engine.pipe.drainTrace();
    expect(p!.steps.filter((s) => s.stage === 'prerouting').map((s) => s.text)).toEqual([
      'chain mangle-pre rule 1 (any packet): mark set mark & 0xfffffffe | 0x1',
      'chain mangle-pre policy accept',
      'chain filter-pre rule 1 (proto udp): mark set mark & 0xfffffffd | 0x2',
      'chain filter-pre policy accept',
    ]);
  });

  it('a TCP reset and a jump that nests too deep', () => {
    const r = routerRig();
    const chains = [
      chain(0, 'filter-forward', 'forward', [
        rule({ proto: 6, dport: portsOf('0-1023') }, { kind: 'reject', with: 'tcp-reset' }),
        rule({}, jump(1)),
      ]),
    ];
    for (let i = 1; i <= 17; i++) chains.push(chain(i, `u${i}`, null, i < 17 ? [rule({}, jump(i + 1))] : []));
    withRuleset(r, chains);
    r.engine.pipe.tracer.arm(1);
    fromLan(r, tcp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443, { seq: 99 }));
    const [t] = r.engine.pipe.drainTrace();
    r.engine.pipe.tracer.arm(1);
    fromLan(r, udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 53));
    const [u] = r.engine.pipe.drainTrace();
    const fwd = (p: typeof t) => p!.steps.filter((s) => s.stage === 'forward').map((s) => s.text);
    expect(fwd(t)).toEqual([
      'chain filter-forward rule 1 (proto tcp dport 0-1023): reject with tcp-reset',
      'sent TCP RST (seq 0, ack 100); the packet is dropped',
      'drop: forward-reject',
    ]);
    const deep = fwd(u);
    expect(deep[deep.length - 2]).toBe('chain u16: jump to u17 would nest more than 16 chains deep: drop');
    expect(deep[deep.length - 1]).toBe('drop: chain-jump-too-deep');
  });
});
