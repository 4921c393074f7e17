/**
 * What the relay did, beside the drop counters: requests and replies relayed (in total and by
 * DHCP message type), how replies were delivered, what happened to option 82, and what the
 * brouter learned. Plain numbers and typed arrays, bumped on the packet path; `snapshot()` names
 * them for `ferry status` and metrics.
 */
import {
  DHCPACK,
  DHCPDECLINE,
  DHCPDISCOVER,
  DHCPINFORM,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
} from '../wire/dhcpv4.js';

const TYPE_NAMES: Record<number, string> = {
  0: 'BOOTP',
  [DHCPDISCOVER]: 'DISCOVER',
  [DHCPOFFER]: 'OFFER',
  [DHCPREQUEST]: 'REQUEST',
  [DHCPDECLINE]: 'DECLINE',
  [DHCPACK]: 'ACK',
  [DHCPNAK]: 'NAK',
  [DHCPRELEASE]: 'RELEASE',
  [DHCPINFORM]: 'INFORM',
};

/** "DISCOVER", "ACK", … for option 53 values; "BOOTP" for 0 (no option 53); "type N" otherwise. */
export function messageTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `type ${t}`;
}

export class DhcpRelayCounters {
  /** BOOTREQUESTs relayed (to one server or more). */
  requests = 0;
  /** Datagrams sent to servers (one per server per request). */
  copies = 0;
  /** BOOTREPLYs delivered to clients. */
  replies = 0;
  repliesBroadcast = 0;
  repliesUnicast = 0;
  /** Option 82 added to a first-hop request (RFC 3046 §2.1). */
  option82Added = 0;
  /** A downstream agent's option 82 replaced by ours (policy replace). */
  option82Replaced = 0;
  /** Ours added after a downstream agent's (policy append). */
  option82Appended = 0;
  /** Relayed request already carried option 82 (or came via another relay) and went unchanged. */
  option82Forwarded = 0;
  /** Would not fit: forwarded without it (RFC 3046 §2.1 asks for an error counter). */
  option82NoRoom = 0;
  /** Plain BOOTP request (no options area): nowhere to put option 82. */
  option82NotDhcp = 0;
  /** Removed from a reply before delivery (RFC 3046 §2.1). */
  option82Stripped = 0;
  /** Leases learned on delivery: neighbour entries installed, and host routes in brouter mode. */
  learnedNeighbours = 0;
  learnedHostRoutes = 0;
  /** Per option 53 value (0 = plain BOOTP or no option 53). */
  readonly requestsByType = new Float64Array(256);
  readonly repliesByType = new Float64Array(256);

  /** Non-zero counters by name. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    const put = (k: string, v: number): void => {
      if (v) out[k] = v;
    };
    put('requests-relayed', this.requests);
    put('copies-to-servers', this.copies);
    put('replies-relayed', this.replies);
    put('replies-broadcast', this.repliesBroadcast);
    put('replies-unicast', this.repliesUnicast);
    put('option82-added', this.option82Added);
    put('option82-replaced', this.option82Replaced);
    put('option82-appended', this.option82Appended);
    put('option82-forwarded', this.option82Forwarded);
    put('option82-no-room', this.option82NoRoom);
    put('option82-not-dhcp', this.option82NotDhcp);
    put('option82-stripped', this.option82Stripped);
    put('learned-neighbours', this.learnedNeighbours);
    put('learned-host-routes', this.learnedHostRoutes);
    for (let t = 0; t < 256; t++) {
      put(`request-${messageTypeName(t)}`, this.requestsByType[t]!);
      put(`reply-${messageTypeName(t)}`, this.repliesByType[t]!);
    }
    return out;
  }
}
