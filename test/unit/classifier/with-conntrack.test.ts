/**
 * The chains on a router that runs conntrack and NAT: what the classifier leaves in the packet's
 * metadata (ct mark, NAT requests) is carried by the flow, and `ct state` sees real states.
 */
import { describe, expect, it } from 'vitest';
import { CT_ESTABLISHED, CT_INVALID, CT_NEW, CT_RELATED } from '../../../src/control/config/types.js';
import { u16 } from '../../../src/dataplane/wire/bytes.js';
import { Ipv4View } from '../../../src/dataplane/wire/ipv4.js';
import { fromLan, fromWan, probe, routerRig, tcp, withRuleset } from '../../helpers/classifier-rig.js';
import { ip, udp } from '../../helpers/frames.js';
import { ACCEPT, chain, DROP, jump, portsOf, RETURN, rule } from '../../helpers/ruleset-builders.js';

const LAN = { negate: false, ports: [0] };
const WAN = { negate: false, ports: [1] };
const v = new Ipv4View();

describe('with conntrack', () => {
  it('seed 003 forward filter: the reply of an accepted connection is established and accepted', () => {
    const r = routerRig({ conntrack: true });
    withRuleset(r, [
      chain(
        0,
        'forward',
        'forward',
        [
          rule({ ctState: CT_INVALID }, DROP),
          rule({ ctState: CT_ESTABLISHED | CT_RELATED }, ACCEPT),
          rule({ iif: LAN, oif: WAN }, ACCEPT),
          rule({}, { kind: 'reject', with: 'port-unreachable' }),
        ],
        { policy: 'drop' },
      ),
    ]);
    fromLan(r, tcp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443, { seq: 1000, flags: 0x02 }));
    expect(r.sent('wan').length).toBe(1);
    fromWan(
      r,
      tcp({ src: '198.51.100.7', dst: '10.1.0.33' }, 443, 40000, { seq: 5000, ack: 1001, flags: 0x12 }),
    );
    const [reply] = r.sent('lan');
    expect(v.wrap(reply!, 14, reply!.length - 14)).toBe(0);
    expect([v.src, u16(reply!, 34)]).toEqual([ip('198.51.100.7'), 443]);
    // An unsolicited packet from the wan is new, so it is rejected.
    fromWan(r, tcp({ src: '198.51.100.7', dst: '10.1.0.33' }, 443, 40001, { flags: 0x02 }));
    expect(r.engine.drops()['forward-reject']).toBe(1);
  });

  it('seed 003 connmark: set on the first packet, kept by the flow, restored into the mark of the reply', () => {
    const r = routerRig({ conntrack: true });
    withRuleset(r, [
      chain(
        0,
        'mangle-prerouting',
        'prerouting',
        [rule({ ctState: CT_NEW }, jump(1)), rule({}, { kind: 'ct-mark', op: 'restore' })],
        { priority: -150 },
      ),
      chain(1, 'set_connmark', null, [
        rule({ iif: WAN }, { kind: 'ct-mark', op: 'set', value: 1, mask: 0xffffffff }, RETURN),
        rule({ proto: 17 }, { kind: 'ct-mark', op: 'set', value: 0x10, mask: 0xffffffff }, RETURN),
        rule({}, { kind: 'ct-mark', op: 'set', value: 1, mask: 0xffffffff }),
      ]),
    ]);
    const seen = probe(r, 'prerouting');
    fromLan(r, udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443));
    fromWan(r, udp({ src: '198.51.100.7', dst: '10.1.0.33' }, 443, 40000));
    expect(r.sent('lan').length).toBe(1);
    // The reply was not new, so set_connmark did not run for it: its ct mark came from the flow.
    expect(seen.map((x) => [x.ctMark, x.mark])).toEqual([
      [0x10, 0x10],
      [0x10, 0x10],
    ]);
  });

  it('masquerade recorded by a nat chain is carried out by the NAT stage, and undone for the reply', () => {
    const r = routerRig({ conntrack: true });
    withRuleset(r, [
      chain(0, 'nat-postrouting', 'postrouting', [rule({ oif: WAN }, { kind: 'masquerade' })], {
        type: 'nat',
        priority: 100,
      }),
    ]);
    fromLan(r, udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 53));
    const [out] = r.sent('wan');
    expect(v.wrap(out!, 14, out!.length - 14)).toBe(0);
    expect(v.src).toBe(ip('192.0.2.2'));
    const mapped = u16(out!, 34);
    fromWan(r, udp({ src: '198.51.100.7', dst: '192.0.2.2' }, 53, mapped));
    const [back] = r.sent('lan');
    expect(v.wrap(back!, 14, back!.length - 14)).toBe(0);
    expect([v.dst, u16(back!, 36)]).toEqual([ip('10.1.0.33'), 40000]);
  });

  it('dnat recorded at prerouting sends a port forward to the inside host', () => {
    const r = routerRig({ conntrack: true });
    withRuleset(r, [
      chain(
        0,
        'nat-prerouting',
        'prerouting',
        [
          rule(
            { iif: WAN, proto: 6, dport: portsOf(22000) },
            { kind: 'dnat', addr: { family: 4, addr: ip('10.1.0.33') }, ports: { min: 22, max: 22 } },
          ),
        ],
        { type: 'nat', priority: -100 },
      ),
    ]);
    fromWan(r, tcp({ src: '198.51.100.7', dst: '192.0.2.2' }, 5555, 22000));
    const [fwd] = r.sent('lan');
    expect(v.wrap(fwd!, 14, fwd!.length - 14)).toBe(0);
    expect([v.dst, u16(fwd!, 36)]).toEqual([ip('10.1.0.33'), 22]);
  });
});
