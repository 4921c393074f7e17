/**
 * The DHCP client's messages (RFC 2131, options RFC 2132 / RFC 3442): building the client's
 * DISCOVER, REQUEST and RELEASE, and reading a server's OFFER / ACK / NAK into plain values. This
 * is control plane (a handful of messages per lease), so it allocates freely.
 */
import {
  BOOTP_MIN_LEN,
  BOOTREPLY,
  BOOTREQUEST,
  DHCP_FLAG_BROADCAST,
  DHCP_OPT_CLASSLESS_ROUTES,
  DHCP_OPT_CLIENT_ID,
  DHCP_OPT_END,
  DHCP_OPT_LEASE_TIME,
  DHCP_OPT_MAX_MESSAGE_SIZE,
  DHCP_OPT_MESSAGE_TYPE,
  DHCP_OPT_PARAMETER_LIST,
  DHCP_OPT_REBINDING_TIME,
  DHCP_OPT_RENEWAL_TIME,
  DHCP_OPT_REQUESTED_IP,
  DHCP_OPT_ROUTER,
  DHCP_OPT_SERVER_ID,
  DHCP_OPT_SUBNET_MASK,
  DHCPACK,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  type Dhcpv4Option,
  Dhcpv4View,
  emitDhcpv4,
  HTYPE_ETHERNET,
} from '../../dataplane/wire/dhcpv4.js';
import {
  ClasslessRouteReader,
  optionBytes,
  optionU32,
  routers as readRouters,
} from '../../dataplane/wire/dhcpv4-options.js';
import { WireError, wireErrorName } from '../../dataplane/wire/errors.js';

/** A route the lease carries: `prefix/len` via `gateway` (0: on-link). */
export interface LeaseRoute {
  prefix: number;
  len: number;
  gateway: number;
}

/** What a server's OFFER, ACK or NAK says, as plain values. */
export interface ServerReply {
  type: number;
  xid: number;
  /** Client hardware address, 6 bytes as a hex string (compared with ours). */
  chaddr: string;
  yiaddr: number;
  /** Option 54; 0 when absent (a NAK may omit it, an OFFER/ACK must not: RFC 2131 table 3). */
  serverId: number;
  /** Option 1; 0 when absent. */
  mask: number;
  /** Option 3. */
  routers: number[];
  /** Option 121 (RFC 3442), null when absent or malformed (then option 3 is used). */
  classless: LeaseRoute[] | null;
  /** Seconds; option 51, 58, 59; -1 when absent. 0xffffffff is an infinite lease. */
  leaseTime: number;
  t1: number;
  t2: number;
}

export const REPLY_ERROR_PREFIX = 'dhcp reply: ';

function macHex(b: Uint8Array, off: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += b[off + i]!.toString(16).padStart(2, '0');
  return s;
}

/** `mac` (a 48-bit number) as 6 bytes. */
export function macBytes(mac: number): Uint8Array {
  const out = new Uint8Array(6);
  let v = mac;
  for (let i = 5; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

export function macToHex(mac: number): string {
  return macHex(macBytes(mac), 0);
}

const view = new Dhcpv4View();
const routeReader = new ClasslessRouteReader();

/**
 * Reads a server's reply (the UDP payload). Returns the values, or an error string (starting with
 * REPLY_ERROR_PREFIX) saying why the message is not a usable OFFER/ACK/NAK.
 */
export function parseServerReply(msg: Uint8Array): ServerReply | string {
  const e = view.wrap(msg, 0, msg.length);
  if (e !== WireError.Ok) return `${REPLY_ERROR_PREFIX}${wireErrorName(e)}`;
  if (view.op !== BOOTREPLY) return `${REPLY_ERROR_PREFIX}not a BOOTREPLY`;
  if (!view.hasMagic) return `${REPLY_ERROR_PREFIX}BOOTP reply without DHCP options`;
  if (view.htype !== HTYPE_ETHERNET || view.hlen !== 6) return `${REPLY_ERROR_PREFIX}not Ethernet`;
  const type = view.messageType;
  if (type !== DHCPOFFER && type !== DHCPACK && type !== DHCPNAK) {
    return `${REPLY_ERROR_PREFIX}message type ${type} is not OFFER, ACK or NAK`;
  }
  const sid = optionU32(view, DHCP_OPT_SERVER_ID);
  const mask = optionU32(view, DHCP_OPT_SUBNET_MASK);
  const rbuf = new Uint32Array(16);
  const nr = readRouters(view, rbuf);
  let classless: LeaseRoute[] | null = null;
  const c = optionBytes(view, DHCP_OPT_CLASSLESS_ROUTES);
  // RFC 3442 §1: a malformed option is ignored as a whole (and option 3 applies).
  if (c !== null && routeReader.wrap(c, 0, c.length) === WireError.Ok) {
    classless = [];
    while (routeReader.next()) {
      classless.push({
        prefix: routeReader.prefix,
        len: routeReader.prefixLen,
        gateway: routeReader.gateway,
      });
    }
  }
  const u32OrAbsent = (code: number): number => {
    const v = optionU32(view, code);
    return v < 0 ? -1 : v;
  };
  return {
    type,
    xid: view.xid,
    chaddr: macHex(msg, view.chaddrOff),
    yiaddr: view.yiaddr,
    serverId: sid < 0 ? 0 : sid,
    mask: mask < 0 ? 0 : mask,
    routers: nr > 0 ? Array.from(rbuf.subarray(0, Math.min(nr, rbuf.length))) : [],
    classless,
    leaseTime: u32OrAbsent(DHCP_OPT_LEASE_TIME),
    t1: u32OrAbsent(DHCP_OPT_RENEWAL_TIME),
    t2: u32OrAbsent(DHCP_OPT_REBINDING_TIME),
  };
}

/** The parameters the client asks for (RFC 2132 §9.8): no DNS, ferry does not use it. */
export const REQUESTED_PARAMETERS = Uint8Array.of(
  DHCP_OPT_SUBNET_MASK,
  DHCP_OPT_CLASSLESS_ROUTES,
  DHCP_OPT_ROUTER,
  DHCP_OPT_LEASE_TIME,
  DHCP_OPT_RENEWAL_TIME,
  DHCP_OPT_REBINDING_TIME,
);

export interface ClientMessage {
  type: number;
  xid: number;
  /** Seconds since the client began acquiring or renewing (RFC 2131 §2, `secs`). */
  secs: number;
  mac: number;
  /** Set while the client can receive unicast to its address (RENEWING, REBINDING, RELEASE). */
  ciaddr: number;
  /** Option 50 (SELECTING, INIT-REBOOT); 0 omits it. */
  requestedIp: number;
  /** Option 54 (SELECTING, RELEASE); 0 omits it. */
  serverId: number;
  /**
   * The BROADCAST flag (RFC 2131 §4.1): ferry's stack cannot take unicast to an address it has not
   * installed yet, so replies to a client without an address must be broadcast.
   */
  broadcast: boolean;
}

/** A client message as a UDP payload (at least BOOTP's 300 bytes, RFC 1542 §3.2.1). */
export function buildClientMessage(m: ClientMessage): Uint8Array {
  const u32 = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  const options: Dhcpv4Option[] = [{ code: DHCP_OPT_MESSAGE_TYPE, data: Uint8Array.of(m.type) }];
  // RFC 2132 §9.14: client identifier = hardware type + address (what ISC dhclient sends).
  const chaddr = macBytes(m.mac);
  const cid = new Uint8Array(7);
  cid[0] = HTYPE_ETHERNET;
  cid.set(chaddr, 1);
  options.push({ code: DHCP_OPT_CLIENT_ID, data: cid });
  if (m.requestedIp !== 0) options.push({ code: DHCP_OPT_REQUESTED_IP, data: u32(m.requestedIp) });
  if (m.serverId !== 0) options.push({ code: DHCP_OPT_SERVER_ID, data: u32(m.serverId) });
  // RFC 2131 §4.4.1 / table 5: the parameter list and maximum size are not sent in a RELEASE.
  if (m.type !== DHCPRELEASE) {
    options.push({ code: DHCP_OPT_PARAMETER_LIST, data: REQUESTED_PARAMETERS });
    options.push({ code: DHCP_OPT_MAX_MESSAGE_SIZE, data: Uint8Array.of(1500 >>> 8, 1500 & 255) });
  }
  options.push({ code: DHCP_OPT_END, data: new Uint8Array(0) });
  const buf = new Uint8Array(576);
  const n = emitDhcpv4(
    {
      op: BOOTREQUEST,
      htype: HTYPE_ETHERNET,
      hlen: 6,
      hops: 0,
      xid: m.xid >>> 0,
      secs: Math.min(0xffff, Math.max(0, Math.floor(m.secs))),
      flags: m.broadcast ? DHCP_FLAG_BROADCAST : 0,
      ciaddr: m.ciaddr,
      yiaddr: 0,
      siaddr: 0,
      giaddr: 0,
      chaddr,
      sname: new Uint8Array(0),
      file: new Uint8Array(0),
      hasMagic: true,
      options,
      trailer: new Uint8Array(0),
    },
    buf,
    0,
    BOOTP_MIN_LEN,
  );
  return buf.slice(0, n);
}
