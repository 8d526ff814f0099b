/**
 * The pure checks behind proof verification, shared by the verifier (verify-proof.ts) and the
 * bundle maker (proof-bundle.ts, which re-verifies what it made). Kept apart so those two do not
 * import each other.
 */
import { batchContains, batchId } from './batch.ts';
import { LeafMismatchError, ProofMismatchError, VerificationError } from './errors.ts';
import { decisionLeaf, scoreMicros, type DecisionLeafInput } from './leaf.ts';
import { processProof } from './merkle-core.ts';

/** What the pure checks read from a bundle; a loaded `ProofBundle` has this shape. */
export interface CheckableBundle {
  decision: DecisionLeafInput;
  leaf: string;
  proof: readonly string[];
  batch: { batchId: string; topic: string; partition: number; firstOffset: string; lastOffset: string; root: string };
}

/**
 * Runs the checks in order and returns the first failure, or undefined when all pass:
 *
 * 1. LEAF_MISMATCH: the decision fields encode to `leaf` (and `score` has no more precision
 *    than the leaf binds, so the score shown is exactly the score proven).
 * 2. PROOF_INVALID: the proof walks from that leaf to `batch.root`.
 * 3. BATCH_ID_MISMATCH: `batch.batchId` is the id of (topic, partition, firstOffset, lastOffset).
 * 4. POSITION_OUTSIDE_BATCH: the decision's log position lies inside that range.
 *
 * Expects well-formed input (run the bundle loader first): malformed fields throw
 * InvalidArgumentError rather than being reported.
 */
export function checkBundle(bundle: CheckableBundle): VerificationError | undefined {
  const { decision, batch } = bundle;

  const computedLeaf = decisionLeaf(decision);
  const statedLeaf = bundle.leaf.toLowerCase();
  if (computedLeaf !== statedLeaf) {
    return new LeafMismatchError(`decision fields encode to leaf ${computedLeaf}, bundle says ${statedLeaf}`, statedLeaf, computedLeaf);
  }
  const micros = scoreMicros(decision.score);
  if (decision.score !== micros / 1e6) {
    // The leaf holds micro-units; a longer score would claim precision nobody can prove.
    return new LeafMismatchError(
      `score ${decision.score} has more precision than the leaf binds (${micros / 1e6})`,
      String(decision.score),
      String(micros / 1e6),
    );
  }

  const statedRoot = batch.root.toLowerCase();
  const computedRoot = processProof(computedLeaf, bundle.proof);
  if (computedRoot !== statedRoot) return new ProofMismatchError(statedRoot, computedRoot);

  const range = { topic: batch.topic, partition: batch.partition, firstOffset: batch.firstOffset, lastOffset: batch.lastOffset };
  const statedId = batch.batchId.toLowerCase();
  const computedId = batchId(range);
  if (computedId !== statedId) {
    return new VerificationError(
      'BATCH_ID_MISMATCH',
      `batch ${batch.topic}/${batch.partition}@${batch.firstOffset}..${batch.lastOffset} has id ${computedId}, bundle says ${statedId}`,
      { expected: statedId, computed: computedId },
    );
  }

  if (!batchContains(range, decision.log)) {
    const at = `${decision.log.topic}/${decision.log.partition}@${decision.log.offset}`;
    return new VerificationError(
      'POSITION_OUTSIDE_BATCH',
      `decision is at ${at}, outside batch ${batch.topic}/${batch.partition}@${batch.firstOffset}..${batch.lastOffset}`,
      { expected: `${batch.topic}/${batch.partition}@${batch.firstOffset}..${batch.lastOffset}`, computed: at },
    );
  }
  return undefined;
}
