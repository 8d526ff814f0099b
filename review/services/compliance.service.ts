import type { AnyProofBundle } from '../../anchoring/core/proof-bundle-any.ts';
import type { TrustAnchor } from '../../anchoring/core/trust.ts';
import type { DecisionIndexRepository } from '../../anchoring/decision-index.repository.ts';
import type { DecisionVerification, ProofService } from '../../proofs/proof.service.ts';
import type { Actor } from '../auth/roles.ts';
import { NotFoundError } from '../errors.ts';
import type { AuditRepository } from '../repositories/audit.repository.ts';

/** A decision as compliance sees it: no claim data, only what the proof binds. */
export interface DecisionRecord {
  decisionId: string;
  claimId: string;
  outcome: string;
  score: number;
  modelHash: string;
  decidedAt: string;
  batchId: string;
  batchStatus: 'pending' | 'anchored';
  txHash: string | null;
  blockNumber: string | null;
}

export interface ComplianceServiceDeps {
  index: DecisionIndexRepository;
  proofs: ProofService;
  audit: AuditRepository;
  /** Confirmations a verification requires (CONFIRMATIONS). */
  minConfirmations: number;
  /**
   * The configured deployment (`configuredTrustAnchor`: DECISION_ANCHOR_ADDRESS or the recorded
   * local one). Verification asks this contract; a batch row naming another fails
   * CONTRACT_NOT_TRUSTED. Never taken from the stored rows or a bundle.
   */
  trust: TrustAnchor;
}

/**
 * Compliance's view: find the decisions about a claim, verify one against the configured
 * deployment with the same verifier as `claimtrail verify` (reporting the chain id, contract and,
 * for v2, anchorer asked), export its proof bundle (v1 or v2 by the decision's leaf encoding).
 * The bundle carries the salt only when compliance asks for it (`includeSalt`): the salt lets the
 * holder test guesses of the claim, so it leaves only on an explicit, audited request, and never
 * for an erased member. Every call is audited.
 */
export class ComplianceService {
  readonly #d: ComplianceServiceDeps;
  constructor(deps: ComplianceServiceDeps) {
    this.#d = deps;
  }

  /** Decisions about a claim id, newest first (empty when none). */
  async search(actor: Actor, claimId: string): Promise<DecisionRecord[]> {
    const decisions = await this.#d.index.findByClaimId(claimId);
    const batches = new Map(await Promise.all([...new Set(decisions.map((d) => d.batchId))].map(async (id) => [id, await this.#d.index.getBatch(id)] as const)));
    await this.#d.audit.append(actor, 'decision.search', { type: 'claim', id: claimId }, { found: decisions.length });
    return decisions.map((d) => {
      const batch = batches.get(d.batchId);
      return {
        decisionId: d.decisionId,
        claimId: d.claimId,
        outcome: d.outcome,
        score: d.score,
        modelHash: d.modelHash,
        decidedAt: d.decidedAt,
        batchId: d.batchId,
        batchStatus: batch?.status ?? 'pending',
        txHash: batch?.anchor?.txHash ?? null,
        blockNumber: batch?.anchor?.blockNumber.toString() ?? null,
      };
    });
  }

  async verify(actor: Actor, decisionId: string): Promise<DecisionVerification> {
    const decision = await this.#decision(decisionId);
    const result = await this.#d.proofs.verify(decision, { minConfirmations: this.#d.minConfirmations, trust: this.#d.trust });
    await this.#d.audit.append(actor, 'decision.verify', { type: 'decision', id: decisionId }, { ok: result.ok, ...(result.ok ? { chainId: result.chainId, contract: result.contract, ...(result.anchorer ? { anchorer: result.anchorer } : {}) } : { code: result.code }) });
    return result;
  }

  async bundle(actor: Actor, decisionId: string, options: { includeSalt?: boolean } = {}): Promise<AnyProofBundle> {
    const includeSalt = options.includeSalt === true;
    const bundle = await this.#d.proofs.bundle(await this.#decision(decisionId), { includeSalt });
    await this.#d.audit.append(actor, 'decision.bundle', { type: 'decision', id: decisionId }, { format: bundle.format, includeSalt });
    return bundle;
  }

  async #decision(decisionId: string) {
    const decision = await this.#d.index.getDecision(decisionId);
    if (!decision) throw new NotFoundError(`no decision ${decisionId}`);
    return decision;
  }
}
