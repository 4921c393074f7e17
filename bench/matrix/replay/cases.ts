/**
 * The replay cases of the matrix: which config, which hosts and flows, which packet sizes.
 *
 * Seed 000 (examples/brouter.yaml as written): 16 LAN clients on eth1; half the flows go to the
 * parents' network 192.168.1.0/24 (mark 1 → table 100 → tailscale0, masqueraded to
 * 100.120.7.128), half to the Internet through the ISP router on eth0 (tracked, not translated).
 * Seed 003 (examples/dual-wan.yaml): the DHCP leases the two WAN ports would get written in
 * statically (192.168.1.10/24 via 192.168.1.1 in wanisp1, 192.168.2.10/24 via 192.168.2.1 in
 * wanisp2); everything else as written: connection marks, the stateful forward filter, masquerade.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { parseConfig } from '../../../src/control/config/loader.js';
import type { FlowSpec, Neighbour, TrafficSpec } from './flows.js';

export interface ReplayCase {
  id: string;
  label: string;
  config: string;
  traffic: string;
  spec(root: string): TrafficSpec;
}

/** 64-byte Ethernet frames with FCS: 60 bytes in memory, an 18-byte UDP payload. */
const SMALL_IP = 60 - 14;
/**
 * Simple IMIX, 7:4:1 of 64-, 594- and 1518-byte frames with FCS (60/590/1514 in memory), spread
 * over each run of 12 packets.
 */
const IMIX_IP = [46, 46, 576, 46, 46, 576, 46, 1500, 46, 576, 46, 576];

const CLIENTS = 16;
const clientIp = (c: number) => `192.168.0.${40 + c}`;
const clientMac = (c: number) => 0x0a00_0000_0040 + c;

function seed000Neighbours(): Neighbour[] {
  const n: Neighbour[] = [
    { port: 'eth0', mac: 0x0a00_0000_0001, ip: '192.168.0.1', routerIp: '192.168.0.125' },
  ];
  for (let c = 0; c < CLIENTS; c++)
    n.push({ port: 'eth1', mac: clientMac(c), ip: clientIp(c), routerIp: '192.168.0.126' });
  return n;
}

/** Even flows to the overlay (192.168.1.x), odd ones to the Internet. */
function seed000Flows(count: number, proto: 'udp' | 'tcp'): FlowSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    proto,
    lanPort: 'eth1',
    client: clientIp(i % CLIENTS),
    clientMac: clientMac(i % CLIENTS),
    clientPort: 20_000 + i,
    server: i % 2 === 0 ? `192.168.1.${30 + ((i >> 1) % 32)}` : `203.0.113.${1 + ((i >> 1) % 64)}`,
    serverPort: proto === 'tcp' ? (i % 2 === 0 ? 8096 : 443) : i % 2 === 0 ? 9000 : 443,
  }));
}

function seed000(
  root: string,
  flows: FlowSpec[],
  rounds: number,
  udpIpLength: (n: number) => number,
): TrafficSpec {
  const file = join(root, 'examples/brouter.yaml');
  return {
    cfg: parseConfig(readFileSync(file, 'utf8'), file),
    macs: { eth0: 0x0200_0000_00e0, eth1: 0x0200_0000_00e1, host: 0x02fe_0000_0001 },
    neighbours: seed000Neighbours(),
    flows,
    rounds,
    udpIpLength,
  };
}

/** examples/dual-wan.yaml with the WAN leases written in (see the header). */
export function dualWanYaml(root: string): string {
  const doc = parseDocument(readFileSync(join(root, 'examples/dual-wan.yaml'), 'utf8'));
  const wans = [
    ['brwan1', 'wanisp1', '192.168.1'],
    ['brwan2', 'wanisp2', '192.168.2'],
  ] as const;
  const ports = doc.get('ports');
  if (!isSeq(ports)) throw new Error('examples/dual-wan.yaml: `ports` is not a list');
  for (const [port, table, net] of wans) {
    const p = ports.items.find((x) => isMap(x) && x.get('name') === port);
    if (!isMap(p)) throw new Error(`examples/dual-wan.yaml: no port ${port}`);
    p.delete('dhcp');
    p.set('addresses', doc.createNode([`${net}.10/24`]));
    doc.setIn(['tables', table, 'routes'], doc.createNode([{ to: 'default', via: `${net}.1`, dev: port }]));
  }
  return doc.toString();
}

function dualWan(root: string): TrafficSpec {
  const file = join(root, 'examples/dual-wan.yaml');
  const neighbours: Neighbour[] = [
    { port: 'brwan1', mac: 0x0a00_0000_01e1, ip: '192.168.1.1', routerIp: '192.168.1.10' },
    { port: 'brwan2', mac: 0x0a00_0000_02e1, ip: '192.168.2.1', routerIp: '192.168.2.10' },
  ];
  const lanIp = (c: number) => `10.100.0.${20 + c}`;
  const lanMac = (c: number) => 0x0a00_0000_0a00 + c;
  for (let c = 0; c < CLIENTS; c++)
    neighbours.push({ port: 'brlan', mac: lanMac(c), ip: lanIp(c), routerIp: '10.100.0.1' });
  const flows: FlowSpec[] = Array.from({ length: 256 }, (_, i) => ({
    proto: i % 2 === 0 ? 'tcp' : 'udp',
    lanPort: 'brlan',
    client: lanIp(i % CLIENTS),
    clientMac: lanMac(i % CLIENTS),
    clientPort: 30_000 + i,
    server: i % 2 === 0 ? `203.0.113.${1 + ((i >> 1) % 64)}` : `198.51.100.${1 + ((i >> 1) % 64)}`,
    serverPort: 443,
  }));
  return {
    cfg: parseConfig(dualWanYaml(root), `${file} (WAN leases written in)`),
    macs: {
      brlan: 0x0200_0000_00b0,
      brwan1: 0x0200_0000_00b1,
      brwan2: 0x0200_0000_00b2,
      host: 0x02fe_0000_0003,
    },
    neighbours,
    flows,
    rounds: 20,
    udpIpLength: () => SMALL_IP,
  };
}

export const REPLAY_CASES: ReplayCase[] = [
  {
    id: 'seed000-udp64',
    label: 'seed 000, 64-byte UDP, established flows',
    config: 'examples/brouter.yaml',
    traffic:
      '256 UDP flows from 16 clients, half to 192.168.1.0/24 (marked, policy-routed, masqueraded), half upstream; one 64-byte request and one 64-byte reply per flow per round',
    spec: (root) => seed000(root, seed000Flows(256, 'udp'), 24, () => SMALL_IP),
  },
  {
    id: 'seed000-imix',
    label: 'seed 000, IMIX, established flows',
    config: 'examples/brouter.yaml',
    traffic: 'the same 256 UDP flows; frame sizes simple IMIX 7:4:1 of 64/594/1518 bytes (with FCS)',
    spec: (root) => seed000(root, seed000Flows(256, 'udp'), 24, (n) => IMIX_IP[n % IMIX_IP.length]!),
  },
  {
    id: 'seed000-tcp',
    label: 'seed 000, TCP-heavy, established flows',
    config: 'examples/brouter.yaml',
    traffic:
      '64 TCP connections (handshake through ferry, window scale 7), half to 192.168.1.x:8096 (masqueraded), half upstream to :443; per round 2 × 1514-byte data segments down and 1 ACK up (every 16th a 200-byte request)',
    spec: (root) => seed000(root, seed000Flows(64, 'tcp'), 64, () => SMALL_IP),
  },
  {
    id: 'seed003-dualwan',
    label: 'seed 003, dual WAN, stateful filter + NAT',
    config: 'examples/dual-wan.yaml',
    traffic:
      '256 flows from 16 LAN hosts out brwan1 (connmark → fwmark → wanisp1, forward filter, masquerade): 128 TCP (data down, ACKs up, as above) and 128 UDP :443 (64-byte both ways)',
    spec: dualWan,
  },
];

export function replayCase(id: string): ReplayCase {
  const c = REPLAY_CASES.find((x) => x.id === id);
  if (!c) throw new Error(`unknown replay case ${id}; known: ${REPLAY_CASES.map((x) => x.id).join(', ')}`);
  return c;
}
