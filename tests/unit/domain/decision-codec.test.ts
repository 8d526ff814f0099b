import { describe, expect, it } from 'vitest';
import { CORRELATION_HEADER, DecisionFormatError, decisionIdFor, decisionIdV2, decodeDecision, encodeDecision } from '../../../domain/decision-codec.ts';
import { isDecisionV2, type DecisionV1, type DecisionV2 } from '../../../domain/decision.ts';

const HEX = (c: string) => `0x${c.repeat(64)}`;
const decision: DecisionV1 = {
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

const v2: DecisionV2 = {
  format: 'claimtrail-decision-v2',
  instanceId: HEX('1'),
  runId: 'live',
  decisionId: HEX('a'),
  claimId: 'C1-0000001',
  score: 0.42,
  components: { rf: 0.4, nn: 0.45 },
  outcome: 'review',
  reasons: [{ code: 'R_DUPLICATE_CLAIM', contribution: 1 }, { code: 'F_CHARGE_PER_UNIT', contribution: 0.12 }],
  modelHash: HEX('b'),
  decidedAt: '2026-01-02T03:04:05.678Z',
  input: { topic: 'claims', partition: 3, offset: '12345' },
  claimCommitment: HEX('c'),
  correlationId: '3f1e5c1a-0000-4000-8000-000000000000',
};

describe('decision codec (the decisions topic wire format)', () => {
  it('encodes a v2 record and decodes it back as v2', () => {
    const decoded = decodeDecision(encodeDecision(v2));
    expect(decoded).toEqual(v2);
    expect(isDecisionV2(decoded)).toBe(true);
    const { correlationId: _, ...withoutCorrelation } = v2;
    expect(decodeDecision(JSON.stringify(withoutCorrelation))).toEqual(withoutCorrelation);
  });

  it.each([
    ['a salt', { salt: HEX('d') }, /salt|Unrecognized/],
    ['a reason text', { reasons: [{ code: 'F_CHARGE_PER_UNIT', contribution: 0.12, text: 'charge 3.1x for 99215' }] }, /reasons\.0/],
    ['a claim field', { memberId: 'M-1' }, /memberId|Unrecognized/],
    ['an unknown format', { format: 'claimtrail-decision-v3' }, /format/],
    ['an upper-case run id', { runId: 'Live' }, /runId/],
    ['an instance id in upper case', { instanceId: `0x${'A'.repeat(64)}` }, /instanceId/],
    ['a lower-case reason code', { reasons: [{ code: 'f_x', contribution: 0.1 }] }, /reasons\.0\.code/],
    ['no instance id', { instanceId: undefined }, /instanceId/],
  ])('refuses a v2 record with %s', (_name, patch, field) => {
    const thrown = (() => { try { decodeDecision(JSON.stringify({ ...v2, ...patch })); } catch (e) { return e; } })();
    expect(thrown).toBeInstanceOf(DecisionFormatError);
    expect(String((thrown as Error).message)).toMatch(field);
  });

  it('still reads v1 records (no format, salt and texts) as v1', () => {
    const decoded = decodeDecision(encodeDecision(decision));
    expect(isDecisionV2(decoded)).toBe(false);
    expect(decoded).toEqual(decision);
  });

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

  it('derives decision id v2 exactly as the spec says (known answer)', () => {
    const input = { instanceId: `0x${'11'.repeat(32)}`, runId: 'live', modelHash: `0x${'22'.repeat(32)}`, topic: 'claims', partition: 3, offset: '522' };
    // sha256("claimtrail-decision-v2\0" 0x11.. "\0live\0" 0x22.. "\0claims\03\0522"), computed with Python's hashlib.
    expect(decisionIdV2(input)).toBe('0x5e5c30edce9042c06d97996c7c19d7f816227dd193a8af6ea6f096377b506853');
    expect(decisionIdV2({ ...input })).toBe(decisionIdV2(input));
    expect(decisionIdV2(input)).not.toBe(decisionIdFor('claims', 3, '522'));
  });

  it('gives a re-scoring run, another model or another installation its own decision ids', () => {
    const live = { instanceId: HEX('1'), runId: 'live', modelHash: HEX('2'), topic: 'claims', partition: 0, offset: '7' };
    const ids = [
      live,
      { ...live, runId: 'backfill-2026-01' },
      { ...live, modelHash: HEX('3') },
      { ...live, instanceId: HEX('4') },
      { ...live, partition: 1 },
      { ...live, offset: '8' },
      // Field boundaries are NUL-separated: moving a character across one is another id.
      { ...live, topic: 'claims7', offset: '0' },
    ].map(decisionIdV2);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each([
    ['an upper-case instance id', { instanceId: `0x${'A'.repeat(64)}` }],
    ['a run id with a space', { runId: 'a b' }],
    ['a short model hash', { modelHash: '0x12' }],
    ['a topic with NUL', { topic: 'a\0b' }],
    ['a negative partition', { partition: -1 }],
    ['an offset with a leading zero', { offset: '07' }],
  ])('refuses to derive an id v2 from %s', (_name, patch) => {
    expect(() => decisionIdV2({ instanceId: HEX('1'), runId: 'live', modelHash: HEX('2'), topic: 'claims', partition: 0, offset: '7', ...patch })).toThrow(DecisionFormatError);
  });
});
