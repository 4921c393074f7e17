/** Verdicts: accept, drop, reject (ICMP codes and TCP reset), policies, jump/return/goto. */
import { describe, expect, it } from 'vitest';
import type { Action, ChainConfig, RejectWith } from '../../../src/control/config/types.js';
import { MAX_JUMP_DEPTH } from '../../../src/dataplane/classifier/index.js';
import { u16, u32 } from '../../../src/dataplane/wire/bytes.js';
import { pseudoSumV4, verify } from '../../../src/dataplane/wire/checksum.js';
import { Ipv4View } from '../../../src/dataplane/wire/ipv4.js';
import { fromLan, probe, routerRig, tcp, withRuleset } from '../../helpers/classifier-rig.js';
import { ip, udp } from '../../helpers/frames.js';
import { ACCEPT, chain, DROP, goto, jump, mark, RETURN, rule } from '../../helpers/ruleset-builders.js';

const toWan = () => udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 53);
/** Sets one bit of the mark, leaving the others: records that a rule ran. */
const bit = (b: number): Action => mark(1 << b, 1 << b);

function markAfter(chains: ChainConfig[]): number | null {
  const r = routerRig();
  withRuleset(r, chains);
  const seen = probe(r, 'postrouting');
  fromLan(r, toWan());
  return seen.length === 0 ? null : seen[0]!.mark;
}

describe('accept and drop', () => {
  it('accept ends its base chain; the next base chain of the hook still runs (lower priority first)', () => {
    expect(
      markAfter([
        chain(0, 'second', 'prerouting', [rule({}, bit(1))], { priority: 0 }),
        chain(1, 'first', 'prerouting', [rule({}, bit(0), ACCEPT), rule({}, bit(2))], { priority: -150 }),
      ]),
    ).toBe(0b011);
  });

  it('accept in a jumped-to chain ends the base chain that called it', () => {
    expect(
      markAfter([
        chain(0, 'base', 'prerouting', [rule({}, jump(1)), rule({}, bit(2))]),
        chain(1, 'user', null, [rule({}, bit(0), ACCEPT)]),
      ]),
    ).toBe(0b001);
  });

  it('drop ends everything: no later chain, no later hook, counted', () => {
    const r = routerRig();
    withRuleset(r, [
      chain(0, 'first', 'prerouting', [rule({}, DROP)], { priority: -10 }),
      chain(1, 'second', 'prerouting', [rule({}, bit(0))], { priority: 10 }),
    ]);
    const seen = probe(r, 'prerouting');
    fromLan(r, toWan());
    expect(seen).toEqual([]);
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['prerouting-drop']).toBe(1);
  });

  it("the base chain's policy applies when no rule decides", () => {
    const r = routerRig();
    withRuleset(r, [chain(0, 'filter-forward', 'forward', [rule({ proto: 6 }, ACCEPT)], { policy: 'drop' })]);
    fromLan(r, toWan());
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['forward-drop']).toBe(1);
  });
});

describe('reject with ICMP (RFC 792 destination unreachable)', () => {
  const cases: [RejectWith, number][] = [
    ['port-unreachable', 3],
    ['host-unreachable', 1],
    ['net-unreachable', 0],
    ['admin-prohibited', 13],
  ];
  for (const [kind, code] of cases) {
    it(`${kind}: type 3 code ${code} to the sender, quoting the packet`, () => {
      const r = routerRig();
      withRuleset(r, [chain(0, 'filter-forward', 'forward', [rule({}, { kind: 'reject', with: kind })])]);
      const pkt = toWan();
      fromLan(r, pkt);
      expect(r.sent('wan')).toEqual([]);
      const [err] = r.sent('lan');
      const v = new Ipv4View();
      expect(v.wrap(err!, 14, err!.length - 14)).toBe(0);
      expect([v.src, v.dst, v.protocol]).toEqual([ip('10.1.0.1'), ip('10.1.0.33'), 1]);
      expect([err![34], err![35]]).toEqual([3, code]);
      expect(verify(err!, 34, err!.length - 34)).toBe(true);
      // The quote is the packet as the forward hook saw it (TTL already decremented, as Linux's REJECT quotes it).
      expect([u32(err!, 42 + 16), err![42 + 8]]).toEqual([ip('198.51.100.7'), 63]);
      expect(r.engine.drops()['forward-reject']).toBe(1);
    });
  }
});

describe('reject with tcp-reset (RFC 9293 §3.10.7.1)', () => {
  const v = new Ipv4View();
  function rstFor(seg: Uint8Array): Uint8Array | undefined {
    const r = routerRig();
    withRuleset(r, [
      chain(0, 'filter-forward', 'forward', [rule({ proto: 6 }, { kind: 'reject', with: 'tcp-reset' })]),
    ]);
    fromLan(r, seg);
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['forward-reject']).toBe(1);
    return r.sent('lan')[0];
  }

  function checkRst(out: Uint8Array): { seq: number; ack: number; flags: number } {
    expect(v.wrap(out, 14, out.length - 14)).toBe(0);
    expect(v.verifyChecksum()).toBe(true);
    expect([v.src, v.dst, v.protocol, v.totalLen, v.dontFragment]).toEqual([
      ip('198.51.100.7'),
      ip('10.1.0.33'),
      6,
      40,
      true,
    ]);
    const t = 34;
    expect([u16(out, t), u16(out, t + 2)]).toEqual([443, 40000]);
    expect(out[t + 12]).toBe(0x50);
    expect(u16(out, t + 14)).toBe(0); // window
    expect(verify(out, t, 20, pseudoSumV4(v.src, v.dst, 6, 20))).toBe(true);
    return { seq: u32(out, t + 4), ack: u32(out, t + 8), flags: out[t + 13]! };
  }

  it('a SYN without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN counting one', () => {
    const out = rstFor(
      tcp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443, { seq: 0xfffffff0, flags: 0x02 }),
    );
    expect(checkRst(out!)).toEqual({ seq: 0, ack: 0xfffffff1, flags: 0x14 });
  });

  it('data with SYN and FIN and no ACK: the ack covers payload + SYN + FIN, wrapping mod 2^32', () => {
    const out = rstFor(
      tcp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443, {
        seq: 0xfffffffe,
        flags: 0x03,
        payload: 10,
      }),
    );
    expect(checkRst(out!)).toEqual({ seq: 0, ack: 10, flags: 0x14 });
  });

  it('a segment with ACK: <SEQ=SEG.ACK><CTL=RST>', () => {
    const out = rstFor(
      tcp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443, {
        seq: 7,
        ack: 0x89abcdef,
        flags: 0x18,
        payload: 100,
      }),
    );
    expect(checkRst(out!)).toEqual({ seq: 0x89abcdef, ack: 0, flags: 0x04 });
  });

  it('never answers a RST, a segment with a bad checksum, or a non-TCP packet; all are still dropped', () => {
    expect(
      rstFor(tcp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443, { flags: 0x14, ack: 5 })),
    ).toBeUndefined();
    const bad = tcp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 443, { payload: 4 });
    bad[bad.length - 1]! ^= 0xff;
    expect(rstFor(bad)).toBeUndefined();
    const r = routerRig();
    withRuleset(r, [
      chain(0, 'filter-forward', 'forward', [rule({}, { kind: 'reject', with: 'tcp-reset' })]),
    ]);
    fromLan(r, toWan());
    expect(r.sent('lan')).toEqual([]);
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['forward-reject']).toBe(1);
  });
});

describe('jump, return and goto (nft(8) VERDICT STATEMENTS)', () => {
  it('return comes back to the rule after the jump; the end of a chain is an implicit return', () => {
    expect(
      markAfter([
        chain(0, 'base', 'prerouting', [
          rule({}, jump(1)),
          rule({}, bit(3)),
          rule({}, jump(2)),
          rule({}, bit(4)),
        ]),
        chain(1, 'with-return', null, [rule({}, bit(0)), rule({}, RETURN), rule({}, bit(1))]),
        chain(2, 'falls-off', null, [rule({}, bit(2))]),
      ]),
    ).toBe(0b11101);
  });

  it('nested jumps unwind one level per return', () => {
    expect(
      markAfter([
        chain(0, 'base', 'prerouting', [rule({}, jump(1)), rule({}, bit(4))]),
        chain(1, 'a', null, [rule({}, jump(2)), rule({}, bit(1))]),
        chain(2, 'b', null, [rule({}, bit(0), RETURN), rule({}, bit(7))]),
      ]),
    ).toBe(0b10011);
  });

  it('goto does not come back: the end of a chain reached only by goto applies the base policy', () => {
    expect(
      markAfter([
        chain(0, 'base', 'prerouting', [rule({}, goto(1)), rule({}, bit(2))]),
        chain(1, 'g', null, [rule({}, bit(0))]),
      ]),
    ).toBe(0b001);
    const r = routerRig();
    withRuleset(r, [
      chain(0, 'base', 'forward', [rule({}, goto(1)), rule({}, ACCEPT)], { policy: 'drop' }),
      chain(1, 'g', null, [rule({}, bit(0))]),
    ]);
    fromLan(r, toWan());
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['forward-drop']).toBe(1);
  });

  it('goto inside a jumped-to chain returns to the jump', () => {
    expect(
      markAfter([
        chain(0, 'base', 'prerouting', [rule({}, jump(1)), rule({}, bit(4))]),
        chain(1, 'u', null, [rule({}, goto(2)), rule({}, bit(1))]),
        chain(2, 'g', null, [rule({}, bit(0))]),
      ]),
    ).toBe(0b10001);
  });

  it('return in a base chain applies its policy', () => {
    const r = routerRig();
    withRuleset(r, [chain(0, 'base', 'forward', [rule({}, RETURN), rule({}, ACCEPT)], { policy: 'drop' })]);
    fromLan(r, toWan());
    expect(r.engine.drops()['forward-drop']).toBe(1);
  });

  function ladder(jumps: number): ChainConfig[] {
    const chains = [chain(0, 'base', 'prerouting', [rule({}, jump(1)), rule({}, bit(1))])];
    for (let i = 1; i <= jumps; i++)
      chains.push(chain(i, `u${i}`, null, i < jumps ? [rule({}, jump(i + 1))] : [rule({}, bit(0))]));
    return chains;
  }

  it(`${MAX_JUMP_DEPTH} nested jumps are allowed`, () => {
    expect(markAfter(ladder(MAX_JUMP_DEPTH))).toBe(0b11);
  });

  it(`jump number ${MAX_JUMP_DEPTH + 1} drops the packet and counts it`, () => {
    const r = routerRig();
    const compiled = withRuleset(r, ladder(MAX_JUMP_DEPTH + 1));
    fromLan(r, toWan());
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['chain-jump-too-deep']).toBe(1);
    expect(compiled.ruleset.jumpTooDeep).toBe(1);
  });
});
