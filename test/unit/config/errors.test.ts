import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue } from '../../../src/control/config/errors.js';
import { loadConfig, parseConfig } from '../../../src/control/config/loader.js';

/** Lines of YAML → the formatted issues (or [] when the config is valid). */
function errors(...lines: string[]): string[] {
  try {
    parseConfig(lines.join('\n'), 'bad.yaml');
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.issues.map(formatIssue);
  }
}

// Two valid ports most cases build on.
const PORTS = [
  'ports:',
  '  - name: eth0',
  '    kind: afpacket',
  '    addresses: [192.168.0.125/24]',
  '  - name: eth1',
  '    kind: afpacket',
  '    addresses: [10.0.0.1/24]',
];

describe('config errors: syntax', () => {
  it('reports YAML syntax errors with file:line:col', () => {
    const e = errors('ports:', '  - name: eth0', '    kind: [afpacket', '  - name: eth1');
    expect(e.length).toBeGreaterThan(0);
    expect(e[0]).toMatch(/^bad\.yaml:\d+:\d+: /);
  });

  it('duplicate keys are syntax errors at the second key', () => {
    expect(errors('ports:', '  - name: eth0', '    kind: tun', '    name: eth1')).toEqual([
      'bad.yaml:4:5: Map keys must be unique',
    ]);
  });

  it('an empty file, and a top level that is not a map', () => {
    expect(errors('')).toEqual(['bad.yaml:1:1: the file is empty (it needs at least ports:)']);
    expect(errors('- a', '- b')).toEqual([
      'bad.yaml:1:1: expected a map of sections (ports, tables, …) at the top, got a list',
    ]);
  });
});

describe('config errors: shape', () => {
  it('the bad value of an address, at the value', () => {
    expect(
      errors(
        'ports:',
        '  - name: eth0',
        '    kind: afpacket',
        '  - name: eth1',
        '    kind: afpacket',
        '    addresses:',
        '      - 192.168.0.300/24',
      ),
    ).toEqual(['bad.yaml:7:9: ports[1].addresses[0]: "192.168.0.300/24" is not an IPv4 prefix']);
  });

  it('the same inside a flow sequence', () => {
    expect(
      errors('ports:', '  - { name: eth0, kind: tap, addresses: [10.0.0.1/24, 10.0.0.300/24] }'),
    ).toEqual(['bad.yaml:2:55: ports[0].addresses[1]: "10.0.0.300/24" is not an IPv4 prefix']);
  });

  it('an unknown key, at the key, with a suggestion', () => {
    expect(errors('ports:', '  - name: eth0', '    kind: tap', '    adresses: [10.0.0.1/24]')).toEqual([
      'bad.yaml:4:5: ports[0]: unknown key "adresses" (did you mean "addresses"?)',
    ]);
  });

  it('an unknown top-level section, and one with nothing close to it', () => {
    expect(errors(...PORTS, 'chain: {}', 'frobnicate: 1')).toEqual([
      'bad.yaml:8:1: unknown key "chain" (did you mean "chains"?)',
      'bad.yaml:9:1: unknown key "frobnicate"',
    ]);
  });

  it('a missing key, at the map that lacks it', () => {
    expect(errors('ports:', '  - name: eth0', '    kind: tap', '  - kind: tun', '    attach: true')).toEqual([
      'bad.yaml:4:5: ports[1]: missing required key "name"',
    ]);
  });

  it('a misspelt enum value, with a suggestion', () => {
    expect(errors('ports:', '  - name: eth0', '    kind: afpackt')).toEqual([
      'bad.yaml:3:11: ports[0].kind: "afpackt" is not one of afpacket, tun, tap, host, pcap, memory (did you mean "afpacket"?)',
    ]);
  });

  it('a value of the wrong YAML type', () => {
    expect(errors('ports: eth0')).toEqual(['bad.yaml:1:8: ports: expected a list of ports, got "eth0"']);
    expect(errors(...PORTS, 'tables:', '  main: default')).toEqual([
      'bad.yaml:9:9: tables.main: expected a list of routes, or a map {id, routes}, got "default"',
    ]);
  });

  it('an explicit empty value is not a missing key', () => {
    expect(errors('ports:', '  - name: eth0', '    kind:')).toEqual([
      'bad.yaml:3:5: ports[0].kind: expected one of afpacket, tun, tap, host, pcap, memory, got an empty value',
    ]);
  });

  it('YAML 1.1 booleans get a hint', () => {
    expect(errors('ports:', '  - name: eth0', '    kind: tap', '    proxy-arp: yes')).toEqual([
      'bad.yaml:4:16: ports[0].proxy-arp: expected true or false, got "yes" (YAML 1.2 reads "yes" as a string)',
    ]);
  });

  it('a host-bits error in a route, inside a table known by its number', () => {
    expect(errors(...PORTS, 'tables:', '  "100":', '    - to: 192.168.1.5/24', '      dev: eth0')).toEqual([
      'bad.yaml:10:11: tables["100"][0].to: "192.168.1.5/24" has host bits set (the network is 192.168.1.0/24)',
    ]);
  });

  it('a mark with bits outside its mask, in a flow map', () => {
    expect(errors(...PORTS, 'rules:', '  - { priority: 10, fwmark: "0x11/0x1", table: main }')).toEqual([
      'bad.yaml:9:29: rules[0].fwmark: "0x11/0x1": value 0x11 has bits outside the mask 0x1',
    ]);
  });

  it('errors inside a list of actions point at the action', () => {
    expect(errors(...PORTS, 'chains:', '  c:', '    rules:', '      - action: [counter, {jmup: x}]')).toEqual(
      ['bad.yaml:11:28: chains.c.rules[0].action[1]: unknown key "jmup" (did you mean "jump"?)'],
    );
  });

  it('several problems are all reported, in file order', () => {
    expect(errors('ports:', '  - name: 1eth', '    kind: tux', '    mtu: 9999999')).toEqual([
      'bad.yaml:2:11: ports[0].name: "1eth" is not a valid port name (a letter, then letters, digits, "_", "." or "-")',
      'bad.yaml:3:11: ports[0].kind: "tux" is not one of afpacket, tun, tap, host, pcap, memory (did you mean "tun"?)',
      'bad.yaml:4:10: ports[0].mtu: 9999999 is out of range 68..65535',
    ]);
  });
});

describe('config errors: references and clashes', () => {
  it('a route to a port that does not exist', () => {
    expect(
      errors(...PORTS, 'tables:', '  main:', '    - { to: default, via: 192.168.0.1, dev: eth2 }'),
    ).toEqual(['bad.yaml:10:45: tables.main[0].dev: no port named "eth2" (did you mean "eth0"?)']);
  });

  it('a rule to a table that does not exist, by name and by id', () => {
    expect(
      errors(
        ...PORTS,
        'tables:',
        '  vpn: { id: 100 }',
        'rules:',
        '  - { priority: 10, table: vnp }',
        '  - { priority: 11, table: 101 }',
      ),
    ).toEqual([
      'bad.yaml:11:28: rules[0].table: no table named "vnp" (did you mean "vpn"?)',
      'bad.yaml:12:28: rules[1].table: no table with id 101 (declare it under tables)',
    ]);
  });

  it('a named table without an id, at its key', () => {
    expect(errors(...PORTS, 'tables:', '  vpn:', '    - { to: default, dev: eth1 }')).toEqual([
      'bad.yaml:9:3: tables.vpn: table "vpn" needs an id: write vpn: { id: N, routes: [...] }',
    ]);
  });

  it('duplicate and reserved rule priorities', () => {
    expect(
      errors(
        ...PORTS,
        'rules:',
        '  - { priority: 100, table: main }',
        '  - { priority: 100, table: main }',
        '  - { priority: 32766, action: prohibit }',
      ),
    ).toEqual([
      'bad.yaml:10:17: rules[1].priority: priority 100 is already used by rules[0]',
      'bad.yaml:11:17: rules[2].priority: priority 32766 is the implicit "lookup main" rule',
    ]);
  });

  it('a duplicate port name, at the second name', () => {
    expect(errors('ports:', '  - { name: eth0, kind: tap }', '  - { name: eth0, kind: tun }')).toEqual([
      'bad.yaml:3:13: ports[1].name: port "eth0" is already defined at ports[0]',
    ]);
  });

  it('a gateway reachable through two ports needs dev', () => {
    expect(
      errors(
        'ports:',
        '  - { name: eth0, kind: afpacket, addresses: [192.168.0.125/24] }',
        '  - { name: eth1, kind: afpacket, addresses: [192.168.0.126/24] }',
        'tables:',
        '  main: [{ to: default, via: 192.168.0.1 }]',
      ),
    ).toEqual([
      'bad.yaml:5:30: tables.main[0].via: via 192.168.0.1 is in the subnets of ports "eth0" and "eth1"; add dev',
    ]);
  });

  it('jump to a missing chain, to a base chain, and a jump loop', () => {
    expect(
      errors(
        ...PORTS,
        'chains:',
        '  pre:',
        '    hook: prerouting',
        '    rules:',
        '      - action: { jump: a }',
        '      - action: { jump: nope }',
        '  a:',
        '    rules:',
        '      - action: { jump: b }',
        '  b:',
        '    rules:',
        '      - action: { goto: a }',
        '      - action: { jump: pre }',
      ),
    ).toEqual([
      'bad.yaml:13:25: chains.pre.rules[1].action.jump: no chain named "nope"',
      'bad.yaml:19:25: chains.b.rules[0].action.goto: goto to "a" makes a loop: a → b → a',
      'bad.yaml:20:25: chains.b.rules[1].action.jump: cannot jump to base chain "pre"; jump targets are user chains',
    ]);
  });

  it('NAT and oif where the hook cannot have them, also through a jump', () => {
    expect(
      errors(
        ...PORTS,
        'chains:',
        '  fwd:',
        '    hook: forward',
        '    rules:',
        '      - action: { jump: nat-stuff }',
        '  pre:',
        '    hook: prerouting',
        '    rules:',
        '      - match: { oif: eth0 }',
        '        action: accept',
        '  nat-stuff:',
        '    rules:',
        '      - action: masquerade',
      ),
    ).toEqual([
      'bad.yaml:16:23: chains.pre.rules[0].match.oif: oif needs a hook after routing (forward, output, postrouting); this runs in a filter chain at prerouting',
      'bad.yaml:20:17: chains.nat-stuff.rules[0].action: masquerade needs a nat chain at postrouting; this runs in a filter chain at forward (reached from chain "fwd")',
    ]);
  });

  it('a verdict followed by more actions', () => {
    expect(errors(...PORTS, 'chains:', '  c:', '    rules:', '      - action: [accept, counter]')).toEqual([
      'bad.yaml:11:26: chains.c.rules[0].action[1]: "accept" ends the rule, so nothing may follow it',
    ]);
  });

  it('ports need a protocol, sets must have the right type', () => {
    expect(
      errors(
        ...PORTS,
        'sets:',
        '  web: { type: port, elements: [80, 443] }',
        'chains:',
        '  c:',
        '    rules:',
        '      - match: { dport: 22 }',
        '        action: accept',
        '      - match: { dst: "@web" }',
        '        action: accept',
      ),
    ).toEqual([
      'bad.yaml:13:18: chains.c.rules[0].match.dport: dport needs proto tcp, udp, sctp or udplite',
      'bad.yaml:15:23: chains.c.rules[1].match.dst: set "web" holds ports, not addresses',
    ]);
  });

  it('services: the relay needs an IPv4 address on its port, failover needs existing tables', () => {
    expect(
      errors(
        'ports:',
        '  - { name: eth0, kind: afpacket }',
        '  - { name: tun0, kind: tun, addresses: [10.9.0.1/24] }',
        'dhcp-relay: { listen: [eth0, tun0], servers: [192.168.0.1] }',
        'failover:',
        '  wans:',
        '    - { name: a, port: eth0, table: wan1, check: { target: 1.1.1.1 } }',
        '    - { name: b, port: tun0, table: main, check: { target: 1.1.1.1, timeout: 10s } }',
      ),
    ).toEqual([
      'bad.yaml:4:24: dhcp-relay.listen[0]: port "eth0" has no IPv4 address to use as the relay address (giaddr)',
      'bad.yaml:4:30: dhcp-relay.listen[1]: DHCP clients broadcast on Ethernet; port "tun0" is a tun port',
      'bad.yaml:7:37: failover.wans[0].table: no table named "wan1"',
      'bad.yaml:8:78: failover.wans[1].check.timeout: timeout (10000 ms) is longer than interval (5000 ms)',
    ]);
  });

  it("l2tp: udp encapsulation needs ports, the local address must be ferry's", () => {
    expect(
      errors(
        'ports:',
        '  - { name: tun0, kind: tun, addresses: [fc12::1/8] }',
        '  - { name: exit, kind: tap }',
        'l2tp:',
        '  tunnels:',
        '    - name: t',
        '      local: fc12::2',
        '      peer: fc98::1',
        '      encap: udp',
        '      tunnel-id: 1',
        '      peer-tunnel-id: 2',
        '      sessions: [{ name: s, session-id: 1, peer-session-id: 2, bridge: tun0 }]',
      ),
    ).toEqual([
      'bad.yaml:6:7: l2tp.tunnels[0]: encap udp needs udp: { local-port, peer-port }',
      'bad.yaml:7:14: l2tp.tunnels[0].local: fc12::2 is not an address of any port',
      'bad.yaml:12:72: l2tp.tunnels[0].sessions[0].bridge: L2TPv3 sessions carry Ethernet frames: port "tun0" is a tun port',
    ]);
  });

  it('a key that does not apply to the port kind, at the key', () => {
    expect(errors('ports:', '  - name: wg0', '    kind: tun', '    proxy-arp: true')).toEqual([
      'bad.yaml:4:5: ports[0].proxy-arp: proxy-arp applies to afpacket and tap and pcap and memory ports, not tun',
    ]);
  });
});

describe('config errors: one run reports every section', () => {
  it('a broken section does not hide the others, nor cascade into references to it', () => {
    expect(
      errors(
        ...PORTS,
        'tables:',
        '  vpn: { id: x }',
        'rules:',
        '  - { priority: 5, table: vpn }',
        'chains:',
        '  c:',
        '    rules:',
        '      - match: { iif: eth9 }',
        '        action: accept',
      ),
    ).toEqual([
      'bad.yaml:9:14: tables.vpn.id: expected an integer, got "x"',
      'bad.yaml:15:23: chains.c.rules[0].match.iif: no port named "eth9" (did you mean "eth0"?)',
    ]);
  });
});

describe('config loading', () => {
  it('YAML anchors and aliases work, and an error in an anchored node is reported once, at the anchor', () => {
    expect(
      errors(
        'ports:',
        '  - { name: brwan1, kind: afpacket }',
        '  - { name: brwan2, kind: afpacket }',
        '  - { name: brlan, kind: afpacket }',
        'chains:',
        '  fwd:',
        '    hook: forward',
        '    rules:',
        '      - match: { iif: brlan, oif: &wans [brwan1, brwan2] }',
        '        action: accept',
        '      - match: { iif: *wans }',
        '        action: drop',
      ),
    ).toEqual([]);
    expect(errors('ports:', '  - &p { name: eth0, kind: tux }', '  - *p')).toEqual([
      'bad.yaml:2:28: ports[0].kind: "tux" is not one of afpacket, tun, tap, host, pcap, memory (did you mean "tun"?)',
    ]);
  });

  it('an unreadable file is one issue without a position', async () => {
    await expect(loadConfig('/nonexistent/ferry.yaml')).rejects.toThrow(
      '/nonexistent/ferry.yaml: cannot read: no such file',
    );
  });

  it('returns the normalised config: numbers for addresses, indices for ports, defaults filled in', () => {
    const c = parseConfig(
      [
        ...PORTS,
        'tables:',
        '  vpn: { id: 100, routes: [{ to: default, dev: eth1 }] }',
        'rules:',
        '  - { priority: 100, fwmark: "0x1/0xff", iif: eth0, table: vpn }',
      ].join('\n'),
      'ok.yaml',
    );
    expect(c.ports[0]!.addresses[0]).toEqual({ family: 4, addr: 0xc0a8007d, len: 24 });
    expect(c.ports[1]!.mtu).toBe(1500);
    expect(c.rules).toEqual([
      {
        priority: 100,
        family: 0,
        fwmark: { value: 1, mask: 0xff },
        from: null,
        to: null,
        iif: 0,
        action: 'lookup',
        table: 100,
      },
    ]);
    const vpn = c.tables.find((t) => t.name === 'vpn')!;
    expect(vpn.routes).toEqual([
      { to: { family: 4, addr: 0, len: 0 }, via: null, port: 1, metric: 0, type: 'unicast', onlink: false },
    ]);
    expect(c.conntrack.timeouts.tcpEstablished).toBe(432_000_000);
    expect(c.dhcpRelay).toBeNull();
  });
});
