import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import type { Config } from '../../core/config.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import type { Decision } from '../../domain/decision.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { DUPLICATE_RULE_CODE } from '../../scoring/aggregates.ts';
import { Scorer } from '../../scoring/scorer.ts';
import { compareShadow, ShadowRecordSchema } from '../../scoring/shadow.ts';
import { trainModel } from '../../training/train.ts';
import { readTopic } from '../faults/invariants.ts';
import { stopAndDeleteTopics } from '../support/pipeline.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * Train/serve skew check: a model trained with entity aggregates scores the same claims to the
 * same doubles online (the scoring stage on the real Kafka, aggregates in the real Redis) as
 * offline (`Scorer#scoreInOrder`: the same features, aggregates computed in memory point-in-time
 * over the claims in log order). One partition, so the log order is one stream.
 *
 * The same run has a challenger (CHALLENGER_MODEL_DIR, trained on claim features only, another
 * seed): its shadow records must match its own offline scores, one per decision, and the
 * decisions must be exactly the champion's (a challenger is never acted on).
 */
const run = promisify(execFile);
const CLAIMS = 1500;
const SEED = 9090;

describe('scoring online (Kafka + Redis) == offline, with entity aggregates in the model, and a challenger in shadow', () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline | undefined;
  let dropSchema: () => Promise<void>;
  let modelDir: string;
  let challengerDir: string;

  beforeAll(async () => {
    modelDir = mkdtempSync(join(tmpdir(), 'claimtrail-model-'));
    const training = generateClaims({ count: 3000, seed: 12, fraudRate: 0.15 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 12, forest: { nTrees: 40 }, network: { epochs: 4 }, log: testLog });
    challengerDir = mkdtempSync(join(tmpdir(), 'claimtrail-challenger-'));
    await trainModel({ claims: training.claims, labels: training.labels, outDir: challengerDir, seed: 13, aggregates: null, forest: { nTrees: 20 }, network: { epochs: 3 }, log: testLog });
    config = isolatedConfig({ MODEL_DIR: modelDir, CHALLENGER_MODEL_DIR: challengerDir, TOPIC_PARTITIONS: '1', BATCH_MAX_SIZE: '500', BATCH_MAX_AGE_MS: '1000' });
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config), ['scoring']);
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, SEED, 0), { topic: config.kafka.topics.claims });
    await producer.disconnect();
  }, 180_000);

  afterAll(async () => {
    await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    rmSync(modelDir, { recursive: true, force: true });
    rmSync(challengerDir, { recursive: true, force: true });
  });

  it('gives identical scores, components, model reasons and outcomes', async () => {
    const messages = await readTopic(pipeline!.kafka, config.kafka.topics.decisions, CLAIMS, 2_000, 60_000);
    const decisions = messages.map((m) => JSON.parse(m.value!.toString('utf8')) as Decision).sort((a, b) => Number(BigInt(a.input.offset) - BigInt(b.input.offset)));
    expect(decisions).toHaveLength(CLAIMS);

    const byId = new Map(generateClaims({ count: CLAIMS, seed: SEED }).claims.map((c) => [c.claimId, c]));
    const inLogOrder = decisions.map((d) => byId.get(d.claimId) as Claim);
    const scorer = await Scorer.load(modelDir);
    expect(scorer.aggregates).toBeDefined();
    const offline = scorer.scoreInOrder(inLogOrder, 250);
    scorer.dispose();

    let duplicates = 0;
    decisions.forEach((d, i) => {
      const o = offline[i]!;
      expect(d.modelHash).toBe(scorer.modelHash);
      expect(d.score, d.claimId).toBe(o.score);
      expect(d.components).toEqual(o.components);
      // The stage adds the duplicate rule (same observation) and it forces flag; the rest is the model's.
      const duplicate = d.reasons.some((r) => r.code === DUPLICATE_RULE_CODE);
      if (duplicate) duplicates++;
      expect(d.reasons.filter((r) => r.code !== DUPLICATE_RULE_CODE)).toEqual(o.reasons);
      expect(d.outcome).toBe(duplicate ? 'flag' : o.outcome);
    });
    // The stream has planted duplicates and the aggregates are not all zero: the check has teeth.
    expect(duplicates).toBeGreaterThan(0);
    expect(offline.some((o) => o.reasons.some((r) => ['F_PROVIDER_VOLUME', 'F_MEMBER_FREQUENCY', 'F_PROVIDER_VS_PEERS', 'F_DUPLICATE_SEEN'].includes(r.code)))).toBe(true);

    // Champion / challenger: one shadow record per decision, the challenger's own offline scores
    // (plus the same duplicate rule), the champion's side equal to the decision.
    const shadowMessages = await readTopic(pipeline!.kafka, config.kafka.topics.shadow, CLAIMS, 2_000, 30_000);
    const shadow = new Map(shadowMessages.map((m) => ShadowRecordSchema.parse(JSON.parse(m.value!.toString('utf8')))).map((r) => [r.decisionId, r]));
    expect(shadow.size).toBe(CLAIMS);
    expect(shadowMessages).toHaveLength(CLAIMS);
    const challenger = await Scorer.load(challengerDir);
    expect(challenger.aggregates).toBeUndefined();
    const challengerOffline = challenger.scoreInOrder(inLogOrder, 250);
    challenger.dispose();
    let disagreements = 0;
    decisions.forEach((d, i) => {
      const r = shadow.get(d.decisionId)!;
      const c = challengerOffline[i]!;
      const duplicate = d.reasons.some((x) => x.code === DUPLICATE_RULE_CODE);
      expect(r.claimId).toBe(d.claimId);
      expect(r.champion).toEqual({ modelHash: d.modelHash, score: d.score, outcome: d.outcome });
      expect(r.challenger.modelHash).toBe(challenger.modelHash);
      expect(r.challenger.score).toBe(c.score);
      expect(r.challenger.components).toEqual(c.components);
      expect(r.challenger.outcome).toBe(duplicate ? 'flag' : c.outcome);
      expect(r.challenger.reasonCodes.filter((x) => x !== DUPLICATE_RULE_CODE)).toEqual(c.reasons.map((x) => x.code));
      if (r.challenger.outcome !== r.champion.outcome) disagreements++;
    });
    // Two different models disagree somewhere, and the decisions above are still the champion's.
    expect(disagreements).toBeGreaterThan(0);
    expect(pipeline!.scoring?.counters).toMatchObject({ shadowed: CLAIMS, shadowDisagreements: disagreements });

    const labels = new Map(generateClaims({ count: CLAIMS, seed: SEED }).labels.map((l) => [l.claimId, l.fraud]));
    const comparison = compareShadow([...shadow.values()], labels);
    expect(comparison.records).toBe(CLAIMS);
    expect(comparison.outcomeAgreement).toBeCloseTo(1 - disagreements / CLAIMS, 9);
    expect(comparison.labeled?.records).toBe(CLAIMS);
    expect(comparison.labeled?.champion.rocAuc).toBeGreaterThan(0.7);

    // The CLI prints the same comparison from the topic.
    const { stdout } = await run(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'cli/main.ts', 'shadow', 'report', '--json', '--topic', config.kafka.topics.shadow], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    const printed = JSON.parse(stdout) as { records: number; invalid: number; outcomeAgreement: number };
    expect(printed).toMatchObject({ records: CLAIMS, invalid: 0 });
    expect(printed.outcomeAgreement).toBeCloseTo(comparison.outcomeAgreement, 12);
  }, 120_000);
});
