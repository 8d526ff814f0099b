import { Redis } from 'ioredis';
import { StackError } from '../core/errors.ts';
import { DaemonService, type LaunchSpec, type Probe } from './daemon-service.ts';
import { servicePaths } from './paths.ts';
import { isPortOpen } from './port.ts';
import { findExecutable } from './process.ts';
import type { StackContext, StackService } from './service.ts';

/**
 * Redis for BullMQ and the entity counters: whatever answers PING at REDIS_URL is reused;
 * otherwise a local `redis-server` runs with an append-only file under `<state>/redis`.
 */

const START_TIMEOUT_MS = 15_000;
/** SIGTERM makes redis fsync the AOF and exit; a large AOF rewrite can take a few seconds. */
const STOP_TIMEOUT_MS = 15_000;

export function createRedisService(ctx: StackContext): StackService {
  const url = new URL(ctx.config.redisUrl);
  const host = url.hostname;
  const port = url.port === '' ? 6379 : Number(url.port);
  const password = decodeURIComponent(url.password);
  const paths = servicePaths(ctx.config.stateDir, 'redis');
  return new DaemonService(
    {
      name: 'redis',
      host,
      port,
      address: `${host}:${port}`,
      paths,
      addressVariable: 'REDIS_URL',
      startTimeoutMs: START_TIMEOUT_MS,
      stopTimeoutMs: STOP_TIMEOUT_MS,
      probe: () => probeRedis(ctx.config.redisUrl, host, port),
      prepare: async (): Promise<LaunchSpec> => {
        const server = findExecutable('redis-server');
        if (server === null) {
          throw new StackError('redis', `nothing answers at ${host}:${port} and redis-server is not installed (install redis-server) or use \`docker compose up\``);
        }
        const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', paths.dir, '--appendonly', 'yes', '--daemonize', 'no', '--logfile', ''];
        // A password in REDIS_URL must work against the server we start (dev only: it shows in `ps`).
        if (password !== '') args.push('--requirepass', password);
        return { command: server, args };
      },
    },
    ctx.log,
  );
}

/** Healthy when PING (with the URL's credentials) answers PONG. */
async function probeRedis(url: string, host: string, port: number): Promise<Probe> {
  if (!(await isPortOpen(host, port))) return { kind: 'closed' };
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1_500, commandTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // Failures surface through connect()/ping() below; without a listener ioredis also prints them.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const pong = await client.ping();
    return pong === 'PONG' ? { kind: 'healthy' } : { kind: 'foreign', detail: `PING answered ${pong}` };
  } catch (error) {
    return { kind: 'foreign', detail: `Redis PING failed: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    client.disconnect();
  }
}
