/**
 * Seed 000's addresses, as the write-up names them where it does (192.168.0.0/24 at the flat,
 * 192.168.1.0/24 and Jellyfin's 192.168.1.30:8096 at the parents', 100.120.7.128 on tailscale0,
 * the relay's 192.168.0.125/.126), documentation ranges (RFC 5737) for the Internet beyond.
 *
 *   client c0 (udhcpc) ── eth1 [brouter: ferry, tailscale0 = wireguard-go] eth0 ── i0 isp 192.168.0.1 (dnsmasq)
 *                                                                                 u0 198.51.100.254 (masquerade)
 *                                                                                  │
 *                        jellyfin 192.168.1.30 ── remote wg0 / w0 203.0.113.2 ── net 198.51.100.1 / 203.0.113.1
 */
export const ISP_LAN = '192.168.0.1';
export const ISP_WAN = '198.51.100.254';
/** A host beyond the ISP router (the `net` namespace's address toward it). */
export const BEYOND_ISP = '198.51.100.1';
export const NET_TO_REMOTE = '203.0.113.1';
/** The parents' router: its public address is the WireGuard endpoint. */
export const REMOTE_PUBLIC = '203.0.113.2';
export const REMOTE_WG_PORT = 51820;
/** tailscaled's port on the brouter (Tailscale's default, 41641). */
export const BROUTER_WG_PORT = 41641;
export const REMOTE_LAN_GATEWAY = '192.168.1.1';
export const JELLYFIN = '192.168.1.30';
export const JELLYFIN_PORT = 8096;
/** tailscale0's address on the brouter: what masquerade rewrites the client's source to. */
export const TAILSCALE_ADDR = '100.120.7.128';
/** The brouter's addresses: eth0 / the box itself (host port) and eth1 (the relay's giaddr). */
export const BROUTER_ETH0 = '192.168.0.125';
export const GIADDR = '192.168.0.126';
/**
 * dnsmasq's pool on the ISP router (the blog's client got .53). It must leave out the brouter's
 * static .125/.126: dnsmasq runs with --no-ping, so it would not notice they are taken.
 */
export const LEASE_FIRST = '192.168.0.50';
export const LEASE_LAST = '192.168.0.99';
/** Device names inside the brouter namespace, as examples/brouter.yaml names them. */
export const TAILSCALE_DEV = 'tailscale0';
export const HOST_TAP = 'ferry0';

/** Whether `addr` is in dnsmasq's pool (192.168.0.50–99). */
export function inLeaseRange(addr: string): boolean {
  const last = (a: string) => Number(a.split('.')[3]);
  return addr.startsWith('192.168.0.') && last(addr) >= last(LEASE_FIRST) && last(addr) <= last(LEASE_LAST);
}
