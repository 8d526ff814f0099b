import { decisionIdV2, decodeDecision } from '../../../domain/decision-codec.ts';
import { describe, expect, it } from 'vitest';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Config } from '../../../core/config.ts';
import { createLogger } from '../../../core/logger.ts';
import type { ClaimPayloadRepository } from '../../../privacy/claim-payload.repository.ts';
import type { Claim } from '../../../domain/claim.schema.ts';
import type { Decision } from '../../../domain/decision.ts';
import { ScoringStage } from '../../../pipeline/scoring.stage.ts';
import { aggregateFeatureNames, aggregateFeatures, OfflineClaimAggregates } from '../../../scoring/aggregates.ts';
import { createRulesConfig, evaluateRules, RULE_CODES } from '../../../scoring/rules.ts';
import type { ClaimObservation, Scorer, ScoreResult } from '../../../scoring/scorer.ts';
import { officeClaim } from '../../support/claims.ts';

describe('offline entity aggregates', () => {
  it('reads before adding (no self-leakage), windows by service day, and counts a replay once', () => {
    const agg = new OfflineClaimAggregates();
    const a = officeClaim({ claimId: 'A' });
    const first = agg.observe('e1', a);
    expect(first.raw.every((v) => v === 0)).toBe(true);
    expect(first.duplicate).toBe(false);
    // Same member/provider/codes/dates, new claim id: a duplicate; the provider and member saw 1 claim of $120 today.
    const copy = agg.observe('e2', { ...a, claimId: 'B' });
    expect(copy.duplicate).toBe(true);
    expect(copy.raw).toEqual([1, 1, 12000, 1, 12000, 1, 12000, 1, 12000, 1, 1]);
    // Replaying e2 returns its first answer and counts nothing.
    expect(agg.observe('e2', { ...a, claimId: 'B' }).raw).toEqual(copy.raw);
    // 20 days later: outside the 1-day window, inside the 30-day one; another date so no duplicate.
    const later = officeClaim({ claimId: 'C', serviceFrom: '2024-03-21', serviceTo: '2024-03-21', lines: [{ procedureCode: '99213', units: 1, chargedAmount: 120, serviceDate: '2024-03-21' }] });
    const obs = agg.observe('e3', later);
    expect(obs.duplicate).toBe(false);
    expect(obs.raw).toEqual([0, 0, 0, 2, 24000, 0, 0, 2, 24000, 0, 0]);
    // 40 days later: nothing in either window.
    const far = officeClaim({ claimId: 'D', serviceFrom: '2024-05-01', serviceTo: '2024-05-01', lines: [{ procedureCode: '99213', units: 1, chargedAmount: 120, serviceDate: '2024-05-01' }] });
    expect(agg.observe('e4', far).raw.slice(0, 9)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('turns raw integers into named, finite features', () => {
    const names = aggregateFeatureNames();
    const f = aggregateFeatures([1, 3, 30000, 10, 100000, 1, 100, 2, 200, 20, 5]);
    expect(f.length).toBe(names.length);
    expect(f.every(Number.isFinite)).toBe(true);
    const at = (n: string): number => f[names.indexOf(n)]!;
    expect(at('provider_claims_1d')).toBe(3);
    expect(at('provider_volume_vs_own')).toBeCloseTo(4 / (7 / 29 + 1), 12);
    expect(at('provider_volume_vs_peers')).toBeCloseTo(4 / (20 / 5 + 1), 12);
    expect(at('duplicate_seen')).toBe(1);
  });
});

describe('scoring stage with aggregates', () => {
  const config = { scoringRunId: 'live', kafka: { scoringGroupId: 'g', scoringInstanceId: 'i', topics: { claims: 'claims', decisions: 'decisions', dlq: 'dlq' } } } as unknown as Config;
  const instanceId = `0x${'1f'.repeat(32)}`;
  const kafka = { consumer: () => ({}), producer: () => ({}) } as unknown as Kafka;
  const scorer = {
    modelHash: `0x${'00'.repeat(32)}`,
    // A fixed model answer; the rules are the real ones, applied as the Scorer does to the
    // observations the stage hands over.
    scoreBatch: (claims: readonly Claim[], observations: readonly ClaimObservation[]): ScoreResult[] =>
      claims.map((claim, i) => {
        const rules = evaluateRules(claim, createRulesConfig(), observations[i]!);
        return { score: 0.1, components: { rf: 0.1, nn: 0.1 }, outcome: rules.length > 0 ? 'flag' : 'approve', reasons: [...rules, { code: 'F_TOTAL_CHARGED', contribution: 0.01 }] };
      }),
  } as unknown as Scorer;
  // Stores each decision's first salt, as the payload store does, and hands it back on a replay.
  const stored = new Map<string, string>();
  const payloads = {
    insertMany: async (rows: ReadonlyArray<{ decisionId: string; salt: string }>) => {
      for (const r of rows) if (!stored.has(r.decisionId)) stored.set(r.decisionId, r.salt);
      return new Map(rows.map((r) => [r.decisionId, stored.get(r.decisionId)!]));
    },
  } as unknown as ClaimPayloadRepository;
  const message = (claim: Claim, offset: number): KafkaMessage => ({ key: null, value: Buffer.from(JSON.stringify(claim)), offset: String(offset), headers: {}, timestamp: '0', attributes: 0 }) as unknown as KafkaMessage;

  it('flags a duplicate with R_DUPLICATE_CLAIM before feature reasons, and a replayed batch gives the same decisions', async () => {
    const aggregates = new OfflineClaimAggregates();
    const stage = new ScoringStage({ kafka, config, scorer, payloads, instanceId, log: createLogger('silent'), aggregates });
    const a = officeClaim({ claimId: 'A' });
    const batch = { topic: 'claims', partition: 0, messages: [message(a, 0), message({ ...a, claimId: 'B' }, 1)] };
    const decisions = (out: Awaited<ReturnType<ScoringStage['handle']>>): Decision[] => out[0]!.messages.map((m) => decodeDecision(m.value as Buffer));
    const first = decisions(await stage.handle(batch));
    expect(first.map((d) => d.outcome)).toEqual(['approve', 'flag']);
    expect(first[1]!.reasons.map((r) => r.code)).toEqual([RULE_CODES.duplicateClaim, 'F_TOTAL_CHARGED']);
    const replay = decisions(await stage.handle(batch));
    expect(replay.map((d) => [d.decisionId, d.outcome, d.reasons.map((r) => r.code)])).toEqual(first.map((d) => [d.decisionId, d.outcome, d.reasons.map((r) => r.code)]));
    // A replay commits with the salt stored the first time: same commitments.
    expect(replay.map((d) => d.claimCommitment)).toEqual(first.map((d) => d.claimCommitment));
  });

  it('writes claimtrail-decision-v2 records: no salt, no reason text, ids bound to instance, run and model', async () => {
    const a = officeClaim({ claimId: 'A' });
    const batch = { topic: 'claims', partition: 2, messages: [message(a, 41)] };
    const run = async (runId: string, modelHash: string) => {
      const stage = new ScoringStage({ kafka, config: { ...config, scoringRunId: runId } as Config, scorer: { ...scorer, modelHash, scoreBatch: scorer.scoreBatch } as unknown as Scorer, payloads, instanceId, log: createLogger('silent'), aggregates: new OfflineClaimAggregates() });
      const [decisions] = await stage.handle(batch);
      return decisions!.messages.map((m) => m.value!.toString('utf8'))[0]!;
    };
    const live = await run('live', `0x${'00'.repeat(32)}`);
    const record = JSON.parse(live) as Record<string, unknown>;
    expect(Object.keys(record)).toEqual(['format', 'instanceId', 'runId', 'decisionId', 'claimId', 'score', 'components', 'outcome', 'reasons', 'modelHash', 'decidedAt', 'input', 'claimCommitment']);
    expect(record).toMatchObject({ format: 'claimtrail-decision-v2', instanceId, runId: 'live', reasons: [{ code: 'F_TOTAL_CHARGED', contribution: 0.01 }] });
    expect(live).not.toMatch(/salt|text|memberId|M0000/);
    expect(record.decisionId).toBe(decisionIdV2({ instanceId, runId: 'live', modelHash: `0x${'00'.repeat(32)}`, topic: 'claims', partition: 2, offset: '41' }));
    // A re-scoring run, or another model, over the same claim: other ids, never the live one's.
    const backfill = JSON.parse(await run('backfill-1', `0x${'00'.repeat(32)}`)) as { decisionId: string };
    const retrained = JSON.parse(await run('live', `0x${'ab'.repeat(32)}`)) as { decisionId: string };
    expect(new Set([record.decisionId, backfill.decisionId, retrained.decisionId]).size).toBe(3);
  });
});
