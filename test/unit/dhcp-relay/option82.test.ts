/** Relay agent information, option 82 (RFC 3046), with ISC dhcrelay's -a / -m policies. */
import { describe, expect, it } from 'vitest';
import type { Option82Policy } from '../../../src/control/config/types.js';
import { toHex } from '../../../src/dataplane/wire/bytes.js';
import {
  DHCP_COOKIE,
  DHCP_HOPS,
  DHCP_OPT_END,
  DHCP_OPT_RELAY_AGENT_INFO,
  DHCPACK,
  DHCPDISCOVER,
  Dhcpv4View,
  parseDhcpv4,
} from '../../../src/dataplane/wire/dhcpv4.js';
import { optionBytes, stripRelayAgentInfo } from '../../../src/dataplane/wire/dhcpv4-options.js';
import {
  clientBroadcast,
  decodeSent,
  dhcpMessage,
  diffOffsets,
  fixtureDhcp,
  replyMessage,
  udpFrame,
} from './dhcp-frames.js';
import { fromServer, R_LAN, routedRelay } from './rig.js';

const C1 = '0a:00:00:00:00:51';
const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
/** Our option 82 value for port "lan": circuit-id sub-option 1 = the port's name. */
const LAN_INFO = Uint8Array.from([1, 3, ...ascii('lan')]);
/** The downstream relay's DISCOVER (giaddr 10.0.7.1, hops 1, option 82 with circuit, remote id, link selection). */
const reforwarded = fixtureDhcp('crafted-dhcp-relay-options.pcap')[0]!;
const RELAYED_DIFF = [DHCP_HOPS, 24, 25, 27];

function relay82(policy: Option82Policy, ids: { circuitId?: string; remoteId?: string } = {}, wanMtu = 1500) {
  return routedRelay(
    { option82: { circuitId: ids.circuitId ?? null, remoteId: ids.remoteId ?? null, policy } },
    { wanMtu },
  );
}

const view = new Dhcpv4View();
function wrap(msg: Uint8Array): Dhcpv4View {
  expect(view.wrap(msg, 0, msg.length)).toBe(0);
  return view;
}

/** The message with every option 82 of its options field taken out (what the server sees minus ours). */
function without82(msg: Uint8Array): Uint8Array {
  const copy = msg.slice();
  const v = wrap(copy);
  stripRelayAgentInfo(v);
  return copy.slice(0, v.len);
}

/** Sent from the downstream relay (10.1.0.7:67) to our address. */
function fromDownstreamRelay(msg: Uint8Array): Uint8Array {
  return udpFrame(
    { dstMac: R_LAN, srcMac: '0a:00:00:00:07:01', src: '10.1.0.7', dst: '10.1.0.1', sport: 67, dport: 67 },
    msg,
  );
}

describe('option 82 on requests', () => {
  it('first hop: added as the last option before END, circuit-id = the receiving port’s name', () => {
    const { r, relay } = relay82('replace');
    const msg = dhcpMessage({ type: DHCPDISCOVER, chaddr: C1 });
    r.send('lan', [clientBroadcast(C1, msg)]);
    const out = decodeSent(r.sent('wan')[0]!);
    expect(out.dhcp.length).toBe(300); // it fitted in the padding after END
    const opts = parseDhcpv4(wrap(out.dhcp)).options.filter((o) => o.code !== 0);
    expect(opts.map((o) => o.code).slice(-2)).toEqual([DHCP_OPT_RELAY_AGENT_INFO, DHCP_OPT_END]);
    expect(toHex(optionBytes(wrap(out.dhcp), DHCP_OPT_RELAY_AGENT_INFO)!)).toBe(toHex(LAN_INFO));
    // Apart from it, only hops and giaddr changed.
    expect(diffOffsets(without82(out.dhcp), msg)).toEqual(RELAYED_DIFF);
    expect(relay.counters.option82Added).toBe(1);
  });

  it('configured circuit-id and remote-id become sub-options 1 and 2', () => {
    const { r } = relay82('replace', { circuitId: 'flat-lan', remoteId: 'site-0' });
    r.send('lan', [clientBroadcast(C1, dhcpMessage({ type: DHCPDISCOVER, chaddr: C1 }))]);
    const out = decodeSent(r.sent('wan')[0]!);
    expect(Array.from(optionBytes(wrap(out.dhcp), DHCP_OPT_RELAY_AGENT_INFO)!)).toEqual([
      1,
      8,
      ...ascii('flat-lan'),
      2,
      6,
      ...ascii('site-0'),
    ]);
  });

  it('first hop with option 82 already in the request: discarded whatever the policy (RFC 3046 §2.1)', () => {
    for (const policy of ['append', 'replace', 'forward', 'discard'] as const) {
      const { r, relay } = relay82(policy);
      const msg = dhcpMessage({
        type: DHCPDISCOVER,
        chaddr: C1,
        options: [{ code: 82, data: Uint8Array.of(1, 1, 9) }],
      });
      r.send('lan', [clientBroadcast(C1, msg)]);
      expect(r.sent('wan')).toEqual([]);
      expect(r.engine.drops()['dhcp-relay-option82-untrusted']).toBe(1);
      expect(relay.counters.requests).toBe(0);
    }
  });

  describe('a request another relay forwarded with its option 82 (giaddr set)', () => {
    it('forward: passed on unchanged but for hops (RFC 3046 §2.1.1)', () => {
      const { r, relay } = relay82('forward');
      r.send('lan', [fromDownstreamRelay(reforwarded.dhcp)]);
      const out = decodeSent(r.sent('wan')[0]!);
      expect(diffOffsets(out.dhcp, reforwarded.dhcp)).toEqual([DHCP_HOPS]);
      expect(out.dhcp[DHCP_HOPS]).toBe(2);
      expect(relay.counters.option82Forwarded).toBe(1);
    });

    it('discard: dropped and counted', () => {
      const { r } = relay82('discard');
      r.send('lan', [fromDownstreamRelay(reforwarded.dhcp)]);
      expect(r.sent('wan')).toEqual([]);
      expect(r.engine.drops()['dhcp-relay-option82-discarded']).toBe(1);
    });

    it('replace: theirs removed, ours in its place, the rest untouched', () => {
      const { r, relay } = relay82('replace');
      r.send('lan', [fromDownstreamRelay(reforwarded.dhcp)]);
      const out = decodeSent(r.sent('wan')[0]!);
      expect(toHex(optionBytes(wrap(out.dhcp), DHCP_OPT_RELAY_AGENT_INFO)!)).toBe(toHex(LAN_INFO));
      const theirsOut = without82(reforwarded.dhcp);
      const oursOut = without82(out.dhcp);
      expect(toHex(oursOut.subarray(DHCP_HOPS + 1))).toBe(toHex(theirsOut.subarray(DHCP_HOPS + 1)));
      expect(relay.counters.option82Replaced).toBe(1);
    });

    it('append: theirs kept, ours after it (one value when joined, RFC 3396)', () => {
      const { r, relay } = relay82('append');
      r.send('lan', [fromDownstreamRelay(reforwarded.dhcp)]);
      const out = decodeSent(r.sent('wan')[0]!);
      const theirs = optionBytes(wrap(reforwarded.dhcp), DHCP_OPT_RELAY_AGENT_INFO)!;
      expect(theirs.length).toBe(27);
      expect(toHex(optionBytes(wrap(out.dhcp), DHCP_OPT_RELAY_AGENT_INFO)!)).toBe(
        toHex(theirs) + toHex(LAN_INFO),
      );
      expect(relay.counters.option82Appended).toBe(1);
    });
  });

  it('a request another relay forwarded without option 82 goes on without ours (RFC 3046 §2.1.1)', () => {
    const { r, relay } = relay82('replace');
    const msg = dhcpMessage({ type: DHCPDISCOVER, chaddr: C1, giaddr: '10.7.0.1', hops: 1 });
    r.send('lan', [fromDownstreamRelay(msg)]);
    const out = decodeSent(r.sent('wan')[0]!);
    expect(diffOffsets(out.dhcp, msg)).toEqual([DHCP_HOPS]);
    expect(relay.counters.option82Forwarded).toBe(1);
  });

  it('no room under the server-facing MTU: relayed without it and counted (RFC 3046 §2.1)', () => {
    const { r, relay } = relay82('replace', {}, 576);
    // 240 + 3 (type) + 257 + 47 + END = 548 = 576 - 28: full, no padding left.
    const msg = dhcpMessage({
      type: DHCPDISCOVER,
      chaddr: C1,
      options: [
        { code: 43, data: new Uint8Array(255) },
        { code: 43, data: new Uint8Array(45) },
      ],
    });
    expect(msg.length).toBe(548);
    r.send('lan', [clientBroadcast(C1, msg)]);
    const out = decodeSent(r.sent('wan')[0]!);
    expect(out.ip.totalLen).toBe(576);
    expect(diffOffsets(out.dhcp, msg)).toEqual(RELAYED_DIFF);
    expect(relay.counters.option82NoRoom).toBe(1);
  });

  it('plain BOOTP (no magic cookie) is relayed without it', () => {
    const { r, relay } = relay82('replace');
    const msg = dhcpMessage({ chaddr: C1 });
    msg.fill(0, DHCP_COOKIE);
    r.send('lan', [clientBroadcast(C1, msg)]);
    const out = decodeSent(r.sent('wan')[0]!);
    expect(diffOffsets(out.dhcp, msg)).toEqual(RELAYED_DIFF);
    expect(relay.counters.snapshot()).toMatchObject({ 'option82-not-dhcp': 1, 'request-BOOTP': 1 });
  });
});

describe('option 82 on replies', () => {
  const echo = (info: Uint8Array) =>
    replyMessage({ type: DHCPACK, chaddr: C1, yiaddr: '10.1.0.50', options: [{ code: 82, data: info }] });

  it('our echoed option is stripped before the client sees the reply', () => {
    const { r, relay } = relay82('replace');
    r.send('wan', [fromServer(echo(LAN_INFO))]);
    const out = decodeSent(r.sent('lan')[0]!);
    const plain = replyMessage({ type: DHCPACK, chaddr: C1, yiaddr: '10.1.0.50', giaddr: '10.1.0.1' });
    expect(toHex(out.dhcp)).toBe(toHex(plain));
    expect(relay.counters.option82Stripped).toBe(1);
  });

  it('a reply whose circuit-id names another port, or whose remote-id is not ours, is dropped', () => {
    const { r } = relay82('replace');
    r.send('wan', [fromServer(echo(Uint8Array.from([1, 3, ...ascii('wan')])))]);
    const remote = relay82('replace', { remoteId: 'site-0' });
    remote.r.send('wan', [
      fromServer(echo(Uint8Array.from([1, 3, ...ascii('lan'), 2, 6, ...ascii('site-9')]))),
    ]);
    expect(r.sent('lan')).toEqual([]);
    expect(remote.r.sent('lan')).toEqual([]);
    expect(r.engine.drops()['dhcp-relay-reply-option82-mismatch']).toBe(1);
    expect(remote.r.engine.drops()['dhcp-relay-reply-option82-mismatch']).toBe(1);
  });

  it('a malformed echoed option is dropped', () => {
    const { r } = relay82('replace');
    r.send('wan', [fromServer(echo(Uint8Array.of(1, 9, 0x6c)))]);
    expect(r.sent('lan')).toEqual([]);
    expect(r.engine.drops()['dhcp-relay-reply-option82-malformed']).toBe(1);
  });

  it('a server that does not know option 82 echoes nothing: delivered as it is', () => {
    const { r } = relay82('replace');
    const msg = replyMessage({ type: DHCPACK, chaddr: C1, yiaddr: '10.1.0.50' });
    r.send('wan', [fromServer(msg)]);
    expect(decodeSent(r.sent('lan')[0]!).dhcp.length).toBe(msg.length);
  });

  it('with option 82 off, a reply’s option 82 is not ours to touch', () => {
    const { r } = routedRelay();
    r.send('wan', [fromServer(echo(LAN_INFO))]);
    const out = decodeSent(r.sent('lan')[0]!);
    expect(toHex(optionBytes(wrap(out.dhcp), DHCP_OPT_RELAY_AGENT_INFO)!)).toBe(toHex(LAN_INFO));
  });

  it('round trip: the option we add comes back, is accepted and removed', () => {
    const { r } = relay82('replace', { circuitId: 'flat-lan', remoteId: 'site-0' });
    r.send('lan', [clientBroadcast(C1, dhcpMessage({ type: DHCPDISCOVER, chaddr: C1 }))]);
    const sent = decodeSent(r.sent('wan')[0]!);
    const ours = optionBytes(wrap(sent.dhcp), DHCP_OPT_RELAY_AGENT_INFO)!;
    r.send('wan', [fromServer(echo(ours))]);
    const out = decodeSent(r.sent('lan')[0]!);
    expect(optionBytes(wrap(out.dhcp), DHCP_OPT_RELAY_AGENT_INFO)).toBeNull();
    expect(out.ip.dst).toBe('10.1.0.50');
  });
});
