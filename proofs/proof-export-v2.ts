/**
 * Proof export for decisions batched as `claimtrail-leaf-v2` leaves: the `claimtrail-proof-v2`
 * bundle (docs/proof-format-v2.md#bundle-claimtrail-proof-v2) from what PostgreSQL stored when the
 * batch, its epoch and (for a flagged decision) its flagged tree were built:
 *
 * - batch proof: from the batch's stored leaf hashes, while the leaf itself is recomputed from
 *   the decision row as it is now (makeProofBundleV2): a row altered afterwards no longer proves;
 * - epoch proof: from the stored epoch's entries (`epoch_batches`), while the decision's entry is
 *   recomputed from the batch row: an entry or batch row altered afterwards no longer proves;
 * - flagged section: from the stored leaf hashes of the flagged tree's members, once its root is
 *   anchored; a flagged decision still waiting for its flagged job is exported without it;
 * - anchor: the stored epoch's chain id, contract, anchorer, transaction and block, as claimed.
 *   What they are worth is decided by the verifier's trust anchor, never by these rows.
 */
import type { JsonRpcProvider } from 'ethers';
import { buildEpochTree } from '../anchoring/core/epoch.ts';
import { getProof, leafTreeIndex, makeTree } from '../anchoring/core/merkle-core.ts';
import { makeProofBundleV2, type ProofBundleV2, type ProofBundleV2Flagged } from '../anchoring/core/proof-bundle-v2.ts';
import type { DecisionIndexRepository, IndexedDecision } from '../anchoring/decision-index.repository.ts';
import type { EpochRepository } from '../anchoring/epoch.repository.ts';
import type { FlaggedRootRepository } from '../anchoring/flagged-root.repository.ts';
import type { DecisionV2 } from '../domain/decision.ts';
import { ProofUnavailableError } from './proof-errors.ts';

/** What the v2 exporter reads. */
export interface ProofExportV2Deps {
  index: DecisionIndexRepository;
  epochs: EpochRepository;
  flaggedRoots: FlaggedRootRepository;
  provider: JsonRpcProvider;
}

/** A v2-leaf decision as the index returns it. */
export type IndexedDecisionV2 = Extract<IndexedDecision, DecisionV2>;

/**
 * The v2 bundle of a v2-leaf decision.
 * @param salt the commitment salt for an entitled exporter, else undefined (never read here).
 * @throws ProofUnavailableError when the batch is missing or in no anchored epoch yet;
 *   InvalidArgumentError (anchoring) whose cause is a VerificationError when the stored rows no
 *   longer prove the decision (altered decision, batch or epoch entry).
 */
export async function exportBundleV2(deps: ProofExportV2Deps, decision: IndexedDecisionV2, salt: string | undefined): Promise<ProofBundleV2> {
  const { index, epochs, provider } = deps;
  const batch = await index.getBatch(decision.batchId);
  if (!batch) throw new ProofUnavailableError(`batch ${decision.batchId} of decision ${decision.decisionId} is missing`);
  const leaves = await index.batchLeaves(batch.batchId);
  const proof = getProof(makeTree(leaves), leafTreeIndex(leaves.length, decision.leafIndex));

  const placement = await epochs.placementOfBatch(batch.batchId);
  const epoch = placement?.epoch;
  if (!placement || !epoch || epoch.status !== 'anchored' || !epoch.anchor) {
    throw new ProofUnavailableError(`batch ${batch.batchId} of decision ${decision.decisionId} is in no anchored epoch yet: export its proof after the next epoch is anchored`);
  }
  // The entry -> epoch root path, from the stored entries; the decision's own entry is recomputed
  // from the batch row by makeProofBundleV2 and must lead to the stored root.
  const epochProof = buildEpochTree(epoch.instanceId, placement.entries).proofFor(placement.position);
  const head = BigInt(await provider.getBlockNumber());
  const confirmations = (block: bigint) => Number(head >= block ? head - block + 1n : 0n);

  const flagged = decision.outcome === 'flag' ? await flaggedSection(deps, decision.decisionId) : undefined;
  const { instanceId, runId, decisionId, claimId, claimCommitment, score, outcome, modelHash, reasons, decidedAt, input, log } = decision;
  return makeProofBundleV2({
    decision: { instanceId, runId, decisionId, claimId, claimCommitment, score, outcome, modelHash, reasons: reasons.map(({ code, contribution }) => ({ code, contribution })), decidedAt, input, log },
    ...(salt === undefined ? {} : { salt }),
    proof,
    batch: { topic: batch.topic, partition: batch.partition, firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, leafCount: batch.leafCount, root: batch.root },
    epoch: { sequence: epoch.sequence, root: epoch.root, batchCount: epoch.batchCount, leafCount: epoch.leafCount, proof: epochProof },
    ...(flagged === undefined ? {} : { flagged }),
    anchor: {
      chainId: Number(epoch.anchor.chainId),
      contract: epoch.anchor.contract,
      anchorer: epoch.anchor.anchorer,
      txHash: epoch.anchor.txHash,
      blockNumber: Number(epoch.anchor.blockNumber),
      blockHash: epoch.anchor.blockHash,
      confirmationsAtExport: confirmations(epoch.anchor.blockNumber),
    },
  });
}

/** The flagged section once the decision's flagged tree is anchored; undefined before. */
async function flaggedSection(deps: ProofExportV2Deps, decisionId: string): Promise<ProofBundleV2Flagged | undefined> {
  const membership = await deps.flaggedRoots.membershipOf(decisionId);
  if (!membership || membership.status !== 'anchored' || !membership.anchor) return undefined;
  const members = await deps.flaggedRoots.members(membership.root);
  // The members' stored leaves in tree order (decision-id order); the decision's own leaf is
  // recomputed by makeProofBundleV2 and must lead to the stored root.
  const leaves = await Promise.all(
    members.map(async (id) => {
      const member = await deps.index.getDecision(id);
      if (!member) throw new ProofUnavailableError(`decision ${id} of flagged root ${membership.root} is missing from the decision index`);
      return member.leaf;
    }),
  );
  return {
    root: membership.root,
    count: membership.count,
    proof: getProof(makeTree(leaves), leafTreeIndex(leaves.length, membership.position)),
    txHash: membership.anchor.txHash,
    blockNumber: Number(membership.anchor.blockNumber),
    blockHash: membership.anchor.blockHash,
  };
}
