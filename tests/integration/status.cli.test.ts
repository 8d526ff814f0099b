import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { isolatedEnv, type Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import type { PipelineStatus } from '../../pipeline/status.ts';
import { trainModel } from '../../training/train.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';
import { stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';

const run = promisify(execFile);
const CLAIMS = 40;
const MALFORMED = 4;

/** `claimtrail status --json` after a small pipeline run on the shared stack: every section answers and adds up. */
describe('claimtrail status', () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let dropSchema: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'claimtrail-status-'));
    const training = generateClaims({ count: 400, seed: 7 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: join(dir, 'model'), seed: 7, log: testLog });
    config = isolatedConfig({ MODEL_DIR: join(dir, 'model'), BATCH_MAX_SIZE: '15', BATCH_MAX_AGE_MS: '800' });
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, 99, MALFORMED), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await waitUntilSettled(pipeline, CLAIMS, 180_000);
  }, 600_000);

  afterAll(async () => {
    await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('--json reports throughput, lag, nothing pending, anchor lag, the last block, the signer, the DLQ and the instance id', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      ...isolatedEnv(config.database.schema),
      DATABASE_URL: config.database.url,
      KAFKA_BROKERS: config.kafka.brokers.join(','),
      REDIS_URL: config.redisUrl,
      CHAIN_RPC_URL: config.chain.rpcUrl,
      LOG_LEVEL: 'silent',
    };
    const { stdout } = await run(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'cli/main.ts', 'status', '--json'], { env, timeout: 120_000 });
    const s = JSON.parse(stdout) as PipelineStatus;
    const instance = await pipeline.pool.query<{ instance_id: string }>('SELECT instance_id FROM claimtrail_instance');
    expect(s.instanceId).toBe(instance.rows[0]!.instance_id);
    expect(s.throughput).toMatchObject({ decisionsLastMinute: CLAIMS, decisionsLastHour: CLAIMS });
    const lag = s.consumerLag as Extract<PipelineStatus['consumerLag'], unknown[]>;
    expect(lag.map((g) => [g.role, g.group, g.lag])).toEqual(
      expect.arrayContaining([['scoring', config.kafka.scoringGroupId, 0], ['batching', config.kafka.batchingGroupId, expect.any(Number)]]),
    );
    expect(s.pending).toMatchObject({ batches: 0, epochs: 0, flaggedRoots: 0 });
    const anchorLag = s.anchorLag as { sample: number; p50: number; p95: number; p99: number };
    expect(anchorLag.sample).toBe(CLAIMS);
    expect(anchorLag.p50).toBeGreaterThan(0);
    expect(anchorLag.p50).toBeLessThanOrEqual(anchorLag.p95);
    expect(anchorLag.p95).toBeLessThanOrEqual(anchorLag.p99);
    expect(s.lastAnchored).toMatchObject({ blockNumber: expect.stringMatching(/^\d+$/), txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    const signer = s.signer as { address: string; balanceWei: string; gasUsedLastDay: string; daysOfGasLeft: number };
    expect(signer.address.toLowerCase()).toBe(pipeline.anchor!.tx.address.toLowerCase());
    expect(BigInt(signer.balanceWei)).toBeGreaterThan(0n);
    expect(BigInt(signer.gasUsedLastDay)).toBeGreaterThan(0n);
    expect(signer.daysOfGasLeft).toBeGreaterThan(0);
    expect(s.dlq).toMatchObject({ topic: config.kafka.topics.dlq, failedAnchorTransactionsLastDay: 0 });
    expect((s.dlq as { messages: number }).messages).toBeGreaterThanOrEqual(MALFORMED);

    const text = await run(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'cli/main.ts', 'status'], { env, timeout: 120_000 });
    expect(text.stdout).toContain(`instance ${s.instanceId}`);
    expect(text.stdout).toMatch(/anchor lag\s+p50 /);
  });
});
