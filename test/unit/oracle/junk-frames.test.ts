/**
 * The broken frames of fixtures/pcap/crafted-junk.pcap (scripts/fixtures/craft.py, junk_frames):
 * each must be refused by the right decoder with the right WireError, never thrown on and never
 * passed on to a layer above. (tshark is more lenient with some of them, e.g. it decodes past an
 * IPv4 total length that overruns the frame; tshark-fields.test.ts compares what both decode.)
 */
import { describe, expect, it } from 'vitest';
import { dissectFrame } from '../../../src/dataplane/wire/dissect.js';
import { loadFixture } from './fixture-set.js';

/** Frame number → [layer that refuses, error name], in the order craft.py writes them. */
const EXPECTED: Array<[string, string, string]> = [
  ['runt frame: 10 bytes, no Ethernet header', 'eth', 'truncated'],
  ['IPv4 header cut to 12 bytes', 'ip', 'truncated'],
  ['IPv4 IHL 4', 'ip', 'bad-header-length'],
  ['IPv4 total length 1000 in a 55-byte frame', 'ip', 'bad-length'],
  ['IPv4 total length 16, shorter than its header', 'ip', 'bad-length'],
  ['version 6 under EtherType 0x0800', 'ip', 'bad-version'],
  ['IPv4 record-route option running past the IHL', 'ip', 'bad-option'],
  ['IPv6 header cut to 30 bytes', 'ipv6', 'truncated'],
  ['IPv6 payload length 16 with 8 bytes present', 'ipv6', 'bad-length'],
  ['TCP data offset 3', 'tcp', 'bad-header-length'],
  ['UDP length 40 in an 11-byte payload', 'udp', 'bad-length'],
  ['ARP cut to 20 bytes', 'arp', 'truncated'],
  ['ICMP message of 3 bytes', 'icmp', 'truncated'],
  ['three VLAN tags', 'eth', 'too-deep'],
];

describe('crafted-junk.pcap: every broken frame is refused where it breaks', () => {
  const capture = loadFixture('crafted-junk.pcap');

  it('holds exactly the frames listed here', () => {
    expect(capture.packets.map((p) => p.number)).toEqual(EXPECTED.map((_, i) => i + 1));
  });

  EXPECTED.forEach(([what, layer, error], i) => {
    it(`#${i + 1} ${what}: ${layer} says ${error}`, () => {
      const p = capture.packets[i]!;
      const layers = dissectFrame(p.data, p.link);
      const refused = layers.filter((l) => l.error);
      expect(refused.map((l) => [l.name, l.error])).toEqual([[layer, error]]);
      // The refusing layer is the last one: nothing is decoded on top of bytes that failed.
      expect(layers.at(-1)).toBe(refused[0]);
    });
  });
});
