import { describe, expect, it } from 'vitest';
import { parseWgDump } from '../../../src/control/overlay/dump.js';

// Test keys made with `wg genkey` / `wg genpsk` for these tests only.
const PRIV = 'ENmisNpg/QP7Wx1A+58/m9Yb0JlraH3WmD5hAjTf4E8=';
const PUB = 'QLs61g8OdZC6i1AjXTTsQPl2mZaNlZ8PaOVoEdzaUyk=';
const PEER1 = 'azB5ysLG82dFsYBfauJzecLIZ55f285RbUoF8yyQtHw=';
const PEER2 = 'GttFoFbjML50vVssEgLbW8y7123VbdlqN629TRZi11s=';
const PEER3 = 'uLT+Yrm5RWKNf9rBjotjF7P4Zsa8FIagBtXGNUCPklY=';
const PSK = '1pNljQVam2CuWoOMx+eSMCwEVkHZjtFccDXUuqPArpE=';

const row = (...f: (string | number)[]) => f.join('\t');

describe('wg show <if> dump', () => {
  const text = [
    row(PRIV, PUB, 51820, '0x2a'),
    row(
      PEER1,
      PSK,
      '10.99.0.2:51820',
      '10.66.0.2/32,192.168.50.0/24,fd00:66::/64',
      1717171717,
      1240,
      2480,
      25,
    ),
    row(PEER2, '(none)', '[2001:db8::7]:51821', '(none)', 0, 0, 0, 'off'),
    row(PEER3, '(none)', '(none)', '10.66.0.3/32', 0, 0, 148, 'off'),
    '',
  ].join('\n');

  it('reads the interface line without its private key', () => {
    const d = parseWgDump('wg0', text);
    expect(d.facts).toEqual({ interface: 'wg0', publicKey: PUB, listenPort: 51820, fwmark: 42 });
    expect(JSON.stringify(d)).not.toContain(PRIV);
  });

  it('reads every peer: "(none)", "off", IPv6 endpoints, several allowed IPs', () => {
    const { peers } = parseWgDump('wg0', text);
    expect(peers).toEqual([
      {
        interface: 'wg0',
        publicKey: PEER1,
        endpoint: '10.99.0.2:51820',
        allowedIps: ['10.66.0.2/32', '192.168.50.0/24', 'fd00:66::/64'],
        latestHandshake: 1717171717,
        rxBytes: 1240,
        txBytes: 2480,
        persistentKeepalive: 25,
        interfacePublicKey: PUB,
        listenPort: 51820,
      },
      {
        interface: 'wg0',
        publicKey: PEER2,
        endpoint: '[2001:db8::7]:51821',
        allowedIps: [],
        latestHandshake: 0,
        rxBytes: 0,
        txBytes: 0,
        persistentKeepalive: null,
        interfacePublicKey: PUB,
        listenPort: 51820,
      },
      {
        interface: 'wg0',
        publicKey: PEER3,
        endpoint: null,
        allowedIps: ['10.66.0.3/32'],
        latestHandshake: 0,
        rxBytes: 0,
        txBytes: 148,
        persistentKeepalive: null,
        interfacePublicKey: PUB,
        listenPort: 51820,
      },
    ]);
    expect(JSON.stringify(peers)).not.toContain(PSK);
  });

  it('an interface without keys, fwmark off, no peers', () => {
    const d = parseWgDump('wg1', `${row('(none)', '(none)', 0, 'off')}\n`);
    expect(d).toEqual({ facts: { interface: 'wg1', publicKey: null, listenPort: 0, fwmark: 0 }, peers: [] });
  });

  it('a decimal fwmark and byte counts above 2^32', () => {
    const d = parseWgDump(
      'wg0',
      [row(PRIV, PUB, 1, '4660'), row(PEER1, '(none)', '(none)', '(none)', 5, 8589934592, 1, 'off')].join(
        '\n',
      ),
    );
    expect(d.facts.fwmark).toBe(4660);
    expect(d.peers[0]!.rxBytes).toBe(8589934592);
  });

  it('rejects malformed output by line and field, never quoting the text (it holds keys)', () => {
    expect(() => parseWgDump('wg0', '')).toThrow('`wg show wg0 dump` line 1: no interface line');
    expect(() => parseWgDump('wg0', row(PRIV, PUB, 51820))).toThrow(/line 1: expected 4 fields, got 3$/);
    expect(() => parseWgDump('wg0', row(PRIV, PUB, 'x', 'off'))).toThrow(
      /line 1: listen port is not a number/,
    );
    expect(() => parseWgDump('wg0', row(PRIV, PUB, 1, 'on'))).toThrow(/line 1: fwmark is not a number/);
    const bad = [row(PRIV, PUB, 1, 'off'), row(PEER1, PSK, '(none)', '(none)', 0, -1, 0, 'off')].join('\n');
    expect(() => parseWgDump('wg0', bad)).toThrow(/line 2: rx bytes is not a number/);
    const short = [row(PRIV, PUB, 1, 'off'), row(PEER1, PSK, '(none)')].join('\n');
    try {
      parseWgDump('wg0', short);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/line 2: expected 8 fields for a peer, got 3/);
      expect((e as Error).message).not.toContain(PSK);
      expect((e as Error).message).not.toContain(PRIV);
    }
  });
});
