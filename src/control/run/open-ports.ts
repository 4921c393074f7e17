/**
 * Opens the live port for every configured port, in config order (`ports[i]` is `cfg.ports[i]`):
 *
 * - afpacket: an AF_PACKET socket on `device` (offloads turned off while open, restored on close;
 *   `offloads: vnet` keeps them and exchanges virtio-net headers);
 * - tun / tap: a device ferry creates (removed when it closes); with `attach: true`, or a tun
 *   port an `overlay.wireguard[]` entry runs on (wireguard-go holds that TUN), an AF_PACKET
 *   socket on the existing device: L3 on a TUN, L2 on a TAP (host-side TUN/TAP fds are exclusive);
 * - host: the kernel's TAP, set up by host-setup.ts.
 *
 * Each port is recorded in the journal as soon as it is open, so a failure later on closes it.
 */

import { AfPacketPort } from '../../dataplane/io/afpacket-port.js';
import type { TunPort } from '../../dataplane/io/tun-port.js';
import { u48 } from '../../dataplane/wire/bytes.js';
import type { FerryConfig, PortConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { createTunTap, ferrySideMac, type HostChanges, StartupError, setUpHostPort } from './host-setup.js';

export type LivePort = AfPacketPort | TunPort;

/** Port indices whose TUN an overlay (wireguard-go) creates and owns. */
export function overlayPortIndices(cfg: FerryConfig): Set<number> {
  return new Set(cfg.overlay.wireguard.map((w) => w.port));
}

/** How a port is opened, in words (logs and errors). */
export function portMode(p: PortConfig, overlay: ReadonlySet<number>): string {
  if (p.kind === 'tun' && overlay.has(p.index)) return 'tun of the overlay, attached (AF_PACKET L3)';
  if ((p.kind === 'tun' || p.kind === 'tap') && p.attach) return `${p.kind} attached (AF_PACKET)`;
  return p.kind;
}

/** Kinds that exist only offline. */
export function liveKindProblem(p: PortConfig): string | null {
  if (p.kind === 'pcap' || p.kind === 'memory')
    return `port ${p.name}: kind ${p.kind} cannot run live (it is for \`ferry replay\` and tests); use afpacket, tun, tap or host`;
  return null;
}

function openOne(p: PortConfig, overlay: ReadonlySet<number>, changes: HostChanges, log: Logger) {
  const attachL3 = p.kind === 'tun' && (p.attach || overlay.has(p.index));
  if (p.kind === 'afpacket' || attachL3 || (p.kind === 'tap' && p.attach)) {
    const port = AfPacketPort.open({
      ifname: p.device,
      mode: attachL3 ? 'l3' : 'l2',
      index: p.index,
      ...(p.kind === 'afpacket' && { offloads: p.offloads }),
    });
    changes.record(`AF_PACKET socket on ${p.device}`, () => port.close());
    if (port.l2 && p.mac) port.mac = u48(p.mac, 0);
    // Without an `mtu:` key the device's MTU stands (wireguard-go's TUN is 1420, not 1500).
    if (p.mtuSet && p.mtu < port.mtu) port.mtu = p.mtu;
    else if (p.mtuSet && p.mtu > port.mtu)
      log.warn(
        { port: p.name, device: p.device, mtu: port.mtu },
        `config mtu ${p.mtu} is above the device's`,
      );
    return port;
  }
  // tun / tap ferry creates: up, MTU from the config.
  const port = createTunTap(p, p.kind === 'tap' ? 'tap' : 'tun', true);
  changes.record(`${p.kind} ${p.device}`, () => port.close());
  if (port.l2) port.mac = ferrySideMac(p, port.mac);
  return port;
}

export async function openPorts(cfg: FerryConfig, changes: HostChanges, log: Logger): Promise<LivePort[]> {
  const overlay = overlayPortIndices(cfg);
  const ports: LivePort[] = [];
  for (const p of cfg.ports) {
    const problem = liveKindProblem(p);
    if (problem) throw new StartupError(problem);
    try {
      const port =
        p.kind === 'host' ? await setUpHostPort(p, changes, log) : openOne(p, overlay, changes, log);
      ports.push(port);
      log.debug({ port: p.name, device: port.name, mode: portMode(p, overlay) }, 'port open');
    } catch (err) {
      if (err instanceof StartupError) throw err;
      throw new StartupError(
        `port ${p.name} (${portMode(p, overlay)} on ${p.device}): ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  return ports;
}
