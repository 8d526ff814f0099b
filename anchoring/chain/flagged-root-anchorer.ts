import { TxRevertedError, type AnchorTxManager, type AnchorTxOutcome } from './anchor-tx.manager.ts';
import type { AnchorTxRepository } from './anchor-tx.repository.ts';
import type { DecisionAnchorV2Client } from './decision-anchor-v2.client.ts';
import { ClaimtrailError, invariant } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { buildFlaggedTree } from '../core/flagged-tree.ts';
import { decisionLeafValuesV2 } from '../decision-leaf.ts';
import type { DecisionIndexRepository } from '../decision-index.repository.ts';
import type { FlaggedRootRepository, StoredFlaggedRoot } from '../flagged-root.repository.ts';
import { isDecisionV2 } from '../../domain/decision.ts';

/** Options of {@link FlaggedRootAnchorer}. */
export interface FlaggedRootAnchorerOptions {
  /**
   * Most decisions in one flagged tree. The transaction costs the same whatever the count; this
   * bounds one build's memory and time. Integer in [1, 1_000_000]. Default 100_000.
   */
  maxLeavesPerRoot?: number;
  /** Blocks below the head within which anchored roots are re-checked for reorgs. Default 64. */
  reorgWindowBlocks?: number;
}

/** One flagged root a run anchored (or found anchored). */
export interface FlaggedRootAnchored {
  root: string;
  count: number;
  txHash: string;
  blockNumber: string;
  /** Gas of the transaction; 0 when it was found on chain. */
  gasUsed: bigint;
  alreadyAnchored: boolean;
}

/**
 * Anchors flagged v2 decisions early, in per-block flagged trees
 * (docs/proof-format-v2.md#per-block-flagged-tree): every flagged v2 decision in no tree yet
 * becomes one StandardMerkleTree over its v2 leaf (decision-id order), stored with each decision's
 * position, and its root goes out in one `anchorFlaggedRoot(root, count)` transaction. No storage
 * slot per decision. Crash safety and reorgs as in epoch-anchorer.ts: stored `pending` before
 * signing; on the next run recorded from the chain, deleted and rebuilt when never signed, or
 * sent again unchanged (same root, same members) when signed before.
 */
export class FlaggedRootAnchorer {
  readonly #index: DecisionIndexRepository;
  readonly #roots: FlaggedRootRepository;
  readonly #attempts: AnchorTxRepository;
  readonly #chain: DecisionAnchorV2Client;
  readonly #tx: AnchorTxManager;
  readonly #log: Logger;
  readonly #maxLeaves: number;
  readonly #reorgWindow: bigint;

  constructor(
    deps: { index: DecisionIndexRepository; roots: FlaggedRootRepository; attempts: AnchorTxRepository; chain: DecisionAnchorV2Client; tx: AnchorTxManager; log: Logger },
    options: FlaggedRootAnchorerOptions = {},
  ) {
    const maxLeaves = options.maxLeavesPerRoot ?? 100_000;
    const window = options.reorgWindowBlocks ?? 64;
    if (!Number.isInteger(maxLeaves) || maxLeaves < 1 || maxLeaves > 1_000_000) throw new ClaimtrailError('INVALID_ARGUMENT', `maxLeavesPerRoot must be an integer in [1, 1000000], got ${maxLeaves}`);
    if (!Number.isInteger(window) || window < 1) throw new ClaimtrailError('INVALID_ARGUMENT', `reorgWindowBlocks must be an integer >= 1, got ${window}`);
    this.#index = deps.index;
    this.#roots = deps.roots;
    this.#attempts = deps.attempts;
    this.#chain = deps.chain;
    this.#tx = deps.tx;
    this.#log = deps.log;
    this.#maxLeaves = maxLeaves;
    this.#reorgWindow = BigInt(window);
  }

  /**
   * Settles pending roots, then anchors every waiting flagged v2 decision in new trees (one,
   * unless more than `maxLeavesPerRoot` wait). Sends nothing when nothing waits.
   * @throws ClaimtrailError FLAGGED_ROOT_CONFLICT (non-retriable) when the chain holds our root
   *   with another count; the transaction manager's errors.
   */
  async anchorPending(): Promise<FlaggedRootAnchored[]> {
    const done: FlaggedRootAnchored[] = [];
    for (const root of await this.#roots.pending()) {
      const settled = await this.#settle(root);
      if (settled) done.push(settled);
    }
    for (;;) {
      const waiting = await this.#index.pendingFlaggedV2(this.#maxLeaves);
      if (waiting.length === 0) break;
      const values = waiting.map((d) => {
        invariant(isDecisionV2(d), `flagged decision ${d.decisionId} has a v2 leaf but is not a v2 record`);
        return decisionLeafValuesV2(d, d.log);
      });
      const tree = buildFlaggedTree(values);
      // The tree's leaves must be the leaves the batches hold, or the flagged proof and the batch proof would disagree.
      const stored = new Map(waiting.map((d) => [d.decisionId, d.leaf]));
      tree.decisionIds.forEach((id, i) => invariant(stored.get(id) === tree.leafHashes[i], `flagged decision ${id}: recomputed v2 leaf differs from the stored one`));
      await this.#roots.create(tree.root, tree.decisionIds);
      const created = await this.#roots.get(tree.root);
      done.push(await this.#send(created!));
      if (waiting.length < this.#maxLeaves) break;
    }
    return done;
  }

  /** Reorg check, as EpochAnchorer.reorged: roots whose block left the canonical chain go back to pending. */
  async reorged(): Promise<string[]> {
    const head = BigInt(await this.#chain.provider.getBlockNumber());
    const from = head > this.#reorgWindow ? head - this.#reorgWindow : 0n;
    const back: string[] = [];
    for (const r of await this.#roots.anchoredSinceBlock(from)) {
      const anchor = r.anchor!;
      const block = await this.#chain.provider.getBlock(Number(anchor.blockNumber));
      const onChain = await this.#chain.flaggedRootOf(anchor.anchorer, r.root);
      if (block?.hash !== anchor.blockHash || onChain?.count !== r.count) {
        this.#log.warn({ root: r.root, blockNumber: anchor.blockNumber.toString() }, 'reorg: flagged root left the canonical chain; back to pending');
        await this.#roots.markPending(r.root);
        back.push(r.root);
      }
    }
    return back;
  }

  async #settle(root: StoredFlaggedRoot): Promise<FlaggedRootAnchored | null> {
    const found = await this.#recordIfOnChain(root);
    if (found) return found;
    if (!(await this.#attempts.hasAttemptNaming(this.#tx.address, root.root))) {
      await this.#roots.dissolve(root.root);
      return null;
    }
    return this.#send(root);
  }

  async #send(root: StoredFlaggedRoot): Promise<FlaggedRootAnchored> {
    const data = this.#chain.calldata('anchorFlaggedRoot', [root.root, root.count]);
    let outcome: AnchorTxOutcome;
    try {
      outcome = await this.#tx.send({ to: this.#chain.address, data, method: 'anchorFlaggedRoot', batchIds: [root.root] });
    } catch (error) {
      const name = error instanceof TxRevertedError && error.data ? this.#chain.parseRevert(error.data)?.name : undefined;
      if (name === 'DecisionAnchorV2FlaggedRootExists') {
        const found = await this.#recordIfOnChain(root);
        if (found) return found;
      }
      throw error;
    }
    await this.#roots.markAnchored(root.root, await this.#anchorRecord(outcome));
    this.#log.info({ root: root.root, count: root.count, txHash: outcome.txHash, gasUsed: outcome.gasUsed.toString(), attempts: outcome.attempts }, 'flagged root anchored');
    return { root: root.root, count: root.count, txHash: outcome.txHash, blockNumber: outcome.blockNumber.toString(), gasUsed: outcome.gasUsed, alreadyAnchored: false };
  }

  async #recordIfOnChain(root: StoredFlaggedRoot): Promise<FlaggedRootAnchored | null> {
    const onChain = await this.#chain.flaggedRootOf(this.#tx.address, root.root);
    if (!onChain) return null;
    if (onChain.count !== root.count) throw new ClaimtrailError('FLAGGED_ROOT_CONFLICT', `flagged root ${root.root}: chain holds count ${onChain.count}, ours is ${root.count}`);
    const event = await this.#chain.findFlaggedRootAnchored(this.#tx.address, root.root, Number(onChain.anchoredBlock));
    if (!event) throw new ClaimtrailError('CHAIN_SUBMIT_FAILED', `flagged root ${root.root} is on chain but its event was not found yet`, { retriable: true });
    await this.#roots.markAnchored(root.root, await this.#anchorRecord(event));
    return { root: root.root, count: root.count, txHash: event.txHash, blockNumber: event.blockNumber.toString(), gasUsed: 0n, alreadyAnchored: true };
  }

  async #anchorRecord(at: { txHash: string; blockNumber: bigint; blockHash: string }) {
    return { chainId: await this.#chain.chainId(), contract: this.#chain.address, anchorer: this.#tx.address, txHash: at.txHash, blockNumber: at.blockNumber, blockHash: at.blockHash };
  }
}
