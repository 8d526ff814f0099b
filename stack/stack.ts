import { createLogger, type Logger } from '../core/logger.ts';
import { join } from 'node:path';
import { createChainService } from './chain.ts';
import { DEV_MASTER_KEY_FILE, ensureDevMasterKey, isLocalDatabase } from './dev-master-key.ts';
import { createKafkaService } from './kafka.ts';
import { withStackLock } from './lock.ts';
import { createPostgresService } from './postgres.ts';
import { createRedisService } from './redis.ts';
import { SERVICE_NAMES, isUp, type DownReport, type ServiceName, type ServiceReport, type StackContext, type StackService } from './service.ts';
import { loadStackConfig, type StackConfig } from './stack-config.ts';

/**
 * The local stack as one unit: Kafka, Redis, PostgreSQL and the EVM chain, brought up in that
 * order and down in reverse. Each service is reused when something healthy already answers at
 * its configured address ("external": docker compose, system services) and is otherwise
 * started by us under the state folder; `stackDown` stops only what we started.
 *
 * `up` and `down` hold a lock file in the state folder, so concurrent callers (several
 * terminals, the test suite's global setup) take turns instead of starting two brokers.
 */

export type { DownReport, ServiceName, ServiceReport, ServiceState, DownAction } from './service.ts';
export { SERVICE_NAMES, isUp } from './service.ts';
export type { StackConfig } from './stack-config.ts';
export { loadStackConfig } from './stack-config.ts';

export interface StackOptions {
  /** Defaults to {@link loadStackConfig} over process.env. */
  readonly config?: StackConfig;
  /** Defaults to a pino logger at LOG_LEVEL; a `component: 'stack'` child is taken from it. */
  readonly log?: Logger;
  /** Only these services (still in stack order). Default: all four. */
  readonly services?: readonly ServiceName[];
}

export interface StackUpResult {
  /** One report per service, in start order; every state is up (`started`, `running` or `external`). */
  readonly services: readonly ServiceReport[];
  /** Services this call started (empty when everything was already up). */
  readonly started: readonly ServiceName[];
  /** Wall time of the whole call, milliseconds. */
  readonly elapsedMs: number;
}

export interface StackDownResult {
  /** One report per service, in stop order (reverse of start). */
  readonly services: readonly DownReport[];
  readonly elapsedMs: number;
}

export interface StackStatusResult {
  /** One report per service, in start order. */
  readonly services: readonly ServiceReport[];
  /** True when every selected service answers its health check. */
  readonly allUp: boolean;
}

/**
 * Brings every selected service up, one after the other, and resolves once all answer.
 * Calling it again while the stack runs starts nothing and only reports (`running` /
 * `external`). Throws StackError (code STACK_UNAVAILABLE) naming the first service that cannot
 * start and what to do; services started before it stay up.
 */
export async function stackUp(options: StackOptions = {}): Promise<StackUpResult> {
  const { ctx, services } = selectServices(options);
  const began = Date.now();
  return withStackLock(ctx.config.stateDir, async () => {
    const reports: ServiceReport[] = [];
    for (const service of services) {
      ctx.log.debug({ stackService: service.name }, 'up');
      reports.push(await service.up());
    }
    // The local stack's PHI master key, like the dev signer: only for a database on this machine.
    if (services.some((s) => s.name === 'postgres') && isLocalDatabase(ctx.config.databaseUrl)) ensureDevMasterKey(join(ctx.config.stateDir, DEV_MASTER_KEY_FILE), ctx.log);
    const started = reports.filter((r) => r.state === 'started').map((r) => r.service);
    const elapsedMs = Date.now() - began;
    ctx.log.info({ started, elapsedMs }, 'stack up');
    return { services: reports, started, elapsedMs };
  });
}

/**
 * Stops, in reverse order, every selected service the stack started (found by pidfile) and
 * verifies each process is gone. External services are reported and left alone. Throws
 * StackError when a process survives SIGKILL.
 */
export async function stackDown(options: StackOptions = {}): Promise<StackDownResult> {
  const { ctx, services } = selectServices(options);
  const began = Date.now();
  return withStackLock(ctx.config.stateDir, async () => {
    const reports: DownReport[] = [];
    for (const service of [...services].reverse()) reports.push(await service.down());
    const elapsedMs = Date.now() - began;
    ctx.log.info({ stopped: reports.filter((r) => r.action === 'stopped').map((r) => r.service), elapsedMs }, 'stack down');
    return { services: reports, elapsedMs };
  });
}

/**
 * Probes every selected service (in parallel, each within a few seconds). Starts and stops
 * nothing; the only write is removing a stale pidfile whose process is gone.
 */
export async function stackStatus(options: StackOptions = {}): Promise<StackStatusResult> {
  const { services } = selectServices(options);
  const reports = await Promise.all(services.map((s) => s.status()));
  return { services: reports, allUp: reports.every((r) => isUp(r.state)) };
}

const FACTORIES: Record<ServiceName, (ctx: StackContext) => StackService> = {
  kafka: createKafkaService,
  redis: createRedisService,
  postgres: createPostgresService,
  chain: createChainService,
};

function selectServices(options: StackOptions): { ctx: StackContext; services: StackService[] } {
  const config = options.config ?? loadStackConfig();
  const log = (options.log ?? createLogger()).child({ component: 'stack' });
  const ctx: StackContext = { config, log };
  const wanted = new Set(options.services ?? SERVICE_NAMES);
  return { ctx, services: SERVICE_NAMES.filter((n) => wanted.has(n)).map((n) => FACTORIES[n](ctx)) };
}
