/**
 * The Prometheus endpoint: `GET /metrics` on a plain node:http server (127.0.0.1 unless the
 * config says otherwise), ferry's metrics (collectors.ts) plus Node's default process metrics, in
 * a registry of its own. Anything but /metrics is 404.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ControlLog } from '../control-socket/server.js';
import type { Runtime } from '../run/runtime.js';
import { registerFerryMetrics } from './collectors.js';
import { Scrape } from './scrape.js';

export const DEFAULT_METRICS_HOST = '127.0.0.1';

export interface MetricsServer {
  close(): Promise<void>;
  /** Where to scrape, e.g. http://127.0.0.1:9105/metrics (with the port actually bound). */
  readonly url: string;
}

function urlOf(addr: AddressInfo): string {
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${host}:${addr.port}/metrics`;
}

export async function startMetricsServer(
  runtime: Runtime,
  listen: { host: string; port: number },
  log: ControlLog,
): Promise<MetricsServer> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const scrape = new Scrape(runtime);
  registerFerryMetrics(registry, scrape);

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('GET only\n');
      return;
    }
    try {
      scrape.begin();
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      log.warn({ err: e instanceof Error ? e.stack : String(e) }, 'metrics scrape failed');
      res
        .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
        .end('scrape failed; see the ferry log\n');
    }
  };
  const server = createServer((req, res) => {
    void answer(req, res);
  });
  const host = listen.host || DEFAULT_METRICS_HOST;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => {
      registry.clear();
      reject(new Error(`metrics: cannot listen on ${host}:${listen.port}: ${e.message}`));
    };
    server.once('error', onError);
    server.listen(listen.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.warn({ err: err.message }, 'metrics server error'));
  const url = urlOf(server.address() as AddressInfo);
  log.info({ url }, 'metrics listening');
  let closing: Promise<void> | null = null;
  return {
    url,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => {
        registry.clear();
        log.info({ url }, 'metrics server closed');
      });
      return closing;
    },
  };
}
