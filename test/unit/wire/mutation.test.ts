/**
 * A bounded run of the mutation campaign (scripts/mutation-fuzz.ts; `npm run fuzz` is the long,
 * opt-in run): fixed seed, every fixture packet and every emitted frame as seeds, mutated frames
 * through every decoder with every Ok view probed. It must find no crash and no invariant
 * violation, and it must have done real work: every mutation kind applied, every decoder reached
 * with accepted and refused inputs, lies told about every protocol's length fields.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CampaignResult,
  formatSummary,
  MUTATION_KINDS,
  runCampaign,
} from '../../../scripts/mutation-fuzz.js';
import { Dhcpv4View } from '../../../src/dataplane/wire/dhcpv4.js';
import { TcpView } from '../../../src/dataplane/wire/tcp.js';

/** Replaces a prototype member of a decoder for the duration of `f` (this test file only). */
function planted<T>(proto: object, name: string, desc: PropertyDescriptor, f: () => T): T {
  const saved = Object.getOwnPropertyDescriptor(proto, name)!;
  Object.defineProperty(proto, name, { ...desc, configurable: true });
  try {
    return f();
  } finally {
    Object.defineProperty(proto, name, saved);
  }
}

const FRAMES = 50_000;
const SEED = 0x5eedf00d;

/** Decoders the campaign must reach, each with Ok and at least one refusal. */
const LAYERS = [
  'ethernet',
  'arp',
  'ipv4',
  'ipv6',
  'tcp',
  'tcp.options',
  'udp',
  'icmpv4',
  'icmpv4.quoted-ipv4',
  'icmpv6',
  'icmpv6.invoking-ipv6',
  'ndp',
  'dhcpv4',
  'dhcpv4.option121',
  'dhcpv4.option82',
  'l2tpv3-ip',
  'l2tpv3-udp',
];

const LENGTH_FIELDS = [
  'ipv4.ihl',
  'ipv4.total-len',
  'ipv4.opt.len',
  'ipv6.payload-len',
  'ipv6.ext.len',
  'udp.length',
  'tcp.doff',
  'tcp.opt.len',
  'icmpv4.orig-len',
  'ndp.opt.len',
  'dhcp.opt.len',
  'dhcp.121.width',
  'dhcp.82.sublen',
  'l2tp.ctrl.length',
];
const CHAIN_FIELDS = ['ethertype', 'ip.version', 'ip.proto', 'udp.port', 'icmpv6.type', 'l2tp.session'];

describe(`mutation campaign: ${FRAMES} frames, seed ${SEED}`, () => {
  let r: CampaignResult;
  beforeAll(() => {
    r = runCampaign({ frames: FRAMES, seed: SEED, timeLimitSec: 120 });
  }, 150_000);

  it('crashes no decoder and breaks no invariant', () => {
    expect(r.crashes, formatSummary(r)).toEqual([]);
    expect(r.findings.map((f) => `${f.message} (e.g. ${f.example.hex})`)).toEqual([]);
  });

  it('ran every frame, with every kind of mutation', () => {
    expect(r.stoppedBy).toBe('frames');
    expect(r.frames).toBe(FRAMES);
    expect(r.corpus.fixtures).toBeGreaterThan(0);
    for (const k of MUTATION_KINDS) expect(r.mutations[k], k).toBeGreaterThan(FRAMES / 20);
    expect(r.mutations.unmutated).toBeGreaterThan(0);
  });

  it('reached every decoder, and each both accepted and refused frames', () => {
    for (const layer of LAYERS) {
      const m = r.outcomes[layer] ?? {};
      expect(m.ok ?? 0, `${layer}: ${JSON.stringify(m)}`).toBeGreaterThan(0);
      expect(Object.keys(m).length, `${layer}: ${JSON.stringify(m)}`).toBeGreaterThan(1);
    }
    for (const layer of [
      'ipv4.checksum',
      'tcp.checksum',
      'udp.checksum',
      'icmpv4.checksum',
      'icmpv6.checksum',
    ]) {
      expect(Object.keys(r.outcomes[layer] ?? {}).sort(), layer).toEqual(
        expect.arrayContaining(['invalid', 'valid']),
      );
    }
    // The dissector (src/dataplane/wire/dissect.ts) got every frame too.
    for (const layer of ['eth', 'arp', 'ip', 'ipv6', 'tcp', 'udp', 'icmp', 'icmpv6', 'dhcp', 'l2tp']) {
      const m = r.outcomes[`dissect:${layer}`] ?? {};
      expect(m.ok ?? 0, `dissect:${layer}: ${JSON.stringify(m)}`).toBeGreaterThan(0);
      expect(Object.keys(m).length, `dissect:${layer}: ${JSON.stringify(m)}`).toBeGreaterThan(1);
    }
    const errors = new Set(Object.values(r.outcomes).flatMap((m) => Object.keys(m)));
    for (const e of [
      'truncated',
      'bad-length',
      'bad-version',
      'bad-header-length',
      'bad-option',
      'bad-value',
      'too-deep',
      'unsupported',
    ]) {
      expect(errors.has(e), e).toBe(true);
    }
  });

  it('lied about the length fields and header chains of every protocol', () => {
    for (const f of LENGTH_FIELDS) expect(r.fields[`length ${f}`] ?? 0, f).toBeGreaterThan(0);
    for (const f of CHAIN_FIELDS) expect(r.fields[`chain ${f}`] ?? 0, f).toBeGreaterThan(0);
  });
});

describe('mutation campaign harness', () => {
  it('reports an exception as a crash with the frame in hex, and stops there', () => {
    let seen = 0;
    const r = runCampaign({
      frames: 1000,
      seed: 7,
      timeLimitSec: 30,
      fixtures: false,
      onFrame: () => {
        if (++seen === 100) throw new RangeError('planted');
      },
    });
    expect(r.stoppedBy).toBe('crash');
    expect(r.frames).toBe(100);
    expect(r.crashes).toHaveLength(1);
    expect(r.crashes[0]!.error).toContain('planted');
    expect(r.crashes[0]!.hex).toMatch(/^([0-9a-f]{2})*$/);
    expect(r.crashes[0]!.index).toBe(99);
  });

  it('finds a planted decoder that reads one byte past its view (TcpView.window)', () => {
    const r = planted(
      TcpView.prototype,
      'window',
      {
        get(this: TcpView) {
          return this.buf[this.off + this.len] ?? 0;
        },
      },
      () => runCampaign({ frames: 3000, seed: 3, timeLimitSec: 30 }),
    );
    expect(r.crashes).toEqual([]);
    expect(r.findings.map((f) => f.message).join('\n')).toMatch(/isolation: .*window/);
  });

  it('finds a planted decoder that throws on some input (Dhcpv4View.findOption)', () => {
    const original = Dhcpv4View.prototype.findOption;
    const r = planted(
      Dhcpv4View.prototype,
      'findOption',
      {
        value(this: Dhcpv4View, code: number) {
          if (code === 121 && this.len < 300) throw new TypeError('planted');
          return original.call(this, code);
        },
      },
      () => runCampaign({ frames: 20000, seed: 4, timeLimitSec: 60 }),
    );
    expect(r.stoppedBy).toBe('crash');
    expect(r.crashes[0]!.error).toMatch(/planted/);
  });

  it('is deterministic for a seed', () => {
    const a = runCampaign({ frames: 1500, seed: 42, timeLimitSec: 30 });
    const b = runCampaign({ frames: 1500, seed: 42, timeLimitSec: 30 });
    const c = runCampaign({ frames: 1500, seed: 43, timeLimitSec: 30 });
    expect(b.mutations).toEqual(a.mutations);
    expect(b.outcomes).toEqual(a.outcomes);
    expect(c.outcomes).not.toEqual(a.outcomes);
  });
});
