import { AbiCoder, keccak256 } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertBatchLeaves, batchContains, batchId, offsetSpan, validateBatchRange, type BatchRange } from '../../../anchoring/core/batch.ts';
import { InvalidArgumentError } from '../../../anchoring/core/errors.ts';
import { leafValues } from '../../../anchoring/core/leaf.ts';
import { batchOfDecisions, decisionAt, PARTITION, TOPIC } from './fixtures.ts';

const range: BatchRange = { topic: TOPIC, partition: PARTITION, firstOffset: '100', lastOffset: '199' };

describe('batchId', () => {
  it('is keccak256(abi.encode(string, uint32, uint64, uint64))', () => {
    const expected = keccak256(AbiCoder.defaultAbiCoder().encode(['string', 'uint32', 'uint64', 'uint64'], [TOPIC, PARTITION, 100n, 199n]));
    expect(batchId(range)).toBe(expected);
  });

  it('is deterministic and differs when any of the four fields differs', () => {
    const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    fc.assert(
      fc.property(fc.constantFrom('decisions', 'decisions.v2', 'a'), fc.integer({ min: 0, max: 0xffff_ffff }), uint64, uint64, (topic, partition, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const r = { topic, partition, firstOffset: lo.toString(), lastOffset: hi.toString() };
        expect(batchId({ ...r })).toBe(batchId(r));
        expect(batchId({ ...r, topic: `${topic}x` })).not.toBe(batchId(r));
        expect(batchId({ ...r, partition: partition === 0 ? 1 : partition - 1 })).not.toBe(batchId(r));
        if (lo > 0n) expect(batchId({ ...r, firstOffset: (lo - 1n).toString() })).not.toBe(batchId(r));
        if (hi < 2n ** 64n - 1n) expect(batchId({ ...r, lastOffset: (hi + 1n).toString() })).not.toBe(batchId(r));
      }),
    );
  });

  it('accepts a one-offset batch', () => {
    expect(batchId({ ...range, firstOffset: '5', lastOffset: '5' })).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it.each([
    ['first > last', { firstOffset: '200', lastOffset: '199' }, /firstOffset \(200\) must not be greater/],
    ['a negative offset', { firstOffset: '-1' }, /batch\.firstOffset/],
    ['a hex offset', { lastOffset: '0xff' }, /batch\.lastOffset/],
    ['an offset above uint64', { lastOffset: (2n ** 64n).toString() }, /batch\.lastOffset/],
    ['an empty topic', { topic: '' }, /batch\.topic/],
    ['a fractional partition', { partition: 1.5 }, /batch\.partition/],
    ['a partition above uint32', { partition: 2 ** 32 }, /batch\.partition/],
  ])('refuses %s', (_what, override, message) => {
    expect(() => batchId({ ...range, ...override })).toThrow(InvalidArgumentError);
    expect(() => batchId({ ...range, ...override })).toThrow(message);
  });
});

describe('batch ranges', () => {
  it('validateBatchRange returns a frozen copy', () => {
    const r = validateBatchRange(range);
    expect(r).toEqual(range);
    expect(Object.isFrozen(r)).toBe(true);
  });

  it('offsetSpan counts offsets, an upper bound for leaves', () => {
    expect(offsetSpan(range)).toBe(100n);
    expect(offsetSpan({ ...range, firstOffset: '7', lastOffset: '7' })).toBe(1n);
  });

  it('batchContains checks topic, partition and both ends', () => {
    const at = (offset: string, topic = TOPIC, partition = PARTITION) => batchContains(range, { topic, partition, offset });
    expect(at('100')).toBe(true);
    expect(at('199')).toBe(true);
    expect(at('99')).toBe(false);
    expect(at('200')).toBe(false);
    expect(at('150', 'claims')).toBe(false);
    expect(at('150', TOPIC, PARTITION + 1)).toBe(false);
  });
});

describe('assertBatchLeaves', () => {
  const values = batchOfDecisions(100n, 50, 2n).map((d) => leafValues(d)); // offsets 100, 102, ..., 198
  const tight = { ...range, lastOffset: '198' };

  it('accepts a tight batch with gaps (transaction markers take offsets too)', () => {
    expect(() => assertBatchLeaves(tight, values)).not.toThrow();
  });

  it.each([
    ['no leaves', tight, [], /at least one/],
    ['a range that starts before the first leaf', { ...tight, firstOffset: '99' }, values, /batch starts at 99/],
    ['a range that ends after the last leaf', range, values, /batch ends at 199/],
    ['leaves out of log order', tight, [values[1]!, values[0]!, ...values.slice(2)], /log order/],
    ['a duplicate leaf', tight, [values[0]!, values[0]!, ...values.slice(1)], /log order/],
    ['a leaf from another partition', tight, [...values.slice(0, 3), leafValues(decisionAt(106n, { log: { topic: TOPIC, partition: 0, offset: '106' } }))], /leaf 3/],
    ['a leaf from another topic', tight, [leafValues(decisionAt(100n, { log: { topic: 'claims', partition: PARTITION, offset: '100' } }))], /leaf 0/],
  ])('refuses %s', (_what, r, vs, message) => {
    expect(() => assertBatchLeaves(r, vs)).toThrow(InvalidArgumentError);
    expect(() => assertBatchLeaves(r, vs)).toThrow(message);
  });
});
