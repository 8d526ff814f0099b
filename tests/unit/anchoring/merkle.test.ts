import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { hexlify, keccak256, randomBytes } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../anchoring/core/errors.ts';
import { LEAF_TYPES, leafHash, type LeafValues } from '../../../anchoring/core/leaf.ts';
import { buildBatchTree, type BatchTree } from '../../../anchoring/core/merkle.ts';
import { getProof, makeTree, nodeHash, processProof } from '../../../anchoring/core/merkle-core.ts';
import { batchValues, leafValuesArb } from './fixtures.ts';

/** The reference, straight from the library with the options the design fixes. */
const ozTree = (values: readonly LeafValues[]) => StandardMerkleTree.of(values.map((v) => [...v]), [...LEAF_TYPES], { sortLeaves: false });

function expectSameAsOpenZeppelin(tree: BatchTree, values: readonly LeafValues[]): void {
  const oz = ozTree(values);
  expect(tree.root).toBe(oz.root);
  expect(tree.leafCount).toBe(values.length);
  for (let i = 0; i < values.length; i++) {
    expect(tree.leafHashes[i]).toBe(oz.leafHash([...values[i]!]));
    expect(tree.proofFor(i)).toEqual(oz.getProof(i));
  }
}

describe('buildBatchTree (fast path) against @openzeppelin/merkle-tree', () => {
  it('is identical for every size 1..40 (all tree shapes up to 6 levels)', () => {
    const values = batchValues(1000n, 40);
    for (let n = 1; n <= 40; n++) expectSameAsOpenZeppelin(buildBatchTree(values.slice(0, n)), values.slice(0, n));
  });

  it('property: root, leaf hashes and every proof identical for random leaf sets of 1..300', () => {
    fc.assert(
      // size: 'max' or fast-check keeps arrays around 10 long whatever maxLength says.
      fc.property(fc.array(leafValuesArb, { minLength: 1, maxLength: 300, size: 'max' }), (values) => {
        expectSameAsOpenZeppelin(buildBatchTree(values), values);
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it('keeps log order: leaves are not sorted by hash', () => {
    const values = batchValues(0n, 8);
    const tree = buildBatchTree(values);
    expect(tree.leafHashes).toEqual(values.map((v) => leafHash(v)));
    const sorted = StandardMerkleTree.of(values.map((v) => [...v]), [...LEAF_TYPES]); // OZ default sorts
    expect(tree.root).not.toBe(sorted.root);
  });

  it("the 'openzeppelin' builder gives the same tree", () => {
    const values = batchValues(5n, 33);
    const fast = buildBatchTree(values);
    const reference = buildBatchTree(values, { builder: 'openzeppelin' });
    expect(reference.root).toBe(fast.root);
    expect(reference.leafHashes).toEqual(fast.leafHashes);
    for (let i = 0; i < values.length; i++) expect(reference.proofFor(i)).toEqual(fast.proofFor(i));
  });

  it('every proof verifies with StandardMerkleTree.verify', () => {
    const values = batchValues(0n, 21);
    const tree = buildBatchTree(values);
    values.forEach((v, i) => expect(StandardMerkleTree.verify(tree.root, [...LEAF_TYPES], [...v], tree.proofFor(i))).toBe(true));
  });

  it('a single leaf is its own root, with an empty proof', () => {
    const [only] = batchValues(9n, 1);
    const tree = buildBatchTree([only!]);
    expect(tree.root).toBe(leafHash(only!));
    expect(tree.proofFor(0)).toEqual([]);
  });

  it('is not affected by callers mutating their tuples afterwards', () => {
    const values = batchValues(0n, 4).map((v) => [...v]) as unknown as LeafValues[];
    const fast = buildBatchTree(values);
    const reference = buildBatchTree(values, { builder: 'openzeppelin' });
    (values[2] as unknown as unknown[])[2] = 999;
    expect(fast.proofFor(2)).toEqual(reference.proofFor(2));
  });

  it.each([
    ['no leaves', () => buildBatchTree([])],
    ['an index past the end', () => buildBatchTree(batchValues(0n, 3)).proofFor(3)],
    ['a negative index', () => buildBatchTree(batchValues(0n, 3)).proofFor(-1)],
    ['a fractional index', () => buildBatchTree(batchValues(0n, 3)).proofFor(1.5)],
    ['an unknown builder', () => buildBatchTree(batchValues(0n, 3), { builder: 'naive' as never })],
    ['a malformed tuple', () => buildBatchTree([['0x12'] as unknown as LeafValues])],
  ])('refuses %s with InvalidArgumentError', (_what, build) => {
    expect(build).toThrow(InvalidArgumentError);
  });

  it('10,000 leaves: same root both ways; timings printed', () => {
    const values: LeafValues[] = Array.from({ length: 10_000 }, (_, i) => {
      const h = () => hexlify(randomBytes(32));
      return [h(), h(), (i * 7919) % 1_000_001, i % 3, h(), h(), String(1_717_000_000_000 + i), keccak256('0x01'), 3, String(5_000_000 + i)] as const;
    });
    buildBatchTree(values.slice(0, 500)); // warm up the JIT for both paths
    buildBatchTree(values.slice(0, 500), { builder: 'openzeppelin' });

    let t = performance.now();
    const fast = buildBatchTree(values);
    const fastMs = performance.now() - t;
    t = performance.now();
    const oz = ozTree(values);
    const ozMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < 1000; i++) fast.proofFor(i * 10);
    const proofsMs = performance.now() - t;

    expect(fast.root).toBe(oz.root);
    console.log(
      `[anchoring] 10,000-leaf tree build: fast path ${fastMs.toFixed(0)} ms, ` +
        `@openzeppelin/merkle-tree StandardMerkleTree.of ${ozMs.toFixed(0)} ms (${(ozMs / fastMs).toFixed(1)}x); ` +
        `1,000 verified proofs ${proofsMs.toFixed(0)} ms`,
    );
  }, 120_000);
});

describe('merkle-core', () => {
  it('nodeHash is commutative and equals keccak256 of the sorted pair', () => {
    const a = keccak256('0x01');
    const b = keccak256('0x02');
    const [lo, hi] = BigInt(a) < BigInt(b) ? [a, b] : [b, a];
    expect(nodeHash(a, b)).toBe(nodeHash(b, a));
    expect(nodeHash(a, b)).toBe(keccak256(lo + hi.slice(2)));
  });

  it('processProof walks getProof back to the root', () => {
    const leaves = Array.from({ length: 13 }, (_, i) => keccak256(`0x${i.toString(16).padStart(2, '0')}`));
    const tree = makeTree(leaves);
    for (let k = 0; k < leaves.length; k++) expect(processProof(leaves[k]!, getProof(tree, 2 * 13 - 2 - k))).toBe(tree[0]);
  });

  it('refuses bad input', () => {
    expect(() => makeTree([])).toThrow(InvalidArgumentError);
    expect(() => makeTree(['0xABC'])).toThrow(InvalidArgumentError);
    expect(() => getProof(makeTree([keccak256('0x01'), keccak256('0x02')]), 0)).toThrow(/not a leaf/);
    expect(() => processProof(keccak256('0x01'), ['0x12'])).toThrow(/proof\[0\]/);
  });
});
