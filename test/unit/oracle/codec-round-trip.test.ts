/**
 * Round trip on real and crafted traffic: for every fixture packet, each layer ferry decoded is
 * parsed to its Repr and emitted again, and the bytes must be exactly the captured ones (length
 * and checksum fields recomputed by `emit*` included). Needs no tshark.
 */
import { describe, expect, it } from 'vitest';
import { ArpView, emitArp, parseArp } from '../../../src/dataplane/wire/arp.js';
import { pseudoSumV4, pseudoSumV6 } from '../../../src/dataplane/wire/checksum.js';
import { Dhcpv4View, emitDhcpv4, parseDhcpv4 } from '../../../src/dataplane/wire/dhcpv4.js';
import {
  type DissectLayer,
  type DissectOptions,
  dissectFrame,
  ipv6FinalDestinationOff,
} from '../../../src/dataplane/wire/dissect.js';
import { WireError } from '../../../src/dataplane/wire/errors.js';
import { EthernetView, emitEthernet, parseEthernet } from '../../../src/dataplane/wire/ethernet.js';
import { emitIcmpv4, Icmpv4View, parseIcmpv4 } from '../../../src/dataplane/wire/icmpv4.js';
import { emitIcmpv6, Icmpv6View, parseIcmpv6 } from '../../../src/dataplane/wire/icmpv6.js';
import { emitIpv4, Ipv4View, parseIpv4 } from '../../../src/dataplane/wire/ipv4.js';
import { emitIpv6, Ipv6View, parseIpv6 } from '../../../src/dataplane/wire/ipv6.js';
import {
  emitL2tpv3Ip,
  emitL2tpv3Udp,
  L2tpv3IpView,
  L2tpv3UdpView,
  parseL2tpv3,
} from '../../../src/dataplane/wire/l2tpv3.js';
import { emitTcp, parseTcp, TcpView } from '../../../src/dataplane/wire/tcp.js';
import { emitUdp, parseUdp, UdpView } from '../../../src/dataplane/wire/udp.js';
import { fixtureFiles, loadFixture } from './fixture-set.js';

/** Fewest layers per protocol that must have round-tripped over the whole fixture set. */
const MIN_ROUND_TRIPS: Record<string, number> = {
  eth: 250,
  arp: 20,
  ip: 150,
  ipv6: 100,
  icmp: 30,
  icmpv6: 45,
  udp: 40,
  tcp: 40,
  dhcp: 15,
  l2tp: 12,
};

/** The network layer a transport checksum's pseudo-header comes from. */
type Network = { v4: Ipv4View } | { v6: Ipv6View };

function pseudo(net: Network | null, proto: number, len: number): number {
  if (!net) throw new Error('transport layer without a network layer');
  if ('v4' in net) return pseudoSumV4(net.v4.src, net.v4.dst, proto, len);
  return pseudoSumV6(net.v6.buf, net.v6.srcOff, ipv6FinalDestinationOff(net.v6), proto, len);
}

function ok(e: WireError, what: string): void {
  if (e !== WireError.Ok) throw new Error(`${what} no longer wraps (${e})`);
}

const scratch = new Uint8Array(1 << 17);

/**
 * Re-emits one layer into `scratch` and returns how many bytes it wrote (they must equal the
 * frame's bytes at the layer's offset), or 0 for layers that are part of another's header.
 */
function reemit(
  l: DissectLayer,
  prev: DissectLayer | undefined,
  b: Uint8Array,
  opts: DissectOptions,
  net: { at: Network | null },
): number {
  const o = l.offset;
  switch (l.name) {
    case 'eth': {
      const v = new EthernetView();
      ok(v.wrap(b, o, l.length), 'eth');
      return emitEthernet(parseEthernet(v), scratch, 0);
    }
    case 'arp': {
      const v = new ArpView();
      ok(v.wrap(b, o, l.length), 'arp');
      return emitArp(parseArp(v), scratch, 0);
    }
    case 'ip': {
      const v = new Ipv4View();
      ok(v.wrap(b, o, l.length), 'ip');
      net.at = { v4: v };
      return emitIpv4(parseIpv4(v), scratch, 0);
    }
    case 'ipv6': {
      const v = new Ipv6View();
      ok(v.wrap(b, o, l.length), 'ipv6');
      net.at = { v6: v };
      return emitIpv6(parseIpv6(v), scratch, 0);
    }
    case 'icmp': {
      const v = new Icmpv4View();
      ok(v.wrap(b, o, l.length), 'icmp');
      return emitIcmpv4(parseIcmpv4(v), scratch, 0);
    }
    case 'icmpv6': {
      const v = new Icmpv6View();
      ok(v.wrap(b, o, l.length), 'icmpv6');
      return emitIcmpv6(parseIcmpv6(v), scratch, 0, pseudo(net.at, 58, l.length));
    }
    case 'udp': {
      const v = new UdpView();
      ok(v.wrap(b, o, l.length), 'udp');
      const sum = v.checksum === 0 ? null : pseudo(net.at, 17, v.length);
      return emitUdp(parseUdp(v), scratch, 0, sum);
    }
    case 'tcp': {
      const v = new TcpView();
      ok(v.wrap(b, o, l.length), 'tcp');
      return emitTcp(parseTcp(v), scratch, 0, pseudo(net.at, 6, l.length));
    }
    case 'dhcp': {
      const v = new Dhcpv4View();
      ok(v.wrap(b, o, l.length), 'dhcp');
      return emitDhcpv4(parseDhcpv4(v), scratch, 0);
    }
    case 'l2tp': {
      const cookie = opts.l2tpCookieLen ?? 0;
      const sublayer = opts.l2tpSublayer ?? false;
      if (prev?.name === 'udp') {
        const v = new L2tpv3UdpView();
        ok(v.wrap(b, o, l.length, cookie, sublayer), 'l2tp');
        return emitL2tpv3Udp(parseL2tpv3(v), scratch, 0);
      }
      const v = new L2tpv3IpView();
      ok(v.wrap(b, o, l.length, cookie, sublayer), 'l2tp');
      return emitL2tpv3Ip(parseL2tpv3(v), scratch, 0);
    }
    default:
      return 0; // VLAN tags are part of the Ethernet header
  }
}

/** A layer whose stored checksum is wrong cannot come back identical: emit computes a good one. */
function hasBadChecksum(l: DissectLayer): boolean {
  return l.fields.some((f) => f.name.endsWith('.checksum.status') && f.value === '0');
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

describe('emit(parse(x)) reproduces every layer of every fixture packet', () => {
  const done = new Map<string, number>();
  const files = fixtureFiles();

  for (const f of files) {
    it(`${f}: every decoded layer re-emits byte for byte`, () => {
      const c = loadFixture(f);
      const failures: string[] = [];
      let layers = 0;
      for (const p of c.packets) {
        const decoded = dissectFrame(p.data, p.link, c.dissect);
        const net: { at: Network | null } = { at: null };
        for (let i = 0; i < decoded.length; i++) {
          const l = decoded[i]!;
          if (l.error || hasBadChecksum(l)) break;
          const n = reemit(l, decoded[i - 1], p.data, c.dissect, net);
          if (n === 0) continue;
          const want = p.data.subarray(l.offset, l.offset + n);
          const got = scratch.subarray(0, n);
          if (hex(want) !== hex(got))
            failures.push(`#${p.number} ${l.name}: captured ${hex(want)}, emitted ${hex(got)}`);
          done.set(l.name, (done.get(l.name) ?? 0) + 1);
          layers++;
        }
      }
      expect(failures).toEqual([]);
      expect(layers).toBeGreaterThan(0);
    });
  }

  it('round-tripped enough layers of every protocol', () => {
    const short = Object.entries(MIN_ROUND_TRIPS)
      .filter(([p, min]) => (done.get(p) ?? 0) < min)
      .map(([p, min]) => `${p}: ${done.get(p) ?? 0} < ${min}`);
    expect(short).toEqual([]);
  });
});
