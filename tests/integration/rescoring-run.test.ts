import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import { FlaggedRootRepository } from '../../anchoring/flagged-root.repository.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { configuredTrustAnchor } from '../../proofs/configured-trust.ts';
import { ProofService } from '../../proofs/proof.service.ts';
import { trainModel } from '../../training/train.ts';
import { isolatedConfig, migratedSchema, testLog, uniqueName } from '../support/env.ts';
import { stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';

/**
 * Re-scoring the same claims with another model (a backfill: its own SCORING_RUN_ID, its own
 * consumer group reading `claims` from the start) on the real stack: the decision id v2 binds the
 * run and the model hash, so the second run's decisions get ids distinct from the live run's (no
 * collision, no overwrite), land in batches of their own after the live ones, and prove like any
 * other (v2 bundle pinned to DecisionAnchorV2 and our anchorer).
 */
const CLAIMS = 60;

describe('a re-scoring run of the same claims with another model', () => {
  let config: Readonly<Config>;
  let live: RunningPipeline;
  let rescore: RunningPipeline | undefined;
  let dropSchema: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'claimtrail-rescore-'));
    for (const [name, seed] of [['a', 41], ['b', 42]] as const) {
      const training = generateClaims({ count: 600, seed });
      await trainModel({ claims: training.claims, labels: training.labels, outDir: join(dir, name), seed, log: testLog });
    }
    config = isolatedConfig({ MODEL_DIR: join(dir, 'a'), BATCH_MAX_SIZE: '25', BATCH_MAX_AGE_MS: '800' });
    dropSchema = await migratedSchema(config);
    live = await startPipeline(config, testLog, devKeySources(config));
    const producer = new ClaimsProducer(live.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, 4242, 0), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await waitUntilSettled(live, CLAIMS, 180_000);
    // The backfill: same topics, schema and installation; another run id, model and scoring group.
    const backfill = isolatedConfig({
      CLAIMS_TOPIC: config.kafka.topics.claims,
      DLQ_TOPIC: config.kafka.topics.dlq,
      DECISIONS_TOPIC: config.kafka.topics.decisions,
      SHADOW_TOPIC: config.kafka.topics.shadow,
      DATABASE_SCHEMA: config.database.schema,
      PHI_MASTER_KEY: config.privacy.masterKeyHex!,
      ANCHOR_QUEUE: config.anchor.queue,
      MODEL_DIR: join(dir, 'b'),
      SCORING_RUN_ID: 'rescore-2025-01',
      SCORING_GROUP_ID: uniqueName('rescore'),
      SCORING_INSTANCE_ID: uniqueName('rescore'),
      // A backfill yields to the live group (pipeline/backfill-gate.ts); live has caught up here.
      SCORING_YIELD_TO_GROUP: config.kafka.scoringGroupId,
    });
    rescore = await startPipeline(backfill, testLog, devKeySources(backfill), ['scoring']);
    await waitUntilSettled(live, 2 * CLAIMS, 180_000);
  }, 600_000);

  afterAll(async () => {
    await rescore?.stop();
    await stopAndDeleteTopics(live, config);
    await dropSchema?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives every claim a second decision with a distinct id, the run id and the other model', async () => {
    const { rows } = await live.pool.query<{ claim_id: string; decision_id: string; run_id: string; model_hash: string }>('SELECT claim_id, decision_id, run_id, model_hash FROM decisions ORDER BY claim_id, run_id');
    expect(rows).toHaveLength(2 * CLAIMS);
    expect(new Set(rows.map((r) => r.decision_id)).size).toBe(2 * CLAIMS);
    const byClaim = Map.groupBy(rows, (r) => r.claim_id);
    expect(byClaim.size).toBe(CLAIMS);
    for (const [claim, pair] of byClaim) {
      expect(pair.map((r) => r.run_id).sort(), claim).toEqual(['live', 'rescore-2025-01']);
      expect(pair[0]!.model_hash, claim).not.toBe(pair[1]!.model_hash);
    }
  });

  it('puts the re-scoring run in batches of its own, and proves its decisions like the live ones', async () => {
    const { rows } = await live.pool.query<{ batch_id: string; runs: string[] }>('SELECT batch_id, array_agg(DISTINCT run_id) AS runs FROM decisions GROUP BY batch_id');
    for (const r of rows) expect(r.runs, r.batch_id).toHaveLength(1);
    expect(rows.filter((r) => r.runs[0] === 'rescore-2025-01').length).toBeGreaterThan(0);
    const provider = live.anchor!.v2.provider;
    const proofs = new ProofService({ index: live.index, provider, v2: { epochs: new EpochRepository(live.pool), flaggedRoots: new FlaggedRootRepository(live.pool) } });
    const trust = await configuredTrustAnchor(config, provider);
    const { rows: sample } = await live.pool.query<{ decision_id: string }>(`SELECT decision_id FROM decisions WHERE run_id = 'rescore-2025-01' ORDER BY random() LIMIT 5`);
    for (const { decision_id } of sample) {
      const decision = (await live.index.getDecision(decision_id))!;
      const bundle = await proofs.bundle(decision);
      expect(bundle.format).toBe('claimtrail-proof-v2');
      expect(bundle.format === 'claimtrail-proof-v2' && bundle.decision.runId).toBe('rescore-2025-01');
      expect(await proofs.verify(decision, { minConfirmations: 1, trust }), decision_id).toMatchObject({ ok: true, anchorer: live.anchor!.tx.address.toLowerCase() });
    }
  });
});
