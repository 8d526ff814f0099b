import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { DECISION_REQUEST_BYTES } from '../../pipeline/scoring.stage.ts';
import { trainModel } from '../../training/train.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';
import { stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';

/**
 * A backlog on one partition: the scoring stage fetches 1 MiB of claims at once, and their
 * decisions are more bytes than one record batch may hold on the decisions topic (the broker's
 * default max.message.bytes). They go out in several produce requests of one transaction, and
 * every claim is decided exactly once.
 */
const CLAIMS = 3_000;

describe('scoring a 1 MiB fetch on one partition', () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline | undefined;
  let dropSchema: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'claimtrail-large-fetch-'));
    const training = generateClaims({ count: 600, seed: 8 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: dir, seed: 8, log: testLog });
    config = isolatedConfig({ MODEL_DIR: dir, TOPIC_PARTITIONS: '1' });
    dropSchema = await migratedSchema(config);
    // Claims first, pipeline second: the first fetch is a full 1 MiB.
    pipeline = await startPipeline(config, testLog, devKeySources(config), ['batching']);
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, 77, 0), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await pipeline.stop();
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    await waitUntilSettled(pipeline, CLAIMS, 300_000);
  }, 600_000);

  afterAll(async () => {
    if (pipeline) await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('decides every claim once, though one fetch of decisions exceeds a record batch', async () => {
    const { rows } = await pipeline!.pool.query<{ n: string; distinct_claims: string; bytes: string }>(
      `SELECT count(*) AS n, count(DISTINCT claim_id) AS distinct_claims, sum(octet_length(reasons::text) + 600) AS bytes FROM decisions`,
    );
    expect(Number(rows[0]!.n)).toBe(CLAIMS);
    expect(Number(rows[0]!.distinct_claims)).toBe(CLAIMS);
    // The decisions of the run are several times what one produce request carries.
    expect(Number(rows[0]!.bytes)).toBeGreaterThan(2 * DECISION_REQUEST_BYTES);
  });
});
