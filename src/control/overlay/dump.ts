/**
 * `wg show <if> dump`: tab-separated, one line for the interface (private key, public key,
 * listen port, fwmark), then one per peer (public key, preshared key, endpoint, allowed IPs,
 * latest handshake, rx bytes, tx bytes, persistent keepalive). wg writes "(none)" for an absent
 * key, endpoint or allowed-IP list and "off" for fwmark 0 and keepalive 0.
 *
 * The first line's private key and every peer's preshared key are secrets: the parser skips
 * those fields, and its errors give line and field numbers, never the text.
 */
import type { OverlayPeerStatus } from '../run/runtime.js';

export interface OverlayInterfaceFacts {
  readonly interface: string;
  /** Base64; null when the interface has no private key yet. */
  readonly publicKey: string | null;
  /** The UDP port it listens on (a random one when the config gave none); 0 = not listening. */
  readonly listenPort: number;
  /** 0 = off. */
  readonly fwmark: number;
}

export interface WgDump {
  readonly facts: OverlayInterfaceFacts;
  readonly peers: OverlayPeerStatus[];
}

const NONE = '(none)';

class DumpError extends Error {
  constructor(iface: string, line: number, what: string) {
    super(`\`wg show ${iface} dump\` line ${line}: ${what}`);
    this.name = 'DumpError';
  }
}

function count(iface: string, line: number, field: string, text: string): number {
  if (!/^\d{1,20}$/.test(text)) throw new DumpError(iface, line, `${field} is not a number`);
  return Number(text);
}

export function parseWgDump(iface: string, text: string): WgDump {
  const lines = text.split('\n').filter((l) => l !== '');
  if (lines.length === 0) throw new DumpError(iface, 1, 'no interface line');
  const head = lines[0]!.split('\t');
  if (head.length !== 4) throw new DumpError(iface, 1, `expected 4 fields, got ${head.length}`);
  // head[0] is the private key: not read
  const [, publicKey, listenPort, fwmark] = head as [string, string, string, string];
  let mark = 0;
  if (fwmark !== 'off') {
    if (!/^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(fwmark))
      throw new DumpError(iface, 1, 'fwmark is not a number');
    mark = Number(fwmark);
  }
  const facts: OverlayInterfaceFacts = {
    interface: iface,
    publicKey: publicKey === NONE ? null : publicKey,
    listenPort: count(iface, 1, 'listen port', listenPort),
    fwmark: mark,
  };
  const peers = lines.slice(1).map((line, i): OverlayPeerStatus => {
    const n = i + 2;
    const f = line.split('\t');
    if (f.length !== 8) throw new DumpError(iface, n, `expected 8 fields for a peer, got ${f.length}`);
    // f[1] is the preshared key: not read
    const [pub, , endpoint, allowed, handshake, rx, tx, keepalive] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    return {
      interface: iface,
      publicKey: pub,
      endpoint: endpoint === NONE ? null : endpoint,
      allowedIps: allowed === NONE ? [] : allowed.split(','),
      latestHandshake: count(iface, n, 'latest handshake', handshake),
      rxBytes: count(iface, n, 'rx bytes', rx),
      txBytes: count(iface, n, 'tx bytes', tx),
      persistentKeepalive: keepalive === 'off' ? null : count(iface, n, 'persistent keepalive', keepalive),
      interfacePublicKey: facts.publicKey ?? undefined,
      listenPort: facts.listenPort,
    };
  });
  return { facts, peers };
}
