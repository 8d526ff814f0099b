/**
 * The pure checks of a `claimtrail-proof-v2` bundle, shared by the verifier (verify-proof-v2.ts)
 * and the bundle maker (proof-bundle-v2.ts, which re-verifies what it made). Every value that can
 * be recomputed is recomputed (leaf, decision id, batch id, entry, epoch id), never taken from
 * the bundle.
 */
import { batchContains } from './batch.ts';
import { batchEntryLeaf } from './epoch.ts';
import { LeafMismatchError, ProofMismatchError, VerificationError } from './errors.ts';
import { batchIdV2, decisionIdV2, epochId } from './ids-v2.ts';
import { scoreMicros, type LeafLogPosition } from './leaf.ts';
import { contributionMicros, decisionLeafV2, type DecisionLeafInputV2 } from './leaf-v2.ts';
import { processProof } from './merkle-core.ts';

/** What the pure v2 checks read from a bundle; a loaded `ProofBundleV2` has this shape. */
export interface CheckableBundleV2 {
  decision: DecisionLeafInputV2 & { runId: string; input: LeafLogPosition };
  leaf: string;
  proof: readonly string[];
  batch: { batchId: string; topic: string; partition: number; firstOffset: string; lastOffset: string; leafCount: number; root: string };
  epoch: { epochId: string; sequence: string; root: string; proof: readonly string[] };
  flagged?: { root: string; proof: readonly string[] } | undefined;
}

/**
 * Runs the checks in order and returns the first failure, or undefined when all pass:
 *
 * 1. LEAF_MISMATCH: the decision fields encode to `leaf`, and `score` and every reason
 *    `contribution` carry no more precision than the leaf binds (micro-units).
 * 2. DECISION_ID_MISMATCH: `decisionId` is `decisionIdV2(instanceId, runId, modelHash, input…)`.
 * 3. PROOF_INVALID: `proof` walks from the recomputed leaf to `batch.root`.
 * 4. BATCH_ID_MISMATCH: `batch.batchId` is `batchIdV2(instanceId, topic, partition, firstOffset, lastOffset)`.
 * 5. POSITION_OUTSIDE_BATCH: `decision.log` lies inside the batch range.
 * 6. EPOCH_PROOF_INVALID: the batch entry recomputed from (instanceId, batch) walks through
 *    `epoch.proof` to `epoch.root`.
 * 7. EPOCH_ID_MISMATCH: `epoch.epochId` is `epochId(instanceId, sequence)`.
 * 8. FLAGGED_PROOF_INVALID: when `flagged` is present, `flagged.proof` walks from the leaf to `flagged.root`.
 *
 * Expects well-formed input (run the v2 loader first): malformed fields throw InvalidArgumentError.
 */
export function checkBundleV2(bundle: CheckableBundleV2): VerificationError | undefined {
  const { decision, batch, epoch } = bundle;

  const computedLeaf = decisionLeafV2(decision);
  const statedLeaf = bundle.leaf.toLowerCase();
  if (computedLeaf !== statedLeaf) {
    return new LeafMismatchError(`decision fields encode to v2 leaf ${computedLeaf}, bundle says ${statedLeaf}`, statedLeaf, computedLeaf);
  }
  const micros = scoreMicros(decision.score);
  if (decision.score !== micros / 1e6) {
    return new LeafMismatchError(`score ${decision.score} has more precision than the leaf binds (${micros / 1e6})`, String(decision.score), String(micros / 1e6));
  }
  for (const [i, reason] of decision.reasons.entries()) {
    const bound = contributionMicros(reason.contribution) / 1e6;
    if (reason.contribution !== bound) {
      return new LeafMismatchError(
        `reasons[${i}].contribution ${reason.contribution} has more precision than the leaf binds (${bound})`,
        String(reason.contribution),
        String(bound),
      );
    }
  }

  const { input } = decision;
  const computedId = decisionIdV2(decision.instanceId, decision.runId, decision.modelHash, input.topic, input.partition, input.offset);
  const statedId = decision.decisionId.toLowerCase();
  if (computedId !== statedId) {
    return new VerificationError(
      'DECISION_ID_MISMATCH',
      `instance, run ${decision.runId}, model and input ${input.topic}/${input.partition}@${input.offset} give decision id ${computedId}, bundle says ${statedId}`,
      { expected: statedId, computed: computedId },
    );
  }

  const statedRoot = batch.root.toLowerCase();
  const computedRoot = processProof(computedLeaf, bundle.proof);
  if (computedRoot !== statedRoot) return new ProofMismatchError(statedRoot, computedRoot);

  const range = `${batch.topic}/${batch.partition}@${batch.firstOffset}..${batch.lastOffset}`;
  const statedBatchId = batch.batchId.toLowerCase();
  const computedBatchId = batchIdV2(decision.instanceId, batch.topic, batch.partition, batch.firstOffset, batch.lastOffset);
  if (computedBatchId !== statedBatchId) {
    return new VerificationError('BATCH_ID_MISMATCH', `batch ${range} of this instance has id ${computedBatchId}, bundle says ${statedBatchId}`, {
      expected: statedBatchId,
      computed: computedBatchId,
    });
  }

  if (!batchContains(batch, decision.log)) {
    const at = `${decision.log.topic}/${decision.log.partition}@${decision.log.offset}`;
    return new VerificationError('POSITION_OUTSIDE_BATCH', `decision is at ${at}, outside batch ${range}`, { expected: range, computed: at });
  }

  const entry = batchEntryLeaf(decision.instanceId, batch);
  const statedEpochRoot = epoch.root.toLowerCase();
  const computedEpochRoot = processProof(entry, epoch.proof);
  if (computedEpochRoot !== statedEpochRoot) {
    return new VerificationError('EPOCH_PROOF_INVALID', `batch entry ${entry} leads to epoch root ${computedEpochRoot}, expected ${statedEpochRoot}`, {
      expected: statedEpochRoot,
      computed: computedEpochRoot,
    });
  }

  const statedEpochId = epoch.epochId.toLowerCase();
  const computedEpochId = epochId(decision.instanceId, epoch.sequence);
  if (computedEpochId !== statedEpochId) {
    return new VerificationError('EPOCH_ID_MISMATCH', `epoch ${epoch.sequence} of this instance has id ${computedEpochId}, bundle says ${statedEpochId}`, {
      expected: statedEpochId,
      computed: computedEpochId,
    });
  }

  if (bundle.flagged !== undefined) {
    const statedFlaggedRoot = bundle.flagged.root.toLowerCase();
    const computedFlaggedRoot = processProof(computedLeaf, bundle.flagged.proof);
    if (computedFlaggedRoot !== statedFlaggedRoot) {
      return new VerificationError('FLAGGED_PROOF_INVALID', `flagged proof leads to root ${computedFlaggedRoot}, expected ${statedFlaggedRoot}`, {
        expected: statedFlaggedRoot,
        computed: computedFlaggedRoot,
      });
    }
  }
  return undefined;
}
