/** Statements: counter, mark, ct mark set/save/restore, dscp, and NAT requests for the NAT stage. */
import { describe, expect, it } from 'vitest';
import { rulesetCounters } from '../../../src/dataplane/classifier/index.js';
import { NAT_DNAT, NAT_MASQUERADE, NAT_NONE, NAT_SNAT } from '../../../src/dataplane/pipeline/packet-meta.js';
import { toHex } from '../../../src/dataplane/wire/bytes.js';
import { Ipv4View } from '../../../src/dataplane/wire/ipv4.js';
import { fromLan, fromWan, probe, routerRig, withRuleset } from '../../helpers/classifier-rig.js';
import { ip, udp } from '../../helpers/frames.js';
import {
  ACCEPT,
  addrs,
  COUNTER,
  chain,
  commented,
  DROP,
  mark,
  portsOf,
  rule,
} from '../../helpers/ruleset-builders.js';

const toWan = (payload = 18) => udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 53, payload);

describe('counter', () => {
  it('counts packets and IP bytes per rule; rules without a counter report nothing; policies count too', () => {
    const r = routerRig();
    const compiled = withRuleset(r, [
      chain(
        0,
        'filter-forward',
        'forward',
        [
          commented('dns', rule({ proto: 17, dport: portsOf(53) }, COUNTER, ACCEPT)),
          rule({ proto: 17 }, mark(1)),
          rule({ proto: 6 }, COUNTER, DROP),
        ],
        { policy: 'drop' },
      ),
    ]);
    fromLan(r, toWan(18)); // 46 bytes of IP
    fromLan(r, toWan(100)); // 128
    fromLan(r, udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 54)); // to the policy
    expect(r.sent('wan').length).toBe(2);
    const c = rulesetCounters(compiled);
    expect(c.rules).toEqual([
      {
        chain: 'filter-forward',
        rule: 1,
        comment: 'dns',
        text: '(proto udp dport 53): counter, accept',
        packets: 2,
        bytes: 46 + 128,
      },
      {
        chain: 'filter-forward',
        rule: 3,
        comment: null,
        text: '(proto tcp): counter, drop',
        packets: 0,
        bytes: 0,
      },
    ]);
    expect(c.policies).toEqual([{ chain: 'filter-forward', hook: 'forward', policy: 'drop', packets: 1 }]);
    expect(r.engine.drops()['forward-drop']).toBe(1);
  });
});

describe('meta mark and ct mark', () => {
  it('mark set (mark & ~mask) | value', () => {
    const r = routerRig();
    withRuleset(r, [chain(0, 'c', 'prerouting', [rule({}, mark(0xff00ff)), rule({}, mark(0x12, 0xff))])]);
    const seen = probe(r, 'postrouting');
    fromLan(r, toWan());
    expect(seen[0]!.mark).toBe(0xff0012);
  });

  it('ct mark set with a mask, save (ct mark = mark) and restore (mark = ct mark): a connmark round trip', () => {
    const r = routerRig();
    withRuleset(r, [
      chain(0, 'c', 'prerouting', [
        rule({}, { kind: 'ct-mark', op: 'set', value: 0xf0f0, mask: 0xffffffff }),
        rule({}, { kind: 'ct-mark', op: 'set', value: 0x0005, mask: 0x000f }),
      ]),
      chain(1, 'save', 'forward', [
        rule({}, mark(0x10)),
        rule({}, { kind: 'ct-mark', op: 'save' }),
        rule({}, mark(0x99)),
      ]),
      chain(2, 'restore', 'postrouting', [
        rule(
          { mark: { value: 0x99, mask: 0xffffffff }, ctMark: { value: 0x10, mask: 0xffffffff } },
          { kind: 'ct-mark', op: 'restore' },
        ),
      ]),
    ]);
    const pre = probe(r, 'prerouting');
    const post = probe(r, 'postrouting');
    fromLan(r, toWan());
    expect(pre[0]!.ctMark).toBe(0xf0f5);
    expect(post[0]).toMatchObject({ mark: 0x10, ctMark: 0x10 });
  });
});

describe('dscp set', () => {
  it('rewrites the DSCP, keeps ECN, and leaves a valid header checksum (RFC 1624)', () => {
    const r = routerRig();
    withRuleset(r, [
      chain(0, 'c', 'postrouting', [rule({ dst: addrs('198.51.100.0/24') }, { kind: 'dscp', value: 46 })]),
    ]);
    const pkt = toWan();
    pkt[1] = 0x02; // DSCP 0, ECN ECT(0)
    pkt[10] = 0;
    pkt[11] = 0;
    const v = new Ipv4View();
    v.wrap(pkt, 0, pkt.length);
    v.fillChecksum();
    fromLan(r, pkt);
    const [out] = r.sent('wan');
    expect(v.wrap(out!, 14, out!.length - 14)).toBe(0);
    expect([v.dscp, v.ecn, v.ttl]).toEqual([46, 2, 63]);
    expect(v.verifyChecksum()).toBe(true);
    expect(toHex(out!, 14 + 20)).toBe(toHex(pkt, 20));
  });
});

describe('NAT statements record a request for the NAT stage and accept', () => {
  it('dnat to address:port at prerouting; later rules of the chain do not run', () => {
    // Conntrack on, as any config with a nat chain has it: nat chains run for a flow's first packet.
    const r = routerRig({ conntrack: true });
    withRuleset(r, [
      chain(
        0,
        'nat-prerouting',
        'prerouting',
        [
          rule(
            { proto: 17, dport: portsOf(53) },
            { kind: 'dnat', addr: { family: 4, addr: ip('10.1.0.53') }, ports: { min: 5353, max: 5353 } },
          ),
          rule({}, mark(0x1)),
        ],
        { type: 'nat', priority: -100 },
      ),
    ]);
    const seen = probe(r, 'prerouting'); // runs after the nat chain
    fromWan(r, udp({ src: '198.51.100.7', dst: '192.0.2.2' }, 40000, 53));
    fromLan(r, udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 54));
    expect(seen[0]).toMatchObject({
      natKind: NAT_DNAT,
      natAddr: ip('10.1.0.53'),
      natPortMin: 5353,
      natPortMax: 5353,
      mark: 0,
    });
    expect(seen[1]).toMatchObject({ natKind: NAT_NONE, mark: 0x1 });
  });

  it('snat with a port range and masquerade at postrouting', () => {
    const r = routerRig({ conntrack: true });
    withRuleset(r, [
      chain(
        0,
        'nat-postrouting',
        'postrouting',
        [
          rule(
            { proto: 17, dport: portsOf(53) },
            { kind: 'snat', addr: { family: 4, addr: ip('192.0.2.200') }, ports: { min: 20000, max: 29999 } },
          ),
          rule({ oif: { negate: false, ports: [1] } }, { kind: 'masquerade' }),
        ],
        { type: 'nat', priority: 100 },
      ),
    ]);
    const seen = probe(r, 'postrouting');
    fromLan(r, toWan());
    fromLan(r, udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 123));
    expect(seen[0]).toMatchObject({
      natKind: NAT_SNAT,
      natAddr: ip('192.0.2.200'),
      natPortMin: 20000,
      natPortMax: 29999,
    });
    expect(seen[1]).toMatchObject({ natKind: NAT_MASQUERADE, natAddr: 0, natPortMin: 0, natPortMax: 0 });
    // The NAT stage carried the requests out.
    const sent = r.sent('wan');
    expect(sent.length).toBe(2);
    const v = new Ipv4View();
    const src = sent.map((f) => {
      expect(v.wrap(f, 14, f.length - 14)).toBe(0);
      return v.src;
    });
    expect(src).toEqual([ip('192.0.2.200'), ip('192.0.2.2')]);
  });
});
