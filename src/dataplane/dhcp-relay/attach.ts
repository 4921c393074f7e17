/**
 * Adds the DHCP relay to a built router: the stage joins the pipeline (after port-output, so a
 * reply it hands to port-output runs in the dispatcher's next pass, which the pipeline bounds),
 * and ip4-local hands it UDP port 67. Relayed requests are originated into ip4-output; replies
 * go to port-output with their Ethernet header written.
 */
import type { DhcpRelayConfig } from '../../control/config/types.js';
import type { RouterEngine } from '../engine/router-engine.js';
import type { HostRouteLearner } from '../stages/route-result.js';
import { BOOTPS, DhcpRelay } from './relay-stage.js';

export interface AttachDhcpRelayOptions {
  /**
   * Brouter mode (seed 000): the host-route learner the engine was built with (`RouterOptions.hosts`),
   * so that a lease delivered on a proxy-ARP port installs `yiaddr/32 dev port`. Null or absent:
   * leases only fill the neighbour table.
   */
  hosts?: HostRouteLearner | null;
}

export function attachDhcpRelay(
  engine: RouterEngine,
  cfg: DhcpRelayConfig,
  opts: AttachDhcpRelayOptions = {},
): DhcpRelay {
  const stage = engine.pipe.add(new DhcpRelay(engine.pipe, engine.ctx, cfg, opts.hosts ?? null));
  stage.output = engine.local.output;
  stage.transmit = engine.arpOut.portOutput;
  stage.release = engine.arpIn.release;
  engine.local.listenUdp(BOOTPS, stage);
  return stage;
}
