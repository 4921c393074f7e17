/**
 * The live engine (`ferry run`): opens the configured ports, makes the host-side changes they
 * need (journaled, see host-setup.ts), builds the router over them and runs it with a LiveDriver.
 * Implements `Runtime` for the control socket and the metrics endpoint.
 *
 * Reload: the config is re-read and validated; a config that fails keeps the running one. A valid
 * one is built into a new router over the same open ports, taking over the running router's state
 * (buildRouter's `previous`), and swapped in between two batches: the swap is synchronous, and
 * batches are delivered by the event loop, so no batch sees half of it.
 */

import { LiveDriver } from '../../dataplane/engine/live-driver.js';
import { formatIpv4 } from '../../dataplane/wire/bytes.js';
import { buildRouter, conntrackCarryProblem } from '../build-router.js';
import { ConfigError, formatIssue } from '../config/errors.js';
import { loadConfig } from '../config/loader.js';
import type { FerryConfig } from '../config/types.js';
import { startControlServer } from '../control-socket/server.js';
import type { DhcpClientsOptions } from '../dhcp-client/index.js';
import type { Logger } from '../log.js';
import { startMetricsServer } from '../metrics/server.js';
import { type Overlays, startOverlays } from '../overlay/index.js';
import { HostChanges, quietKernelOn } from './host-setup.js';
import { forwardingWarnings, rpFilterWarning } from './kernel-check.js';
import { type LivePort, openPorts } from './open-ports.js';
import { describeChanges, restartNeeded } from './reload-plan.js';
import type { OverlayPeerStatus, ReloadResult, RunningState, Runtime } from './runtime.js';
import { warmUp } from './warm-up.js';

/** A port's final counters, for the "stopped" line. */
function portCounts(p: LivePort) {
  const s = p.stats;
  return { rxPackets: s.rxPackets, txPackets: s.txPackets, kernelDrops: s.kernelDrops, txErrors: s.txErrors };
}

export interface DaemonOptions {
  readonly configPath: string;
  readonly log: Logger;
  /** Where DHCP client leases are kept. */
  readonly stateDir: string;
  /** The control socket's path; null: none. */
  readonly control: string | null;
  /** Where the Prometheus endpoint listens; null: none. */
  readonly metrics: { readonly host: string; readonly port: number } | null;
  /** Run the JIT warm-up (warm-up.ts) before the ports start receiving; default true. */
  readonly warmUp?: boolean;
}

/** Port socket errors kept for `portErrors()`. */
const MAX_PORT_ERRORS = 100;
/** How often port errors are collected from the driver and logged. */
const ERROR_POLL_MS = 1000;

export class FerryDaemon implements Runtime {
  readonly configPath: string;
  readonly startedAt = Date.now() / 1000;
  readonly #log: Logger;
  readonly #changes: HostChanges;
  readonly #dhcp: DhcpClientsOptions;
  #state: RunningState;
  /** The open ports (the same through every reload). */
  readonly #ports: LivePort[];
  readonly #overlays: Overlays | null;
  #driver: LiveDriver;
  readonly #errors: string[] = [];
  #errorPoll: NodeJS.Timeout | null = null;
  /** Reloads run one at a time, in the order asked for. */
  #reloads: Promise<unknown> = Promise.resolve();
  #stopping: Promise<void> | null = null;

  private constructor(
    o: DaemonOptions,
    changes: HostChanges,
    dhcp: DhcpClientsOptions,
    overlays: Overlays | null,
    ports: LivePort[],
    state: RunningState,
    driver: LiveDriver,
  ) {
    this.#ports = ports;
    this.#overlays = overlays;
    this.configPath = o.configPath;
    this.#log = o.log;
    this.#changes = changes;
    this.#dhcp = dhcp;
    this.#state = state;
    this.#driver = driver;
  }

  /**
   * Starts the engine. Throws ConfigError (bad config), StartupError or FerryIoError (a device,
   * a privilege) after undoing whatever it had changed.
   */
  static async start(o: DaemonOptions): Promise<FerryDaemon> {
    const log = o.log;
    const cfg = await loadConfig(o.configPath);
    const changes = new HostChanges();
    try {
      // The overlays create the TUNs their ports attach to: up before the ports open, down after.
      const overlays = cfg.overlay.wireguard.length > 0 ? await startOverlays(cfg, { log }) : null;
      if (overlays) changes.record('WireGuard overlays', () => overlays.stop());
      const ports = await openPorts(cfg, changes, log);
      const hostPort = cfg.ports.some((p) => p.kind === 'host');
      if (hostPort) {
        for (const p of cfg.ports) if (p.kind === 'afpacket') quietKernelOn(changes, p.device, log);
        const rp = rpFilterWarning();
        if (rp) log.warn({ sysctl: rp.sysctl, value: rp.value, fix: rp.fix }, rp.msg);
      }
      const devices = ports.filter((_, i) => cfg.ports[i]!.kind !== 'host').map((p) => p.name);
      for (const w of forwardingWarnings(devices))
        log.warn({ sysctl: w.sysctl, value: w.value, fix: w.fix }, w.msg);
      const dhcp: DhcpClientsOptions = {
        stateDir: o.stateDir,
        onEvent: (e) =>
          log.info(
            { port: e.port, event: e.kind, address: e.address ? formatIpv4(e.address) : null },
            e.text,
          ),
      };
      const built = buildRouter(cfg, ports, { dhcpClient: dhcp });
      if (o.warmUp !== false) {
        const w = warmUp(cfg, { ports });
        log.info(
          { batches: w.batches, packets: w.packets, ms: Math.round(w.ms), stoppedBy: w.stoppedBy },
          'JIT warm-up done (scratch router over discard ports, dropped)',
        );
      }
      const driver = new LiveDriver(built.engine, ports);
      const daemon = new FerryDaemon(o, changes, dhcp, overlays, ports, { cfg, built, ports }, driver);
      driver.start();
      changes.record('engine', () => daemon.#driver.stop());
      built.engine.announce(Date.now() / 1000);
      daemon.#errorPoll = setInterval(() => daemon.#collectPortErrors(), ERROR_POLL_MS);
      changes.record('port error poll', () => clearInterval(daemon.#errorPoll!));
      if (o.control) {
        const control = await startControlServer(daemon, o.control, log);
        changes.record(`control socket ${o.control}`, () => control.close());
      }
      if (o.metrics) {
        const metrics = await startMetricsServer(daemon, o.metrics, log);
        changes.record('metrics endpoint', () => metrics.close());
      }
      log.info(
        {
          ports: cfg.ports.map((p) => p.name),
          devices: ports.map((p) => p.name),
          config: o.configPath,
          conntrack: built.engine.conntrack !== null,
          pid: process.pid,
        },
        'running',
      );
      return daemon;
    } catch (err) {
      await changes.undoAll(log);
      throw err;
    }
  }

  current(): RunningState {
    return this.#state;
  }

  portErrors(): readonly string[] {
    this.#collectPortErrors();
    return this.#errors;
  }

  async overlayPeers(): Promise<OverlayPeerStatus[]> {
    return this.#overlays ? this.#overlays.peers() : [];
  }

  reload(): Promise<ReloadResult> {
    const r = this.#reloads.then(() => this.#reload());
    this.#reloads = r.catch(() => undefined);
    return r;
  }

  /** Stops the engine and undoes every host-side change, newest first. Idempotent. */
  stop(reason = 'asked'): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = (async () => {
        this.#log.info({ reason }, 'stopping');
        await this.#reloads;
        this.#collectPortErrors();
        await this.#changes.undoAll(this.#log);
        this.#log.info(
          {
            uptime: Math.round(Date.now() / 1000 - this.startedAt),
            ports: Object.fromEntries(
              this.#ports.map((p, i) => [this.#state.cfg.ports[i]!.name, portCounts(p)]),
            ),
            drops: this.#state.built.engine.drops(),
          },
          'stopped',
        );
      })();
    }
    return this.#stopping;
  }

  async #reload(): Promise<ReloadResult> {
    const log = this.#log;
    const reject = (error: string): ReloadResult => {
      log.error({ config: this.configPath, error }, 'reload rejected, running config kept');
      return { ok: false, error };
    };
    if (this.#stopping) return reject('ferry is stopping');
    let next: FerryConfig;
    try {
      next = await loadConfig(this.configPath);
    } catch (err) {
      if (err instanceof ConfigError) return reject(err.issues.map(formatIssue).join('; '));
      return reject((err as Error).message);
    }
    const old = this.#state;
    const problems = restartNeeded(old.cfg, next);
    const ct = conntrackCarryProblem(old.built, next);
    if (ct) problems.push(`${ct} (the flow table is sized at start)`);
    if (problems.length) return reject(`restart ferry to apply: ${problems.join('; ')}`);
    let built: RunningState['built'];
    try {
      built = buildRouter(next, this.#ports, { dhcpClient: this.#dhcp, previous: old.built });
    } catch (err) {
      return reject(`cannot build the new router: ${(err as Error).message}`);
    }
    // The swap: synchronous from here on (see the header).
    const driver = new LiveDriver(built.engine, this.#ports);
    this.#collectPortErrors();
    this.#driver.stop();
    driver.start();
    this.#driver = driver;
    this.#state = { cfg: next, built, ports: this.#ports };
    const now = Date.now() / 1000;
    const addressesChanged = next.ports.some(
      (p, i) => JSON.stringify(p.addresses) !== JSON.stringify(old.cfg.ports[i]!.addresses),
    );
    if (addressesChanged) built.engine.announce(now);
    const summary = describeChanges(old.cfg, next);
    log.info(
      {
        config: this.configPath,
        summary,
        flows: built.engine.conntrack?.table.count ?? 0,
        neighbours: built.engine.ctx.neighbours.count,
      },
      'reloaded',
    );
    return { ok: true, summary };
  }

  /** Moves the driver's port errors into the daemon's list, logging them. */
  #collectPortErrors(): void {
    const fresh = this.#driver.errors.splice(0);
    if (fresh.length === 0) return;
    const counts = new Map<string, number>();
    for (const e of fresh) counts.set(e, (counts.get(e) ?? 0) + 1);
    for (const [e, n] of counts) this.#log.warn({ times: n }, `port error: ${e}`);
    this.#errors.push(...fresh);
    if (this.#errors.length > MAX_PORT_ERRORS) this.#errors.splice(0, this.#errors.length - MAX_PORT_ERRORS);
  }
}
