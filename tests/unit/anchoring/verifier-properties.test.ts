import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafValues } from '../../../anchoring/core/leaf.ts';
import { buildBatchTree } from '../../../anchoring/core/merkle.ts';
import { makeProofBundle, type ProofBundle } from '../../../anchoring/core/proof-bundle.ts';
import { verifyProofBundle } from '../../../anchoring/core/verify-proof.ts';
import { flipBit } from '../../vectors/generate.ts';
import { batchOfDecisions, PARTITION, SALT, SAMPLE_ANCHOR, TOPIC, plain, type Mutable } from './fixtures.ts';

/**
 * Property tests on top of the fixed vectors (verifier-vectors.test.ts): for random batch sizes,
 * leaf positions and mutations, the verifier accepts every honest bundle and rejects every
 * mutated one with the code the mutation calls for.
 */

/** A bundle for leaf `index` of a `size`-leaf batch at offsets 700, 703, ... */
function bundleOf(size: number, index: number): ProofBundle {
  const decisions = batchOfDecisions(700n, size, 3n);
  const tree = buildBatchTree(decisions.map((d) => leafValues(d)));
  const range = { topic: TOPIC, partition: PARTITION, firstOffset: '700', lastOffset: String(700 + (size - 1) * 3) };
  return makeProofBundle({ decision: decisions[index]!, salt: SALT, proof: tree.proofFor(index), batch: { ...range, leafCount: size, root: tree.root }, anchor: SAMPLE_ANCHOR });
}

const position = fc.integer({ min: 1, max: 40 }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString('hex')}`);

type Mutation = { name: string; apply: (b: Mutable) => boolean; code: string };

/** Each mutation edits the bundle in place; returns false when it does not apply to this proof. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((bit) => ({ name: `leaf bit ${bit}`, code: 'LEAF_MISMATCH', apply: (b: Mutable) => ((b.leaf = flipBit(b.leaf, bit)), true) })),
  fc.integer({ min: 0, max: 255 }).map((bit) => ({ name: `root bit ${bit}`, code: 'PROOF_INVALID', apply: (b: Mutable) => ((b.batch.root = flipBit(b.batch.root, bit)), true) })),
  fc.integer({ min: 0, max: 255 }).map((bit) => ({ name: `batch id bit ${bit}`, code: 'BATCH_ID_MISMATCH', apply: (b: Mutable) => ((b.batch.batchId = flipBit(b.batch.batchId, bit)), true) })),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([k, bit]) => ({
    name: `proof element bit ${bit}`,
    code: 'PROOF_INVALID',
    apply: (b: Mutable) => {
      if (b.proof.length === 0) return false;
      const i = k % b.proof.length;
      b.proof[i] = flipBit(b.proof[i], bit);
      return true;
    },
  })),
  fc.nat().map((k) => ({
    name: 'proof truncated',
    code: 'PROOF_INVALID',
    apply: (b: Mutable) => {
      if (b.proof.length === 0) return false;
      b.proof = b.proof.slice(0, k % b.proof.length);
      return true;
    },
  })),
  fc.tuple(fc.nat(), bytes32).map(([k, extra]) => ({
    name: 'proof extended',
    code: 'PROOF_INVALID',
    apply: (b: Mutable) => (b.proof.splice(k % (b.proof.length + 1), 0, extra), true),
  })),
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]) => ({
    name: 'proof elements swapped',
    code: 'PROOF_INVALID',
    apply: (b: Mutable) => {
      const n = b.proof.length;
      if (n < 2 || i % n === j % n || b.proof[i % n] === b.proof[j % n]) return false;
      [b.proof[i % n], b.proof[j % n]] = [b.proof[j % n], b.proof[i % n]];
      return true;
    },
  })),
);

describe('verifier properties (fast-check)', () => {
  it('accepts the bundle of any leaf of any batch size', () => {
    fc.assert(fc.property(position, ([size, index]) => verifyProofBundle(bundleOf(size, index)).ok), { numRuns: 150 });
  });

  it('rejects any single mutation of leaf, proof, root or batch id with the matching code', () => {
    fc.assert(
      fc.property(position, mutation, ([size, index], m) => {
        const b = plain(bundleOf(size, index));
        fc.pre(m.apply(b));
        const result = verifyProofBundle(b);
        expect(result, `${m.name} on leaf ${index} of ${size}`).toMatchObject({ ok: false, code: m.code });
      }),
      { numRuns: 400 },
    );
  });

  it("rejects a leaf and proof moved into another batch's bundle", () => {
    fc.assert(
      fc.property(position, position, ([sa, ia], [sb, ib]) => {
        const a = plain(bundleOf(sa, ia));
        const decisions = batchOfDecisions(5000n, sb);
        const tree = buildBatchTree(decisions.map((d) => leafValues(d)));
        a.decision = plain(makeProofBundle({ decision: decisions[ib]!, proof: tree.proofFor(ib), batch: { topic: TOPIC, partition: PARTITION, firstOffset: '5000', lastOffset: String(5000 + sb - 1), leafCount: sb, root: tree.root }, anchor: null })).decision;
        a.leaf = tree.leafHashes[ib];
        a.proof = tree.proofFor(ib);
        expect(verifyProofBundle(a)).toMatchObject({ ok: false, code: 'PROOF_INVALID' });
      }),
      { numRuns: 100 },
    );
  });
});
