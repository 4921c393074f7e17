/**
 * ferry's DHCP client for one port (RFC 2131 §4.4, the state diagram of figure 5): INIT →
 * SELECTING → REQUESTING → BOUND → RENEWING (T1, unicast to the server) → REBINDING (T2,
 * broadcast) → expiry; INIT-REBOOT → REBOOTING when a stored lease is still valid at start.
 *
 * It is a plain state machine: time comes in as the engine clock (`tick(now)`, `receive(msg,
 * now)`), packets go out and the lease goes in through a `DhcpClientHost` (attach.ts wires it to a
 * RouterEngine; unit tests use a fake). Control plane: it allocates freely.
 */
import { formatIpv4 } from '../../dataplane/wire/bytes.js';
import {
  DHCPACK,
  DHCPDISCOVER,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
} from '../../dataplane/wire/dhcpv4.js';
import {
  buildClientMessage,
  type LeaseRoute,
  macToHex,
  parseServerReply,
  type ServerReply,
} from './messages.js';

export const BROADCAST = 0xffffffff;
export const INFINITE_LEASE = 0xffffffff;

/** A lease as the client holds it (and persists it). Times are engine-clock seconds. */
export interface Lease {
  address: number;
  prefixLen: number;
  serverId: number;
  /** Option 3 (used for the default route only when option 121 is absent, RFC 3442). */
  routers: number[];
  /** Option 121, null when the server sent none. */
  classless: LeaseRoute[] | null;
  /** Seconds; INFINITE_LEASE never expires. */
  leaseTime: number;
  t1: number;
  t2: number;
  /** When the request this ACK answered was first sent: the lease's times count from here (§4.4.1). */
  obtainedAt: number;
}

/** The routes a lease installs besides the address: RFC 3442 §1 — option 121 wins over option 3. */
export function leaseRoutes(l: Lease): LeaseRoute[] {
  if (l.classless !== null) return l.classless;
  const gw = l.routers[0];
  return gw !== undefined && gw !== 0 ? [{ prefix: 0, len: 0, gateway: gw }] : [];
}

export function leaseExpiry(l: Lease): number {
  return l.leaseTime === INFINITE_LEASE ? Number.POSITIVE_INFINITY : l.obtainedAt + l.leaseTime;
}

/** What the client needs from the router it runs in. */
export interface DhcpClientHost {
  /**
   * Sends a client message (the UDP payload) from `src`:68 to `dst`:67. `dst` BROADCAST means the
   * limited broadcast in an Ethernet broadcast frame out of the client's port.
   */
  send(msg: Uint8Array, src: number, dst: number, lease: Lease | null): void;
  /** Puts the lease's address and routes in place. */
  install(lease: Lease): void;
  /** Takes them away again. */
  withdraw(lease: Lease): void;
  /** Persists the lease (null: forget it). */
  save(lease: Lease | null): void;
  /** The persisted lease, if any. */
  load(): Lease | null;
}

export type DhcpState =
  | 'init'
  | 'selecting'
  | 'requesting'
  | 'bound'
  | 'renewing'
  | 'rebinding'
  | 'rebooting'
  | 'stopped';

export type DhcpEventKind =
  | 'bound'
  | 'rebooted'
  | 'renewed'
  | 'rebound'
  | 'changed'
  | 'nak'
  | 'expired'
  | 'released'
  | 'error';

export interface DhcpEvent {
  time: number;
  port: string;
  kind: DhcpEventKind;
  /** The lease's address (0 when none). */
  address: number;
  text: string;
}

export interface DhcpClientOptions {
  /** Uniform [0, 1); xids, the start delay and retransmission jitter. */
  random?: () => number;
  /**
   * Seconds to wait before the first DISCOVER, [min, max] (RFC 2131 §4.4.1: "a random time between
   * one and ten seconds"). Default [1, 10].
   */
  startDelay?: readonly [number, number];
  /**
   * Lower bound of the retransmission interval in RENEWING and REBINDING (RFC 2131 §4.4.5: "down
   * to a minimum of 60 seconds"). Default 60.
   */
  minRenewRetransmit?: number;
  /** REQUESTs sent in REQUESTING / REBOOTING before starting over at INIT. Default 4. */
  requestAttempts?: number;
  onEvent?: (e: DhcpEvent) => void;
}

export interface DhcpClientCounters {
  sent: Record<string, number>;
  received: Record<string, number>;
  /** Replies that did not fit the client's state or exchange, by reason. */
  ignored: Record<string, number>;
}

const TYPE_NAMES: Record<number, string> = {
  [DHCPDISCOVER]: 'DISCOVER',
  [DHCPOFFER]: 'OFFER',
  [DHCPREQUEST]: 'REQUEST',
  [DHCPACK]: 'ACK',
  [DHCPNAK]: 'NAK',
  [DHCPRELEASE]: 'RELEASE',
};

/** RFC 2131 §4.1: 4 s doubled per retransmission up to 64 s, randomized by ±1 s. */
const FIRST_BACKOFF = 4;
const MAX_BACKOFF = 64;

/** A mask as a prefix length; -1 when its ones are not contiguous. */
function maskLen(mask: number): number {
  let len = 0;
  while (len < 32 && ((mask << len) & 0x80000000) !== 0) len++;
  return len === 32 || ((mask << len) | 0) === 0 ? len : -1;
}

/** The class-based mask of `a` (RFC 2131 §3.3 leaves it to the client when option 1 is absent). */
function classfulLen(a: number): number {
  const top = a >>> 24;
  return top < 128 ? 8 : top < 192 ? 16 : 24;
}

function count(r: Record<string, number>, k: string): void {
  r[k] = (r[k] ?? 0) + 1;
}

export class DhcpClient {
  state: DhcpState = 'stopped';
  /** The lease in use (installed), or null. */
  lease: Lease | null = null;
  readonly counters: DhcpClientCounters = { sent: {}, received: {}, ignored: {} };
  readonly events: DhcpEvent[] = [];

  private readonly random: () => number;
  private readonly startDelay: readonly [number, number];
  private readonly minRenew: number;
  private readonly attemptsMax: number;
  private readonly onEvent: ((e: DhcpEvent) => void) | undefined;
  private readonly chaddr: string;

  private xid = 0;
  /** When the current exchange began (the `secs` field, RFC 2131 §2). */
  private began = 0;
  /** When the first REQUEST of the current exchange left (lease times count from it). */
  private requestSentAt = 0;
  private nextAt = Number.POSITIVE_INFINITY;
  private attempts = 0;
  /** SELECTING → REQUESTING: what we asked for. */
  private offered: ServerReply | null = null;
  /** INIT-REBOOT: the stored lease being confirmed. */
  private stored: Lease | null = null;

  constructor(
    readonly port: string,
    readonly mac: number,
    private readonly host: DhcpClientHost,
    o: DhcpClientOptions = {},
  ) {
    this.random = o.random ?? Math.random;
    this.startDelay = o.startDelay ?? [1, 10];
    this.minRenew = o.minRenewRetransmit ?? 60;
    this.attemptsMax = o.requestAttempts ?? 4;
    this.onEvent = o.onEvent;
    this.chaddr = macToHex(mac);
  }

  /** Engine time of the next action (retransmission or state change), for tests and status. */
  get nextActionAt(): number {
    if (this.lease && (this.state === 'bound' || this.state === 'renewing' || this.state === 'rebinding')) {
      return Math.min(this.nextAt, leaseExpiry(this.lease));
    }
    return this.nextAt;
  }

  /**
   * Starts the client: with a stored lease that has not expired, INIT-REBOOT (RFC 2131 §3.2,
   * §4.4.2: a broadcast REQUEST for that address); else INIT after the start delay.
   */
  start(now: number): void {
    let stored: Lease | null = null;
    try {
      stored = this.host.load();
    } catch (err) {
      this.report(now, 'error', 0, `stored lease unreadable: ${(err as Error).message}`);
    }
    if (stored && leaseExpiry(stored) > now) {
      this.stored = stored;
      this.state = 'rebooting';
      this.newExchange(now);
      this.attempts = 0;
      this.nextAt = now;
      return;
    }
    if (stored) this.persist(now, null);
    this.toInit(now, this.startDelay[0] + (this.startDelay[1] - this.startDelay[0]) * this.random());
  }

  /** Gives the lease back (DHCPRELEASE, RFC 2131 §4.4.6), withdraws it and stops. */
  release(now: number): void {
    const l = this.lease;
    if (l && (this.state === 'bound' || this.state === 'renewing' || this.state === 'rebinding')) {
      this.xid = this.newXid();
      this.transmit(
        {
          type: DHCPRELEASE,
          ciaddr: l.address,
          requestedIp: 0,
          serverId: l.serverId,
          broadcast: false,
          secs: 0,
        },
        l.address,
        l.serverId,
        l,
      );
      this.lose(now, 'released', `released ${formatIpv4(l.address)} to ${formatIpv4(l.serverId)}`);
    }
    this.state = 'stopped';
    this.nextAt = Number.POSITIVE_INFINITY;
  }

  /** Runs what falls due at `now` (engine clock). */
  tick(now: number): void {
    const l = this.lease;
    if (l && now >= leaseExpiry(l)) {
      // RFC 2131 §4.4.5: the lease ran out without an ACK — stop using it, start over at INIT.
      this.lose(now, 'expired', `lease of ${formatIpv4(l.address)} expired (no ACK to renew or rebind)`);
      this.toInit(now, 0);
    }
    // Bounded: each pass either sends and moves nextAt into the future or changes state.
    for (let guard = 0; guard < 4 && now >= this.nextAt; guard++) this.act(now);
  }

  private act(now: number): void {
    switch (this.state) {
      case 'init':
        this.state = 'selecting';
        this.newExchange(now);
        this.attempts = 0;
        this.sendDiscover(now);
        return;
      case 'selecting':
        this.sendDiscover(now);
        return;
      case 'requesting':
      case 'rebooting':
        if (this.attempts >= this.attemptsMax) {
          // No answer to our REQUEST: start over (for INIT-REBOOT, RFC 2131 §3.2 allows keeping the
          // old address; ferry asks anew instead of using an unconfirmed address).
          this.stored = null;
          this.toInit(now, 0);
          return;
        }
        this.sendRequest(now);
        return;
      case 'bound': {
        // T1: RENEWING, unicast to the server that granted the lease (RFC 2131 §4.4.5).
        this.state = 'renewing';
        this.newExchange(now);
        this.sendRequest(now);
        return;
      }
      case 'renewing': {
        const l = this.lease!;
        if (now >= l.obtainedAt + l.t2) {
          // T2: REBINDING, broadcast to any server.
          this.state = 'rebinding';
          this.newExchange(now);
        }
        this.sendRequest(now);
        return;
      }
      case 'rebinding':
        this.sendRequest(now);
        return;
      case 'stopped':
        this.nextAt = Number.POSITIVE_INFINITY;
        return;
    }
  }

  /** A server's message for this client's port (the UDP payload from port 67). */
  receive(msg: Uint8Array, now: number): void {
    const r = parseServerReply(msg);
    if (typeof r === 'string') {
      count(this.counters.ignored, r);
      return;
    }
    count(this.counters.received, TYPE_NAMES[r.type] ?? String(r.type));
    if (r.xid !== this.xid) {
      count(this.counters.ignored, 'xid mismatch');
      return;
    }
    if (r.chaddr !== this.chaddr) {
      count(this.counters.ignored, 'chaddr mismatch');
      return;
    }
    switch (this.state) {
      case 'selecting':
        if (r.type !== DHCPOFFER) {
          count(this.counters.ignored, `${TYPE_NAMES[r.type]} while selecting`);
          return;
        }
        if (r.yiaddr === 0 || r.serverId === 0) {
          count(this.counters.ignored, 'offer without address or server id');
          return;
        }
        // RFC 2131 §4.4.1: take the first acceptable offer; REQUEST it with the offer's xid.
        this.offered = r;
        this.state = 'requesting';
        this.attempts = 0;
        this.requestSentAt = now;
        this.sendRequest(now);
        return;
      case 'requesting':
      case 'rebooting':
      case 'renewing':
      case 'rebinding':
        if (r.type === DHCPACK) {
          this.acked(r, now);
          return;
        }
        if (r.type === DHCPNAK) {
          // In REQUESTING only the selected server's NAK counts (RFC 2131 §4.4.1).
          if (this.state === 'requesting' && r.serverId !== 0 && r.serverId !== this.offered?.serverId) {
            count(this.counters.ignored, 'NAK from another server');
            return;
          }
          const l = this.lease;
          if (l) this.lose(now, 'nak', `server refused ${formatIpv4(l.address)} (DHCPNAK)`);
          else this.report(now, 'nak', 0, 'server refused the request (DHCPNAK)');
          if (this.state === 'rebooting') this.persist(now, null);
          this.stored = null;
          // RFC 2131 §3.1 step 5 / §3.2 step 3: restart at INIT.
          this.toInit(now, this.backoff(0));
          return;
        }
        count(this.counters.ignored, `${TYPE_NAMES[r.type]} while ${this.state}`);
        return;
      default:
        count(this.counters.ignored, `${TYPE_NAMES[r.type]} while ${this.state}`);
        return;
    }
  }

  private acked(r: ServerReply, now: number): void {
    if (r.yiaddr === 0) {
      count(this.counters.ignored, 'ACK without address');
      return;
    }
    // RFC 2131 table 3: an ACK to a REQUEST carries the lease time.
    if (r.leaseTime < 0) {
      count(this.counters.ignored, 'ACK without lease time');
      return;
    }
    const old = this.lease;
    const serverId = r.serverId !== 0 ? r.serverId : (old?.serverId ?? this.offered?.serverId ?? 0);
    if (serverId === 0) {
      count(this.counters.ignored, 'ACK without server id');
      return;
    }
    let len = r.mask !== 0 ? maskLen(r.mask) : classfulLen(r.yiaddr);
    if (len < 0) len = classfulLen(r.yiaddr);
    const lt = r.leaseTime;
    // RFC 2131 §4.4.5: T1 defaults to 0.5 and T2 to 0.875 of the lease; sane order enforced.
    let t1 = r.t1 >= 0 ? r.t1 : lt * 0.5;
    let t2 = r.t2 >= 0 ? r.t2 : lt * 0.875;
    if (lt !== INFINITE_LEASE && !(t1 < t2 && t2 < lt)) {
      t1 = lt * 0.5;
      t2 = lt * 0.875;
    }
    const from = this.state === 'requesting' || this.state === 'rebooting' ? this.requestSentAt : this.began;
    const lease: Lease = {
      address: r.yiaddr,
      prefixLen: len,
      serverId,
      routers: r.routers,
      classless: r.classless,
      leaseTime: lt,
      t1: lt === INFINITE_LEASE ? Number.POSITIVE_INFINITY : t1,
      t2: lt === INFINITE_LEASE ? Number.POSITIVE_INFINITY : t2,
      obtainedAt: from,
    };
    const kind: DhcpEventKind =
      this.state === 'requesting'
        ? 'bound'
        : this.state === 'rebooting'
          ? 'rebooted'
          : this.state === 'renewing'
            ? 'renewed'
            : 'rebound';
    if (old && !sameBinding(old, lease)) {
      this.host.withdraw(old);
      this.lease = null;
      this.host.install(lease);
      this.report(now, 'changed', lease.address, `lease changed: ${describe(old)} → ${describe(lease)}`);
    } else if (!old) {
      this.host.install(lease);
    }
    this.lease = lease;
    this.persist(now, lease);
    this.stored = null;
    this.offered = null;
    this.state = 'bound';
    this.nextAt = lease.obtainedAt + lease.t1;
    this.report(now, kind, lease.address, `${kind} ${describe(lease)}`);
  }

  /** Withdraws the lease in use and forgets it (file included), reporting why. */
  private lose(now: number, kind: DhcpEventKind, text: string): void {
    const l = this.lease;
    if (!l) return;
    this.lease = null;
    this.host.withdraw(l);
    this.persist(now, null);
    this.report(now, kind, l.address, `${text}; address and routes removed`);
  }

  private toInit(now: number, delay: number): void {
    this.state = 'init';
    this.offered = null;
    this.nextAt = now + delay;
  }

  private newXid(): number {
    return Math.floor(this.random() * 0x1_0000_0000) >>> 0;
  }

  private newExchange(now: number): void {
    this.xid = this.newXid();
    this.began = now;
    this.requestSentAt = now;
    this.attempts = 0;
  }

  /** RFC 2131 §4.1: 4, 8, 16, 32, 64, 64 … seconds, each ±1 s. */
  private backoff(attempt: number): number {
    const base = Math.min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** Math.min(attempt, 4));
    return Math.max(1, base + (this.random() * 2 - 1));
  }

  private sendDiscover(now: number): void {
    // RFC 2131 §4.4.1: a DISCOVER may suggest the last known address (option 50).
    this.transmit(
      {
        type: DHCPDISCOVER,
        ciaddr: 0,
        requestedIp: this.stored?.address ?? 0,
        serverId: 0,
        broadcast: true,
        secs: now - this.began,
      },
      0,
      BROADCAST,
      null,
    );
    this.nextAt = now + this.backoff(this.attempts++);
  }

  /** The REQUEST of the current state, fields per RFC 2131 §4.3.2 (table 4) and §4.4. */
  private sendRequest(now: number): void {
    const secs = now - this.began;
    switch (this.state) {
      case 'requesting': {
        const o = this.offered!;
        this.transmit(
          {
            type: DHCPREQUEST,
            ciaddr: 0,
            requestedIp: o.yiaddr,
            serverId: o.serverId,
            broadcast: true,
            secs,
          },
          0,
          BROADCAST,
          null,
        );
        this.nextAt = now + this.backoff(this.attempts++);
        return;
      }
      case 'rebooting': {
        const s = this.stored!;
        this.transmit(
          { type: DHCPREQUEST, ciaddr: 0, requestedIp: s.address, serverId: 0, broadcast: true, secs },
          0,
          BROADCAST,
          null,
        );
        this.nextAt = now + this.backoff(this.attempts++);
        return;
      }
      case 'renewing': {
        const l = this.lease!;
        this.transmit(
          { type: DHCPREQUEST, ciaddr: l.address, requestedIp: 0, serverId: 0, broadcast: false, secs },
          l.address,
          l.serverId,
          l,
        );
        // RFC 2131 §4.4.5: half the time left until T2, at least the minimum; T2 itself interrupts.
        const t2At = l.obtainedAt + l.t2;
        this.nextAt = Math.min(t2At, now + Math.max(this.minRenew, (t2At - now) / 2));
        return;
      }
      case 'rebinding': {
        const l = this.lease!;
        this.transmit(
          { type: DHCPREQUEST, ciaddr: l.address, requestedIp: 0, serverId: 0, broadcast: false, secs },
          l.address,
          BROADCAST,
          l,
        );
        const end = leaseExpiry(l);
        this.nextAt = Math.min(end, now + Math.max(this.minRenew, (end - now) / 2));
        return;
      }
      default:
        return;
    }
  }

  private transmit(
    m: {
      type: number;
      ciaddr: number;
      requestedIp: number;
      serverId: number;
      broadcast: boolean;
      secs: number;
    },
    src: number,
    dst: number,
    lease: Lease | null,
  ): void {
    const msg = buildClientMessage({ ...m, xid: this.xid, mac: this.mac });
    count(this.counters.sent, TYPE_NAMES[m.type] ?? String(m.type));
    this.host.send(msg, src, dst, lease);
  }

  private persist(now: number, lease: Lease | null): void {
    try {
      this.host.save(lease);
    } catch (err) {
      this.report(now, 'error', lease?.address ?? 0, `lease not saved: ${(err as Error).message}`);
    }
  }

  private report(now: number, kind: DhcpEventKind, address: number, text: string): void {
    const e: DhcpEvent = { time: now, port: this.port, kind, address, text };
    this.events.push(e);
    if (this.events.length > 100) this.events.shift();
    this.onEvent?.(e);
  }
}

function sameRoutes(a: LeaseRoute[], b: LeaseRoute[]): boolean {
  return (
    a.length === b.length &&
    a.every((r, i) => r.prefix === b[i]!.prefix && r.len === b[i]!.len && r.gateway === b[i]!.gateway)
  );
}

/** Same address, prefix and routes: a renewal that changes nothing installed. */
function sameBinding(a: Lease, b: Lease): boolean {
  return a.address === b.address && a.prefixLen === b.prefixLen && sameRoutes(leaseRoutes(a), leaseRoutes(b));
}

export function describe(l: Lease): string {
  const routes = leaseRoutes(l)
    .map((r) => `${formatIpv4(r.prefix)}/${r.len}${r.gateway ? ` via ${formatIpv4(r.gateway)}` : ''}`)
    .join(', ');
  const time = l.leaseTime === INFINITE_LEASE ? 'infinite' : `${l.leaseTime} s`;
  return `${formatIpv4(l.address)}/${l.prefixLen} from ${formatIpv4(l.serverId)} (${time}${routes ? `; routes ${routes}` : ''})`;
}
