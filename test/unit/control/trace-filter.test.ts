/**
 * The `ferry trace --live` filter: what each primitive takes, on Ethernet and bare-IP ports and
 * on the router's own packets, and the errors for what it does not understand.
 */
import { describe, expect, it } from 'vitest';
import {
  compileTraceFilter,
  parseTraceFilter,
  TraceFilterError,
} from '../../../src/control/control-socket/trace-filter.js';
import { ETHERTYPE_IPV4 } from '../../../src/dataplane/wire/ethernet.js';
import { arpRequest, ether, icmpEcho, ipFrame, udp } from '../../helpers/frames.js';

const PORTS = ['lan', 'wan', 'tun'];
const L2 = [true, true, false];
const ROUTER = 0xffff; // NO_PORT: the router's own packets

const dnsQuery = udp({ src: '10.1.0.33', dst: '198.51.100.7' }, 40000, 53);
const ping = icmpEcho({ src: '10.1.0.34', dst: '198.51.100.7' });
const onLan = (p: Uint8Array) => ipFrame('02:00:00:00:00:01', '0a:00:00:00:00:33', p);

function takes(filter: string, frame: Uint8Array, port = 0): boolean {
  const f = compileTraceFilter(filter, PORTS, L2);
  if (f === null) return true;
  // Frames sit at an offset inside a larger buffer, as in a batch.
  const buf = new Uint8Array(frame.length + 100);
  buf.set(frame, 37);
  return f.matches(buf, 37, frame.length, port);
}

describe('trace filter primitives', () => {
  it('host, src, dst and net on IPv4 addresses', () => {
    expect(takes('host 10.1.0.33', onLan(dnsQuery))).toBe(true);
    expect(takes('host 198.51.100.7', onLan(dnsQuery))).toBe(true);
    expect(takes('host 10.1.0.34', onLan(dnsQuery))).toBe(false);
    expect(takes('src 10.1.0.33', onLan(dnsQuery))).toBe(true);
    expect(takes('src host 198.51.100.7', onLan(dnsQuery))).toBe(false);
    expect(takes('dst 198.51.100.7', onLan(dnsQuery))).toBe(true);
    expect(takes('net 10.1.0.0/24', onLan(dnsQuery))).toBe(true);
    expect(takes('src net 198.51.100.0/24', onLan(dnsQuery))).toBe(false);
    expect(takes('dst net 198.51.100.0/24', onLan(dnsQuery))).toBe(true);
    expect(takes('net 0.0.0.0/0', onLan(dnsQuery))).toBe(true);
  });

  it('ports and protocols', () => {
    expect(takes('port 53', onLan(dnsQuery))).toBe(true);
    expect(takes('port 40000', onLan(dnsQuery))).toBe(true);
    expect(takes('src port 53', onLan(dnsQuery))).toBe(false);
    expect(takes('dst port 53', onLan(dnsQuery))).toBe(true);
    expect(takes('udp', onLan(dnsQuery))).toBe(true);
    expect(takes('tcp', onLan(dnsQuery))).toBe(false);
    expect(takes('udp port 53', onLan(dnsQuery))).toBe(true);
    expect(takes('tcp port 53', onLan(dnsQuery))).toBe(false);
    expect(takes('udp dst port 53', onLan(dnsQuery))).toBe(true);
    expect(takes('icmp', onLan(ping))).toBe(true);
    expect(takes('port 53', onLan(ping))).toBe(false);
    expect(takes('proto 17', onLan(dnsQuery))).toBe(true);
    expect(takes('ip proto icmp', onLan(ping))).toBe(true);
    expect(takes('ip', onLan(ping))).toBe(true);
    expect(takes('arp', onLan(ping))).toBe(false);
  });

  it('no ports in a non-first fragment', () => {
    const frag = dnsQuery.slice();
    frag[7] = 10; // fragment offset 80 bytes
    expect(takes('udp', onLan(frag))).toBe(true);
    expect(takes('port 53', onLan(frag))).toBe(false);
  });

  it('ARP by its sender and target addresses', () => {
    const who = arpRequest('0a:00:00:00:00:33', '10.1.0.33', '10.1.0.1');
    expect(takes('arp', who)).toBe(true);
    expect(takes('host 10.1.0.1', who)).toBe(true);
    expect(takes('src 10.1.0.33 and dst 10.1.0.1', who)).toBe(true);
    expect(takes('ip', who)).toBe(false);
    expect(takes('udp', who)).toBe(false);
  });

  it('the arrival port, bare IP on a TUN, and the router’s own packets', () => {
    expect(takes('iif lan', onLan(dnsQuery), 0)).toBe(true);
    expect(takes('iif wan', onLan(dnsQuery), 0)).toBe(false);
    expect(takes('iif tun and udp port 53', dnsQuery, 2)).toBe(true);
    // Originated: bare IP, except ARP frames the router builds whole.
    expect(takes('host 10.1.0.34 and icmp', ping, ROUTER)).toBe(true);
    expect(takes('iif lan', ping, ROUTER)).toBe(false);
    expect(
      takes('arp and host 10.1.0.1', arpRequest('02:00:00:00:00:01', '10.1.0.1', '10.1.0.9'), ROUTER),
    ).toBe(true);
    // A DHCP client's broadcast: a whole Ethernet frame with IPv4 inside.
    expect(
      takes('udp port 53', ether('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:01', ETHERTYPE_IPV4, dnsQuery), ROUTER),
    ).toBe(true);
  });

  it('one 802.1Q tag is looked through', () => {
    const plain = onLan(dnsQuery);
    const tagged = new Uint8Array(plain.length + 4);
    tagged.set(plain.subarray(0, 12), 0);
    tagged.set([0x81, 0x00, 0x00, 0x05], 12);
    tagged.set(plain.subarray(12), 16);
    expect(takes('udp port 53 and host 10.1.0.33', tagged)).toBe(true);
  });

  it('and, juxtaposition, not and !', () => {
    expect(takes('udp and port 53 and src 10.1.0.33', onLan(dnsQuery))).toBe(true);
    expect(takes('udp && src 10.1.0.34', onLan(dnsQuery))).toBe(false);
    expect(takes('udp port 53 host 10.1.0.33', onLan(dnsQuery))).toBe(true);
    expect(takes('not icmp', onLan(dnsQuery))).toBe(true);
    expect(takes('!udp', onLan(dnsQuery))).toBe(false);
    expect(takes('not not udp', onLan(dnsQuery))).toBe(true);
    expect(takes('udp and not port 53', onLan(dnsQuery))).toBe(false);
    expect(takes('', onLan(dnsQuery))).toBe(true);
    expect(compileTraceFilter('  ', PORTS, L2)).toBeNull();
  });

  it('short and broken frames match nothing that needs their headers', () => {
    expect(takes('ip', onLan(dnsQuery).subarray(0, 20))).toBe(false);
    expect(takes('not ip', new Uint8Array(3))).toBe(true);
    expect(takes('port 53', onLan(dnsQuery).subarray(0, 14 + 21))).toBe(false);
  });
});

describe('trace filter errors', () => {
  const cases: [string, string][] = [
    ['host', 'filter ends where an address after "host" was expected'],
    ['host 10.1.0.256', '"10.1.0.256" is not an IPv4 address'],
    ['net 10.0.0.0/33', '"10.0.0.0/33": the prefix length must be 0-32'],
    ['port 70000', '"70000" is not a port (0-65535)'],
    ['proto 300', '"300" is not an IP protocol (0-255, tcp, udp, icmp)'],
    ['udp or tcp', '"or" is not supported: primitives combine with "and" only'],
    ['(udp)', '"(" is not supported: primitives combine with "and" only'],
    ['udp and', 'filter ends after "and"'],
    [
      'ether host 1',
      '"ether" is not a filter primitive (host, src, dst, net, port, tcp, udp, icmp, arp, ip, proto, iif)',
    ],
    ['iif eth9', 'iif eth9: no such port (ports: lan, wan, tun)'],
    ['not tcp port 80', '"not" before "tcp port N" / "udp port N" is not supported: write "not port N"'],
    ['tcp src 10.0.0.1', 'after "tcp src" / "udp src" only "port N" is understood'],
  ];
  for (const [text, message] of cases) {
    it(text, () => {
      expect(() => parseTraceFilter(text, PORTS)).toThrow(new TraceFilterError(message));
    });
  }

  it('without port names (the client’s syntax check) any iif name passes', () => {
    expect(parseTraceFilter('iif eth9 and udp', null)).toHaveLength(2);
  });
});
