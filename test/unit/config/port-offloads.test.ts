/** The `offloads:` key of a port: afpacket only, off (default) or vnet. */
import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue } from '../../../src/control/config/errors.js';
import { parseConfig } from '../../../src/control/config/loader.js';

function parse(...lines: string[]) {
  return parseConfig(lines.join('\n'), 'offloads.yaml');
}

function errors(...lines: string[]): string[] {
  try {
    parse(...lines);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.issues.map(formatIssue);
  }
}

describe('config: port offloads', () => {
  it('defaults to off and takes vnet on an afpacket port', () => {
    const cfg = parse(
      'ports:',
      '  - { name: eth0, kind: afpacket, offloads: vnet }',
      '  - { name: eth1, kind: afpacket }',
      '  - { name: t0, kind: tun, addresses: [10.9.0.1/24] }',
    );
    expect(cfg.ports.map((p) => p.offloads)).toEqual(['vnet', 'off', 'off']);
  });

  it('refuses other values, and the key on other kinds', () => {
    const bad = errors('ports:', '  - { name: eth0, kind: afpacket, offloads: keep }');
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^offloads\.yaml:2:\d+: .*offloads.*off.*vnet/);
    const tun = errors('ports:', '  - { name: t0, kind: tun, offloads: vnet }');
    expect(tun).toHaveLength(1);
    expect(tun[0]).toMatch(/^offloads\.yaml:2:\d+: .*offloads/);
  });
});
