/**
 * A reload without the daemon: a router built by buildRouter from a YAML config over memory
 * ports, rebuilt over the same ports with `previous` as `ferry run` does on SIGHUP, fed frames
 * with a fake clock. The network around it (seed 000's brouter plus a DHCP uplink):
 *
 *   upstream 192.168.0.1 ── eth0 [ferry 192.168.0.125 | 192.168.0.126] eth1 ── clients .53, .54
 *                                 └── wan (DHCP: 10.0.5.119/24 from 10.0.5.1) ── server 198.51.100.7
 *
 * The clients' traffic to 198.51.100.0/24 is marked 1 and routed by table wanisp1 (the lease's
 * default route), masqueraded as the lease's address.
 */
import { type BuiltRouter, buildRouter } from '../../../src/control/build-router.js';
import { parseConfig } from '../../../src/control/config/loader.js';
import type { FerryConfig } from '../../../src/control/config/types.js';
import type { DhcpEvent } from '../../../src/control/dhcp-client/index.js';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import type { Pipeline } from '../../../src/dataplane/pipeline/pipeline.js';
import { MemoryPort } from '../../../src/dataplane/ports/memory-port.js';
import { type HookName, VERDICT_ACCEPT } from '../../../src/dataplane/stages/hook.js';
import {
  DHCP_OPT_LEASE_TIME,
  DHCP_OPT_REBINDING_TIME,
  DHCP_OPT_RENEWAL_TIME,
  DHCP_OPT_ROUTER,
  DHCP_OPT_SERVER_ID,
  DHCP_OPT_SUBNET_MASK,
  type Dhcpv4Option,
  Dhcpv4View,
} from '../../../src/dataplane/wire/dhcpv4.js';
import { ip, macNum } from '../../helpers/frames.js';
import { decodeSent, replyMessage, udpFrame } from '../dhcp-relay/dhcp-frames.js';

export const MACS = {
  eth0: '02:00:00:00:00:01',
  eth1: '02:00:00:00:00:02',
  wan: '02:00:00:00:00:0a',
  upstream: '0a:00:00:00:00:01',
  c53: '0a:00:00:00:00:53',
  c54: '0a:00:00:00:00:54',
  dhcpServer: '0a:00:00:00:05:01',
} as const;
export const LEASED = '10.0.5.119';
export const WAN_GW = '10.0.5.1';
export const SERVER = '198.51.100.7';
/** Lease times (seconds): T1 60, T2 105, lease 120. */
export const T1 = 60;

export const CONFIG = `
ports:
  - { name: eth0, kind: memory, mac: ${MACS.eth0}, addresses: [192.168.0.125/24], proxy-arp: true }
  - { name: eth1, kind: memory, mac: ${MACS.eth1}, addresses: [192.168.0.126/24], proxy-arp: true }
  - { name: wan, kind: memory, mac: ${MACS.wan}, dhcp: { client: true, table: wanisp1 } }
tables:
  main:
    - { to: default, via: 192.168.0.1, dev: eth0 }
  wanisp1: { id: 101, routes: [] }
rules:
  - { priority: 1000, fwmark: 0x1, table: wanisp1 }
chains:
  mangle-prerouting:
    hook: prerouting
    type: filter
    priority: mangle
    rules:
      - match: { dst: 198.51.100.0/24 }
        action: { mark: 1 }
  nat-postrouting:
    hook: postrouting
    type: nat
    priority: srcnat
    rules:
      - match: { oif: wan }
        action: masquerade
conntrack:
  capacity: 4096
`;

/** The reload: one more chain (a forward filter refusing TCP to port 8001). */
export const RELOADED = `${CONFIG.replace('conntrack:\n  capacity: 4096\n', '')}  block-8001:
    hook: forward
    type: filter
    rules:
      - match: { proto: tcp, dport: 8001 }
        action: { reject: tcp-reset }
conntrack:
  capacity: 4096
`;

const u32b = (a: string | number) => {
  const v = typeof a === 'string' ? ip(a) : a;
  return Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
};

/** An OFFER or ACK for 10.0.5.119/24 from 10.0.5.1 (also the router), broadcast unless `to`. */
export function serverReply(type: number, xid: number, to = '255.255.255.255'): Uint8Array {
  const options: Dhcpv4Option[] = [
    { code: DHCP_OPT_SERVER_ID, data: u32b(WAN_GW) },
    { code: DHCP_OPT_SUBNET_MASK, data: u32b('255.255.255.0') },
    { code: DHCP_OPT_LEASE_TIME, data: u32b(120) },
    { code: DHCP_OPT_RENEWAL_TIME, data: u32b(T1) },
    { code: DHCP_OPT_REBINDING_TIME, data: u32b(105) },
    { code: DHCP_OPT_ROUTER, data: u32b(WAN_GW) },
  ];
  const msg = replyMessage({ type, xid, chaddr: MACS.wan, yiaddr: LEASED, options });
  const broadcast = to === '255.255.255.255';
  return udpFrame(
    {
      dstMac: broadcast ? 'ff:ff:ff:ff:ff:ff' : MACS.wan,
      srcMac: MACS.dhcpServer,
      src: WAN_GW,
      dst: to,
      sport: 67,
      dport: 68,
    },
    msg,
  );
}

export interface SentDhcp {
  type: number;
  xid: number;
  ciaddr: number;
  dstMac: string;
  ip: { src: string; dst: string };
}

/** Connection-tracking state each packet had at a hook, with its ports (after the hook's chains). */
export interface Seen {
  state: number;
  sport: number;
  dport: number;
}

export class ReloadRig {
  readonly ports: MemoryPort[];
  readonly events: DhcpEvent[] = [];
  cfg: FerryConfig;
  built: BuiltRouter;
  now = 1000;
  private readonly batch = new PacketBatch(8, 8 * 2048);
  private readonly view = new Dhcpv4View();

  constructor(text = CONFIG) {
    this.cfg = parseConfig(text, 'ferry.yaml');
    this.ports = this.cfg.ports.map((p) => new MemoryPort(p.name, true, macNum(MACS[p.name as 'wan'])));
    this.built = this.build(this.cfg);
  }

  private build(cfg: FerryConfig, previous?: BuiltRouter): BuiltRouter {
    return buildRouter(cfg, this.ports, {
      dhcpClient: {
        random: () => 0.5,
        startDelay: [1, 1],
        leaseFile: null,
        onEvent: (e) => this.events.push(e),
      },
      ...(previous && { previous }),
    });
  }

  /** Rebuilds from `text` over the same ports, taking over the running router's state. */
  reload(text: string): BuiltRouter {
    const cfg = parseConfig(text, 'ferry.yaml');
    const built = this.build(cfg, this.built);
    this.cfg = cfg;
    this.built = built;
    return built;
  }

  get engine() {
    return this.built.engine;
  }

  port(name: string): number {
    return this.ports.findIndex((p) => p.name === name);
  }

  /** Receives frames on a port as one batch, 10 ms after the last event. */
  recv(portName: string, ...frames: Uint8Array[]): void {
    this.now += 0.01;
    const b = this.batch;
    b.count = 0;
    frames.forEach((f, i) => {
      const s = b.count++;
      b.data.set(f, i * 2048);
      b.offset[s] = i * 2048;
      b.length[s] = f.length;
      b.wireLength[s] = f.length;
      b.port[s] = this.port(portName);
      b.tsSec[s] = Math.floor(this.now);
      b.tsNsec[s] = 0;
    });
    this.engine.receive(b, this.now);
  }

  /** Runs the timers up to `to` (engine seconds) in half-second steps. */
  tickTo(to: number): void {
    while (this.now < to - 1e-9) {
      this.now = Math.min(to, this.now + 0.5);
      this.engine.tick(this.now);
    }
  }

  /** Takes (and clears) what a port transmitted: ARP frames and IPv4 packets (Ethernet stripped) apart. */
  sent(portName: string): { arp: Uint8Array[]; ipv4: Uint8Array[]; frames: Uint8Array[] } {
    const frames = this.ports[this.port(portName)]!.sent.splice(0);
    return {
      frames,
      arp: frames.filter((f) => f[12] === 0x08 && f[13] === 0x06),
      ipv4: frames.filter((f) => f[12] === 0x08 && f[13] === 0x00).map((f) => f.subarray(14)),
    };
  }

  /** DHCP messages wan transmitted (checksums checked by decodeSent). */
  dhcpSent(frames: Uint8Array[]): SentDhcp[] {
    return frames
      .filter((f) => f[12] === 0x08 && f[13] === 0x00 && f[14 + 9] === 17 && f[14 + 20 + 3] === 67)
      .map((f) => {
        const d = decodeSent(f);
        if (this.view.wrap(d.dhcp, 0, d.dhcp.length) !== 0) throw new Error('undecodable DHCP message');
        const v = this.view;
        return { type: v.messageType, xid: v.xid, ciaddr: v.ciaddr, dstMac: d.dstMac, ip: d.ip };
      });
  }

  /** Records what reaches `hook` on the current engine (call again after a reload). */
  probe(hook: HookName): Seen[] {
    const seen: Seen[] = [];
    this.engine.hooks[hook].programs.push({
      run(pipe: Pipeline, s: number): number {
        const d = pipe.batch.data;
        const l4 = pipe.meta.l4Off[s]!;
        seen.push({
          state: pipe.meta.ctState[s]!,
          sport: (d[l4]! << 8) | d[l4 + 1]!,
          dport: (d[l4 + 2]! << 8) | d[l4 + 3]!,
        });
        return VERDICT_ACCEPT;
      },
    });
    return seen;
  }
}
