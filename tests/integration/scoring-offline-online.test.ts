import { decodeDecision } from '../../domain/decision-codec.ts';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import type { Config } from '../../core/config.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { SAMPLE_EXCLUSION_LIST } from '../../fixtures/samples.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { loadLeieNpis } from '../../scoring/exclusion-list.ts';
import { createRulesConfig, RULE_CODES, type RulesConfig } from '../../scoring/rules.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { Scorer } from '../../scoring/scorer.ts';
import { ShadowRecordSchema } from '../../scoring/shadow.ts';
import { compareShadow } from '../../training/evaluation/shadow-report.ts';
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
 * Every rule is part of the comparison: the duplicate rule (the Scorer applies it to the observed
 * aggregates, Redis online, in memory offline) and the exclusion rule (the stage and the offline
 * scorer read the same LEIE file, EXCLUSION_LISTS, with the same loader). The claim set holds
 * planted duplicates and claims billed by excluded providers, and both rules must fire on them.
 *
 * The champion is a three-member ensemble: its bundle carries the gradient-boosted trees
 * (booster.json, weighted in the manifest), so the comparison covers the booster's scores and
 * reasons too.
 *
 * The same run has a challenger (CHALLENGER_MODEL_DIR, trained on claim features only, another
 * seed): its shadow records must match its own offline scores, one per decision, and the
 * decisions must be exactly the champion's (a challenger is never acted on).
 */
const run = promisify(execFile);
const CLAIMS = 1500;
const SEED = 9090;

describe('scoring online (Kafka + Redis) == offline, every rule included, with entity aggregates in the model, and a challenger in shadow', () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline | undefined;
  let dropSchema: () => Promise<void>;
  let modelDir: string;
  let challengerDir: string;
  /** The rules the stage was started with: EXCLUSION_LISTS read by the serving loader. */
  let rules: RulesConfig;

  beforeAll(async () => {
    modelDir = mkdtempSync(join(tmpdir(), 'claimtrail-model-'));
    const training = generateClaims({ count: 3000, seed: 12, fraudRate: 0.15 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 12, forest: { nTrees: 40 }, network: { epochs: 4 }, log: testLog });
    challengerDir = mkdtempSync(join(tmpdir(), 'claimtrail-challenger-'));
    await trainModel({ claims: training.claims, labels: training.labels, outDir: challengerDir, seed: 13, aggregates: null, forest: { nTrees: 20 }, network: { epochs: 3 }, log: testLog });
    config = isolatedConfig({ MODEL_DIR: modelDir, CHALLENGER_MODEL_DIR: challengerDir, EXCLUSION_LISTS: SAMPLE_EXCLUSION_LIST, TOPIC_PARTITIONS: '1', BATCH_MAX_SIZE: '500', BATCH_MAX_AGE_MS: '1000' });
    rules = createRulesConfig({ excludedNpis: await loadLeieNpis(config.exclusionLists) });
    expect(rules.excludedNpis.size).toBeGreaterThan(0);
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

  it('gives identical scores, components, reasons (rule hits included) and outcomes', async () => {
    const messages = await readTopic(pipeline!.kafka, config.kafka.topics.decisions, CLAIMS, 2_000, 60_000);
    const decisions = messages.map((m) => decodeDecision(m.value!)).sort((a, b) => Number(BigInt(a.input.offset) - BigInt(b.input.offset)));
    expect(decisions).toHaveLength(CLAIMS);

    const generated = generateClaims({ count: CLAIMS, seed: SEED });
    const byId = new Map(generated.claims.map((c) => [c.claimId, c]));
    const patternOf = new Map(generated.labels.map((l) => [l.claimId, l.pattern]));
    const inLogOrder = decisions.map((d) => byId.get(d.claimId) as Claim);
    const scorer = await Scorer.load(modelDir, { rules });
    expect(scorer.aggregates).toBeDefined();
    // The booster is in the bundle and in the mix, so equal scores and reasons cover it.
    expect(scorer.manifest.files['booster.json']).toMatch(/^[0-9a-f]{64}$/);
    expect(scorer.manifest.weights.gb).toBeGreaterThan(0);
    const offline = scorer.scoreInOrder(inLogOrder, 250);
    expect(offline.every((o) => typeof o.gb === 'number' && o.gb > 0 && o.gb < 1)).toBe(true);
    scorer.dispose();

    const hits = { duplicate: 0, excluded: 0 };
    decisions.forEach((d, i) => {
      const o = offline[i]!;
      expect(d.modelHash).toBe(scorer.modelHash);
      expect(d.score, d.claimId).toBe(o.score);
      expect(d.components).toEqual(o.components);
      expect(d.reasons, d.claimId).toEqual(o.reasons);
      expect(d.outcome, d.claimId).toBe(o.outcome);
      const codes = d.reasons.map((r) => r.code);
      if (patternOf.get(d.claimId) === 'duplicate' && codes.includes(RULE_CODES.duplicateClaim)) hits.duplicate++;
      if (patternOf.get(d.claimId) === 'excluded_provider' && codes.includes(RULE_CODES.excludedProvider)) hits.excluded++;
    });
    // Planted duplicates and excluded providers fire their rules (the same on both sides, above),
    // and the aggregates are not all zero: the check has teeth.
    expect(hits.duplicate).toBeGreaterThan(0);
    expect(hits.excluded).toBeGreaterThan(0);
    expect(offline.some((o) => o.reasons.some((r) => ['F_PROVIDER_VOLUME', 'F_MEMBER_FREQUENCY', 'F_PROVIDER_VS_PEERS', 'F_DUPLICATE_SEEN'].includes(r.code)))).toBe(true);

    // Champion / challenger: one shadow record per decision, the challenger's own offline scores
    // and rule hits (the same observations and exclusion list), the champion's side equal to the decision.
    const shadowMessages = await readTopic(pipeline!.kafka, config.kafka.topics.shadow, CLAIMS, 2_000, 30_000);
    const shadow = new Map(shadowMessages.map((m) => ShadowRecordSchema.parse(JSON.parse(m.value!.toString('utf8')))).map((r) => [r.decisionId, r]));
    expect(shadow.size).toBe(CLAIMS);
    expect(shadowMessages).toHaveLength(CLAIMS);
    const challenger = await Scorer.load(challengerDir, { rules });
    expect(challenger.aggregates).toBeUndefined();
    const challengerOffline = challenger.scoreInOrder(inLogOrder, 250);
    challenger.dispose();
    let disagreements = 0;
    decisions.forEach((d, i) => {
      const r = shadow.get(d.decisionId)!;
      const c = challengerOffline[i]!;
      expect(r.claimId).toBe(d.claimId);
      expect(r.champion).toEqual({ modelHash: d.modelHash, score: d.score, outcome: d.outcome });
      expect(r.challenger.modelHash).toBe(challenger.modelHash);
      expect(r.challenger.score).toBe(c.score);
      expect(r.challenger.components).toEqual(c.components);
      expect(r.challenger.outcome).toBe(c.outcome);
      expect(r.challenger.reasonCodes).toEqual(c.reasons.map((x) => x.code));
      if (r.challenger.outcome !== r.champion.outcome) disagreements++;
    });
    // Two different models disagree somewhere, and the decisions above are still the champion's.
    expect(disagreements).toBeGreaterThan(0);
    expect(pipeline!.scoring?.counters).toMatchObject({ shadowed: CLAIMS, shadowDisagreements: disagreements });

    const labels = new Map(generated.labels.map((l) => [l.claimId, l.fraud]));
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
