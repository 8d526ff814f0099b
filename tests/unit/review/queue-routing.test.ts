import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../core/errors.ts';
import { payloadFields } from '../../../review/services/case-opening.service.ts';
import { amountBand, casePriority, FALLBACK_QUEUE, likeMatches, opensCase, type QueueRule, routeCase, ruleCodesOf, type RoutingInput } from '../../../review/services/queue-routing.ts';

const rule = (position: number, queue: string, conditions: Partial<Omit<QueueRule, 'position' | 'queue'>> = {}): QueueRule => ({
  position,
  queue,
  lineOfBusiness: null,
  minScore: null,
  maxScore: null,
  outcome: null,
  ruleCode: null,
  ...conditions,
});

/** The rules migration 1732810000000_queue-routing.sql seeds. */
const SEEDED: QueueRule[] = [rule(100, 'rule-hits', { ruleCode: 'R\\_%' }), rule(200, 'flagged', { outcome: 'flag' }), rule(300, 'review')];

const input = (over: Partial<RoutingInput> = {}): RoutingInput => ({ outcome: 'review', score: 0.5, lineOfBusiness: 'professional', ruleCodes: [], ...over });

describe('likeMatches (SQL LIKE, backslash escape)', () => {
  it('matches % runs, _ single characters and escaped literals, anchored and case-sensitive', () => {
    expect(likeMatches('R_EXCLUDED_PROVIDER', 'R\\_%')).toBe(true);
    expect(likeMatches('RX', 'R\\_%')).toBe(false);
    expect(likeMatches('R_', 'R\\_%')).toBe(true);
    expect(likeMatches('R_EXCLUDED_PROVIDER', 'R_EXCLUDED%')).toBe(true);
    expect(likeMatches('r_excluded', 'R_EXCLUDED%')).toBe(false);
    expect(likeMatches('R_DUP', 'R_D_P')).toBe(true);
    expect(likeMatches('R_DUUP', 'R_D_P')).toBe(false);
    expect(likeMatches('xR_A', 'R%')).toBe(false);
    expect(likeMatches('a.b', 'a.b')).toBe(true);
    expect(likeMatches('axb', 'a.b')).toBe(false);
    expect(likeMatches('100%', '100\\%')).toBe(true);
    expect(likeMatches('1000', '100\\%')).toBe(false);
    expect(likeMatches('line\nbreak', 'line%')).toBe(true);
    expect(likeMatches('', '%')).toBe(true);
  });

  it('refuses a pattern ending with the escape character, as PostgreSQL does', () => {
    expect(() => likeMatches('R_', 'R\\')).toThrow(InvalidArgumentError);
  });

  it('treats a pattern without wildcards as equality (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const literal = b.replace(/[\\%_]/g, (c) => `\\${c}`);
        expect(likeMatches(a, literal)).toBe(a === b);
      }),
    );
  });
});

describe('ruleCodesOf / opensCase', () => {
  it('keeps the R_* codes in reason order', () => {
    expect(ruleCodesOf([{ code: 'F_CHARGE_PER_UNIT' }, { code: 'R_EXCLUDED_PROVIDER' }, { code: 'RX' }, { code: 'R_DUPLICATE' }])).toEqual(['R_EXCLUDED_PROVIDER', 'R_DUPLICATE']);
    expect(ruleCodesOf([])).toEqual([]);
  });

  it('opens cases for review and flag only', () => {
    expect(['approve', 'review', 'flag'].map((o) => opensCase(o as 'approve'))).toEqual([false, true, true]);
  });
});

describe('routeCase', () => {
  it('keeps the seeded routing: rule hit, then flag, then review', () => {
    expect(routeCase(SEEDED, input({ outcome: 'flag', ruleCodes: ['R_EXCLUDED_PROVIDER'] }))).toBe('rule-hits');
    expect(routeCase(SEEDED, input({ outcome: 'review', ruleCodes: ['R_EXCLUDED_PROVIDER'] }))).toBe('rule-hits');
    expect(routeCase(SEEDED, input({ outcome: 'flag' }))).toBe('flagged');
    expect(routeCase(SEEDED, input({ outcome: 'review' }))).toBe('review');
  });

  it('tries rules by ascending position whatever their order, first match wins', () => {
    const rules = [...SEEDED, rule(60, 'high-value-band', { minScore: 0.8, maxScore: 0.9 }), rule(50, 'institutional', { lineOfBusiness: 'institutional' }), rule(10, 'excluded', { ruleCode: 'R_EXCLUDED%' })];
    expect(routeCase(rules, input({ lineOfBusiness: 'institutional', outcome: 'flag', score: 0.99, ruleCodes: ['R_EXCLUDED_PROVIDER'] }))).toBe('excluded');
    expect(routeCase(rules, input({ lineOfBusiness: 'institutional', score: 0.3 }))).toBe('institutional');
    expect(routeCase(rules, input({ score: 0.85 }))).toBe('high-value-band');
    expect(routeCase(rules, input({ score: 0.8 }))).toBe('high-value-band');
    // The band's upper bound is exclusive.
    expect(routeCase(rules, input({ outcome: 'flag', score: 0.9 }))).toBe('flagged');
    expect(routeCase(rules, input({ score: 0.5 }))).toBe('review');
  });

  it('never matches a line-of-business rule when the line of business is unknown', () => {
    const rules = [rule(1, 'institutional', { lineOfBusiness: 'institutional' }), rule(2, 'flagged', { outcome: 'flag' })];
    expect(routeCase(rules, input({ lineOfBusiness: null, outcome: 'flag' }))).toBe('flagged');
  });

  it('falls back to review when no rule matches', () => {
    expect(routeCase([], input({ outcome: 'flag' }))).toBe(FALLBACK_QUEUE);
    expect(routeCase([rule(1, 'flagged', { outcome: 'flag' })], input({ outcome: 'review' }))).toBe('review');
  });
});

describe('amountBand', () => {
  it('is the log10 band of the amount: 0 below $100, 1 below $1,000, ... capped at 5, 0 when unknown', () => {
    expect([null, Number.NaN, -5, 0, 99.99].map(amountBand)).toEqual([0, 0, 0, 0, 0]);
    expect([100, 999.99, 1_000, 9_999.99, 10_000, 99_999.99, 100_000, 999_999.99, 1_000_000, 1e12].map(amountBand)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });
});

describe('casePriority', () => {
  it('is score x (amount band + 1), the score alone below $100 or without an amount; never reveals the amount', () => {
    expect(casePriority(0.7, 1234.56)).toBeCloseTo(2.1, 12);
    expect(casePriority(0.7, 1234.56)).toBe(casePriority(0.7, 9000));
    expect(casePriority(0.42, null)).toBe(0.42);
    expect(casePriority(0.9, 0)).toBe(0.9);
    expect(casePriority(0.5, 2_000_000)).toBe(3);
    // A bigger band outranks a smaller one at a similar score.
    expect(casePriority(0.6, 50_000)).toBeGreaterThan(casePriority(0.9, 500));
  });
});

describe('payloadFields', () => {
  const row = (over: Partial<Parameters<typeof payloadFields>[0] & object> = {}) => ({
    decisionId: '0x1',
    memberId: 'M1',
    providerNpi: '1234567893',
    claimType: 'professional',
    totalCharged: '1234.50',
    claimBytes: null,
    ...over,
  });

  it('reads the clear claim_type / total_charged columns', () => {
    expect(payloadFields(row())).toEqual({ lineOfBusiness: 'professional', amount: '1234.50' });
    expect(payloadFields(row({ totalCharged: null }))).toEqual({ lineOfBusiness: 'professional', amount: null });
    expect(payloadFields(row({ claimType: null, totalCharged: '10.00' }))).toEqual({ lineOfBusiness: null, amount: '10.00' });
    expect(payloadFields(undefined)).toEqual({ lineOfBusiness: null, amount: null });
  });

  it('parses a clear legacy payload only when claim_type is missing', () => {
    const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
    expect(payloadFields(row({ claimType: 'institutional', claimBytes: bytes({ claimType: 'professional', totalCharged: 1 }) }))).toEqual({ lineOfBusiness: 'institutional', amount: '1234.50' });
    expect(payloadFields(row({ claimType: null, totalCharged: null, claimBytes: bytes({ claimType: 'institutional', totalCharged: 99.999 }) }))).toEqual({ lineOfBusiness: 'institutional', amount: '99.999' });
    expect(payloadFields(row({ claimType: null, totalCharged: null, claimBytes: bytes({ claimType: 'institutional' }) }))).toEqual({ lineOfBusiness: 'institutional', amount: null });
    expect(payloadFields(row({ claimType: null, totalCharged: null, claimBytes: bytes({ claimType: 'x', totalCharged: ' 12.5 ' }) }))).toEqual({ lineOfBusiness: 'x', amount: '12.5' });
    // Unreadable: both unknown.
    expect(payloadFields(row({ claimType: null, claimBytes: bytes({ claimType: 'x', totalCharged: 'lots' }) }))).toEqual({ lineOfBusiness: null, amount: null });
    expect(payloadFields(row({ claimType: null, claimBytes: bytes('{not json') }))).toEqual({ lineOfBusiness: null, amount: null });
    expect(payloadFields(row({ claimType: null, claimBytes: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) }))).toEqual({ lineOfBusiness: null, amount: null });
    expect(payloadFields(row({ claimType: null, claimBytes: bytes([1, 2]) }))).toEqual({ lineOfBusiness: null, amount: null });
  });
});
