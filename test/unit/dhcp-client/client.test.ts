/**
 * The DHCP client's state machine (RFC 2131 §4.4) on a fake clock and a fake host: what it sends
 * when, what it installs and withdraws, what it persists.
 */
import { describe, expect, it } from 'vitest';
import {
  BROADCAST,
  DhcpClient,
  type DhcpClientHost,
  type DhcpEvent,
  type Lease,
  leaseRoutes,
} from '../../../src/control/dhcp-client/index.js';
import { parseServerReply } from '../../../src/control/dhcp-client/messages.js';
import { u32 } from '../../../src/dataplane/wire/bytes.js';
import {
  DHCP_FLAG_BROADCAST,
  DHCP_OPT_CLASSLESS_ROUTES,
  DHCP_OPT_CLIENT_ID,
  DHCP_OPT_LEASE_TIME,
  DHCP_OPT_PARAMETER_LIST,
  DHCP_OPT_REBINDING_TIME,
  DHCP_OPT_RENEWAL_TIME,
  DHCP_OPT_REQUESTED_IP,
  DHCP_OPT_ROUTER,
  DHCP_OPT_SERVER_ID,
  DHCP_OPT_SUBNET_MASK,
  DHCPACK,
  DHCPDISCOVER,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
  type Dhcpv4Option,
  Dhcpv4View,
} from '../../../src/dataplane/wire/dhcpv4.js';
import { emitClasslessRoutes } from '../../../src/dataplane/wire/dhcpv4-options.js';
import { ip, macNum } from '../../helpers/frames.js';
import { replyMessage } from '../dhcp-relay/dhcp-frames.js';

const MAC = '02:00:00:00:0a:01';
const SERVER = '10.0.5.1';

interface Sent {
  type: number;
  xid: number;
  ciaddr: number;
  broadcastFlag: boolean;
  requestedIp: number | null;
  serverId: number | null;
  src: number;
  dst: number;
  at: number;
  options: Set<number>;
}

class FakeHost implements DhcpClientHost {
  sent: Sent[] = [];
  installed: Lease[] = [];
  log: string[] = [];
  saved: Lease | null = null;
  stored: Lease | null = null;
  now = 0;
  private readonly v = new Dhcpv4View();

  send(msg: Uint8Array, src: number, dst: number): void {
    expect(this.v.wrap(msg, 0, msg.length)).toBe(0);
    expect(msg.length).toBeGreaterThanOrEqual(300);
    const opt = (code: number): number | null => (this.v.findOption(code) ? u32(msg, this.v.optOff) : null);
    const options = new Set<number>();
    for (const c of [
      DHCP_OPT_CLIENT_ID,
      DHCP_OPT_PARAMETER_LIST,
      DHCP_OPT_REQUESTED_IP,
      DHCP_OPT_SERVER_ID,
    ]) {
      if (this.v.findOption(c)) options.add(c);
    }
    this.sent.push({
      type: this.v.messageType,
      xid: this.v.xid,
      ciaddr: this.v.ciaddr,
      broadcastFlag: (this.v.flags & DHCP_FLAG_BROADCAST) !== 0,
      requestedIp: opt(DHCP_OPT_REQUESTED_IP),
      serverId: opt(DHCP_OPT_SERVER_ID),
      src,
      dst,
      at: this.now,
      options,
    });
  }
  install(l: Lease): void {
    this.installed.push(l);
    this.log.push(`install ${l.address}`);
  }
  withdraw(l: Lease): void {
    this.installed = this.installed.filter((x) => x !== l);
    this.log.push(`withdraw ${l.address}`);
  }
  save(l: Lease | null): void {
    this.saved = l;
  }
  load(): Lease | null {
    return this.stored;
  }
  take(): Sent[] {
    return this.sent.splice(0);
  }
}

const u32b = (a: string | number) => {
  const v = typeof a === 'string' ? ip(a) : a;
  return Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
};

function reply(
  type: number,
  xid: number,
  yiaddr: string,
  o: {
    lease?: number;
    t1?: number;
    t2?: number;
    routers?: string[];
    classless?: Uint8Array;
    server?: string;
    mask?: string;
  } = {},
): Uint8Array {
  const options: Dhcpv4Option[] = [{ code: DHCP_OPT_SERVER_ID, data: u32b(o.server ?? SERVER) }];
  if (type !== DHCPNAK) {
    options.push({ code: DHCP_OPT_SUBNET_MASK, data: u32b(o.mask ?? '255.255.255.0') });
    options.push({ code: DHCP_OPT_LEASE_TIME, data: u32b(o.lease ?? 600) });
    if (o.t1 !== undefined) options.push({ code: DHCP_OPT_RENEWAL_TIME, data: u32b(o.t1) });
    if (o.t2 !== undefined) options.push({ code: DHCP_OPT_REBINDING_TIME, data: u32b(o.t2) });
    if (o.routers) {
      const d = new Uint8Array(4 * o.routers.length);
      for (const [i, r] of o.routers.entries()) d.set(u32b(r), 4 * i);
      options.push({ code: DHCP_OPT_ROUTER, data: d });
    }
    if (o.classless) options.push({ code: DHCP_OPT_CLASSLESS_ROUTES, data: o.classless });
  }
  return replyMessage({ type, xid, chaddr: MAC, yiaddr: type === DHCPNAK ? '0.0.0.0' : yiaddr, options });
}

/** A client with a fixed random source (0.5: no jitter, start delay at the middle). */
function setup(opts: { stored?: Lease; events?: DhcpEvent[] } = {}) {
  const host = new FakeHost();
  if (opts.stored) host.stored = opts.stored;
  const events = opts.events ?? [];
  const client = new DhcpClient('wan1', macNum(MAC), host, {
    random: () => 0.5,
    startDelay: [1, 3],
    onEvent: (e) => events.push(e),
  });
  const at = (t: number) => {
    host.now = t;
    client.tick(t);
  };
  const recv = (msg: Uint8Array, t: number) => {
    host.now = t;
    client.receive(msg, t);
  };
  return { host, client, at, recv, events };
}

/** Runs DORA at t=100: DISCOVER at 102 (start delay 1 + 0.5·2), OFFER/ACK right after. */
function bind(s: ReturnType<typeof setup>, o: Parameters<typeof reply>[3] = {}) {
  s.client.start(100);
  s.at(102);
  const [d] = s.host.take();
  s.recv(reply(DHCPOFFER, d!.xid, '10.0.5.119', o), 102.01);
  const [r] = s.host.take();
  s.recv(reply(DHCPACK, r!.xid, '10.0.5.119', o), 102.02);
  return { discover: d!, request: r! };
}

describe('DHCP client: acquisition (RFC 2131 §4.4.1)', () => {
  it('waits the start delay, then DISCOVER from 0.0.0.0 to broadcast with the BROADCAST flag', () => {
    const s = setup();
    s.client.start(100);
    s.at(101.9);
    expect(s.host.sent).toHaveLength(0);
    s.at(102);
    const [d] = s.host.take();
    expect(d).toMatchObject({ type: DHCPDISCOVER, src: 0, dst: BROADCAST, ciaddr: 0, broadcastFlag: true });
    expect(d!.options.has(DHCP_OPT_CLIENT_ID)).toBe(true);
    expect(d!.options.has(DHCP_OPT_PARAMETER_LIST)).toBe(true);
    expect(s.client.state).toBe('selecting');
  });

  it('retransmits DISCOVER after 4, 8, 16, 32, 64, 64 s (§4.1 backoff)', () => {
    const s = setup();
    s.client.start(100);
    s.at(102);
    expect(s.host.take()).toHaveLength(1);
    let t = 102;
    const gaps: number[] = [];
    let last = 102;
    for (let i = 0; i < 600 && gaps.length < 6; i++) {
      t += 0.5;
      s.at(t);
      for (const x of s.host.take()) {
        gaps.push(x.at - last);
        last = x.at;
      }
    }
    expect(gaps).toEqual([4, 8, 16, 32, 64, 64]);
  });

  it('OFFER → REQUEST (same xid, server id and requested address) → ACK → bound, lease installed and saved', () => {
    const s = setup();
    const { discover, request } = bind(s, { routers: ['10.0.5.1'] });
    expect(request).toMatchObject({
      type: DHCPREQUEST,
      xid: discover.xid,
      ciaddr: 0,
      requestedIp: ip('10.0.5.119'),
      serverId: ip(SERVER),
      src: 0,
      dst: BROADCAST,
      broadcastFlag: true,
    });
    expect(s.client.state).toBe('bound');
    expect(s.host.installed).toHaveLength(1);
    const l = s.host.installed[0]!;
    expect(l).toMatchObject({
      address: ip('10.0.5.119'),
      prefixLen: 24,
      serverId: ip(SERVER),
      leaseTime: 600,
    });
    // T1 = 0.5, T2 = 0.875 of the lease by default (§4.4.5), counted from the REQUEST.
    expect(l.t1).toBe(300);
    expect(l.t2).toBe(525);
    expect(l.obtainedAt).toBe(102.01);
    expect(s.host.saved).toBe(l);
    expect(leaseRoutes(l)).toEqual([{ prefix: 0, len: 0, gateway: ip('10.0.5.1') }]);
    expect(s.events.map((e) => e.kind)).toEqual(['bound']);
  });

  it('ignores replies for another xid or another chaddr, and a second OFFER', () => {
    const s = setup();
    s.client.start(100);
    s.at(102);
    const [d] = s.host.take();
    s.recv(reply(DHCPOFFER, d!.xid + 1, '10.0.5.119'), 102.1);
    const other = reply(DHCPOFFER, d!.xid, '10.0.5.119');
    other[28 + 5] ^= 1; // chaddr's last byte
    s.recv(other, 102.1);
    expect(s.client.state).toBe('selecting');
    expect(s.client.counters.ignored).toMatchObject({ 'xid mismatch': 1, 'chaddr mismatch': 1 });
    s.recv(reply(DHCPOFFER, d!.xid, '10.0.5.119'), 102.2);
    s.recv(reply(DHCPOFFER, d!.xid, '10.0.5.120', { server: '10.0.5.2' }), 102.3);
    expect(s.host.take().map((x) => x.requestedIp)).toEqual([ip('10.0.5.119')]);
  });

  it('garbage and a NAK in SELECTING do not move it', () => {
    const s = setup();
    s.client.start(100);
    s.at(102);
    const [d] = s.host.take();
    s.recv(new Uint8Array(50), 102.1);
    s.recv(reply(DHCPNAK, d!.xid, '0.0.0.0'), 102.1);
    expect(s.client.state).toBe('selecting');
    expect(s.client.counters.ignored['dhcp reply: truncated']).toBe(1);
    expect(s.client.counters.ignored['NAK while selecting']).toBe(1);
  });

  it('no ACK after 4 REQUESTs: back to INIT and DISCOVER again', () => {
    const s = setup();
    s.client.start(100);
    s.at(102);
    const [d] = s.host.take();
    s.recv(reply(DHCPOFFER, d!.xid, '10.0.5.119'), 102);
    for (let i = 1; i <= 300; i++) s.at(102 + i * 0.5);
    const types = s.host.take().map((x) => x.type);
    expect(types.slice(0, 5)).toEqual([DHCPREQUEST, DHCPREQUEST, DHCPREQUEST, DHCPREQUEST, DHCPDISCOVER]);
  });

  it('a NAK to the REQUEST restarts at INIT', () => {
    const s = setup();
    s.client.start(100);
    s.at(102);
    const [d] = s.host.take();
    s.recv(reply(DHCPOFFER, d!.xid, '10.0.5.119'), 102);
    const [r] = s.host.take();
    s.recv(reply(DHCPNAK, r!.xid, '0.0.0.0'), 102.1);
    expect(s.client.state).toBe('init');
    expect(s.host.installed).toHaveLength(0);
    s.at(107);
    expect(s.host.take().map((x) => x.type)).toEqual([DHCPDISCOVER]);
  });
});

describe('DHCP client: renewing, rebinding, expiry (RFC 2131 §4.4.5)', () => {
  it('T1: unicast REQUEST to the server from the leased address, ciaddr set, no option 50/54', () => {
    const s = setup();
    bind(s, { lease: 120, t1: 60, t2: 105 });
    s.at(162.0);
    expect(s.host.sent).toHaveLength(0);
    s.at(162.02);
    const [r] = s.host.take();
    expect(r).toMatchObject({
      type: DHCPREQUEST,
      src: ip('10.0.5.119'),
      dst: ip(SERVER),
      ciaddr: ip('10.0.5.119'),
      requestedIp: null,
      serverId: null,
      broadcastFlag: false,
    });
    expect(s.client.state).toBe('renewing');
    // The ACK extends the lease from the renewal's REQUEST; nothing is reinstalled.
    s.recv(reply(DHCPACK, r!.xid, '10.0.5.119', { lease: 120, t1: 60, t2: 105 }), 162.1);
    expect(s.client.state).toBe('bound');
    expect(s.host.log).toEqual([`install ${ip('10.0.5.119')}`]);
    expect(s.client.lease!.obtainedAt).toBe(162.02);
    expect(s.events.map((e) => e.kind)).toEqual(['bound', 'renewed']);
  });

  it('without an answer: renew retransmits (min 60 s), T2 rebinds by broadcast, expiry withdraws and restarts', () => {
    const s = setup();
    bind(s, { lease: 1000, t1: 500, t2: 875 });
    const seen: Sent[] = [];
    for (let t = 102; t <= 1110; t += 0.5) {
      s.at(t);
      seen.push(...s.host.take());
    }
    const renew = seen.filter((x) => x.dst !== BROADCAST);
    const rebind = seen.filter((x) => x.dst === BROADCAST && x.type === DHCPREQUEST);
    // T1 at 602.01 (first tick 602.5), then half the time left to T2 (977.01) but at least 60 s:
    // +187.25 (tick 790), +93.5 (tick 884), +60 (46.5 is under the minimum).
    expect(renew.map((x) => x.at)).toEqual([602.5, 790, 884, 944]);
    // Rebinding from T2: broadcast, ciaddr still set, from the leased address.
    expect(rebind[0]).toMatchObject({ src: ip('10.0.5.119'), ciaddr: ip('10.0.5.119'), requestedIp: null });
    // T2 at 977.01 (tick 977.5), then half the time left to expiry (1102.01), at least 60 s.
    expect(rebind.map((x) => x.at)).toEqual([977.5, 1040, 1100]);
    // Expiry at 1102.01: withdrawn, file forgotten, reported, and DISCOVER at once.
    expect(s.host.installed).toHaveLength(0);
    expect(s.host.saved).toBeNull();
    expect(s.client.lease).toBeNull();
    const expired = s.events.find((e) => e.kind === 'expired');
    expect(expired?.text).toMatch(/10\.0\.5\.119.*expired.*removed/);
    const disc = seen.find((x) => x.type === DHCPDISCOVER && x.at > 1100);
    expect(disc?.at).toBeCloseTo(1102.5, 5);
  });

  it('an ACK while rebinding from another server keeps the lease, now from that server', () => {
    const s = setup();
    bind(s, { lease: 120, t1: 60, t2: 105 });
    for (let t = 102; t <= 207.5; t += 0.5) s.at(t);
    expect(s.client.state).toBe('rebinding');
    const last = s.host.take().pop()!;
    s.recv(reply(DHCPACK, last.xid, '10.0.5.119', { lease: 120, t1: 60, t2: 105, server: '10.0.5.2' }), 208);
    expect(s.client.state).toBe('bound');
    expect(s.client.lease!.serverId).toBe(ip('10.0.5.2'));
    expect(s.events.map((e) => e.kind)).toEqual(['bound', 'rebound']);
  });

  it('a NAK while renewing withdraws the lease and reports it', () => {
    const s = setup();
    bind(s, { lease: 120, t1: 60, t2: 105 });
    s.at(163);
    const [r] = s.host.take();
    s.recv(reply(DHCPNAK, r!.xid, '0.0.0.0'), 163.1);
    expect(s.host.installed).toHaveLength(0);
    expect(s.host.saved).toBeNull();
    expect(s.client.state).toBe('init');
    expect(s.events.map((e) => e.kind)).toEqual(['bound', 'nak']);
  });

  it('an ACK with a different address replaces the installed lease', () => {
    const s = setup();
    bind(s, { lease: 120, t1: 60, t2: 105 });
    s.at(163);
    const [r] = s.host.take();
    s.recv(reply(DHCPACK, r!.xid, '10.0.5.140', { lease: 120, t1: 60, t2: 105 }), 163.1);
    expect(s.host.log).toEqual([
      `install ${ip('10.0.5.119')}`,
      `withdraw ${ip('10.0.5.119')}`,
      `install ${ip('10.0.5.140')}`,
    ]);
    expect(s.events.map((e) => e.kind)).toEqual(['bound', 'changed', 'renewed']);
  });

  it('bad T1/T2 (T1 ≥ T2) fall back to the defaults; an infinite lease never renews', () => {
    const s = setup();
    bind(s, { lease: 100, t1: 90, t2: 80 });
    expect(s.client.lease).toMatchObject({ t1: 50, t2: 87.5 });
    const s2 = setup();
    bind(s2, { lease: 0xffffffff });
    for (let t = 103; t < 5000; t += 50) s2.at(t);
    expect(s2.host.sent).toHaveLength(0);
    expect(s2.client.state).toBe('bound');
  });

  it('RELEASE: unicast to the server with ciaddr and server id, then withdrawn', () => {
    const s = setup();
    bind(s);
    s.client.release(150);
    const [r] = s.host.take();
    expect(r).toMatchObject({
      type: DHCPRELEASE,
      ciaddr: ip('10.0.5.119'),
      serverId: ip(SERVER),
      dst: ip(SERVER),
    });
    expect(r!.options.has(DHCP_OPT_PARAMETER_LIST)).toBe(false);
    expect(s.host.installed).toHaveLength(0);
    expect(s.client.state).toBe('stopped');
  });
});

describe('DHCP client: routes (RFC 3442) and INIT-REBOOT (RFC 2131 §3.2)', () => {
  it('option 121 present: its routes, option 3 ignored; a malformed 121 falls back to option 3', () => {
    const cl = new Uint8Array(64);
    const n = emitClasslessRoutes(
      [
        { prefix: ip('10.9.0.0'), prefixLen: 16, gateway: ip('10.0.5.1') },
        { prefix: ip('192.168.77.0'), prefixLen: 24, gateway: ip('10.0.5.2') },
        { prefix: 0, prefixLen: 0, gateway: ip('10.0.5.3') },
      ],
      cl,
      0,
    );
    const s = setup();
    bind(s, { routers: ['10.0.5.1'], classless: cl.slice(0, n) });
    expect(leaseRoutes(s.client.lease!)).toEqual([
      { prefix: ip('10.9.0.0'), len: 16, gateway: ip('10.0.5.1') },
      { prefix: ip('192.168.77.0'), len: 24, gateway: ip('10.0.5.2') },
      { prefix: 0, len: 0, gateway: ip('10.0.5.3') },
    ]);
    const bad = parseServerReply(
      reply(DHCPACK, 1, '10.0.5.119', { routers: ['10.0.5.1'], classless: Uint8Array.of(33, 1, 2, 3, 4, 5) }),
    );
    expect(typeof bad).toBe('object');
    if (typeof bad === 'object') expect(bad.classless).toBeNull();
  });

  it('a stored, unexpired lease: REQUEST at once with option 50, no server id, ciaddr 0; ACK → rebooted', () => {
    const stored: Lease = {
      address: ip('10.0.5.119'),
      prefixLen: 24,
      serverId: ip(SERVER),
      routers: [ip('10.0.5.1')],
      classless: null,
      leaseTime: 600,
      t1: 300,
      t2: 525,
      obtainedAt: 50,
    };
    const s = setup({ stored });
    s.client.start(100);
    s.at(100);
    const [r] = s.host.take();
    expect(r).toMatchObject({
      type: DHCPREQUEST,
      ciaddr: 0,
      requestedIp: ip('10.0.5.119'),
      serverId: null,
      dst: BROADCAST,
      src: 0,
      broadcastFlag: true,
    });
    expect(s.client.state).toBe('rebooting');
    expect(s.host.installed).toHaveLength(0);
    s.recv(reply(DHCPACK, r!.xid, '10.0.5.119'), 100.1);
    expect(s.client.state).toBe('bound');
    expect(s.host.installed).toHaveLength(1);
    expect(s.events.map((e) => e.kind)).toEqual(['rebooted']);
  });

  it('INIT-REBOOT refused (NAK): the stored lease is forgotten and DISCOVER follows', () => {
    const stored: Lease = {
      address: ip('10.0.5.119'),
      prefixLen: 24,
      serverId: ip(SERVER),
      routers: [],
      classless: null,
      leaseTime: 600,
      t1: 300,
      t2: 525,
      obtainedAt: 50,
    };
    const s = setup({ stored });
    s.host.saved = stored;
    s.client.start(100);
    s.at(100);
    const [r] = s.host.take();
    s.recv(reply(DHCPNAK, r!.xid, '0.0.0.0'), 100.1);
    expect(s.host.saved).toBeNull();
    s.at(105);
    expect(s.host.take().map((x) => x.type)).toEqual([DHCPDISCOVER]);
  });

  it('an expired stored lease is not re-requested: INIT', () => {
    const stored: Lease = {
      address: ip('10.0.5.119'),
      prefixLen: 24,
      serverId: ip(SERVER),
      routers: [],
      classless: null,
      leaseTime: 60,
      t1: 30,
      t2: 52.5,
      obtainedAt: 10,
    };
    const s = setup({ stored });
    s.client.start(100);
    expect(s.client.state).toBe('init');
    s.at(102);
    expect(s.host.take().map((x) => x.type)).toEqual([DHCPDISCOVER]);
  });
});
