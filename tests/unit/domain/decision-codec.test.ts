import { describe, expect, it } from 'vitest';
import { CORRELATION_HEADER, DecisionFormatError, decisionIdFor, decodeDecision, encodeDecision } from '../../../domain/decision-codec.ts';
import type { Decision } from '../../../domain/decision.ts';

const HEX = (c: string) => `0x${c.repeat(64)}`;
const decision: Decision = {
  decisionId: HEX('a'),
  claimId: 'C1-0000001',
  score: 0.42,
  components: { rf: 0.4, nn: 0.45 },
  outcome: 'review',
  reasons: [{ code: 'F_CHARGE_PER_UNIT', contribution: 0.12, text: 'charge per unit 3.1x peer median' }],
  modelHash: HEX('b'),
  decidedAt: '2026-01-02T03:04:05.678Z',
  input: { topic: 'claims', partition: 3, offset: '12345' },
  claimCommitment: HEX('c'),
  salt: HEX('d'),
  correlationId: '3f1e5c1a-0000-4000-8000-000000000000',
};

describe('decision codec (the decisions topic wire format)', () => {
  it('encodes to the JSON the topic has always carried, and decodes it back', () => {
    const bytes = encodeDecision(decision);
    expect(bytes.toString('utf8')).toBe(JSON.stringify(decision));
    expect(decodeDecision(bytes)).toEqual(decision);
    expect(decodeDecision(bytes.toString('utf8'))).toEqual(decision);
  });

  it('refuses bytes that are not JSON, with a stable code', () => {
    const thrown = (() => { try { decodeDecision(Buffer.from('{no')); } catch (e) { return e; } })();
    expect(thrown).toBeInstanceOf(DecisionFormatError);
    expect((thrown as DecisionFormatError).code).toBe('DECISION_FORMAT_INVALID');
  });

  it.each([
    ['an outcome outside the three', { outcome: 'deny' }, /outcome/],
    ['a score above 1', { score: 1.5 }, /score/],
    ['a short commitment', { claimCommitment: '0x12' }, /claimCommitment/],
    ['a non-decimal offset', { input: { topic: 'claims', partition: 0, offset: '-1' } }, /input\.offset/],
  ])('refuses a record with %s, naming the field', (_name, patch, field) => {
    expect(() => decodeDecision(JSON.stringify({ ...decision, ...patch }))).toThrow(field);
  });

  it('keeps the decision id formula of every decision already on the topic', () => {
    // sha256("claimtrail-decision-v1\0claims\00\00"), the id of the first claim ever decided.
    expect(decisionIdFor('claims', 0, '0')).toBe('0x23b0dd57d437a4a62986eb9a4f2fe45756019214c93dd5dd7e940fe4aca937ed');
    expect(decisionIdFor('claims', 0, '1')).not.toBe(decisionIdFor('claims', 1, '0'));
    expect(CORRELATION_HEADER).toBe('x-correlation-id');
  });
});
