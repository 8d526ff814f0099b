import { TxRevertedError, type AnchorTxManager, type AnchorTxOutcome } from './anchor-tx.manager.ts';
import type { DecisionAnchorClient } from './decision-anchor.client.ts';
import { ClaimtrailError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { AnchorRoot, AnchorRootRepository } from '../anchor-root.repository.ts';

/** Options of {@link BatchAnchorer}. */
export interface BatchAnchorerOptions {
  /**
   * Most batch roots in one `anchorBatches` transaction. ~49k gas each; keep it well under the
   * block (and, since Osaka, the 2^24 per-transaction) gas limit. Default 100.
   */
  maxBatchesPerTx?: number;
  /** Blocks below the head within which anchors are re-checked for reorgs. Default 64. */
  reorgWindowBlocks?: number;
}

/** A batch whose id holds another root on chain: no retry can fix it. */
export class BatchRootConflictError extends ClaimtrailError {
  constructor(batchId: string, chainRoot: string, ourRoot: string) {
    super('BATCH_ROOT_CONFLICT', `batch ${batchId}: chain holds root ${chainRoot}, ours is ${ourRoot}`);
  }
}

/** What became of the batch a job asked for. */
export interface BatchAnchorResult {
  txHash: string;
  blockNumber: string;
  alreadyAnchored: boolean;
  /** Batches anchored by the transaction (1 when no backlog rode along). */
  batchesInTx: number;
}

/**
 * Anchors batch roots (decision batches and audit-log seals alike, anchor-root.repository.ts)
 * through the transaction manager. Asked for one batch, it takes every batch still pending (in
 * the repository's order, up to `maxBatchesPerTx`) into the same transaction, so a
 * backlog after a chain outage costs a few `anchorBatches` calls, not one call per batch.
 * Batches already on chain with our root (a crash after sending, or a duplicate-batch revert
 * naming our root) are recorded from their event and count as done.
 */
export class BatchAnchorer {
  readonly #roots: AnchorRootRepository;
  readonly #chain: DecisionAnchorClient;
  readonly #tx: AnchorTxManager;
  readonly #log: Logger;
  readonly #maxPerTx: number;
  readonly #reorgWindow: bigint;

  constructor(deps: { roots: AnchorRootRepository; chain: DecisionAnchorClient; tx: AnchorTxManager; log: Logger }, options: BatchAnchorerOptions = {}) {
    const maxPerTx = options.maxBatchesPerTx ?? 100;
    const window = options.reorgWindowBlocks ?? 64;
    if (!Number.isInteger(maxPerTx) || maxPerTx < 1 || maxPerTx > 300) throw new ClaimtrailError('INVALID_ARGUMENT', `maxBatchesPerTx must be an integer in [1, 300], got ${maxPerTx}`);
    if (!Number.isInteger(window) || window < 1) throw new ClaimtrailError('INVALID_ARGUMENT', `reorgWindowBlocks must be an integer >= 1, got ${window}`);
    this.#roots = deps.roots;
    this.#chain = deps.chain;
    this.#tx = deps.tx;
    this.#log = deps.log;
    this.#maxPerTx = maxPerTx;
    this.#reorgWindow = BigInt(window);
  }

  /**
   * Anchors `batchId`, with whatever else is pending riding along.
   * @throws ClaimtrailError when the batch is unknown (non-retriable), BatchRootConflictError,
   *   and the transaction manager's errors (TxTimeoutError and CHAIN_SUBMIT_FAILED are retriable).
   */
  async anchor(batchId: string): Promise<BatchAnchorResult> {
    const batch = await this.#roots.get(batchId);
    if (!batch) throw new ClaimtrailError('BATCH_UNKNOWN', `batch ${batchId} is neither a decision batch nor an audit seal`);
    if (batch.status === 'anchored' && batch.anchor) {
      return { txHash: batch.anchor.txHash, blockNumber: batch.anchor.blockNumber.toString(), alreadyAnchored: true, batchesInTx: 0 };
    }
    const others = (await this.#roots.pending()).filter((b) => b.batchId !== batchId);
    let toSend: AnchorRoot[] = [];
    for (const b of [batch, ...others].slice(0, this.#maxPerTx)) {
      try {
        if (!(await this.#recordIfOnChain(b))) toSend.push(b);
      } catch (error) {
        // Another batch's conflict is its own job's failure; it must not block this one.
        if (b.batchId === batchId || !(error instanceof BatchRootConflictError)) throw error;
        this.#log.error({ batchId: b.batchId, err: error }, 'batch root conflict; left to its own job');
      }
    }
    while (toSend.length > 0) {
      let outcome: AnchorTxOutcome;
      try {
        outcome = await this.#tx.send(this.#request(toSend));
      } catch (error) {
        const exists = error instanceof TxRevertedError ? this.#batchExists(error.data) : null;
        if (!exists) throw error;
        // All or nothing: one id already on chain reverts the call. Ours? Record it, send the rest.
        const hit = toSend.find((b) => b.batchId.toLowerCase() === exists.batchId.toLowerCase());
        if (!hit) throw error;
        if (!(await this.#recordIfOnChain(hit))) throw error;
        toSend = toSend.filter((b) => b !== hit);
        continue;
      }
      const chainId = await this.#chain.chainId();
      for (const b of toSend) {
        await this.#roots.markAnchored(b.batchId, { chainId, contract: this.#chain.address, txHash: outcome.txHash, blockNumber: outcome.blockNumber, blockHash: outcome.blockHash });
      }
      this.#log.info({ txHash: outcome.txHash, batches: toSend.length, gasUsed: outcome.gasUsed.toString(), attempts: outcome.attempts }, 'batches anchored');
      if (toSend.some((b) => b.batchId === batchId)) {
        return { txHash: outcome.txHash, blockNumber: outcome.blockNumber.toString(), alreadyAnchored: false, batchesInTx: toSend.length };
      }
      break;
    }
    const done = await this.#roots.get(batchId);
    if (!done?.anchor) throw new ClaimtrailError('CHAIN_SUBMIT_FAILED', `batch ${batchId} is still not anchored`, { retriable: true });
    return { txHash: done.anchor.txHash, blockNumber: done.anchor.blockNumber.toString(), alreadyAnchored: true, batchesInTx: 0 };
  }

  /**
   * Reorg check: every batch anchored within the reorg window whose anchoring block is no longer
   * canonical (or whose root the chain no longer holds) goes back to `pending`.
   * @returns the ids of those batches (anchor them again with {@link anchor}).
   */
  async reorged(): Promise<string[]> {
    const head = BigInt(await this.#chain.provider.getBlockNumber());
    const from = head > this.#reorgWindow ? head - this.#reorgWindow : 0n;
    const back: string[] = [];
    for (const b of await this.#roots.anchoredSinceBlock(from)) {
      const block = await this.#chain.provider.getBlock(Number(b.anchor!.blockNumber));
      const onChain = await this.#chain.batchOf(b.batchId);
      if (block?.hash !== b.anchor!.blockHash || onChain?.root !== b.root) {
        this.#log.warn({ batchId: b.batchId, blockNumber: b.anchor!.blockNumber.toString(), blockHash: b.anchor!.blockHash }, 'reorg: anchor left the canonical chain; batch back to pending');
        await this.#roots.markPending(b.batchId);
        back.push(b.batchId);
      }
    }
    return back;
  }

  /** Records `b` as anchored when the chain already holds its root; false when it holds nothing. */
  async #recordIfOnChain(b: AnchorRoot): Promise<boolean> {
    const onChain = await this.#chain.batchOf(b.batchId);
    if (!onChain) return false;
    if (onChain.root !== b.root) throw new BatchRootConflictError(b.batchId, onChain.root, b.root);
    const event = await this.#chain.findBatchAnchored(b.batchId, Number(onChain.anchoredBlock));
    if (!event) throw new ClaimtrailError('CHAIN_SUBMIT_FAILED', `batch ${b.batchId} is on chain but its event was not found yet`, { retriable: true });
    await this.#roots.markAnchored(b.batchId, { chainId: await this.#chain.chainId(), contract: this.#chain.address, ...event });
    return true;
  }

  #request(batches: readonly AnchorRoot[]) {
    const batchIds = batches.map((b) => b.batchId);
    const data =
      batches.length === 1
        ? this.#chain.calldata('anchorBatch', [batches[0]!.batchId, batches[0]!.root, batches[0]!.leafCount])
        : this.#chain.calldata('anchorBatches', [batchIds, batches.map((b) => b.root), batches.map((b) => b.leafCount)]);
    return { to: this.#chain.address, data, method: batches.length === 1 ? 'anchorBatch' : 'anchorBatches', batchIds };
  }

  /** The batch id of a DecisionAnchorBatchExists revert, or null for any other revert. */
  #batchExists(data: string | undefined): { batchId: string; storedRoot: string } | null {
    if (!data) return null;
    try {
      const decoded = this.#chain.parseRevert(data);
      return decoded?.name === 'DecisionAnchorBatchExists' ? { batchId: decoded.args[0] as string, storedRoot: decoded.args[1] as string } : null;
    } catch {
      return null;
    }
  }
}
