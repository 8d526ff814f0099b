import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionIndexRepository, type IndexedDecision } from '../../anchoring/decision-index.repository.ts';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import type { Outcome, Reason, ReasonV1 } from '../../domain/decision.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { isolatedConfig, migratedSchema, payloadRepository } from '../support/env.ts';
import { CaseOpeningService } from '../../review/services/case-opening.service.ts';

const hex = (s: string) => `0x${createHash('sha256').update(s).digest('hex')}`;

/** Case opening routes by the review_queue_rules table (line of business, score band, rule hit). */
describe('review queue routing rules', () => {
  const config = isolatedConfig();
  let drop: () => Promise<void>;
  let pool: Pool;
  let offset = 0;
  const claims = generateClaims({ count: 200, seed: 21 }).claims;
  const ofType = (type: Claim['claimType']) => claims.filter((c) => c.claimType === type);
  const used = new Set<string>();
  const next = (type: Claim['claimType']) => {
    const c = ofType(type).find((x) => !used.has(x.claimId))!;
    used.add(c.claimId);
    return c;
  };

  /** Indexes one decision for the claim (as the batcher would, opening its case) and returns the queue of its case. */
  async function decide(claim: Claim, outcome: Outcome, score: number, reasons: Reason[] = []): Promise<string> {
    const i = offset++;
    const d: IndexedDecision = {
      decisionId: hex(`routing-${i}`),
      claimId: claim.claimId,
      score,
      components: { rf: score, nn: score },
      outcome,
      reasons,
      modelHash: hex('model'),
      decidedAt: '2026-11-24T00:00:00.000Z',
      input: { topic: config.kafka.topics.claims, partition: 0, offset: String(i) },
      claimCommitment: hex(`c-${i}`),
      salt: hex(`s-${i}`),
      log: { topic: config.kafka.topics.decisions, partition: 0, offset: String(i) },
      leaf: hex(`l-${i}`),
      batchId: hex(`b-${i}`),
      leafIndex: 0,
    };
    await (await payloadRepository(pool, config)).insertMany([{ decisionId: d.decisionId, claimId: claim.claimId, memberId: claim.memberId, providerNpi: claim.billingProviderNpi, claimBytes: Buffer.from(JSON.stringify(claim)), claimType: claim.claimType, totalCharged: claim.totalCharged, salt: `0x${'5a'.repeat(32)}` }]);
    await new DecisionIndexRepository(pool).recordBatch({ batchId: d.batchId, topic: d.log.topic, partition: 0, firstOffset: String(i), lastOffset: String(i), leafCount: 1, root: hex(`r-${i}`) }, [d], { hook: new CaseOpeningService() });
    const { rows } = await pool.query<{ queue: string; line_of_business: string }>('SELECT queue, line_of_business FROM cases WHERE decision_id = $1', [d.decisionId]);
    expect(rows[0]?.line_of_business).toBe(claim.claimType);
    return rows[0]!.queue;
  }

  const rule: ReasonV1 = { code: 'R_EXCLUDED_PROVIDER', contribution: 1, text: 'provider on the exclusion list' };

  beforeAll(async () => {
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 2);
    expect(ofType('institutional').length).toBeGreaterThan(3);
    expect(ofType('professional').length).toBeGreaterThan(3);
  });

  afterAll(async () => {
    await pool?.end();
    await drop?.();
  });

  it('seeds rules that keep the original routing: rule hit, then flag, then review', async () => {
    expect(await decide(next('professional'), 'flag', 0.99, [rule])).toBe('rule-hits');
    expect(await decide(next('professional'), 'review', 0.4, [rule])).toBe('rule-hits');
    expect(await decide(next('professional'), 'flag', 0.95)).toBe('flagged');
    expect(await decide(next('institutional'), 'review', 0.4)).toBe('review');
  });

  it('routes by line of business, score band and rule code, first matching position wins', async () => {
    await pool.query(`INSERT INTO review_queues (name, title, sla_hours, rank) VALUES ('institutional', 'Institutional claims', 72, 4), ('high-value-band', 'Score 0.8-0.9', 36, 5), ('excluded', 'Excluded providers', 12, 0)`);
    await pool.query(`INSERT INTO review_queue_rules (position, queue, line_of_business, min_score, max_score, rule_code) VALUES
      (10, 'excluded', NULL, NULL, NULL, 'R_EXCLUDED%'),
      (50, 'institutional', 'institutional', NULL, NULL, NULL),
      (60, 'high-value-band', NULL, 0.8, 0.9, NULL)`);
    expect(await decide(next('institutional'), 'flag', 0.99, [rule])).toBe('excluded');
    expect(await decide(next('institutional'), 'review', 0.3)).toBe('institutional');
    expect(await decide(next('professional'), 'review', 0.85)).toBe('high-value-band');
    // Band upper bound is exclusive; outside it the seeded rules apply again.
    expect(await decide(next('professional'), 'flag', 0.9)).toBe('flagged');
    expect(await decide(next('professional'), 'review', 0.5)).toBe('review');
    const { rows } = await pool.query<{ hours: number }>(`SELECT round(extract(epoch FROM due_at - created_at) / 3600) AS hours FROM cases WHERE queue = 'excluded'`);
    expect(rows.map((r) => Number(r.hours))).toEqual([12]);
  });

  it('falls back to review when no rule matches, and refuses rules for unknown queues or empty bands', async () => {
    await pool.query('DELETE FROM review_queue_rules WHERE position >= 100');
    expect(await decide(next('professional'), 'flag', 0.97)).toBe('review');
    await expect(pool.query(`INSERT INTO review_queue_rules (position, queue) VALUES (1, 'no-such-queue')`)).rejects.toThrow(/foreign key/);
    await expect(pool.query(`INSERT INTO review_queue_rules (position, queue, min_score, max_score) VALUES (2, 'review', 0.5, 0.5)`)).rejects.toThrow(/check constraint/);
  });
});
