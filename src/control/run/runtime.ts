/**
 * What a running ferry (`ferry run`) exposes to its control plane: the control socket
 * (`ferry status`, `ferry conntrack`, `ferry trace --live`, `ferry reload`) and the Prometheus
 * endpoint read the engine through this interface only, so they can be tested on memory ports
 * without a daemon.
 */

import type { Port } from '../../dataplane/ports/port.js';
import type { BuiltRouter } from '../build-router.js';
import type { FerryConfig } from '../config/types.js';

/** One WireGuard peer as `wg show <if> dump` reports it. */
export interface OverlayPeerStatus {
  readonly interface: string;
  readonly publicKey: string;
  readonly endpoint: string | null;
  readonly allowedIps: readonly string[];
  /** Seconds since the epoch of the latest handshake; 0 = never. */
  readonly latestHandshake: number;
  readonly rxBytes: number;
  readonly txBytes: number;
  readonly persistentKeepalive: number | null;
  /** The interface's own public key (base64), for `ferry status`. */
  readonly interfacePublicKey?: string;
  /** The UDP port the interface listens on (0 = none). */
  readonly listenPort?: number;
}

export interface ReloadResult {
  readonly ok: boolean;
  /** On failure: the validation error (file:line:col key: message), the running config kept. */
  readonly error?: string;
  /** On success: what changed, in words (for the log and `ferry reload`). */
  readonly summary?: string;
}

/** The state of the running engine, swapped whole on every successful reload. */
export interface RunningState {
  readonly cfg: FerryConfig;
  readonly built: BuiltRouter;
  /** `ports[i]` is the port for `cfg.ports[i]`. */
  readonly ports: readonly Port[];
}

export interface Runtime {
  readonly configPath: string;
  /** Wall-clock seconds since the epoch when the engine started. */
  readonly startedAt: number;
  /** The current state (re-read it after every await: a reload may have swapped it). */
  current(): RunningState;
  /** Re-reads configPath and swaps it in, or keeps the running config and says why. */
  reload(): Promise<ReloadResult>;
  /** WireGuard peers of the overlays ferry brought up (empty when it brought none). */
  overlayPeers(): Promise<OverlayPeerStatus[]>;
  /** Socket errors the live ports reported (link down, interface gone), newest last. */
  portErrors(): readonly string[];
}
