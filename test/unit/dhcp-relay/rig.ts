/** A routed relay on memory ports: clients on lan (10.1.0.1/24), servers beyond the gateway on wan. */
import type { DhcpRelayConfig } from '../../../src/control/config/types.js';
import { attachDhcpRelay, type DhcpRelay } from '../../../src/dataplane/dhcp-relay/index.js';
import { arpRequest, ip } from '../../helpers/frames.js';
import { RouterRig } from '../../helpers/router-rig.js';
import { udpFrame, withGiaddr } from './dhcp-frames.js';

export const R_LAN = '02:00:00:00:00:01';
export const R_WAN = '02:00:00:00:00:02';
export const GW = '0a:00:00:00:00:01';
export const SERVER = '198.51.100.7';
export const SERVER2 = '203.0.113.9';

export interface Relay {
  r: RouterRig;
  relay: DhcpRelay;
}

export function routedRelay(
  cfg: Partial<DhcpRelayConfig> = {},
  opts: { learnGateway?: boolean; wanMtu?: number; hosts?: boolean } = {},
): Relay {
  const r = new RouterRig([
    { name: 'lan', mac: R_LAN, address: '10.1.0.1' },
    { name: 'wan', mac: R_WAN, address: '192.0.2.2', mtu: opts.wanMtu ?? 1500 },
  ]);
  r.routes.add(0, 0, 1, ip('192.0.2.1'));
  const relay = attachDhcpRelay(
    r.engine,
    {
      listen: [0],
      servers: [ip(SERVER)],
      hopLimit: 10,
      option82: null,
      ...cfg,
    },
    { hosts: opts.hosts ? r.routes : null },
  );
  if (opts.learnGateway !== false) {
    r.send('wan', [arpRequest(GW, '192.0.2.1', '192.0.2.2')]);
    r.sent('wan');
  }
  return { r, relay };
}

/** A server's reply to the relay at giaddr, routed to us by the gateway. */
export function fromServer(
  msg: Uint8Array,
  o: { server?: string; giaddr?: string; dst?: string; sport?: number } = {},
): Uint8Array {
  const giaddr = o.giaddr ?? '10.1.0.1';
  return udpFrame(
    {
      dstMac: R_WAN,
      srcMac: GW,
      src: o.server ?? SERVER,
      dst: o.dst ?? giaddr,
      sport: o.sport ?? 67,
      dport: 67,
    },
    withGiaddr(msg, giaddr),
  );
}
