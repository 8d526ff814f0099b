import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { AbiCoder, keccak256 } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertBatchLeavesV2, buildBatchTreeV2 } from '../../../anchoring/core/batch-v2.ts';
import {
  ENTRY_TYPES,
  EPOCH_ENTRY_DOMAIN,
  buildEpochTree,
  encodeEntryValues,
  entryHash,
  entryValues,
  type EntryValues,
  type EpochBatch,
} from '../../../anchoring/core/epoch.ts';
import { InvalidArgumentError } from '../../../anchoring/core/errors.ts';
import { buildFlaggedTree } from '../../../anchoring/core/flagged-tree.ts';
import { batchIdV2 } from '../../../anchoring/core/ids-v2.ts';
import { LEAF_TYPES_V2, leafValuesV2 } from '../../../anchoring/core/leaf-v2.ts';
import { processProof } from '../../../anchoring/core/merkle-core.ts';
import { bytes32Arb, decisionV2At, INSTANCE, leafValuesV2Arb, OTHER_INSTANCE, sampleEpoch, uint64Arb } from './fixtures-v2.ts';

const entryArb: fc.Arbitrary<EntryValues> = fc.tuple(
  fc.constant(EPOCH_ENTRY_DOMAIN),
  bytes32Arb,
  bytes32Arb,
  bytes32Arb,
  fc.integer({ min: 0, max: 0xffff_ffff }),
  bytes32Arb,
  fc.integer({ min: 0, max: 0xffff_ffff }),
  uint64Arb,
  uint64Arb,
);

describe('v2 trees: the fast builder equals @openzeppelin/merkle-tree', () => {
  it('batch trees of v2 leaves: same root and every proof, any size', () => {
    fc.assert(
      fc.property(fc.array(leafValuesV2Arb, { minLength: 1, maxLength: 17 }), (values) => {
        const fast = buildBatchTreeV2(values);
        const oz = StandardMerkleTree.of(values.map((v) => [...v]), [...LEAF_TYPES_V2], { sortLeaves: false });
        expect(fast.root).toBe(oz.root);
        expect(buildBatchTreeV2(values, { builder: 'openzeppelin' }).root).toBe(oz.root);
        values.forEach((_, i) => expect(fast.proofFor(i)).toEqual(oz.getProof(i)));
      }),
      { numRuns: 40 },
    );
  });

  it('epoch entries: hand-written encoding equals AbiCoder, leaf equals OpenZeppelin', () => {
    fc.assert(
      fc.property(entryArb, (e) => {
        expect(Buffer.from(encodeEntryValues(e)).toString('hex')).toBe(AbiCoder.defaultAbiCoder().encode(ENTRY_TYPES, e).slice(2));
        expect(entryHash(e)).toBe(StandardMerkleTree.of([[...e]], [...ENTRY_TYPES]).leafHash([...e]));
      }),
      { numRuns: 100 },
    );
    expect(EPOCH_ENTRY_DOMAIN).toBe(keccak256(Buffer.from('claimtrail-epoch-entry-v2')));
  });

  it('epoch trees: same root and proofs as OpenZeppelin over the entries, in batch order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 9 }), (sizes) => {
        let first = 0n;
        const batches: EpochBatch[] = sizes.map((n, i) => {
          const b = { topic: 'decisions', partition: 0, firstOffset: String(first), lastOffset: String(first + BigInt(n) - 1n), leafCount: n, root: keccak256(Buffer.from(`root ${i}`)) };
          first += BigInt(n) + 1n;
          return b;
        });
        const tree = buildEpochTree(INSTANCE, batches);
        const oz = StandardMerkleTree.of(tree.entries.map((e) => [...e]), [...ENTRY_TYPES], { sortLeaves: false });
        expect(tree.root).toBe(oz.root);
        expect(buildEpochTree(INSTANCE, batches, { builder: 'openzeppelin' }).root).toBe(oz.root);
        batches.forEach((_, i) => expect(tree.proofFor(i)).toEqual(oz.getProof(i)));
        expect(tree.leafCount).toBe(String(sizes.reduce((a, b) => a + b, 0)));
      }),
      { numRuns: 30 },
    );
  });

  it('flagged trees: decision-id order, same root and proofs as OpenZeppelin over the sorted leaves', () => {
    fc.assert(
      fc.property(fc.uniqueArray(leafValuesV2Arb, { minLength: 1, maxLength: 12, selector: (v) => v[2] }), (values) => {
        const tree = buildFlaggedTree(values);
        const sorted = [...values].sort((a, b) => (BigInt(a[2]) < BigInt(b[2]) ? -1 : 1));
        const oz = StandardMerkleTree.of(sorted.map((v) => [...v]), [...LEAF_TYPES_V2], { sortLeaves: false });
        expect(tree.root).toBe(oz.root);
        expect(tree.decisionIds).toEqual(sorted.map((v) => v[2]));
        sorted.forEach((v, i) => expect(tree.proofFor(v[2])).toEqual(oz.getProof(i)));
        expect(buildFlaggedTree([...values].reverse(), { builder: 'openzeppelin' }).root).toBe(oz.root);
      }),
      { numRuns: 30 },
    );
  });
});

describe('v2 trees: inputs', () => {
  it('entry values derive the batch id from instance and range', () => {
    const batch = { topic: 'decisions', partition: 2, firstOffset: '10', lastOffset: '19', leafCount: 7, root: keccak256('0x01') };
    const e = entryValues(INSTANCE, batch);
    expect(e[2]).toBe(batchIdV2(INSTANCE, 'decisions', 2, '10', '19'));
    expect(entryValues(OTHER_INSTANCE, batch)[2]).not.toBe(e[2]);
    expect(() => entryValues(INSTANCE, { ...batch, leafCount: 11 })).toThrow(/leafCount/);
    expect(() => entryValues(INSTANCE, { ...batch, leafCount: 0 })).toThrow(/leafCount/);
    expect(() => entryValues(INSTANCE, { ...batch, root: '0x' })).toThrow(/batch\.root/);
  });

  it('an epoch refuses batches out of order, overlapping, on two topics, or none', () => {
    const b = (partition: number, first: number, last: number, topic = 'decisions'): EpochBatch => ({
      topic, partition, firstOffset: String(first), lastOffset: String(last), leafCount: 1, root: keccak256('0x02'),
    });
    expect(() => buildEpochTree(INSTANCE, [])).toThrow(InvalidArgumentError);
    expect(() => buildEpochTree(INSTANCE, [b(1, 0, 5), b(0, 10, 12)])).toThrow(/partition, then first offset/);
    expect(() => buildEpochTree(INSTANCE, [b(0, 10, 12), b(0, 0, 5)])).toThrow(/partition, then first offset/);
    expect(() => buildEpochTree(INSTANCE, [b(0, 0, 5), b(0, 5, 8)])).toThrow(/do not overlap/);
    // Topics form contiguous groups (decision batches, then audit seals under their pseudo-topic).
    expect(buildEpochTree(INSTANCE, [b(0, 0, 5), b(1, 0, 5, 'other')]).batchCount).toBe(2);
    expect(() => buildEpochTree(INSTANCE, [b(0, 0, 5), b(0, 0, 5, 'other'), b(1, 0, 5)])).toThrow(/contiguous/);
    expect(buildEpochTree(INSTANCE, [b(0, 0, 5), b(0, 6, 8), b(1, 0, 1)]).batchCount).toBe(3);
  });

  it('a one-batch epoch root is that entry leaf; every proof verifies with processProof', () => {
    const { batches, epoch } = sampleEpoch();
    const single = buildEpochTree(INSTANCE, [batches[0]!.batch]);
    expect(single.root).toBe(single.entryHashes[0]);
    expect(single.proofFor(0)).toEqual([]);
    epoch.entryHashes.forEach((e, i) => expect(processProof(e, epoch.proofFor(i))).toBe(epoch.root));
  });

  it('a flagged tree refuses duplicate decision ids and unknown ones', () => {
    const v = leafValuesV2(decisionV2At(0, 3n));
    expect(() => buildFlaggedTree([v, v])).toThrow(/twice/);
    expect(() => buildFlaggedTree([])).toThrow(InvalidArgumentError);
    expect(() => buildFlaggedTree([v]).proofFor(keccak256('0x03'))).toThrow(/not in this flagged tree/);
  });

  it('assertBatchLeavesV2 checks instance, topic, partition, log order and tight range', () => {
    const { batches } = sampleEpoch();
    const { values, range } = batches[0]!;
    expect(() => assertBatchLeavesV2(INSTANCE, range, values)).not.toThrow();
    expect(() => assertBatchLeavesV2(OTHER_INSTANCE, range, values)).toThrow(/instance/);
    expect(() => assertBatchLeavesV2(INSTANCE, { ...range, partition: 9 }, values)).toThrow(/not on decisions\/9/);
    expect(() => assertBatchLeavesV2(INSTANCE, range, [...values].reverse())).toThrow(/log order/);
    expect(() => assertBatchLeavesV2(INSTANCE, { ...range, firstOffset: '99' }, values)).toThrow(/starts at 99/);
    expect(() => assertBatchLeavesV2(INSTANCE, { ...range, lastOffset: '999' }, values)).toThrow(/ends at 999/);
  });
});
