/**
 * tshark as the oracle for ferry's codecs: every fixture is read with ferry's pcap reader, each
 * frame dissected with `dissectFrame`, and every field ferry shows is compared with the field of
 * the same name in the same layer of `tshark -T json` for that frame.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DissectField, type DissectLayer, dissectFrame } from '../../../src/dataplane/wire/dissect.js';
import {
  type TsharkLayer,
  type TsharkPacket,
  tsharkMissingReason,
  tsharkPackets,
  tsharkVersion,
} from '../../helpers/tshark.js';
import { type FixtureCapture, type FixturePacket, fixtureFiles, loadFixture } from './fixture-set.js';

if (tsharkMissingReason) console.warn(`tshark oracle skipped: ${tsharkMissingReason}`);

// CI installs tshark (scripts/install-system-deps.sh): there a missing oracle fails instead of skipping.
it.skipIf(tsharkMissingReason !== undefined && process.env.CI === undefined)('tshark is installed', () => {
  expect(tsharkMissingReason).toBeUndefined();
});

/**
 * How a field's values are compared when it occurs more than once in a layer. Default: ferry's
 * list equals tshark's, in order. Exceptions, each for a reason tshark has:
 * - `subsequence`: tshark shows extra occurrences; ferry's must appear among them in order.
 * - `unordered`: ferry's occurrences are among tshark's, in any order.
 */
const RULES: Record<string, 'subsequence' | 'unordered'> = {
  // Option 61 (client identifier) repeats the hardware type and address inside the option.
  'dhcp.hw.type': 'subsequence',
  'dhcp.hw.mac_addr': 'subsequence',
};
/**
 * DHCP options: ferry lists them in RFC 2131 §4.1 order (options, file, sname); tshark puts an
 * overloaded sname/file area where option 52 stands (sname first) and lists END of every area.
 */
const UNORDERED_PREFIX = 'dhcp.option.';

function rule(name: string): 'exact' | 'subsequence' | 'unordered' {
  return RULES[name] ?? (name.startsWith(UNORDERED_PREFIX) ? 'unordered' : 'exact');
}

/** Fields ferry shows only when true; tshark must then show them too. */
const PRESENCE_FIELDS = new Set(['arp.isgratuitous', 'arp.isprobe']);

/** Fewest field comparisons per protocol over the whole fixture set. */
const MIN_COMPARED: Record<string, number> = {
  frame: 200,
  eth: 500,
  vlan: 20,
  ieee8021ad: 4,
  arp: 150,
  ip: 2000,
  ipv6: 1000,
  icmp: 150,
  icmpv6: 300,
  udp: 200,
  tcp: 1000,
  dhcp: 500,
  l2tp: 20,
};

/** Fields that must have been compared at least once: the parts each codec exists for. */
const MUST_COMPARE = [
  'eth.type',
  'vlan.id',
  'vlan.etype',
  'ieee8021ad.id',
  'arp.opcode',
  'arp.isgratuitous',
  'arp.isprobe',
  'ip.flags.df',
  'ip.frag_offset',
  'ip.checksum.status',
  'ip.opt.type',
  'ip.rec_rt',
  'ip.opt.time_stamp',
  'ip.opt.time_stamp_addr',
  'ip.opt.ra',
  'ipv6.flow',
  'ipv6.hopopts.nxt',
  'ipv6.dstopts.nxt',
  'ipv6.routing.type',
  'ipv6.routing.srh.addr',
  'ipv6.routing.mipv6.home_address',
  'ipv6.fraghdr.offset',
  'ipv6.fraghdr.ident',
  'ipv6.opt.type',
  'icmp.ident',
  'icmp.mtu',
  'icmpv6.checksum.status',
  'icmpv6.mtu',
  'icmpv6.echo.identifier',
  'icmpv6.nd.ns.target_address',
  'icmpv6.nd.na.flag.s',
  'icmpv6.nd.ra.router_lifetime',
  'icmpv6.nd.rd.target_address',
  'icmpv6.opt.prefix',
  'icmpv6.opt.mtu',
  'icmpv6.opt.src_linkaddr',
  'icmpv6.opt.target_linkaddr',
  'udp.checksum.status',
  'tcp.checksum.status',
  'tcp.flags',
  'tcp.options.mss_val',
  'tcp.options.wscale.shift',
  'tcp.options.sack_le',
  'tcp.options.sack_re',
  'tcp.options.timestamp.tsval',
  'tcp.option_kind',
  'dhcp.id',
  'dhcp.option.dhcp',
  'dhcp.option.option_overload',
  'dhcp.option.classless_static_route',
  'dhcp.option.agent_information_option.agent_circuit_id',
  'dhcp.option.agent_information_option.agent_remote_id',
  'dhcp.option.request_list_item',
  'l2tp.sid',
  'l2tp.cookie',
  'l2tp.version',
  'l2tp.l2_spec_sequence',
  'l2tp.ccid',
  'l2tp.Ns',
];

/**
 * For each module of src/dataplane/wire/README.md, a field whose comparison proves the module was
 * exercised against tshark. A module added to the README without an entry here fails the suite.
 */
const MODULE_WITNESS: Record<string, string> = {
  'ethernet.ts': 'eth.type',
  'arp.ts': 'arp.opcode',
  'ipv4.ts': 'ip.ttl',
  'ipv6.ts': 'ipv6.hlim',
  'icmpv4.ts': 'icmp.type',
  'icmpv6.ts': 'icmpv6.type',
  'ndp.ts': 'icmpv6.opt.type',
  'udp.ts': 'udp.length',
  'tcp.ts': 'tcp.options.mss_val',
  'dhcpv4.ts': 'dhcp.option.dhcp',
  'dhcpv4-options.ts': 'dhcp.option.classless_static_route',
  'l2tpv3.ts': 'l2tp.sid',
  'checksum.ts': 'udp.checksum.status',
  'bytes.ts': 'ipv6.src',
  'dissect.ts': 'eth.src',
};

function readmeModules(): string[] {
  const readme = readFileSync(
    fileURLToPath(new URL('../../../src/dataplane/wire/README.md', import.meta.url)),
    'utf8',
  );
  return [...readme.matchAll(/^\|\s*`([\w-]+\.ts)`\s*\|/gm)].map((m) => m[1]!);
}

class Tally {
  readonly perProtocol = new Map<string, number>();
  readonly perField = new Map<string, number>();
  readonly mismatches: string[] = [];
  total = 0;

  count(protocol: string, field: string, n: number): void {
    this.total += n;
    this.perProtocol.set(protocol, (this.perProtocol.get(protocol) ?? 0) + n);
    this.perField.set(field, (this.perField.get(field) ?? 0) + n);
  }
}

function valuesOf(fields: readonly { name: string; value: string }[], name: string): string[] {
  return fields.filter((f) => f.name === name).map((f) => f.value);
}

function isSubsequence(sub: string[], of: string[]): boolean {
  let j = 0;
  for (const v of sub) {
    while (j < of.length && of[j] !== v) j++;
    if (j === of.length) return false;
    j++;
  }
  return true;
}

function isSubMultiset(sub: string[], of: string[]): boolean {
  const left = new Map<string, number>();
  for (const v of of) left.set(v, (left.get(v) ?? 0) + 1);
  for (const v of sub) {
    const n = left.get(v) ?? 0;
    if (n === 0) return false;
    left.set(v, n - 1);
  }
  return true;
}

function compareFields(
  where: string,
  ours: readonly DissectField[],
  theirs: TsharkLayer,
  tally: Tally,
): void {
  const names = [...new Set(ours.map((f) => f.name))];
  for (const name of names) {
    const mine = valuesOf(ours, name);
    const oracle = valuesOf(theirs.fields, name);
    if (oracle.length === 0) {
      if (PRESENCE_FIELDS.has(name))
        tally.mismatches.push(`${where} ${name}: ferry ${mine}, tshark shows none`);
      continue;
    }
    const how = rule(name);
    const ok =
      how === 'exact'
        ? mine.length === oracle.length && mine.every((v, i) => v === oracle[i])
        : how === 'subsequence'
          ? isSubsequence(mine, oracle)
          : isSubMultiset(mine, oracle);
    if (!ok)
      tally.mismatches.push(`${where} ${name}: ferry [${mine.join(', ')}] tshark [${oracle.join(', ')}]`);
    else tally.count(theirs.name, name, mine.length);
  }
}

/**
 * Pairs ferry's layers with tshark's in order by protocol name (tshark shows more layers: frame,
 * data, application protocols, reassembled payloads) and compares each pair, quotes included.
 */
function compareLayers(
  where: string,
  ours: readonly DissectLayer[],
  theirs: readonly TsharkLayer[],
  tally: Tally,
): void {
  let next = 0;
  for (const layer of ours) {
    const k = theirs.findIndex((t, i) => i >= next && t.name === layer.name);
    if (k < 0) {
      // A layer ferry refused may be one tshark reads differently (or not at all); a layer ferry
      // decoded must exist for tshark too.
      if (!layer.error)
        tally.mismatches.push(`${where}: ferry decoded ${layer.name}, tshark has no such layer`);
      continue;
    }
    next = k + 1;
    compareFields(`${where} ${layer.name}`, layer.fields, theirs[k]!, tally);
    if (layer.quoted)
      compareLayers(`${where} ${layer.name}>quoted`, layer.quoted, theirs[k]!.children, tally);
  }
}

/** What ferry's reader says about the frame, in tshark's `frame` field names. */
function frameFields(p: FixturePacket): DissectField[] {
  return [
    { name: 'frame.time_epoch', value: `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}` },
    { name: 'frame.len', value: String(p.wireLength) },
    { name: 'frame.cap_len', value: String(p.data.length) },
  ];
}

function errorsIn(layers: readonly DissectLayer[]): string[] {
  return layers.filter((l) => l.error).map((l) => `${l.name}: ${l.error}`);
}

const files = fixtureFiles();
/** The junk capture is compared too, but its refusals are expected (junk-frames.test.ts lists them). */
const JUNK = 'crafted-junk.pcap';

describe.skipIf(tsharkMissingReason !== undefined)('ferry codecs agree with tshark on every fixture', () => {
  const captures = new Map<string, FixtureCapture>();
  const oracle = new Map<string, Promise<TsharkPacket[]>>();
  const tally = new Tally();

  beforeAll(() => {
    // One tshark run per file, all started at once; each test awaits its own.
    for (const f of files) {
      const c = loadFixture(f);
      captures.set(f, c);
      const run = tsharkPackets(c.path, c.tsharkArgs);
      run.catch(() => {}); // reported by the test that awaits it
      oracle.set(f, run);
    }
  });

  it('has fixtures to compare', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  for (const f of files) {
    it(`${f}: ferry and tshark read the same frames and agree on every shared field`, async () => {
      const c = captures.get(f)!;
      const packets = await oracle.get(f)!;
      expect(c.packets.length).toBeGreaterThan(0);
      expect(c.packets.length).toBe(packets.length);
      const before = tally.mismatches.length;
      const refusals: string[] = [];
      const comparedBefore = tally.total;
      for (const p of c.packets) {
        const where = `${f}#${p.number}`;
        const theirs = packets[p.number - 1]!;
        const frame = theirs.find((l) => l.name === 'frame');
        if (frame) compareFields(`${where} frame`, frameFields(p), frame, tally);
        const ours = dissectFrame(p.data, p.link, c.dissect);
        compareLayers(where, ours, theirs, tally);
        if (f !== JUNK) refusals.push(...errorsIn(ours).map((e) => `${where} ${e}`));
      }
      expect(tally.mismatches.slice(before)).toEqual([]);
      // Real traffic and the valid crafted frames decode without a single refusal.
      expect(refusals).toEqual([]);
      expect(tally.total - comparedBefore).toBeGreaterThan(c.packets.length);
    });
  }

  afterAll(() => {
    const summary = [...tally.perProtocol.entries()].map(([p, n]) => `${p} ${n}`).join(', ');
    console.info(`tshark oracle (${tsharkVersion}): ${tally.perField.size} fields compared (${summary})`);
  });

  it('compared enough fields of every protocol, and every field the codecs exist for', async () => {
    await Promise.all([...oracle.values()].map((r) => r.catch(() => undefined)));
    const short = Object.entries(MIN_COMPARED)
      .filter(([p, min]) => (tally.perProtocol.get(p) ?? 0) < min)
      .map(([p, min]) => `${p}: ${tally.perProtocol.get(p) ?? 0} < ${min}`);
    expect(short).toEqual([]);
    expect(MUST_COMPARE.filter((f) => !tally.perField.has(f))).toEqual([]);
  });

  it('covers every protocol module the wire README lists', async () => {
    await Promise.all([...oracle.values()].map((r) => r.catch(() => undefined)));
    const modules = readmeModules();
    expect(modules.length).toBeGreaterThanOrEqual(10);
    const uncovered = modules.filter(
      (m) => !tally.perField.has(MODULE_WITNESS[m] ?? `(no witness field for ${m})`),
    );
    expect(uncovered).toEqual([]);
  });
});
