import { TxRevertedError, type AnchorTxManager, type AnchorTxOutcome } from './anchor-tx.manager.ts';
import type { AnchorTxRepository } from './anchor-tx.repository.ts';
import type { DecisionAnchorV2Client } from './decision-anchor-v2.client.ts';
import { ClaimtrailError, invariant } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { buildEpochTree } from '../core/epoch.ts';
import { epochId as computeEpochId } from '../core/ids-v2.ts';
import type { EpochCandidate, EpochRepository, StoredEpoch } from '../epoch.repository.ts';

/** Options of {@link EpochAnchorer}. */
export interface EpochAnchorerOptions {
  /**
   * Most entries (batches + audit seals) in one epoch. The transaction costs the same whatever
   * the count (the tree stays off chain); this only bounds the memory and time of one build.
   * Integer in [1, 1_000_000]. Default 100_000.
   */
  maxEntriesPerEpoch?: number;
  /** Blocks below the head within which anchored epochs are re-checked for reorgs. Default 64. */
  reorgWindowBlocks?: number;
}

/** An epoch id under which the chain holds another root (for our anchorer): no retry can fix it. */
export class EpochRootConflictError extends ClaimtrailError {
  constructor(epochId: string, chainRoot: string, ourRoot: string) {
    super('EPOCH_ROOT_CONFLICT', `epoch ${epochId}: chain holds root ${chainRoot}, ours is ${ourRoot}`);
  }
}

/** One epoch a run anchored (or found anchored). */
export interface EpochAnchored {
  epochId: string;
  sequence: string;
  batchCount: number;
  leafCount: string;
  txHash: string;
  blockNumber: string;
  /** Gas of the transaction; 0 when it was found on chain (sent before a crash). */
  gasUsed: bigint;
  alreadyAnchored: boolean;
}

/**
 * Anchors v2 decision batches and audit seals in epochs (docs/proof-format-v2.md#epoch-tree): one
 * `anchorEpoch` transaction on DecisionAnchorV2 commits every batch root and seal that is pending,
 * whatever their number, under one epoch id (installation + sequence).
 *
 * Crash safety, as for v1 batches: the epoch (id, root, entries) is stored `pending` before
 * anything is signed, and the transaction manager stores each attempt before broadcasting it,
 * naming the epoch id. On the next run a pending epoch is
 * - recorded from its `EpochAnchored` event when the chain holds it with our root (a crash after
 *   sending), or refused with {@link EpochRootConflictError} (non-retriable) when with another;
 * - deleted and rebuilt (same sequence, everything pending now) when no attempt ever named it:
 *   it never left this database. This is why a backlog after a chain outage goes out as ONE epoch
 *   (sends fail at estimation while the chain is away, before anything is signed);
 * - sent again unchanged otherwise (signed before; a reorg removed it, or every attempt failed).
 *
 * Reorgs: {@link reorged} returns an epoch whose block left the canonical chain to `pending` with
 * its batches and seals; the next run sends the SAME epoch id and root again (an epoch never
 * changes once signed, so proofs made from it stay valid and ids are never reused for other roots).
 */
export class EpochAnchorer {
  readonly #epochs: EpochRepository;
  readonly #attempts: AnchorTxRepository;
  readonly #chain: DecisionAnchorV2Client;
  readonly #tx: AnchorTxManager;
  readonly #instanceId: string;
  readonly #log: Logger;
  readonly #maxEntries: number;
  readonly #reorgWindow: bigint;

  constructor(
    deps: { epochs: EpochRepository; attempts: AnchorTxRepository; chain: DecisionAnchorV2Client; tx: AnchorTxManager; instanceId: string; log: Logger },
    options: EpochAnchorerOptions = {},
  ) {
    const maxEntries = options.maxEntriesPerEpoch ?? 100_000;
    const window = options.reorgWindowBlocks ?? 64;
    if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 1_000_000) throw new ClaimtrailError('INVALID_ARGUMENT', `maxEntriesPerEpoch must be an integer in [1, 1000000], got ${maxEntries}`);
    if (!Number.isInteger(window) || window < 1) throw new ClaimtrailError('INVALID_ARGUMENT', `reorgWindowBlocks must be an integer >= 1, got ${window}`);
    this.#epochs = deps.epochs;
    this.#attempts = deps.attempts;
    this.#chain = deps.chain;
    this.#tx = deps.tx;
    this.#instanceId = deps.instanceId;
    this.#log = deps.log;
    this.#maxEntries = maxEntries;
    this.#reorgWindow = BigInt(window);
  }

  /**
   * Settles every pending epoch, then puts everything still waiting into new epochs (one, unless
   * more than `maxEntriesPerEpoch` entries wait) and anchors them. Sends nothing when nothing waits.
   * @returns the epochs anchored or found anchored by this run, in sequence order.
   * @throws EpochRootConflictError; the transaction manager's errors (TxTimeoutError,
   *   CHAIN_SUBMIT_FAILED and TX_OPEN are retriable).
   */
  async anchorPending(): Promise<EpochAnchored[]> {
    const done: EpochAnchored[] = [];
    for (const epoch of await this.#epochs.pending()) {
      const settled = await this.#settle(epoch);
      if (settled) done.push(settled);
    }
    for (;;) {
      const created = await this.#epochs.createNext(this.#instanceId, this.#maxEntries, (sequence, candidates) => this.#build(sequence, candidates));
      if (!created) break;
      done.push(await this.#send(created.epoch));
      if (created.entries.length < this.#maxEntries) break;
    }
    return done;
  }

  /**
   * Reorg check: every epoch anchored within the reorg window whose block is no longer canonical
   * (or whose root the chain no longer holds under our anchorer) goes back to `pending`.
   * @returns their epoch ids ({@link anchorPending} sends them again, unchanged).
   */
  async reorged(): Promise<string[]> {
    const head = BigInt(await this.#chain.provider.getBlockNumber());
    const from = head > this.#reorgWindow ? head - this.#reorgWindow : 0n;
    const back: string[] = [];
    for (const e of await this.#epochs.anchoredSinceBlock(from)) {
      const anchor = e.anchor!;
      const block = await this.#chain.provider.getBlock(Number(anchor.blockNumber));
      const onChain = await this.#chain.epochOf(anchor.anchorer, e.epochId);
      if (block?.hash !== anchor.blockHash || onChain?.root !== e.root) {
        this.#log.warn({ epochId: e.epochId, sequence: e.sequence, blockNumber: anchor.blockNumber.toString() }, 'reorg: epoch left the canonical chain; back to pending');
        await this.#epochs.markPending(e.epochId);
        back.push(e.epochId);
      }
    }
    return back;
  }

  /** The tree of a new epoch (pure; runs inside the repository's transaction). */
  #build(sequence: bigint, candidates: readonly EpochCandidate[]) {
    const tree = buildEpochTree(this.#instanceId, candidates);
    tree.entries.forEach((entry, i) => {
      // The entry derives the batch id from the range; a decision batch stored under another id is a bug.
      invariant(entry[2] === candidates[i]!.entryBatchId, `epoch entry ${i}: batch id ${candidates[i]!.entryBatchId} does not derive from its range (${entry[2]})`);
    });
    return { epochId: computeEpochId(this.#instanceId, sequence), root: tree.root, leafCount: tree.leafCount, entries: candidates };
  }

  /** A pending epoch found at the start of a run: recorded, deleted (never signed) or sent again. */
  async #settle(epoch: StoredEpoch): Promise<EpochAnchored | null> {
    const found = await this.#recordIfOnChain(epoch);
    if (found) return found;
    if (!(await this.#attempts.hasAttemptNaming(this.#tx.address, epoch.epochId))) {
      await this.#epochs.dissolve(epoch.epochId);
      this.#log.info({ epochId: epoch.epochId, sequence: epoch.sequence }, 'epoch never signed; rebuilt with everything pending');
      return null;
    }
    return this.#send(epoch);
  }

  async #send(epoch: StoredEpoch): Promise<EpochAnchored> {
    const data = this.#chain.calldata('anchorEpoch', [epoch.epochId, epoch.root, epoch.batchCount, epoch.leafCount]);
    let outcome: AnchorTxOutcome;
    try {
      // The epoch id is stored with every attempt: it is how a later run knows it was signed.
      outcome = await this.#tx.send({ to: this.#chain.address, data, method: 'anchorEpoch', batchIds: [epoch.epochId] });
    } catch (error) {
      // Already there (a crash after broadcast, a re-sent epoch the node had re-mined): ours or a conflict.
      if (error instanceof TxRevertedError && this.#revertName(error.data) === 'DecisionAnchorV2EpochExists') {
        const found = await this.#recordIfOnChain(epoch);
        if (found) return found;
      }
      throw error;
    }
    await this.#epochs.markAnchored(epoch.epochId, await this.#anchorRecord(outcome));
    this.#log.info(
      { epochId: epoch.epochId, sequence: epoch.sequence, batches: epoch.batchCount, leaves: epoch.leafCount, txHash: outcome.txHash, gasUsed: outcome.gasUsed.toString(), attempts: outcome.attempts },
      'epoch anchored',
    );
    return { ...this.#summary(epoch), txHash: outcome.txHash, blockNumber: outcome.blockNumber.toString(), gasUsed: outcome.gasUsed, alreadyAnchored: false };
  }

  /** Records `epoch` as anchored when the chain holds it under our anchorer; null when it holds nothing. */
  async #recordIfOnChain(epoch: StoredEpoch): Promise<EpochAnchored | null> {
    const onChain = await this.#chain.epochOf(this.#tx.address, epoch.epochId);
    if (!onChain) return null;
    if (onChain.root !== epoch.root) throw new EpochRootConflictError(epoch.epochId, onChain.root, epoch.root);
    const event = await this.#chain.findEpochAnchored(this.#tx.address, epoch.epochId, Number(onChain.anchoredBlock));
    if (!event) throw new ClaimtrailError('CHAIN_SUBMIT_FAILED', `epoch ${epoch.epochId} is on chain but its event was not found yet`, { retriable: true });
    await this.#epochs.markAnchored(epoch.epochId, await this.#anchorRecord(event));
    this.#log.info({ epochId: epoch.epochId, sequence: epoch.sequence, txHash: event.txHash }, 'epoch found on chain; recorded');
    return { ...this.#summary(epoch), txHash: event.txHash, blockNumber: event.blockNumber.toString(), gasUsed: 0n, alreadyAnchored: true };
  }

  async #anchorRecord(at: { txHash: string; blockNumber: bigint; blockHash: string }) {
    return { chainId: await this.#chain.chainId(), contract: this.#chain.address, anchorer: this.#tx.address, txHash: at.txHash, blockNumber: at.blockNumber, blockHash: at.blockHash };
  }

  #summary(epoch: StoredEpoch) {
    return { epochId: epoch.epochId, sequence: epoch.sequence, batchCount: epoch.batchCount, leafCount: epoch.leafCount };
  }

  #revertName(data: string | undefined): string | null {
    return data ? (this.#chain.parseRevert(data)?.name ?? null) : null;
  }
}
