import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import type { Logger } from '../../core/logger.ts';
import { METRICS_ENDPOINTS } from './names.ts';

/** One readiness check: resolves when the dependency answers, throws (or times out) when not. */
export type ReadinessCheck = () => Promise<unknown>;

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port (tests); read it back from `port`. */
  port: number;
  /** Bearer token /metrics requires when set. */
  token: string | undefined;
  registry: Registry;
  /** Named readiness checks of /readyz (kafka, postgres, redis, chain, consumer:...). */
  checks: () => Readonly<Record<string, ReadinessCheck>>;
  log: Logger;
  /** /healthz fails when the event loop's p99 delay over the last window exceeds this. Default 1000 ms. */
  maxEventLoopDelayMs?: number;
  /** Each readiness check's time bound. Default 2000 ms. */
  checkTimeoutMs?: number;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(text);
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(req.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The process's tiny HTTP endpoint: `/metrics` (Prometheus text; bearer token when configured),
 * `/healthz` (alive, event loop not stuck) and `/readyz` (every dependency answers) -> 200 / 503
 * with a JSON body naming each check. Bind it to loopback unless a scraper needs it elsewhere.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const maxDelayMs = options.maxEventLoopDelayMs ?? 1000;
  const checkTimeoutMs = options.checkTimeoutMs ?? 2000;
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  // The delay over a sliding window: reset every 10 s so an old stall does not fail forever.
  let lastP99Ms = 0;
  const window = setInterval(() => {
    lastP99Ms = histogram.percentile(99) / 1e6;
    histogram.reset();
  }, 10_000);
  window.unref();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    if (path === METRICS_ENDPOINTS.metrics) {
      if (!authorized(req, options.token)) {
        res.setHeader('www-authenticate', 'Bearer');
        return send(res, 401, { error: 'unauthorized' });
      }
      return send(res, 200, await options.registry.metrics(), options.registry.contentType);
    }
    if (path === METRICS_ENDPOINTS.healthz) {
      const currentP99Ms = histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0;
      const delayMs = Math.max(lastP99Ms, currentP99Ms);
      const ok = delayMs <= maxDelayMs;
      return send(res, ok ? 200 : 503, { status: ok ? 'ok' : 'event loop stalled', eventLoopDelayP99Ms: Math.round(delayMs * 10) / 10, maxEventLoopDelayMs: maxDelayMs });
    }
    if (path === METRICS_ENDPOINTS.readyz) {
      const entries = Object.entries(options.checks());
      const results = await Promise.all(
        entries.map(async ([name, check]) => {
          try {
            await withTimeout(check(), checkTimeoutMs);
            return [name, { ok: true }] as const;
          } catch (error) {
            return [name, { ok: false, error: (error as Error).message.split('\n')[0]!.slice(0, 200) }] as const;
          }
        }),
      );
      const ready = results.every(([, r]) => r.ok);
      return send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
    }
    return send(res, 404, { error: 'not found' });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.log.error({ err: error, component: 'metrics' }, 'metrics endpoint failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.log.info({ component: 'metrics', host: options.host, port, token: options.token ? 'required' : 'none' }, 'metrics and health endpoint listening');
  return {
    port,
    async close() {
      clearInterval(window);
      histogram.disable();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
