import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/control/config/loader.js';
import { formatEndpoint, planOverlay, wgSetArgs } from '../../../src/control/overlay/plan.js';

const PEER1 = 'azB5ysLG82dFsYBfauJzecLIZ55f285RbUoF8yyQtHw=';
const PEER2 = 'GttFoFbjML50vVssEgLbW8y7123VbdlqN629TRZi11s=';

const CONFIG = `
ports:
  - { name: lan, kind: tun, device: tunlan }
  - { name: home, kind: tun, device: wghome0, mtu: 1380 }
  - { name: plain, kind: tun }
overlay:
  wireguard:
    - port: home
      private-key-file: keys/home.key
      listen-port: 51820
      fwmark: 0x1234
      peers:
        - public-key: ${PEER1}
          preshared-key-file: /etc/ferry/home-peer1.psk
          endpoint: "[2001:db8::7]:51821"
          allowed-ips: [10.66.0.2/32, 192.168.50.0/24, "fd00:66::/64"]
          persistent-keepalive: 25
        - public-key: ${PEER2}
          allowed-ips: 10.66.0.3
    - port: plain
      private-key-file: /var/lib/ferry/plain.key
      peers:
        - public-key: ${PEER1}
          endpoint: vpn.example.net:4500
          allowed-ips: [10.67.0.0/16]
`;

describe('config → commands', () => {
  const cfg = parseConfig(CONFIG, '/etc/ferry/ferry.yaml');

  it("takes the interface from the port's device, the MTU from the port", () => {
    const p = planOverlay(cfg, 0);
    expect(p.ifname).toBe('wghome0');
    expect(p.portName).toBe('home');
    expect(p.linkUp).toEqual(['link', 'set', 'dev', 'wghome0', 'mtu', '1380', 'up']);
    const q = planOverlay(cfg, 1);
    expect(q.ifname).toBe('plain');
    expect(q.linkUp).toEqual(['link', 'set', 'dev', 'plain', 'mtu', '1500', 'up']);
  });

  it('resolves relative key paths against the config file directory', () => {
    const p = planOverlay(cfg, 0);
    expect(p.privateKeyFile).toBe('/etc/ferry/keys/home.key');
    expect(p.presharedKeyFiles).toEqual(['/etc/ferry/home-peer1.psk']);
    expect(planOverlay(cfg, 1).presharedKeyFiles).toEqual([]);
  });

  it('builds `wg set` with every setting', () => {
    expect(planOverlay(cfg, 0).wgSet).toEqual([
      'set',
      'wghome0',
      'private-key',
      '/etc/ferry/keys/home.key',
      'listen-port',
      '51820',
      'fwmark',
      '0x1234',
      'peer',
      PEER1,
      'preshared-key',
      '/etc/ferry/home-peer1.psk',
      'endpoint',
      '[2001:db8::7]:51821',
      'allowed-ips',
      '10.66.0.2/32,192.168.50.0/24,fd00:66::/64',
      'persistent-keepalive',
      '25',
      'peer',
      PEER2,
      'allowed-ips',
      '10.66.0.3/32',
    ]);
  });

  it("leaves wg's defaults out: random listen port, no fwmark, no keepalive", () => {
    expect(planOverlay(cfg, 1).wgSet).toEqual([
      'set',
      'plain',
      'private-key',
      '/var/lib/ferry/plain.key',
      'peer',
      PEER1,
      'endpoint',
      'vpn.example.net:4500',
      'allowed-ips',
      '10.67.0.0/16',
    ]);
  });

  it('puts no key material on the command line: files for secrets, public keys only', () => {
    for (const i of [0, 1]) {
      const argv = planOverlay(cfg, i).wgSet;
      // every base64 key on the line is a configured peer's public key
      const keys = argv.filter((a) => /^[A-Za-z0-9+/]{43}=$/.test(a));
      expect(keys.every((k) => k === PEER1 || k === PEER2)).toBe(true);
      // secrets are given as the files wg reads them from
      for (const flag of ['private-key', 'preshared-key']) {
        const at = argv.indexOf(flag);
        if (at >= 0) expect(argv[at + 1]).toMatch(/^\/.*\.(key|psk)$/);
      }
    }
  });

  it('an empty allowed-ips list is an empty argument (wg: the peer gets none)', () => {
    const wg = {
      ...cfg.overlay.wireguard[1]!,
      peers: [{ ...cfg.overlay.wireguard[1]!.peers[0]!, allowedIps: [] }],
    };
    const argv = wgSetArgs('plain', wg);
    expect(argv.slice(argv.indexOf('allowed-ips'))).toEqual(['allowed-ips', '']);
  });

  it('brackets IPv6 endpoint literals only', () => {
    expect(formatEndpoint({ host: '2001:db8::1', port: 51820 })).toBe('[2001:db8::1]:51820');
    expect(formatEndpoint({ host: '10.0.0.1', port: 1 })).toBe('10.0.0.1:1');
    expect(formatEndpoint({ host: 'peer.example', port: 51820 })).toBe('peer.example:51820');
  });

  it('names the config when asked for an overlay it does not have', () => {
    expect(() => planOverlay(cfg, 2)).toThrow('no overlay.wireguard[2] in /etc/ferry/ferry.yaml');
  });
});
