import type { JsonRpcProvider } from 'ethers';
import { getProof, leafTreeIndex, makeTree } from '../anchoring/core/merkle-core.ts';
import { makeProofBundle, type ProofBundle } from '../anchoring/core/proof-bundle.ts';
import { VerificationError } from '../anchoring/core/errors.ts';
import type { AnyProofBundle } from '../anchoring/core/proof-bundle-any.ts';
import type { TrustAnchor } from '../anchoring/core/trust.ts';
import type { EpochRepository } from '../anchoring/epoch.repository.ts';
import type { FlaggedRootRepository } from '../anchoring/flagged-root.repository.ts';
import { ProofUnavailableError } from './proof-errors.ts';
import type { DecisionIndexRepository, IndexedDecision } from '../anchoring/decision-index.repository.ts';
import { interimLeafInput } from '../anchoring/interim-leaf.ts';
import type { ReasonV1 } from '../domain/decision.ts';
import { pinBundleV2, toReport, verifyBundleOnChain, verifyBundleV2OnChain, type BundleReport } from './bundle-verification.ts';
import { exportBundleV2, type IndexedDecisionV2 } from './proof-export-v2.ts';

export { ProofUnavailableError };

/**
 * What `verify` reports for one decision; on PASS, the chain id and the trusted contract asked
 * (and, for a v2 decision, the trusted anchorer).
 */
export type DecisionVerification = BundleReport & { claimId: string; decisionId: string; batchId: string; txHash: string | null };

/** A value sealed under the member's data key, as the payload store gives it back. */
export type SealedSecret<T> = { state: 'present'; value: T } | { state: 'erased'; erasedAt: string | null };

/**
 * Where an entitled exporter reads what the index no longer holds in clear: the commitment salt
 * and a v1 decision's reason texts, sealed under the member's data key
 * (privacy/claim-payload.repository.ts implements it; the composition root wires it in).
 */
export interface SealedDecisionSecrets {
  /** Null when nothing is sealed for the decision. */
  salt(decisionId: string): Promise<SealedSecret<string> | null>;
  /** Null when nothing is sealed for the decision (a v2 decision, or a v1 row not moved yet). */
  reasonsV1(decisionId: string): Promise<SealedSecret<ReasonV1[]> | null>;
}

export interface ProofServiceDeps {
  index: DecisionIndexRepository;
  provider: JsonRpcProvider;
  /**
   * The sealed salts and v1 reason texts. Without it, bundles carry no salt, and a v1 decision
   * whose texts were moved into the sealed store cannot be bundled (its v1 leaf hashes the texts).
   */
  sealed?: SealedDecisionSecrets;
  /**
   * The epochs and flagged trees of v2-leaf batches (anchoring/epoch.repository.ts,
   * flagged-root.repository.ts). Without them a v2-leaf decision cannot be bundled.
   */
  v2?: { epochs: EpochRepository; flaggedRoots: FlaggedRootRepository };
}

/** The leaf encoding the decision's batch was built with: it picks the bundle format. */
function isV2Leaf(decision: IndexedDecision): decision is IndexedDecisionV2 & IndexedDecision {
  return decision.leafEncoding === 'claimtrail-leaf-v2';
}

/**
 * Proof bundles from the decision index, and verification of a decision against the chain. The
 * proof is built from the leaf hashes stored when the batch closed, while the leaf is recomputed
 * from the decision row as it is now: a row altered after the fact no longer proves.
 */
export class ProofService {
  readonly #deps: ProofServiceDeps;
  constructor(deps: ProofServiceDeps) {
    this.#deps = deps;
  }

  /** The newest decision about a claim id, or the one with this decision id. */
  async findDecision(ref: { claimId?: string; decisionId?: string }): Promise<IndexedDecision> {
    const { index } = this.#deps;
    if (ref.decisionId) {
      const decision = await index.getDecision(ref.decisionId);
      if (!decision) throw new ProofUnavailableError(`no decision ${ref.decisionId} in the decision index`);
      return decision;
    }
    const [newest] = await index.findByClaimId(ref.claimId ?? '');
    if (!newest) throw new ProofUnavailableError(`no decision for claim ${ref.claimId} in the decision index (not received, dead-lettered, or its batch has not closed yet)`);
    return newest;
  }

  /**
   * The proof bundle of a decision, with the anchor and its confirmations read from the chain:
   * `claimtrail-proof-v2` for a decision batched as a v2 leaf, `claimtrail-proof-v1` otherwise
   * (v1 records, and v2 records batched through the interim v1 leaf, keep v1 bundles forever).
   * The salt is included only with `includeSalt` (an entitled exporter: compliance role, or the CLI
   * operator holding the PHI master key), read from the sealed store; never otherwise.
   * @throws ProofUnavailableError when the claim is unknown, its batch is not anchored yet (v2), or
   *   a requested salt is erased or unreachable; InvalidArgumentError (anchoring) whose cause is a
   *   VerificationError when the stored decision no longer proves.
   */
  async bundle(decision: IndexedDecision, options: { includeSalt?: boolean } = {}): Promise<AnyProofBundle> {
    if (isV2Leaf(decision)) {
      const { v2, index, provider } = this.#deps;
      if (!v2) throw new ProofUnavailableError(`decision ${decision.decisionId} is a v2 leaf: export it with the epoch and flagged-root repositories wired in`);
      const salt = options.includeSalt ? await this.#salt(decision) : undefined;
      return exportBundleV2({ index, provider, epochs: v2.epochs, flaggedRoots: v2.flaggedRoots }, decision, salt);
    }
    return this.#bundleV1(decision, options);
  }

  async #bundleV1(decision: IndexedDecision, options: { includeSalt?: boolean }): Promise<ProofBundle> {
    const { index, provider } = this.#deps;
    const batch = await index.getBatch(decision.batchId);
    if (!batch) throw new ProofUnavailableError(`batch ${decision.batchId} of decision ${decision.decisionId} is missing`);
    const leaves = await index.batchLeaves(batch.batchId);
    const proof = getProof(makeTree(leaves), leafTreeIndex(leaves.length, decision.leafIndex));
    let anchor = null;
    if (batch.anchor) {
      const head = BigInt(await provider.getBlockNumber());
      anchor = {
        chainId: Number(batch.anchor.chainId),
        contract: batch.anchor.contract,
        txHash: batch.anchor.txHash,
        blockNumber: Number(batch.anchor.blockNumber),
        blockHash: batch.anchor.blockHash,
        confirmationsAtExport: Number(head >= batch.anchor.blockNumber ? head - batch.anchor.blockNumber + 1n : 0n),
      };
    }
    const leafInput = interimLeafInput(decision, decision.log);
    if ('reasonsV1Hash' in decision && decision.reasonsV1Hash !== undefined) leafInput.reasons = await this.#reasonsV1(decision.decisionId);
    return makeProofBundle({
      decision: { ...leafInput, claimId: decision.claimId },
      ...(options.includeSalt ? { salt: await this.#salt(decision) } : {}),
      proof,
      batch: { topic: batch.topic, partition: batch.partition, firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, leafCount: batch.leafCount, root: batch.root },
      anchor,
    });
  }

  /** A v1 decision's reason texts from the sealed store (its v1 leaf hashes them). */
  async #reasonsV1(decisionId: string): Promise<ReasonV1[]> {
    const sealed = await this.#deps.sealed?.reasonsV1(decisionId);
    if (sealed?.state === 'present') return sealed.value;
    throw new ProofUnavailableError(
      sealed?.state === 'erased'
        ? `decision ${decisionId} is a v1 decision of an erased member: its reason texts, which its v1 leaf hashes, are gone; bundles exported before the erasure still verify`
        : `decision ${decisionId} is a v1 decision whose reason texts are sealed in the payload store: export it with access to the PHI master key`,
    );
  }

  /** The salt for an entitled exporter: in clear on a v1 row not moved yet, else from the sealed store. */
  async #salt(decision: IndexedDecision): Promise<string> {
    if ('salt' in decision && decision.salt) return decision.salt;
    const sealed = await this.#deps.sealed?.salt(decision.decisionId);
    if (sealed?.state === 'present') return sealed.value;
    throw new ProofUnavailableError(
      sealed?.state === 'erased'
        ? `the salt of decision ${decision.decisionId} was erased with its member's data key`
        : `the salt of decision ${decision.decisionId} is sealed in the payload store: export it with access to the PHI master key`,
    );
  }

  /**
   * Verifies a decision end to end: stored row -> leaf -> proof -> root on the TRUSTED contract,
   * confirmed. The contract (and, v2, the anchorer) the stored rows name must be trusted ones
   * (else CONTRACT_NOT_TRUSTED): rows are not a trust anchor. A v2 decision is checked against the
   * trust anchor's v2 deployment (DecisionAnchorV2 and our anchorer), a v1 one against its v1
   * deployment.
   * @param options.trust the configured deployments (`configuredTrustAnchor`), never a stored value.
   */
  async verify(decision: IndexedDecision, options: { minConfirmations: number; trust: TrustAnchor }): Promise<DecisionVerification> {
    const batch = await this.#deps.index.getBatch(decision.batchId);
    const base = { claimId: decision.claimId, decisionId: decision.decisionId, batchId: decision.batchId, txHash: batch?.anchor?.txHash ?? null };
    let bundle: AnyProofBundle;
    try {
      bundle = await this.bundle(decision);
    } catch (error) {
      const cause = error instanceof Error ? error.cause : undefined;
      if (cause instanceof VerificationError) {
        return { ...base, ok: false, code: cause.code, message: cause.message, ...(cause.expected ? { expected: cause.expected } : {}), ...(cause.computed ? { computed: cause.computed } : {}) };
      }
      throw error;
    }
    if (bundle.format === 'claimtrail-proof-v2') {
      const pinned = pinBundleV2(bundle, options.trust);
      if (!pinned.ok) return { ...base, txHash: bundle.anchor.txHash, ...pinned };
      return { ...base, txHash: bundle.anchor.txHash, ...(await verifyBundleV2OnChain(bundle, this.#deps.provider, pinned.pin, options)) };
    }
    return { ...base, ...toReport(await verifyBundleOnChain(bundle, this.#deps.provider, options)) };
  }
}
