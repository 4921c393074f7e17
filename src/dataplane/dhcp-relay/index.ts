/** The DHCPv4 relay agent (RFC 1542 §4, RFC 2131 §4.1, RFC 3046). See relay-stage.ts. */
export { type AttachDhcpRelayOptions, attachDhcpRelay } from './attach.js';
export { DhcpRelayCounters, messageTypeName } from './counters.js';
export {
  BOOTPC,
  BOOTPS,
  DhcpRelay,
  RELAY_MAX_MESSAGE,
  type RelaySettings,
  RFC1542_MAX_HOPS,
} from './relay-stage.js';
