import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { AbiCoder, keccak256, toUtf8Bytes } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../anchoring/core/errors.ts';
import {
  LEAF_ENCODING,
  LEAF_TYPES,
  decisionLeaf,
  encodeLeafValues,
  leafHash,
  leafValues,
  reasonsHash,
  scoreMicros,
  topicHash,
  type DecisionLeafInput,
  type LeafValues,
} from '../../../anchoring/core/leaf.ts';
import { decisionAt, leafValuesArb } from './fixtures.ts';

const ozLeaf = (values: LeafValues) => StandardMerkleTree.of([[...values]], [...LEAF_TYPES]).leafHash([...values]);

describe('leaf encoding v1', () => {
  it('is named and typed as specified', () => {
    expect(LEAF_ENCODING).toBe('claimtrail-leaf-v1');
    expect(LEAF_TYPES).toEqual(['bytes32', 'bytes32', 'uint32', 'uint8', 'bytes32', 'bytes32', 'uint64', 'bytes32', 'uint32', 'uint64']);
    expect(Object.isFrozen(LEAF_TYPES)).toBe(true);
  });

  it('builds the tuple from a decision, field by field', () => {
    const d = decisionAt(42n, { score: 0.7345675, outcome: 'flag', decidedAt: '2024-05-01T12:00:00.123Z' });
    expect(leafValues(d)).toEqual([
      d.decisionId,
      d.claimCommitment,
      734568,
      2,
      d.modelHash,
      reasonsHash(d.reasons),
      String(Date.UTC(2024, 4, 1, 12, 0, 0, 123)),
      keccak256(toUtf8Bytes('decisions')),
      3,
      '42',
    ]);
  });

  it('leaf hash equals OpenZeppelin StandardMerkleTree.leafHash for a real decision', () => {
    const values = leafValues(decisionAt(7n));
    expect(leafHash(values)).toBe(ozLeaf(values));
    expect(decisionLeaf(decisionAt(7n))).toBe(ozLeaf(values));
  });

  it('leaf hash equals OpenZeppelin for random tuples, including the uint extremes', () => {
    fc.assert(
      fc.property(leafValuesArb, (values) => {
        expect(leafHash(values)).toBe(ozLeaf(values));
      }),
      { numRuns: 200 },
    );
  });

  it('the hand-written ABI encoding equals ethers AbiCoder.encode byte for byte', () => {
    fc.assert(
      fc.property(leafValuesArb, (values) => {
        const encoded = encodeLeafValues(values);
        expect(keccak256(encoded)).toBe(keccak256(AbiCoder.defaultAbiCoder().encode(LEAF_TYPES, values)));
      }),
      { numRuns: 200 },
    );
  });

  it('scoreMicros rounds score * 1e6 half up and stays in [0, 1e6]', () => {
    expect(scoreMicros(0)).toBe(0);
    expect(scoreMicros(1)).toBe(1_000_000);
    expect(scoreMicros(0.0000005)).toBe(1);
    expect(scoreMicros(0.1234564)).toBe(123456);
    expect(() => scoreMicros(1.0000001)).toThrow(InvalidArgumentError);
    expect(() => scoreMicros(-0.1)).toThrow(InvalidArgumentError);
    expect(() => scoreMicros(Number.NaN)).toThrow(InvalidArgumentError);
  });

  it('reasonsHash equals keccak256 of JSON.stringify of {code, contribution, text} (the keys are already sorted)', () => {
    const reasons = [
      { text: 'z first in insertion order', contribution: -0.5, code: 'F_A', extra: 'ignored' },
      { code: 'R_B', contribution: 1, text: 'ünïcödé' },
    ];
    const plain = JSON.stringify(reasons.map(({ code, contribution, text }) => ({ code, contribution, text })));
    expect(reasonsHash(reasons)).toBe(keccak256(toUtf8Bytes(plain)));
    expect(reasonsHash([])).toBe(keccak256(toUtf8Bytes('[]')));
  });

  it('reason order matters', () => {
    const [a, b] = decisionAt(1n).reasons;
    expect(reasonsHash([a!, b!])).not.toBe(reasonsHash([b!, a!]));
  });

  it('topicHash is keccak256 of the UTF-8 topic name', () => {
    expect(topicHash('decisions')).toBe(keccak256(toUtf8Bytes('decisions')));
  });

  const bad: Array<[string, Partial<DecisionLeafInput> | ((d: DecisionLeafInput) => unknown), string]> = [
    ['decisionId without 0x', { decisionId: 'ab'.repeat(32) }, 'decisionId'],
    ['claimCommitment too short', { claimCommitment: '0x1234' }, 'claimCommitment'],
    ['score above 1', { score: 1.5 }, 'score'],
    ['unknown outcome', { outcome: 'deny' as never }, 'outcome'],
    ['modelHash not hex', { modelHash: '0x' + 'zz'.repeat(32) }, 'modelHash'],
    ['reason without code', { reasons: [{ code: '', contribution: 1, text: 't' }] }, 'reasons[0].code'],
    ['reason with NaN contribution', { reasons: [{ code: 'A', contribution: Number.NaN, text: 't' }] }, 'reasons[0].contribution'],
    ['decidedAt not in toISOString form', { decidedAt: '2024-05-01T12:00:00Z' }, 'decidedAt'],
    ['decidedAt with an offset', { decidedAt: '2024-05-01T12:00:00.000+02:00' }, 'decidedAt'],
    ['decidedAt before 1970', { decidedAt: '1969-12-31T23:59:59.999Z' }, 'decidedAt'],
    ['a topic with a space', { log: { topic: 'my topic', partition: 0, offset: '1' } }, 'log.topic'],
    ['a negative partition', { log: { topic: 'decisions', partition: -1, offset: '1' } }, 'log.partition'],
    ['an offset with a leading zero', { log: { topic: 'decisions', partition: 0, offset: '01' } }, 'log.offset'],
    ['an offset above uint64', { log: { topic: 'decisions', partition: 0, offset: (2n ** 64n).toString() } }, 'log.offset'],
    ['a numeric offset', { log: { topic: 'decisions', partition: 0, offset: 5 as never } }, 'log.offset'],
  ];
  it.each(bad)('leafValues refuses %s, naming the field', (_what, override, field) => {
    const input = { ...decisionAt(1n), ...(override as Partial<DecisionLeafInput>) };
    expect(() => leafValues(input)).toThrow(InvalidArgumentError);
    expect(() => leafValues(input)).toThrow(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}`));
  });

  it('accepts the largest uint64 offset', () => {
    const max = (2n ** 64n - 1n).toString();
    const values = leafValues({ ...decisionAt(1n), log: { topic: 'decisions', partition: 0xffff_ffff, offset: max } });
    expect(values[9]).toBe(max);
    expect(leafHash(values)).toBe(ozLeaf(values));
  });

  it('leafHash refuses malformed tuples', () => {
    const good = leafValues(decisionAt(1n));
    const withField = (i: number, v: unknown) => good.map((x, j) => (j === i ? v : x)) as unknown as LeafValues;
    expect(() => leafHash(good.slice(0, 9) as unknown as LeafValues)).toThrow(InvalidArgumentError);
    expect(() => leafHash(withField(2, 1_000_001))).toThrow(/scoreMicros/);
    expect(() => leafHash(withField(3, 3))).toThrow(/outcome/);
    expect(() => leafHash(withField(6, 1717000000000))).toThrow(/decidedAtMs/);
    expect(() => leafHash(withField(7, '0x12'))).toThrow(/logTopicHash/);
  });
});
