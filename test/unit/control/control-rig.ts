/**
 * A running ferry without the daemon: a router built by buildRouter from a YAML config over
 * memory ports, behind the `Runtime` interface the control socket and the metrics read. Frames
 * are fed through the engine with a fake clock; `reload()` re-reads the config file and rebuilds
 * the router over the same ports, as `ferry run` does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRouter } from '../../../src/control/build-router.js';
import { ConfigError, formatIssue } from '../../../src/control/config/errors.js';
import { loadConfig, parseConfig } from '../../../src/control/config/loader.js';
import type { FerryConfig } from '../../../src/control/config/types.js';
import type { DhcpClientsOptions } from '../../../src/control/dhcp-client/index.js';
import type {
  OverlayPeerStatus,
  ReloadResult,
  RunningState,
  Runtime,
} from '../../../src/control/run/runtime.js';
import { PacketBatch } from '../../../src/dataplane/batch.js';
import { MemoryPort } from '../../../src/dataplane/ports/memory-port.js';
import { arpRequest, ipFrame, macNum } from '../../helpers/frames.js';

export const R_LAN = '02:00:00:00:00:01';
export const R_WAN = '02:00:00:00:00:02';
export const GW_MAC = '0a:00:00:00:00:01';
export const GW = '192.0.2.1';
export const WAN_IP = '192.0.2.2';
export const SERVER = '198.51.100.7';
export const HOSTS: Readonly<Record<string, string>> = {
  '10.1.0.33': '0a:00:00:00:00:33',
  '10.1.0.34': '0a:00:00:00:00:34',
};

/** lan and wan, a default route via the gateway, a counted forward chain, masquerade out wan, a DHCP relay. */
export const CONFIG = `
ports:
  - { name: lan, kind: memory, mac: ${R_LAN}, addresses: [10.1.0.1/24] }
  - { name: wan, kind: memory, mac: ${R_WAN}, addresses: [${WAN_IP}/24] }
tables:
  main:
    - { to: default, via: ${GW}, dev: wan }
  "100":
    - { to: 203.0.113.0/24, via: ${GW}, dev: wan }
rules:
  - { priority: 1000, fwmark: 0x7, table: 100 }
chains:
  filter-forward:
    hook: forward
    type: filter
    priority: filter
    rules:
      - match: { proto: udp, dport: 53 }
        action: [counter, accept]
        comment: dns
      - match: { proto: icmp }
        action: [counter, accept]
  nat-postrouting:
    hook: postrouting
    type: nat
    priority: srcnat
    rules:
      - match: { oif: wan }
        action: masquerade
dhcp-relay:
  listen: [lan]
  servers: [${SERVER}]
conntrack:
  capacity: 1024
`;

export class ControlRig implements Runtime {
  readonly configPath: string;
  /** Started an hour ago (wall clock, as the daemon's). */
  readonly startedAt = Math.floor(Date.now() / 1000) - 3600;
  readonly ports: MemoryPort[];
  readonly peers: OverlayPeerStatus[] = [];
  readonly errors: string[] = [];
  reloads = 0;
  now = 1000;
  private state: RunningState;
  private readonly batch = new PacketBatch(64, 64 * 2048);

  constructor(
    dir: string,
    text = CONFIG,
    private readonly dhcpClient: DhcpClientsOptions | false = false,
  ) {
    this.configPath = join(dir, 'ferry.yaml');
    writeFileSync(this.configPath, text);
    const cfg = parseConfig(text, this.configPath);
    this.ports = cfg.ports.map(
      (p) => new MemoryPort(p.name, true, p.mac ? macNum(formatMacBytes(p.mac)) : 0, p.mtu),
    );
    this.state = this.build(cfg);
  }

  private build(cfg: FerryConfig): RunningState {
    const built = buildRouter(cfg, this.ports, { dhcpClient: this.dhcpClient });
    return { cfg, built, ports: this.ports };
  }

  get engine() {
    return this.state.built.engine;
  }

  current(): RunningState {
    return this.state;
  }

  async reload(): Promise<ReloadResult> {
    try {
      const cfg = await loadConfig(this.configPath);
      if (cfg.ports.map((p) => p.name).join() !== this.ports.map((p) => p.name).join())
        return { ok: false, error: `${this.configPath}: the ports changed; restart ferry for that` };
      this.state = this.build(cfg);
      this.reloads++;
      return { ok: true, summary: `${cfg.chains.length} chains, ${cfg.rules.length} rules` };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return { ok: false, error: e.issues.map(formatIssue).join('\n') };
    }
  }

  async overlayPeers(): Promise<OverlayPeerStatus[]> {
    return this.peers;
  }

  portErrors(): readonly string[] {
    return this.errors;
  }

  /** Receives frames on a port as one batch, the clock advanced by `dt` seconds first. */
  send(portName: string, frames: Uint8Array[], dt = 0.001): void {
    this.now += dt;
    const b = this.batch;
    const p = this.ports.findIndex((x) => x.name === portName);
    b.count = 0;
    frames.forEach((f, i) => {
      const s = b.count++;
      b.data.set(f, i * 2048);
      b.offset[s] = i * 2048;
      b.length[s] = f.length;
      b.wireLength[s] = f.length;
      b.port[s] = p;
      b.tsSec[s] = Math.floor(this.now);
      b.tsNsec[s] = Math.round((this.now % 1) * 1e9);
    });
    this.engine.receive(b, this.now);
  }

  /** Runs the engine's timers up to `to` (engine seconds) in half-second steps. */
  tickTo(to: number): void {
    while (this.now < to - 1e-9) {
      this.now = Math.min(to, this.now + 0.5);
      this.engine.tick(this.now);
    }
  }

  /** Takes (and clears) what a port transmitted. */
  sent(portName: string): Uint8Array[] {
    return this.ports.find((x) => x.name === portName)!.sent.splice(0);
  }

  /** The gateway and the LAN hosts announce themselves, so forwarding needs no ARP round trips. */
  learnNeighbours(): void {
    this.send('wan', [arpRequest(GW_MAC, GW, WAN_IP)]);
    for (const [a, m] of Object.entries(HOSTS)) this.send('lan', [arpRequest(m, a, '10.1.0.1')]);
    this.sent('wan');
    this.sent('lan');
  }

  fromLan(host: string, packet: Uint8Array): void {
    this.send('lan', [ipFrame(R_LAN, HOSTS[host]!, packet)]);
  }

  fromWan(packet: Uint8Array): void {
    this.send('wan', [ipFrame(R_WAN, GW_MAC, packet)]);
  }
}

function formatMacBytes(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
