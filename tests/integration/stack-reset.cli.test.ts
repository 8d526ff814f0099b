import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, loadConfig } from '../../core/config.ts';
import { migrate } from '../../infra/db/migrate.ts';
import { createKafka, ensureTopics } from '../../infra/kafka/kafka.ts';
import { createRedis } from '../../infra/redis.ts';
import { cleanupRun } from '../../bench/support.ts';
import { testLog, uniqueName } from '../support/env.ts';

const run = promisify(execFile);

/**
 * `claimtrail stack reset` on the real Kafka, PostgreSQL and Redis (reused services: the case the
 * state folder alone cannot reset), with its own topics, schema, queue, aggregate prefix, state
 * folder and model folder, so it deletes nothing of anyone else's.
 */
describe('claimtrail stack reset', () => {
  const work = mkdtempSync(join(tmpdir(), 'claimtrail-reset-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    ...isolatedEnv(uniqueName('t')),
    ...Object.fromEntries(['KAFKA_BROKERS', 'REDIS_URL', 'DATABASE_URL', 'CHAIN_RPC_URL'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
    STATE_DIR: join(work, 'state'),
    MODEL_DIR: join(work, 'model'),
    LOG_LEVEL: 'silent',
  };
  const config = loadConfig(env);
  const kafka = createKafka(config, testLog, '-reset-test');
  const redis = createRedis(config.redisUrl);
  const db = new pg.Client({ connectionString: config.database.url });

  async function reset(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return run(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'cli/main.ts', 'stack', 'reset', ...args], { env: { ...env, ...extra }, timeout: 120_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );
  }

  /** What of the installation is still there. */
  async function present(): Promise<{ topics: string[]; schema: boolean; queueKeys: number; aggregateKeys: number; state: boolean; model: boolean }> {
    const admin = kafka.admin();
    await admin.connect();
    const mine = new Set([config.kafka.topics.claims, config.kafka.topics.decisions, config.kafka.topics.dlq]);
    const topics = (await admin.listTopics()).filter((t) => mine.has(t)).sort();
    await admin.disconnect();
    const { rows } = await db.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [config.database.schema]);
    return {
      topics,
      schema: rows.length === 1,
      queueKeys: (await redis.keys(`bull:${config.anchor.queue}:*`)).length,
      aggregateKeys: (await redis.keys(`${config.aggregates.keyPrefix}:*`)).length,
      state: existsSync(config.stateDir),
      model: existsSync(config.modelDir),
    };
  }

  beforeAll(async () => {
    await db.connect();
    await ensureTopics(kafka, config);
    await migrate(config.database.url, config.database.schema);
    const queue = new Queue(config.anchor.queue, { connection: redis });
    await queue.add('anchor-epoch', { probe: true });
    await queue.close();
    await redis.set(`${config.aggregates.keyPrefix}:seen:e1`, '0,1,2');
    mkdirSync(config.stateDir, { recursive: true });
    writeFileSync(join(config.stateDir, 'marker'), 'x');
    mkdirSync(config.modelDir, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await cleanupRun(config, testLog);
    await db.end();
    redis.disconnect();
    rmSync(work, { recursive: true, force: true });
  });

  it('without --yes says what it would delete, deletes nothing and exits 2', async () => {
    const result = await reset([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(`schema ${config.database.schema}`);
    expect(result.stdout).toContain(config.kafka.topics.claims);
    expect(result.stderr.trim().split('\n')).toEqual(['claimtrail: stack reset: nothing deleted; run it again with --yes to delete the above']);
    expect(await present()).toEqual({ topics: [config.kafka.topics.claims, config.kafka.topics.dlq, config.kafka.topics.decisions].sort(), schema: true, queueKeys: expect.any(Number), aggregateKeys: 1, state: true, model: true });
    expect((await present()).queueKeys).toBeGreaterThan(0);
  }, 120_000);

  it('refuses a service on another machine with one line and exit 2, touching nothing', async () => {
    const url = new URL(config.database.url);
    url.hostname = 'db.example.org';
    const result = await reset(['--yes'], { DATABASE_URL: url.toString() });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(["claimtrail: invalid configuration: DATABASE_URL names db.example.org: stack reset deletes data only on this machine's services"]);
    expect((await present()).schema).toBe(true);
  }, 120_000);

  it('with --yes deletes the topics, schema, queue, aggregate keys and state folder, and keeps a MODEL_DIR that was set', async () => {
    const result = await reset(['--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^kafka +\d+ topic\(s\), \d+ consumer group\(s\) deleted$/m);
    expect(result.stdout).toContain(`schema ${config.database.schema} dropped`);
    expect(await present()).toEqual({ topics: [], schema: false, queueKeys: 0, aggregateKeys: 0, state: false, model: true });
  }, 120_000);

  it('keeps the state folder and exits 3 when a reused service does not answer (its data would outlive the dev keys)', async () => {
    mkdirSync(config.stateDir, { recursive: true });
    writeFileSync(join(config.stateDir, 'marker'), 'x');
    const result = await reset(['--yes'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/^redis +FAILED: .*\(it does not answer and its data is not in the state folder: start it and run the reset again\)$/m);
    expect(result.stdout).toContain('kept: its dev keys still wrap the data left above');
    expect(existsSync(config.stateDir)).toBe(true);
  }, 120_000);
});
