export { attachDhcpClients, DhcpClientStage, type DhcpClients, type DhcpClientsOptions } from './attach.js';
export {
  BROADCAST,
  DhcpClient,
  type DhcpClientHost,
  type DhcpClientOptions,
  type DhcpEvent,
  type DhcpEventKind,
  type DhcpState,
  INFINITE_LEASE,
  type Lease,
  leaseExpiry,
  leaseRoutes,
} from './client.js';
export { defaultStateDir, LeaseFile, leaseFromJson, leasePath, leaseToJson } from './lease-file.js';
export { buildClientMessage, type LeaseRoute, parseServerReply, type ServerReply } from './messages.js';
