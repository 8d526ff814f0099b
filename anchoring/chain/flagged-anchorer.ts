import type { AnchorTxManager } from './anchor-tx.manager.ts';
import type { DecisionAnchorClient } from './decision-anchor.client.ts';
import { ClaimtrailError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { DecisionIndexRepository, IndexedDecision } from '../decision-index.repository.ts';

/**
 * Most flagged leaves in one `anchorFlagged` transaction: about 25k gas a leaf, and chains cap one
 * transaction's gas (2^24 under Osaka rules), so 200 leaves stay well inside any limit.
 */
export const MAX_FLAGGED_PER_TX = 200;

/** Options of {@link FlaggedAnchorer}. */
export interface FlaggedAnchorerOptions {
  /** Most leaves in one `anchorFlagged` transaction, asked-for ones included. Integer in [1, 200]. Default {@link MAX_FLAGGED_PER_TX}. */
  maxLeavesPerTx?: number;
}

/** What became of the flagged decisions a caller asked for. */
export interface FlaggedAnchorResult {
  /** The transaction that anchored them, or '' when all were anchored before. */
  txHash: string;
  /** Its block number (decimal), or '' when all were anchored before. */
  blockNumber: string;
  alreadyAnchored: boolean;
  /** Leaves the transaction carried, waiting leaves of other batches included (0 when none was sent). */
  leavesInTx: number;
}

/**
 * Anchors flagged decisions' leaves individually (each its own on-chain record and event) through
 * the transaction manager. Asked for some decisions, it also takes flagged decisions of other
 * batches still waiting, up to `maxLeavesPerTx` leaves in the one transaction: the contract takes
 * leaves of any batches, so a flag-heavy stream costs one transaction per `maxLeavesPerTx` leaves
 * rather than one per batch, and the later requests for those leaves find them anchored.
 * A leaf already on chain (a crash after sending, before recording) is recorded from its event.
 */
export class FlaggedAnchorer {
  readonly #index: DecisionIndexRepository;
  readonly #chain: DecisionAnchorClient;
  readonly #tx: AnchorTxManager;
  readonly #log: Logger;
  readonly #maxPerTx: number;

  constructor(deps: { index: DecisionIndexRepository; chain: DecisionAnchorClient; tx: AnchorTxManager; log: Logger }, options: FlaggedAnchorerOptions = {}) {
    const maxPerTx = options.maxLeavesPerTx ?? MAX_FLAGGED_PER_TX;
    if (!Number.isInteger(maxPerTx) || maxPerTx < 1 || maxPerTx > MAX_FLAGGED_PER_TX) {
      throw new ClaimtrailError('INVALID_ARGUMENT', `maxLeavesPerTx must be an integer in [1, ${MAX_FLAGGED_PER_TX}], got ${maxPerTx}`);
    }
    this.#index = deps.index;
    this.#chain = deps.chain;
    this.#tx = deps.tx;
    this.#log = deps.log;
    this.#maxPerTx = maxPerTx;
  }

  /**
   * Anchors the leaves of `decisionIds` (at most `maxLeavesPerTx` of them), with other waiting
   * flagged leaves riding along, and records where each landed.
   * @throws ClaimtrailError DECISION_UNKNOWN (non-retriable) when a decision is not in the index;
   *   CHAIN_SUBMIT_FAILED (retriable) when a leaf is on chain but its event is not visible yet;
   *   and the transaction manager's errors.
   */
  async anchor(decisionIds: readonly string[]): Promise<FlaggedAnchorResult> {
    const own = new Set(decisionIds);
    const backlog = (await this.#index.pendingFlagged(this.#maxPerTx))
      .filter((p) => !own.has(p.decisionId))
      .slice(0, Math.max(0, this.#maxPerTx - decisionIds.length));
    const decisions: IndexedDecision[] = [];
    for (const decisionId of [...decisionIds, ...backlog.map((p) => p.decisionId)]) {
      const decision = await this.#index.getDecision(decisionId);
      if (!decision) throw new ClaimtrailError('DECISION_UNKNOWN', `decision ${decisionId} is not in the decision index`);
      if (!decision.flaggedTxHash) decisions.push(decision);
    }
    const toSend: IndexedDecision[] = [];
    for (const decision of decisions) {
      if (!(await this.#recordIfOnChain(decision))) toSend.push(decision);
    }
    if (toSend.length === 0) return { txHash: '', blockNumber: '', alreadyAnchored: true, leavesInTx: 0 };
    const leaves = toSend.map((d) => d.leaf);
    const batchIds = [...new Set(toSend.map((d) => d.batchId))];
    const outcome = await this.#tx.send({ to: this.#chain.address, data: this.#chain.calldata('anchorFlagged', [leaves]), method: 'anchorFlagged', batchIds });
    for (const decision of toSend) await this.#index.markFlaggedAnchored(decision.decisionId, outcome.txHash, outcome.blockNumber);
    this.#log.info({ txHash: outcome.txHash, leaves: toSend.length, batches: batchIds.length, gasUsed: outcome.gasUsed.toString(), attempts: outcome.attempts }, 'flagged decisions anchored');
    return { txHash: outcome.txHash, blockNumber: outcome.blockNumber.toString(), alreadyAnchored: false, leavesInTx: toSend.length };
  }

  /** Records `decision` as anchored when the chain already holds its leaf; false when it does not. */
  async #recordIfOnChain(decision: IndexedDecision): Promise<boolean> {
    if ((await this.#chain.flaggedAnchoredAt(decision.leaf)) === 0n) return false;
    const event = await this.#chain.findFlaggedAnchored(decision.leaf);
    if (!event) throw new ClaimtrailError('CHAIN_SUBMIT_FAILED', `flagged leaf ${decision.leaf} is on chain but its event was not found yet`, { retriable: true });
    await this.#index.markFlaggedAnchored(decision.decisionId, event.txHash, event.blockNumber);
    return true;
  }
}
