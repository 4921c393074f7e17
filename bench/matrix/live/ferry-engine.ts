/**
 * ferry as a live router for the benchmark matrix, run inside the forwarder namespace
 * (`ip netns exec NS node --import tsx bench/matrix/live/ferry-engine.ts -c FILE`): the config's
 * AF_PACKET ports opened on their devices, the router built from the config (buildRouter), and
 * the LiveDriver feeding each port's receive batches into the engine, as `ferry run` does.
 *
 *   ferry-engine.ts -c FILE [--offloads off|vnet] [--secs N]
 *
 * Prints "ferry engine: ready ..." on stderr once the ports run, and one JSON line with per-port
 * counters, drops and CPU time on stdout when it stops (SIGTERM, SIGINT or after --secs).
 */
import '../../../src/dataplane/v8-tuning.js';
import { parseArgs } from 'node:util';
import { buildRouter } from '../../../src/control/build-router.js';
import { loadConfig } from '../../../src/control/config/loader.js';
import { LiveDriver } from '../../../src/dataplane/engine/live-driver.js';
import { AfPacketPort, type OffloadMode } from '../../../src/dataplane/io/afpacket-port.js';

const { values } = parseArgs({
  options: {
    config: { type: 'string', short: 'c' },
    offloads: { type: 'string', default: 'off' },
    secs: { type: 'string', default: '900' },
  },
});
if (!values.config) {
  console.error('usage: ferry-engine.ts -c FILE [--offloads off|vnet] [--secs N]');
  process.exit(2);
}
const offloads = values.offloads as OffloadMode;
if (offloads !== 'off' && offloads !== 'vnet') {
  console.error(`ferry-engine: --offloads must be off or vnet, not ${values.offloads}`);
  process.exit(2);
}

const cfg = await loadConfig(values.config);
const unsupported = cfg.ports.filter((p) => p.kind !== 'afpacket');
if (unsupported.length) {
  console.error(
    `ferry-engine: only afpacket ports are opened here; ${unsupported.map((p) => `${p.name} (${p.kind})`).join(', ')} ` +
      'must be left out of the benchmark config',
  );
  process.exit(2);
}
const ports = cfg.ports.map((p) => AfPacketPort.open({ ifname: p.device, offloads, index: p.index }));
const { engine } = buildRouter(cfg, ports, { dhcpClient: false });
const driver = new LiveDriver(engine, ports);
driver.start();
engine.announce(Date.now() / 1000);
console.error(
  `ferry engine: ready ${ports.map((p) => `${p.name}:${p.rxMode}/${p.txMode}`).join(' ')} offloads=${offloads} pid=${process.pid}`,
);

let stopped = false;
function stop(): void {
  if (stopped) return;
  stopped = true;
  driver.stop();
  const cpu = process.cpuUsage();
  const report = {
    ports: Object.fromEntries(ports.map((p) => [p.name, p.stats])),
    drops: engine.drops(),
    errors: driver.errors,
    cpuUser: cpu.user / 1e6,
    cpuSys: cpu.system / 1e6,
  };
  for (const p of ports) p.close();
  console.log(JSON.stringify(report));
  process.exit(0);
}
setTimeout(stop, Number(values.secs) * 1000).unref();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
