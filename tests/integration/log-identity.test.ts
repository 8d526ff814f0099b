import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionIndexRepository } from '../../anchoring/decision-index.repository.ts';
import { InstanceRepository } from '../../anchoring/instance.repository.ts';
import { LogIdentityRepository } from '../../anchoring/log-identity.repository.ts';
import { isolatedEnv } from '../../core/config.ts';
import { decisionIdV2, encodeDecision } from '../../domain/decision-codec.ts';
import type { DecisionV2 } from '../../domain/decision.ts';
import { createPool } from '../../infra/db/pool.ts';
import { createKafka, ensureTopics } from '../../infra/kafka/kafka.ts';
import { BatchingStage } from '../../pipeline/batching.stage.ts';
import { LogIdentityError } from '../../pipeline/log-identity.ts';
import type { AnchorJobSink } from '../../workers/anchor.queue.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

const run = promisify(execFile);
const HEX = (c: string) => `0x${c.repeat(64)}`;
const noJobs: AnchorJobSink = { enqueueBatch: async () => {}, enqueueFlagged: async () => {}, enqueueEpoch: async () => {}, enqueueFlaggedRoot: async () => {} };

/**
 * Issue 17: the batcher ran, then the `decisions` topic was deleted and created again under the
 * same schema. Started again, it must refuse with one line and exit 2 (LOG_IDENTITY_CHANGED)
 * instead of seeking to offsets that no longer exist and never batching the new decisions.
 */
describe('Kafka log identity: a recreated decisions topic is refused', () => {
  const config = isolatedConfig({ TOPIC_PARTITIONS: '2', BATCH_MAX_AGE_MS: '200', BATCH_MAX_SIZE: '5' });
  const topic = config.kafka.topics.decisions;
  const stateDir = mkdtempSync(join(tmpdir(), 'claimtrail-state-'));
  let drop: () => Promise<void>;
  let pool: Pool;
  let kafka: Kafka;
  let instanceId: string;
  let produced = 0;

  async function produce(count: number): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    try {
      const messages = Array.from({ length: count }, () => {
        const i = produced++;
        const input = { topic: config.kafka.topics.claims, partition: 0, offset: String(i) };
        const decision: DecisionV2 = {
          format: 'claimtrail-decision-v2', instanceId, runId: 'live', decisionId: decisionIdV2({ instanceId, runId: 'live', modelHash: HEX('b'), ...input }),
          claimId: `C-${i}`, score: 0.1, components: { rf: 0.1, nn: 0.1 }, outcome: 'approve', reasons: [], modelHash: HEX('b'),
          decidedAt: new Date().toISOString(), input, claimCommitment: HEX('c'),
        };
        return { key: `M${i}`, value: encodeDecision(decision), partition: i % 2 };
      });
      await producer.send({ topic, messages });
    } finally {
      await producer.disconnect();
    }
  }

  async function batchedDecisions(): Promise<number> {
    const { rows } = await pool.query<{ n: number }>('SELECT coalesce(sum(leaf_count), 0)::int AS n FROM batches');
    return rows[0]!.n;
  }

  function stage(): BatchingStage {
    return new BatchingStage({ kafka, config, index: new DecisionIndexRepository(pool), identity: new LogIdentityRepository(pool), recorded: { decisionsRecorded: async () => {} }, jobs: noJobs, log: testLog });
  }

  async function recreateTopic(): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
      for (let i = 0; i < 100 && (await admin.listTopics()).includes(topic); i++) await new Promise((r) => setTimeout(r, 200));
    } finally {
      await admin.disconnect();
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await ensureTopics(kafka, config);
        break;
      } catch (error) {
        if (attempt > 20) throw error;
        await new Promise((r) => setTimeout(r, 500)); // still marked for deletion
      }
    }
  }

  beforeAll(async () => {
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 4);
    instanceId = await new InstanceRepository(pool).instanceId();
    kafka = createKafka(config, testLog, '-identity-test');
    await ensureTopics(kafka, config);
  }, 120_000);

  afterAll(async () => {
    const admin = kafka?.admin();
    if (admin) {
      await admin.connect();
      await admin.deleteTopics({ topics: Object.values(config.kafka.topics).filter((t) => t.startsWith(config.database.schema)), timeout: 30_000 }).catch(() => undefined);
      await admin.disconnect();
    }
    await pool?.end();
    await drop?.();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('batches, records the identity, then refuses the recreated topic (stage: LogIdentityError; CLI: exit 2, one line); rebaseline only with --confirm', async () => {
    await produce(12);
    const first = stage();
    await first.start();
    for (let i = 0; i < 200 && (await batchedDecisions()) < 12; i++) await new Promise((r) => setTimeout(r, 100));
    await first.stop();
    expect(await batchedDecisions()).toBe(12);
    const stored = await new LogIdentityRepository(pool).load(topic);
    expect(stored.clusterId).toMatch(/\S/);
    expect(stored.partitions.map((p) => [p.partition, p.firstOffset])).toEqual([[0, '0'], [1, '0']]);

    // Same log again: starts fine.
    const again = stage();
    await again.start();
    await again.stop();

    await recreateTopic();
    await produce(2); // the new topic's offsets 0 on each partition: other records, below the stored batches' ends

    const refused = stage();
    const error = await refused.start().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(LogIdentityError);
    expect((error as LogIdentityError).code).toBe('LOG_IDENTITY_CHANGED');
    expect((error as LogIdentityError).message).not.toContain('\n');
    expect((error as LogIdentityError).message).toContain('topic recreated');
    expect((error as LogIdentityError).message).toContain('claimtrail rebaseline --confirm');

    const env = {
      PATH: process.env.PATH ?? '',
      ...isolatedEnv(config.database.schema),
      DATABASE_URL: config.database.url,
      TOPIC_PARTITIONS: '2',
      KAFKA_BROKERS: config.kafka.brokers.join(','),
      REDIS_URL: config.redisUrl,
      STATE_DIR: stateDir,
      LOG_LEVEL: 'silent',
      CLAIMTRAIL_DEV_KEYS: '1',
    };
    const cli = (args: string[]) =>
      run(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'cli/main.ts', ...args], { env, timeout: 120_000 }).then(
        ({ stdout }) => ({ code: 0, stderr: '', stdout }),
        (e: { code: number; stderr: string; stdout: string }) => ({ code: e.code, stderr: e.stderr, stdout: e.stdout }),
      );
    const started = await cli(['run', '--roles', 'batching']);
    expect(started.code).toBe(2);
    expect(started.stderr.trim().split('\n')).toHaveLength(1);
    expect(started.stderr).toMatch(/^claimtrail: refusing to batch: .*topic recreated.*claimtrail rebaseline --confirm/);
    // Nothing was batched from the recreated topic.
    expect(await batchedDecisions()).toBe(12);

    // Rebaseline: never without --confirm; refused while the new log ends before the stored batches.
    expect((await cli(['rebaseline'])).code).toBe(2);
    const short = await cli(['rebaseline', '--confirm']);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('cannot rebaseline');

    // The new log grows past the stored batches: the watermarks agree again, the fingerprint does not.
    await produce(14); // 8 records per partition, the stored batches end at offset 5
    const byFingerprint = await stage().start().then(() => null, (e: unknown) => e);
    expect((byFingerprint as LogIdentityError).code).toBe('LOG_IDENTITY_CHANGED');
    expect((byFingerprint as LogIdentityError).problems).toEqual([`${topic}/0 holds another record at offset 0 than when first seen (topic recreated)`, `${topic}/1 holds another record at offset 0 than when first seen (topic recreated)`]);

    // The operator accepts the new log: the batcher starts and resumes after the stored batches.
    const accepted = await cli(['rebaseline', '--confirm', '--json']);
    expect(accepted.code).toBe(0);
    const result = JSON.parse(accepted.stdout) as { clusterId: string; problemsBefore: string[]; fingerprints: unknown[] };
    expect(result.problemsBefore).toHaveLength(2);
    expect(result.fingerprints).toHaveLength(2);
    const resumed = stage();
    await resumed.start();
    for (let i = 0; i < 200 && (await batchedDecisions()) < 16; i++) await new Promise((r) => setTimeout(r, 100));
    await resumed.stop();
    expect(await batchedDecisions()).toBe(16);
  }, 300_000);
});
