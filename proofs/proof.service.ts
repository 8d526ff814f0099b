import type { JsonRpcProvider } from 'ethers';
import { getProof, leafTreeIndex, makeTree } from '../anchoring/core/merkle-core.ts';
import { makeProofBundle, type ProofBundle } from '../anchoring/core/proof-bundle.ts';
import { VerificationError } from '../anchoring/core/errors.ts';
import type { TrustAnchor } from '../anchoring/core/trust.ts';
import { ClaimtrailError } from '../core/errors.ts';
import type { DecisionIndexRepository, IndexedDecision } from '../anchoring/decision-index.repository.ts';
import { interimLeafInput } from '../anchoring/interim-leaf.ts';
import type { ReasonV1 } from '../domain/decision.ts';
import { toReport, verifyBundleOnChain, type BundleReport } from './bundle-verification.ts';

/** No decision / batch to prove (unknown claim id, or not batched yet). Caller-facing. */
export class ProofUnavailableError extends ClaimtrailError {
  constructor(message: string) {
    super('PROOF_UNAVAILABLE', message);
  }
}

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
   * The proof bundle of a decision, with the anchor and its confirmations read from the chain.
   * @throws ProofUnavailableError when the claim is unknown; InvalidArgumentError (anchoring)
   *   whose cause is a VerificationError when the stored decision no longer proves.
   */
  async bundle(decision: IndexedDecision, options: { includeSalt?: boolean } = {}): Promise<ProofBundle> {
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
   * confirmed. The contract the batch row names must be a trusted one (else CONTRACT_NOT_TRUSTED):
   * rows are not a trust anchor.
   * @param options.trust the configured deployment (`configuredTrustAnchor`), never a stored value.
   */
  async verify(decision: IndexedDecision, options: { minConfirmations: number; trust: TrustAnchor }): Promise<DecisionVerification> {
    const batch = await this.#deps.index.getBatch(decision.batchId);
    const base = { claimId: decision.claimId, decisionId: decision.decisionId, batchId: decision.batchId, txHash: batch?.anchor?.txHash ?? null };
    let bundle: ProofBundle;
    try {
      bundle = await this.bundle(decision);
    } catch (error) {
      const cause = error instanceof Error ? error.cause : undefined;
      if (cause instanceof VerificationError) {
        return { ...base, ok: false, code: cause.code, message: cause.message, ...(cause.expected ? { expected: cause.expected } : {}), ...(cause.computed ? { computed: cause.computed } : {}) };
      }
      throw error;
    }
    return { ...base, ...toReport(await verifyBundleOnChain(bundle, this.#deps.provider, options)) };
  }
}
