import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Kafka, logLevel as KafkaLogLevel } from 'kafkajs';
import pg from 'pg';
import type { Config } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { kafkaConnectionOptions } from '../infra/kafka/connection-options.ts';
import { isLocalDatabase, isLoopbackHost } from '../stack/dev-master-key.ts';
import { REPO_ROOT, resolveStateDir } from '../stack/paths.ts';
import { loadStackConfig, stackDown, stackStatus } from '../stack/stack.ts';
import { isUp } from '../stack/service.ts';

/**
 * `claimtrail stack reset`: claimtrail's local data deleted, so the next `stack up` / `npm start`
 * begins from nothing, whether the stack started the services or reuses ones already running on
 * this machine. Removing the state folder alone is not enough when PostgreSQL, Redis or Kafka are
 * reused: the database keeps data keys wrapped by the old dev master key (the next start refuses
 * them, rightly), Redis keeps the entity aggregates' per-event records (claims at replayed
 * offsets would get the old observations) and Kafka keeps the topics and committed offsets.
 *
 * Only services on this machine are touched: a configuration naming any other host is refused.
 */

/** What one configuration owns in the services: topics, consumer groups, schema, queue, key prefix. */
export function configuredData(config: Readonly<Config>): { topics: string[]; groups: string[]; schema: string; queue: string; redisPrefix: string } {
  const { topics } = config.kafka;
  return {
    topics: [topics.claims, topics.dlq, topics.decisions, topics.shadow, topics.acks, topics.interchanges, config.monitoring.accessTopic, config.monitoring.accessDlqTopic],
    groups: [config.kafka.scoringGroupId, config.kafka.batchingGroupId, config.kafka.ingestGroupId, config.monitoring.groupId],
    schema: config.database.schema,
    queue: config.anchor.queue,
    redisPrefix: config.aggregates.keyPrefix,
  };
}

/** Hosts other than this machine's among the configured services, one line each; empty when all are local. */
export function nonLocalServices(config: Readonly<Config>): string[] {
  const out: string[] = [];
  for (const broker of config.kafka.brokers) {
    const host = broker.startsWith('[') ? broker.slice(0, broker.indexOf(']') + 1) : (broker.split(':')[0] ?? '');
    if (!isLoopbackHost(host)) out.push(`KAFKA_BROKERS names ${host}`);
  }
  const redisHost = new URL(config.redisUrl).hostname;
  if (!isLoopbackHost(redisHost)) out.push(`REDIS_URL names ${redisHost}`);
  if (!isLocalDatabase(config.database.url)) out.push(`DATABASE_URL names ${new URL(config.database.url).hostname}`);
  return out;
}

/** Refuses (ConfigError, one line per address) a configuration naming a service on another machine. */
export function refuseNonLocalServices(config: Readonly<Config>): void {
  const remote = nonLocalServices(config);
  if (remote.length > 0) throw new ConfigError(remote.map((r) => `${r}: stack reset deletes data only on this machine's services`));
}

/**
 * Deletes what `config` owns in Kafka (topics, consumer groups), PostgreSQL (its schema, dropped
 * with everything in it) and Redis (the anchor queue, the entity aggregate keys). Each step is
 * attempted on its own and reported; a step that fails does not stop the others.
 * @returns one line per step, `ok` false where it failed.
 */
export async function deleteConfiguredData(config: Readonly<Config>, log: Logger, extraGroups: readonly string[] = []): Promise<Array<{ step: string; ok: boolean; detail: string }>> {
  const owned = configuredData(config);
  const report: Array<{ step: string; ok: boolean; detail: string }> = [];
  const attempt = async (step: string, fn: () => Promise<string>) => {
    try {
      report.push({ step, ok: true, detail: await fn() });
    } catch (error) {
      log.warn({ err: error, step }, 'deleting local data failed');
      report.push({ step, ok: false, detail: (error as Error).message.split('\n')[0] ?? 'failed' });
    }
  };
  await attempt('kafka', async () => {
    // Few retries: an absent broker is reported, not waited for.
    const kafka = new Kafka({ ...kafkaConnectionOptions(config, '-reset'), logLevel: KafkaLogLevel.NOTHING, retry: { retries: 2, initialRetryTime: 200 }, connectionTimeout: 3000 });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const topics = owned.topics.filter((t) => existing.has(t));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
      const present = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
      const groups = [...owned.groups, ...extraGroups].filter((g) => present.has(g));
      if (groups.length > 0) await admin.deleteGroups(groups);
      return `${topics.length} topic(s), ${groups.length} consumer group(s) deleted`;
    } finally {
      await admin.disconnect();
    }
  });
  await attempt('postgres', async () => {
    const client = new pg.Client({ connectionString: config.database.url, connectionTimeoutMillis: 3000 });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${owned.schema.replaceAll('"', '""')}" CASCADE`);
      return `schema ${owned.schema} dropped`;
    } finally {
      await client.end().catch(() => undefined);
    }
  });
  await attempt('redis', async () => {
    // No offline queue and one reconnect attempt: an absent Redis fails this step at once.
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (times) => (times > 1 ? null : 200) });
    redis.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve);
      redis.once('end', () => reject(new Error(`no Redis answers at the REDIS_URL host`)));
    });
    const queue = new Queue(owned.queue, { connection: redis });
    try {
      await queue.obliterate({ force: true });
      let deleted = 0;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${owned.redisPrefix.replace(/[*?[\]\\]/g, '\\$&')}:*`, 'COUNT', 5000);
        cursor = next;
        if (keys.length > 0) deleted += await redis.unlink(...keys);
      } while (cursor !== '0');
      return `anchor queue ${owned.queue} removed, ${deleted} aggregate key(s) deleted`;
    } finally {
      await queue.close().catch(() => undefined);
      redis.disconnect();
    }
  });
  return report;
}

/** Where a service the stack runs keeps its data, under the state folder. */
const DATA_IN_STATE: Readonly<Record<'kafka' | 'postgres' | 'redis', string>> = { kafka: 'kafka/data', postgres: 'postgres/data', redis: 'redis' };

export interface ResetResult {
  /** One line per step, in order. */
  lines: string[];
  /**
   * False when a service's data could not be deleted (it failed, or it does not answer and its
   * data is not in the state folder): then nothing else is removed, the dev keys included, since
   * that data is still wrapped by them.
   */
  ok: boolean;
}

/**
 * Deletes the configured data in the services (one that does not answer is fine only when the
 * stack ran it: its data is in the state folder), then stops what the stack started and removes
 * the state folder and, when MODEL_DIR is not set, the `models` folder. When any service's data
 * stays, it stops before removing anything else. Refuses (ConfigError) a configuration naming
 * another machine.
 */
export async function stackReset(config: Readonly<Config>, env: NodeJS.ProcessEnv, log: Logger): Promise<ResetResult> {
  refuseNonLocalServices(config);
  const stateDir = resolveStateDir(config.stateDir);
  const stack = { config: loadStackConfig(env), log };
  const status = await stackStatus(stack);
  const answering = new Set(status.services.filter((s) => isUp(s.state)).map((s) => s.service));
  const lines: string[] = [];
  let ok = true;
  for (const step of await deleteConfiguredData(config, log)) {
    const service = step.step as 'kafka' | 'postgres' | 'redis';
    if (step.ok) lines.push(`${step.step.padEnd(9)} ${step.detail}`);
    else if (!answering.has(service) && existsSync(join(stateDir, DATA_IN_STATE[service]))) lines.push(`${step.step.padEnd(9)} not running: its data is in ${join(stateDir, DATA_IN_STATE[service])}, removed below`);
    else {
      ok = false;
      lines.push(`${step.step.padEnd(9)} FAILED: ${step.detail}${answering.has(service) ? '' : ' (it does not answer and its data is not in the state folder: start it and run the reset again)'}`);
    }
  }
  if (!ok) {
    lines.push(`state     ${stateDir} kept: its dev keys still wrap the data left above`);
    return { lines, ok };
  }
  for (const down of (await stackDown(stack)).services) if (down.action === 'stopped') lines.push(`${down.service.padEnd(9)} stopped (pid ${down.pid})`);
  rmSync(stateDir, { recursive: true, force: true });
  lines.push(`state     ${stateDir} removed (dev keys, chain, logs, data of the services the stack ran)`);
  if (env.MODEL_DIR === undefined) {
    const models = join(REPO_ROOT, 'models');
    rmSync(models, { recursive: true, force: true });
    lines.push(`models    ${models} removed`);
  } else lines.push(`models    MODEL_DIR is set: ${env.MODEL_DIR} left in place`);
  return { lines, ok };
}
