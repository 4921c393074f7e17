/**
 * The seed-000 config as the live benchmark runs it: examples/brouter.yaml with two changes for
 * the namespace topology (topology.ts), everything else (proxy-ARP legs, the mark rule, the fwmark
 * rule and table 100, the masquerade chain, the DHCP relay) as written:
 * - tailscale0 is an AF_PACKET port on a veth instead of an attached TUN, as for every engine;
 * - the host port (the Pi's own traffic through a TAP) is left out: the forwarder namespace has
 *   no traffic of its own, and the kernel there must stay out of the measured path.
 * With `offloads: 'vnet'` (the ferry-vnet engine) every afpacket port also gets `offloads: vnet`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';

interface RawPort {
  name: string;
  kind: string;
  attach?: boolean;
  offloads?: string;
}

export function liveBrouterYaml(root: string, offloads: 'off' | 'vnet' = 'off'): string {
  const doc = parseDocument(readFileSync(join(root, 'examples/brouter.yaml'), 'utf8'));
  const cfg = doc.toJS() as { ports: RawPort[] } & Record<string, unknown>;
  if (!cfg.ports.some((p) => p.name === 'tailscale0')) {
    throw new Error('examples/brouter.yaml: no tailscale0 port (the live benchmark routes through it)');
  }
  cfg.ports = cfg.ports
    .filter((p) => p.kind !== 'host')
    .map((p) => {
      if (p.name !== 'tailscale0') return p;
      const { attach: _attach, ...rest } = p;
      return { ...rest, kind: 'afpacket' };
    })
    .map((p) => (offloads === 'vnet' && p.kind === 'afpacket' ? { ...p, offloads: 'vnet' } : p));
  doc.contents = doc.createNode(cfg) as typeof doc.contents;
  return [
    '# examples/brouter.yaml for the live benchmark (bench/matrix/live/configs.ts):',
    `# tailscale0 on a veth (afpacket), no host port${offloads === 'vnet' ? ', offloads vnet on every afpacket port' : ''}.`,
    doc.toString(),
  ].join('\n');
}

/** Writes the live config into `dir`; returns its path. */
export function writeLiveBrouterConfig(root: string, dir: string, offloads: 'off' | 'vnet' = 'off'): string {
  const file = join(dir, offloads === 'vnet' ? 'brouter-live-vnet.yaml' : 'brouter-live.yaml');
  writeFileSync(file, liveBrouterYaml(root, offloads));
  return file;
}
