/**
 * `ferry replay -c CONFIG PORT=FILE… -o OUTDIR [--mac PORT=MAC]… [--trace FILE]`
 *
 * Runs captures through the router a config describes, offline. Each configured port reads the
 * capture given for it (ports without one receive nothing) and writes what it transmits to
 * `OUTDIR/<port>.pcap` (Ethernet for L2 ports, raw IP for TUN ports). Packet timestamps drive the
 * clock, so a replay is deterministic. `OUTDIR/summary.json` holds per-port MAC and rx/tx counts
 * and drops by reason; `--trace` writes every packet's path through the stages as JSON lines
 * (read them with `ferry trace FILE`). When the config tracks connections, `OUTDIR/conntrack.json`
 * holds the flows left at the end (read it with `ferry conntrack --from FILE`).
 */
import { createWriteStream, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { type ReplaySource, replay } from '../../dataplane/engine/replay.js';
import {
  type CaptureFileReader,
  CaptureFormatError,
  linkTypeName,
  openCaptureFile,
} from '../../dataplane/pcap/index.js';
import { CapturePort } from '../../dataplane/ports/capture-port.js';
import { formatMac, parseMac, setU48, u48 } from '../../dataplane/wire/bytes.js';
import { buildRouter } from '../build-router.js';
import { ConfigError, formatIssue } from '../config/errors.js';
import { loadConfig } from '../config/loader.js';
import type { FerryConfig, PortConfig } from '../config/types.js';
import { snapshotConntrack } from '../conntrack/records.js';
import { toRecord } from '../trace/record.js';
import type { CliIO, CommandResult } from './io.js';

class UsageError extends Error {}

interface ReplayOpts {
  config: string;
  out: string;
  mac: string[];
  trace?: string;
  progress: boolean;
}

/** A stable, locally administered MAC for a port that has none configured (02:fe + hash of the name). */
export function defaultMac(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return 0x02fe * 0x1_0000_0000 + h;
}

function isL2(p: PortConfig): boolean {
  return p.kind !== 'tun';
}

function parsePairs(pairs: string[], what: string, cfg: FerryConfig): Map<string, string> {
  const out = new Map<string, string>();
  const names = cfg.ports.map((p) => p.name);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1)
      throw new UsageError(`${what} "${pair}": expected PORT=${what === 'input' ? 'FILE' : 'MAC'}`);
    const port = pair.slice(0, eq);
    if (!names.includes(port))
      throw new UsageError(
        `${what} "${pair}": no port "${port}" in ${cfg.file} (ports: ${names.join(', ')})`,
      );
    if (out.has(port)) throw new UsageError(`${what} "${pair}": port "${port}" given twice`);
    out.set(port, pair.slice(eq + 1));
  }
  return out;
}

export async function runReplay(inputs: string[], o: ReplayOpts, io: CliIO): Promise<number> {
  let cfg: FerryConfig;
  try {
    cfg = await loadConfig(o.config);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const issue of e.issues) io.err(`${formatIssue(issue)}\n`);
    return 1;
  }
  const files = parsePairs(inputs, 'input', cfg);
  const macs = parsePairs(o.mac, 'mac', cfg);
  await mkdir(o.out, { recursive: true });

  const readers: CaptureFileReader[] = [];
  const ports: CapturePort[] = [];
  try {
    for (const p of cfg.ports) {
      const macText = macs.get(p.name);
      let mac = p.mac ? u48(p.mac, 0) : defaultMac(p.name);
      if (macText !== undefined) {
        const b = parseMac(macText);
        if (!b) throw new UsageError(`--mac ${p.name}=${macText}: not a MAC address (aa:bb:cc:dd:ee:ff)`);
        mac = u48(b, 0);
      }
      ports.push(await CapturePort.open(p.name, isL2(p), mac, p.mtu, join(o.out, `${p.name}.pcap`)));
    }
    const sources: ReplaySource[] = [];
    let totalBytes = 0;
    for (const p of cfg.ports) {
      const file = files.get(p.name);
      if (file === undefined) continue;
      const reader = await openCaptureFile(file);
      readers.push(reader);
      totalBytes += statSync(file).size;
      for (const i of reader.interfaces) {
        const want = isL2(p) ? 'ethernet' : 'raw-ip';
        if (i.link.kind !== want) {
          throw new UsageError(
            `${file}: link type ${linkTypeName(i.linkType)} cannot be replayed on port ${p.name}, which carries ${want === 'ethernet' ? 'Ethernet frames' : 'bare IP packets'}`,
          );
        }
      }
      sources.push({ port: p.index, reader });
    }

    // No DHCP clients in a replay: their random transaction ids would make it non-deterministic
    // (and they would write lease files); the relay, a pure function of its input, does run.
    const { engine } = buildRouter(cfg, ports, { dhcpClient: false });
    const trace = o.trace ? createWriteStream(o.trace) : null;
    const names = cfg.ports.map((p) => p.name);
    const bar =
      o.progress && process.stderr.isTTY && totalBytes > 8 << 20
        ? new cliProgress.SingleBar(
            { format: 'replay [{bar}] {percentage}% | {value}/{total} MB' },
            cliProgress.Presets.shades_classic,
          )
        : null;
    bar?.start(Math.ceil(totalBytes / 2 ** 20), 0);
    const result = await replay(engine, sources, {
      onStart: (now) => engine.announce(now),
      afterStep: async () => {
        for (const p of ports) await p.flush();
      },
      onTrace: trace
        ? (packets) => {
            for (const p of packets)
              trace.write(`${JSON.stringify(toRecord(p, names, (i) => isL2(cfg.ports[i]!)))}\n`);
          }
        : undefined,
      onProgress: bar
        ? () => bar.update(Math.round(readers.reduce((n, r) => n + r.bytesRead, 0) / 2 ** 20))
        : undefined,
    });
    bar?.stop();
    if (trace) await new Promise<void>((res, rej) => trace.end((e?: Error | null) => (e ? rej(e) : res())));

    const summary = {
      ports: Object.fromEntries(
        ports.map((p) => {
          const mb = new Uint8Array(6);
          setU48(mb, 0, p.mac);
          return [p.name, { mac: p.l2 ? formatMac(mb) : null, rx: p.stats.rxPackets, tx: p.stats.txPackets }];
        }),
      ),
      drops: engine.drops(),
      packets: result.packets,
      errors: result.errors.map((e) => `${names[e.port]}: ${e.error.message}`),
    };
    await writeFile(join(o.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    // The flows left at the end, for `ferry conntrack --from OUTDIR/conntrack.json`.
    if (engine.conntrack) {
      const snap = snapshotConntrack(engine.conntrack, Math.round(engine.ctx.now * 1000));
      await writeFile(join(o.out, 'conntrack.json'), `${JSON.stringify(snap, null, 2)}\n`);
    }
    const dropped = Object.values(summary.drops).reduce((a, b) => a + b, 0);
    io.out(
      `replayed ${result.packets} packets in ${result.batches} batches; ${Object.entries(summary.ports)
        .map(([n, s]) => `${n} rx ${s.rx} tx ${s.tx}`)
        .join(', ')}; ${dropped} dropped → ${join(o.out, 'summary.json')}\n`,
    );
    for (const e of summary.errors) io.err(`replay: ${e}\n`);
    return summary.errors.length ? 1 : 0;
  } finally {
    for (const r of readers) await r.close();
    for (const p of ports) await p.close();
  }
}

export function registerReplay(program: Command, io: CliIO, result: CommandResult): void {
  program
    .command('replay')
    .description('run captures through a config offline: PORT=FILE inputs, OUTDIR/<port>.pcap outputs')
    .argument('<inputs...>', 'PORT=FILE: the capture each port receives')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .requiredOption('-o, --out <dir>', 'where outputs, summary.json go')
    .option(
      '--mac <PORT=MAC>',
      'pin a port MAC (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--trace <file>', 'write every packet’s path through the stages (JSON lines)')
    .option('--no-progress', 'no progress bar')
    .action(async (inputs: string[], opts: ReplayOpts) => {
      try {
        result.code = await runReplay(inputs, opts, io);
      } catch (e) {
        if (e instanceof CaptureFormatError) {
          io.err(`ferry replay: ${e.message}\n`);
          result.code = 1;
          return;
        }
        if (!(e instanceof UsageError) && !(e instanceof Error && 'code' in e && e.code === 'ENOENT'))
          throw e;
        io.err(`ferry replay: ${e.message}\n`);
        result.code = 2;
      }
    });
}
