import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { AbiCoder, keccak256, toUtf8Bytes } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../anchoring/core/errors.ts';
import { decisionLeaf, LEAF_TYPES } from '../../../anchoring/core/leaf.ts';
import {
  LEAF_ENCODING_V2,
  LEAF_TYPES_V2,
  LEAF_V2_DOMAIN,
  contributionMicros,
  decisionLeafV2,
  encodeLeafValuesV2,
  leafHashV2,
  leafValuesV2,
  reasonsHashV2,
  type LeafValuesV2,
} from '../../../anchoring/core/leaf-v2.ts';
import { decisionV2At, INSTANCE, leafValuesV2Arb } from './fixtures-v2.ts';

const h = (s: string) => keccak256(toUtf8Bytes(s));
const ozLeaf = (values: LeafValuesV2) => StandardMerkleTree.of([[...values]], [...LEAF_TYPES_V2]).leafHash([...values]);

describe('leaf encoding v2', () => {
  it('is named, typed and domain-separated as specified', () => {
    expect(LEAF_ENCODING_V2).toBe('claimtrail-leaf-v2');
    expect(LEAF_V2_DOMAIN).toBe(h('claimtrail-leaf-v2'));
    expect(LEAF_TYPES_V2).toEqual(['bytes32', 'bytes32', 'bytes32', 'bytes32', 'uint32', 'uint8', 'bytes32', 'bytes32', 'uint64', 'bytes32', 'uint32', 'uint64']);
    expect(Object.isFrozen(LEAF_TYPES_V2)).toBe(true);
  });

  it('builds the tuple from a decision, field by field', () => {
    const d = decisionV2At(3, 522n, { score: 0.7345675, outcome: 'flag', decidedAt: '2024-05-01T12:00:00.123Z' });
    expect(leafValuesV2(d)).toEqual([
      LEAF_V2_DOMAIN,
      INSTANCE,
      d.decisionId,
      d.claimCommitment,
      734568,
      2,
      d.modelHash,
      h(JSON.stringify([{ code: 'F_CHARGE_PER_UNIT', contributionMicros: 210000 }, { code: 'R_EXCLUDED_PROVIDER', contributionMicros: -50000 }])),
      String(Date.UTC(2024, 4, 1, 12, 0, 0, 123)),
      h('decisions'),
      3,
      '522',
    ]);
  });

  it('leaf hash equals OpenZeppelin StandardMerkleTree.leafHash, for a real decision and random tuples (uint extremes included)', () => {
    const values = leafValuesV2(decisionV2At(0, 7n));
    expect(leafHashV2(values)).toBe(ozLeaf(values));
    expect(decisionLeafV2(decisionV2At(0, 7n))).toBe(ozLeaf(values));
    fc.assert(
      fc.property(leafValuesV2Arb, (v) => {
        expect(leafHashV2(v)).toBe(ozLeaf(v));
      }),
      { numRuns: 200 },
    );
  });

  it('the hand-written ABI encoding equals ethers AbiCoder.encode byte for byte', () => {
    fc.assert(
      fc.property(leafValuesV2Arb, (v) => {
        expect(Buffer.from(encodeLeafValuesV2(v)).toString('hex')).toBe(AbiCoder.defaultAbiCoder().encode(LEAF_TYPES_V2, v).slice(2));
      }),
      { numRuns: 200 },
    );
  });

  it('differs from the v1 leaf of the same decision, and refuses any other domain word', () => {
    const d = decisionV2At(0, 9n);
    const v1 = decisionLeaf({ ...d, reasons: d.reasons.map((r) => ({ ...r, text: '' })) });
    expect(decisionLeafV2(d)).not.toBe(v1);
    const [, ...rest] = leafValuesV2(d);
    const values = [h('claimtrail-epoch-entry-v2'), ...rest] as unknown as LeafValuesV2;
    expect(() => leafHashV2(values)).toThrow(/domain/);
    expect(LEAF_TYPES.length).toBe(10);
  });

  it('reasonsHashV2 binds codes and micro-unit contributions in order, never text', () => {
    const reasons = [{ code: 'A1', contribution: 0.1234564 }, { code: 'B_2', contribution: -1 }];
    expect(reasonsHashV2(reasons)).toBe(h('[{"code":"A1","contributionMicros":123456},{"code":"B_2","contributionMicros":-1000000}]'));
    expect(reasonsHashV2([...reasons].reverse())).not.toBe(reasonsHashV2(reasons));
    expect(reasonsHashV2([])).toBe(h('[]'));
    expect(reasonsHashV2([{ code: 'Z', contribution: -0.0000001 }])).toBe(h('[{"code":"Z","contributionMicros":0}]'));
    expect(contributionMicros(2147.483647)).toBe(2 ** 31 - 1);
    expect(contributionMicros(-2147.483647)).toBe(-(2 ** 31 - 1));
  });

  it('reasonsHashV2 refuses bad reasons, naming the field', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['nope', /reasons must be an array/],
      [[null], /reasons\[0\] must be an object/],
      [[{ code: 'lower', contribution: 0 }], /reasons\[0\]\.code/],
      [[{ code: '', contribution: 0 }], /reasons\[0\]\.code/],
      [[{ code: 'A'.repeat(65), contribution: 0 }], /reasons\[0\]\.code/],
      [[{ code: 'A', contribution: 0 }, { code: 'B', contribution: Number.NaN }], /reasons\[1\]\.contribution/],
      [[{ code: 'A', contribution: 2147.4836475 }], /reasons\[0\]\.contribution/],
      [[{ code: 'A', contribution: '1' }], /reasons\[0\]\.contribution/],
      [[{ code: 'A', contribution: 1, text: 'v1 text' }], /reasons\[0\] has members v2 does not bind: text/],
    ];
    for (const [reasons, message] of cases) {
      expect(() => reasonsHashV2(reasons as never)).toThrow(InvalidArgumentError);
      expect(() => reasonsHashV2(reasons as never)).toThrow(message);
    }
  });

  it('leafValuesV2 names the bad field', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ instanceId: '0x1' }, /instanceId/],
      [{ outcome: 'deny' }, /outcome/],
      [{ score: 1.5 }, /score/],
      [{ decidedAt: '2024-05-01T12:00:00Z' }, /decidedAt/],
      [{ log: { topic: 'decisions', partition: 0, offset: '-1' } }, /log\.offset/],
    ];
    for (const [override, field] of cases) expect(() => leafValuesV2(decisionV2At(0, 1n, override as never))).toThrow(field);
  });
});
