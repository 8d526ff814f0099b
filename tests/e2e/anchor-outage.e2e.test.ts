import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { trainModel } from '../../training/train.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * An anchoring outage on the real stack: scoring and batching run while no anchor worker can
 * reach the chain, so batches pile up pending; when anchoring comes back, the worker catches the
 * backlog up in fewer transactions than batches (anchorBatches, anchoring/chain/batch-anchorer.ts).
 */
const CLAIMS = 300;

describe('anchoring outage: the backlog is caught up in fewer transactions than batches', () => {
  let config: Readonly<Config>;
  let processing: RunningPipeline;
  let anchoring: RunningPipeline | undefined;
  let dropSchema: () => Promise<void>;
  let modelDir: string;

  beforeAll(async () => {
    modelDir = mkdtempSync(join(tmpdir(), 'claimtrail-model-'));
    const training = generateClaims({ count: 1500, seed: 14 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 14, log: testLog });
    config = isolatedConfig({ MODEL_DIR: modelDir, BATCH_MAX_SIZE: '30', BATCH_MAX_AGE_MS: '1000' });
    dropSchema = await migratedSchema(config);
  }, 300_000);

  afterAll(async () => {
    await anchoring?.stop();
    if (processing) {
      const admin = processing.kafka.admin();
      await processing.stop();
      await admin.connect();
      await admin.deleteTopics({ topics: Object.values(config.kafka.topics) }).catch(() => undefined);
      await admin.disconnect();
    }
    await dropSchema?.();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  });

  it('anchors every pending batch once the chain side is back, in fewer transactions', async () => {
    // The outage: no anchor worker, so every batch stays pending (its job waits in the queue).
    processing = await startPipeline(config, testLog, devKeySources(config), ['scoring', 'batching']);
    const producer = new ClaimsProducer(processing.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, 77, 0), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    const until = async (what: string, done: () => Promise<boolean>) => {
      const deadline = Date.now() + 180_000;
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`timed out: ${what} (${JSON.stringify(await processing.index.counts())})`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    await until('all decisions batched', async () => (await processing.index.counts()).decisions >= CLAIMS);
    const backlog = await processing.index.listBatches({ status: 'pending' });
    expect(backlog.length).toBeGreaterThanOrEqual(5);
    expect((await processing.index.counts()).anchored).toBe(0);

    // The chain side comes back.
    anchoring = await startPipeline(config, testLog, devKeySources(config), ['anchoring']);
    await until('every batch anchored', async () => {
      const c = await processing.index.counts();
      return c.anchored === c.batches && (await processing.index.pendingFlagged(1)).length === 0;
    });
    const batches = await processing.index.listBatches();
    const txs = new Set(batches.map((b) => b.anchor!.txHash));
    expect(txs.size).toBeLessThan(batches.length);
    const client = anchoring.anchor!.client!;
    for (const b of batches) expect((await client.batchOf(b.batchId))?.root).toBe(b.root);
    const { rows } = await processing.pool.query<{ n: string }>(`SELECT count(*) AS n FROM anchor_transactions WHERE method = 'anchorBatches' AND state = 'confirmed'`);
    expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(1);
    testLog.info({ batches: batches.length, transactions: txs.size }, 'outage backlog caught up');
  }, 400_000);
});
