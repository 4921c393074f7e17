/** Bad input is dropped and counted by reason, never thrown. */
import { describe, expect, it } from 'vitest';
import type { DhcpRelay } from '../../../src/dataplane/dhcp-relay/index.js';
import {
  BOOTREPLY,
  DHCP_HLEN,
  DHCP_OP,
  DHCP_OPTIONS,
  DHCPACK,
  DHCPDISCOVER,
} from '../../../src/dataplane/wire/dhcpv4.js';
import type { RouterRig } from '../../helpers/router-rig.js';
import { clientBroadcast, dhcpMessage, replyMessage, udpFrame } from './dhcp-frames.js';
import { fromServer, R_LAN, routedRelay } from './rig.js';

const C1 = '0a:00:00:00:00:51';
const good = (): Uint8Array => dhcpMessage({ type: DHCPDISCOVER, chaddr: C1 });

function relayDrops(r: RouterRig): number {
  let n = 0;
  for (const [k, v] of Object.entries(r.engine.drops())) if (k.startsWith('dhcp-relay-')) n += v;
  return n;
}

describe('malformed DHCP', () => {
  const cases: [string, (m: Uint8Array) => Uint8Array, string][] = [
    ['shorter than the fixed header', (m) => m.slice(0, 200), 'dhcp-relay-truncated'],
    ['op neither request nor reply', (m) => m.fill(3, DHCP_OP, DHCP_OP + 1), 'dhcp-relay-bad-value'],
    ['hlen over 16', (m) => m.fill(17, DHCP_HLEN, DHCP_HLEN + 1), 'dhcp-relay-bad-length'],
    // option 53 claims 200 bytes: runs past the message
    [
      'an option overruns the message',
      (m) => m.fill(200, DHCP_OPTIONS + 1, DHCP_OPTIONS + 2),
      'dhcp-relay-bad-option',
    ],
    [
      'option overload with a bad value',
      (m) => {
        m.set([52, 1, 7], DHCP_OPTIONS + 3);
        return m;
      },
      'dhcp-relay-bad-option',
    ],
  ];
  for (const [what, mangle, reason] of cases) {
    it(`${what}: ${reason}`, () => {
      const { r } = routedRelay();
      r.send('lan', [clientBroadcast(C1, mangle(good()))]);
      expect(r.sent('wan')).toEqual([]);
      expect(r.engine.drops()[reason]).toBe(1);
    });
  }

  it('UDP length past the IP payload, or under 8: dhcp-relay-udp-bad-length', () => {
    const { r } = routedRelay();
    const long = clientBroadcast(C1, good());
    long[14 + 20 + 4] = 0x02; // 0x02xx > payload
    const short = clientBroadcast(C1, good());
    short.fill(0, 14 + 20 + 4, 14 + 20 + 8); // length 0, checksum 0 (none)
    short[14 + 20 + 5] = 4;
    r.send('lan', [long, short]);
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['dhcp-relay-udp-bad-length']).toBe(2);
  });

  it('a wrong UDP checksum is dropped; a zero one (none sent, RFC 768) is accepted', () => {
    const { r, relay } = routedRelay();
    const bad = clientBroadcast(C1, good());
    bad[14 + 20 + 6]! ^= 0x5a;
    const none = clientBroadcast(C1, good());
    none.fill(0, 14 + 20 + 6, 14 + 20 + 8);
    r.send('lan', [bad, none]);
    expect(r.engine.drops()['dhcp-relay-udp-bad-checksum']).toBe(1);
    expect(relay.counters.requests).toBe(1);
    expect(r.sent('wan').length).toBe(1);
  });

  it('op that does not fit the port it came from: a BOOTREPLY from 68, a giaddr-less BOOTREQUEST from 67', () => {
    const { r } = routedRelay();
    const reply = replyMessage({ type: DHCPACK, chaddr: C1, yiaddr: '10.1.0.50' });
    r.send('wan', [fromServer(reply, { sport: 68 })]);
    r.send('lan', [
      udpFrame({ dstMac: R_LAN, srcMac: C1, src: '10.1.0.7', dst: '10.1.0.1', sport: 67, dport: 67 }, good()),
    ]);
    expect(r.sent('lan')).toEqual([]);
    expect(r.sent('wan')).toEqual([]);
    expect(r.engine.drops()['dhcp-relay-op-mismatch']).toBe(2);
  });
});

describe('mutated messages (a bounded campaign)', () => {
  /** xorshift32: the same campaign every run. */
  function rng(seed: number): () => number {
    let x = seed;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
  }

  function mutate(base: Uint8Array, next: () => number): Uint8Array {
    const m = base.slice(0, base.length - (next() % 4 === 0 ? next() % 80 : 0));
    const flips = 1 + (next() % 6);
    for (let i = 0; i < flips; i++) {
      // Mostly the header and the start of the options, where structure lives.
      const at = next() % 3 === 0 ? next() % m.length : next() % Math.min(m.length, 280);
      m[at] = next() & 0xff;
    }
    return m;
  }

  function campaign(
    seed: number,
    frame: (m: Uint8Array) => Uint8Array,
    port: string,
    base: Uint8Array,
    done: (relay: DhcpRelay) => number,
  ): void {
    const { r, relay } = routedRelay({
      option82: { circuitId: null, remoteId: 'site-0', policy: 'append' },
    });
    const next = rng(seed);
    const N = 1500;
    for (let i = 0; i < N; i++) {
      expect(() => r.send(port, [frame(mutate(base, next))])).not.toThrow();
      r.sent('lan');
      r.sent('wan');
    }
    // Every message was relayed or dropped with a dhcp-relay reason (copies lost are counted
    // per copy, and with one server a lost copy is a request not relayed).
    expect(done(relay) + relayDrops(r)).toBe(N);
  }

  it('client requests: relayed or dropped, each exactly once', () => {
    campaign(
      0x1234567,
      (m) => clientBroadcast(C1, m),
      'lan',
      good(),
      (relay) => relay.counters.requests,
    );
  });

  it('server replies: delivered or dropped, each exactly once', () => {
    const info = Uint8Array.from([
      1,
      3,
      0x6c,
      0x61,
      0x6e,
      2,
      6,
      ...Array.from('site-0', (c) => c.charCodeAt(0)),
    ]);
    const base = replyMessage({
      type: DHCPACK,
      chaddr: C1,
      yiaddr: '10.1.0.50',
      options: [{ code: 82, data: info }],
    });
    expect(base[DHCP_OP]).toBe(BOOTREPLY);
    campaign(
      0x7654321,
      (m) => fromServer(m),
      'wan',
      base,
      (relay) => relay.counters.replies,
    );
  });
});
