import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../../domain/decision.ts';
import { SHADOW_FORMAT, ShadowRecordSchema, type ShadowRecord } from '../../../scoring/shadow.ts';
import { compareShadow, formatShadowComparison } from '../../../training/evaluation/shadow-report.ts';

const CHAMPION = `0x${'a'.repeat(64)}`;
const CHALLENGER = `0x${'b'.repeat(64)}`;

function record(i: number, champion: [number, Outcome], challenger: [number, Outcome]): ShadowRecord {
  return ShadowRecordSchema.parse({
    format: SHADOW_FORMAT,
    decisionId: `0x${i.toString(16).padStart(64, '0')}`,
    claimId: `C${i}`,
    scoredAt: '2026-11-24T00:00:00.000Z',
    champion: { modelHash: CHAMPION, score: champion[0], outcome: champion[1] },
    challenger: { modelHash: CHALLENGER, score: challenger[0], components: { rf: challenger[0], nn: challenger[0] }, outcome: challenger[1], reasonCodes: [] },
  });
}

describe('compareShadow', () => {
  const records = [
    record(1, [0.1, 'approve'], [0.2, 'approve']),
    record(2, [0.5, 'review'], [0.9, 'flag']),
    record(3, [0.95, 'flag'], [0.97, 'flag']),
    record(4, [0.9, 'flag'], [0.4, 'review']),
    record(5, [0.05, 'approve'], [0.1, 'approve']),
  ];

  it('counts outcome pairs, agreement, flag overlap and score differences; a repeated decision counts once', () => {
    const c = compareShadow([...records, records[1]!]);
    expect(c.records).toBe(5);
    expect(c.agreement.review.flag).toBe(1);
    expect(c.agreement.flag.review).toBe(1);
    expect(c.agreement.approve.approve).toBe(2);
    expect(c.outcomeAgreement).toBeCloseTo(3 / 5, 12);
    expect(c.flagOverlap).toBeCloseTo(1 / 2, 12);
    expect(c.shares.challenger.flag).toBeCloseTo(2 / 5, 12);
    expect(c.scoreDifference.max).toBeCloseTo(0.5, 12);
    expect(c.models).toEqual({ champion: [CHAMPION], challenger: [CHALLENGER] });
    expect(formatShadowComparison(c)).toContain('same outcome: 60.0 %');
  });

  it('gives rank correlation 1 for the same order and ranks both models on labeled claims', () => {
    const same = records.map((r) => ({ ...r, challenger: { ...r.challenger, score: r.champion.score / 2 } }));
    expect(compareShadow(same).correlation.spearman).toBeCloseTo(1, 12);
    const labels = new Map([['C3', true], ['C4', true], ['C1', false], ['C2', false], ['C5', false]]);
    const c = compareShadow(records, labels);
    expect(c.labeled).toMatchObject({ records: 5, frauds: 2, champion: { rocAuc: 1 } });
    expect(c.labeled!.challenger.rocAuc).toBeLessThan(1);
  });

  it('refuses a record that is not claimtrail-shadow-v1', () => {
    expect(ShadowRecordSchema.safeParse({ ...records[0], format: 'other' }).success).toBe(false);
    expect(ShadowRecordSchema.safeParse({ ...records[0], champion: { ...records[0]!.champion, score: 2 } }).success).toBe(false);
  });
});
