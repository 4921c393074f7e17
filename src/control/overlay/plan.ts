/**
 * From the validated config to the commands that bring one WireGuard interface up: the
 * interface name and MTU come from the tun port it runs on, the `wg set` arguments from the
 * `overlay.wireguard[]` entry. Pure: no system access.
 */
import { dirname, resolve } from 'node:path';
import { formatPrefix } from '../config/net.js';
import type { Endpoint, FerryConfig, WireguardConfig } from '../config/types.js';

export interface OverlayPlan {
  /** The OS interface: the port's `device` (its name unless given). */
  readonly ifname: string;
  readonly portName: string;
  readonly mtu: number;
  /** Absolute paths: a relative path in the config is relative to the config file's directory. */
  readonly privateKeyFile: string;
  readonly presharedKeyFiles: readonly string[];
  readonly peers: number;
  /** `wg set` arguments: file paths and public keys only. */
  readonly wgSet: readonly string[];
  /** `ip link set dev <if> mtu N up`. */
  readonly linkUp: readonly string[];
}

/** "host:port", IPv6 literals in brackets ("[2001:db8::1]:51820"), as `wg` reads endpoints. */
export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

export function base64Key(key: Uint8Array): string {
  return Buffer.from(key).toString('base64');
}

/**
 * `wg set <if> private-key <file> [listen-port N] [fwmark M] peer <pub> [preshared-key <file>]
 * [endpoint host:port] allowed-ips a,b [persistent-keepalive N] …`. Zero listen-port (random),
 * zero fwmark and zero keepalive are wg's defaults, so they are left out.
 */
export function wgSetArgs(
  ifname: string,
  wg: WireguardConfig,
  resolvePath: (p: string) => string = (p) => p,
): string[] {
  const args = ['set', ifname, 'private-key', resolvePath(wg.privateKeyFile)];
  if (wg.listenPort !== 0) args.push('listen-port', String(wg.listenPort));
  if (wg.fwmark !== 0) args.push('fwmark', `0x${wg.fwmark.toString(16)}`);
  for (const p of wg.peers) {
    args.push('peer', base64Key(p.publicKey));
    if (p.presharedKeyFile !== null) args.push('preshared-key', resolvePath(p.presharedKeyFile));
    if (p.endpoint !== null) args.push('endpoint', formatEndpoint(p.endpoint));
    // an empty list is an empty argument: the peer gets no allowed IPs
    args.push('allowed-ips', p.allowedIps.map(formatPrefix).join(','));
    if (p.keepalive !== 0) args.push('persistent-keepalive', String(p.keepalive));
  }
  return args;
}

/** The plan for `cfg.overlay.wireguard[i]`. */
export function planOverlay(cfg: FerryConfig, i: number): OverlayPlan {
  const wg = cfg.overlay.wireguard[i];
  if (!wg) throw new RangeError(`no overlay.wireguard[${i}] in ${cfg.file}`);
  const port = cfg.ports[wg.port];
  if (!port) throw new Error(`overlay.wireguard[${i}] refers to port #${wg.port}, which ${cfg.file} lacks`);
  if (port.kind !== 'tun') {
    throw new Error(`overlay.wireguard[${i}]: port "${port.name}" is kind ${port.kind}, not tun`);
  }
  const base = dirname(resolve(cfg.file));
  const abs = (p: string) => resolve(base, p);
  return {
    ifname: port.device,
    portName: port.name,
    mtu: port.mtu,
    privateKeyFile: abs(wg.privateKeyFile),
    presharedKeyFiles: wg.peers.flatMap((p) =>
      p.presharedKeyFile === null ? [] : [abs(p.presharedKeyFile)],
    ),
    peers: wg.peers.length,
    wgSet: wgSetArgs(port.device, wg, abs),
    linkUp: ['link', 'set', 'dev', port.device, 'mtu', String(port.mtu), 'up'],
  };
}
