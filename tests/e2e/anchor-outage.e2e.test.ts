import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import { FlaggedRootRepository } from '../../anchoring/flagged-root.repository.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { trainModel } from '../../training/train.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * An anchoring outage on the real stack: scoring and batching run while no anchor worker can
 * reach the chain, so batches pile up pending; when anchoring comes back, the worker commits the
 * whole backlog as ONE epoch (one anchorEpoch transaction, anchoring/chain/epoch-anchorer.ts) and
 * every waiting flagged decision as one flagged root (one anchorFlaggedRoot).
 */
const CLAIMS = 300;

describe('anchoring outage: the backlog goes out as one epoch', () => {
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

  it('anchors every pending batch in one epoch, and every waiting flagged decision in one flagged root, once the chain side is back', async () => {
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
    const flaggedWaiting = (await processing.index.pendingFlaggedV2()).length;
    expect(flaggedWaiting).toBeGreaterThan(0);
    // Done when every batch is anchored and every flagged decision sits in a flagged root whose
    // transaction is confirmed (membership is recorded before the root's transaction confirms).
    const flaggedRoots = new FlaggedRootRepository(processing.pool);
    await until('every batch and flagged root anchored', async () => {
      const c = await processing.index.counts();
      if (c.anchored !== c.batches || (await processing.index.pendingFlaggedV2(1)).length > 0) return false;
      const roots = await flaggedRoots.list();
      return roots.length > 0 && roots.every((r) => r.status === 'anchored');
    });
    const batches = await processing.index.listBatches();
    expect(batches.every((b) => b.leafEncoding === 'claimtrail-leaf-v2')).toBe(true);
    const txs = new Set(batches.map((b) => b.anchor!.txHash));
    expect(txs.size).toBe(1);
    const epochs = new EpochRepository(processing.pool);
    const [epoch, ...others] = await epochs.list();
    expect(others).toEqual([]);
    expect(epoch).toMatchObject({ sequence: '0', batchCount: batches.length, status: 'anchored', anchor: { txHash: [...txs][0] } });
    const v2 = anchoring.anchor!.v2;
    expect((await v2.epochOf(anchoring.anchor!.tx.address, epoch!.epochId))?.root).toBe(epoch!.root);
    const roots = await new FlaggedRootRepository(processing.pool).list();
    expect(roots).toHaveLength(1);
    expect(roots[0]).toMatchObject({ count: flaggedWaiting, status: 'anchored' });
    const { rows } = await processing.pool.query<{ method: string; n: string }>(`SELECT method, count(*) AS n FROM anchor_transactions WHERE state = 'confirmed' AND method LIKE 'anchor%' GROUP BY method ORDER BY method`);
    expect(rows.map((r) => [r.method, Number(r.n)])).toEqual([['anchorEpoch', 1], ['anchorFlaggedRoot', 1]]);
    testLog.info({ batches: batches.length, transactions: txs.size }, 'outage backlog caught up');
  }, 400_000);
});
