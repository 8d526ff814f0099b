import { type Job, UnrecoverableError } from 'bullmq';
import type { AnchorTxManager } from '../anchoring/chain/anchor-tx.manager.ts';
import type { DecisionAnchorClient } from '../anchoring/chain/decision-anchor.client.ts';
import { ClaimtrailError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { DecisionIndexRepository } from '../anchoring/decision-index.repository.ts';
import type { BatchAnchorer } from '../anchoring/chain/batch-anchorer.ts';
import { ANCHOR_BATCH, ANCHOR_FLAGGED, MAX_FLAGGED_PER_JOB, type AnchorBatchJob, type AnchorFlaggedJob, type AnchorJobData } from './anchor.queue.ts';

export interface AnchorProcessorDeps {
  index: DecisionIndexRepository;
  /** Reads (batchOf, events); every write goes through `tx`. */
  chain: DecisionAnchorClient;
  /** The signer's transaction manager: the only sender of this signer's transactions. */
  tx: AnchorTxManager;
  /** Batch anchoring over `tx` (backlog in one transaction, reorg checks). */
  anchorer: BatchAnchorer;
  log: Logger;
}

/** Outcome of one anchor job, returned to BullMQ (kept with the completed job). */
export interface AnchorJobResult {
  txHash: string;
  blockNumber: string;
  alreadyAnchored: boolean;
}

/**
 * Anchors a batch root (with any pending backlog, batch-anchorer.ts), or flagged decisions'
 * leaves, through the transaction manager, and records where they landed. Idempotent: the
 * chain is read first, and a root already stored under the batch id counts as done when it
 * equals ours (a different root is a conflict no retry can fix).
 */
export function createAnchorProcessor(deps: AnchorProcessorDeps) {
  const { index, chain, tx, anchorer } = deps;

  async function anchorBatch(data: AnchorBatchJob, log: Logger): Promise<AnchorJobResult> {
    // Anchors a reorg took out of the canonical chain go back to pending first, so they ride along.
    const reorged = await anchorer.reorged();
    if (reorged.length > 0) log.warn({ batches: reorged }, 'batches back to pending after a reorg');
    const result = await anchorer.anchor(data.batchId);
    if (!result.alreadyAnchored) log.info({ txHash: result.txHash, blockNumber: result.blockNumber, batchesInTx: result.batchesInTx }, 'batch anchored');
    return { txHash: result.txHash, blockNumber: result.blockNumber, alreadyAnchored: result.alreadyAnchored };
  }

  async function anchorFlagged(data: AnchorFlaggedJob, log: Logger): Promise<AnchorJobResult> {
    // The job's own decisions, then flagged decisions of other batches still waiting (their jobs
    // are queued behind this one), up to MAX_FLAGGED_PER_JOB leaves in the one transaction: the
    // contract takes leaves of any batches, and one transaction per batch made flagged anchoring
    // the pipeline's bottleneck (docs/soak.md). Those later jobs find their leaves anchored.
    const own = new Set(data.decisionIds);
    const backlog = (await index.pendingFlagged(MAX_FLAGGED_PER_JOB))
      .filter((p) => !own.has(p.decisionId))
      .slice(0, Math.max(0, MAX_FLAGGED_PER_JOB - data.decisionIds.length));
    const decisions = [];
    for (const decisionId of [...data.decisionIds, ...backlog.map((p) => p.decisionId)]) {
      const decision = await index.getDecision(decisionId);
      if (!decision) throw new UnrecoverableError(`decision ${decisionId} is not in the decision index`);
      if (!decision.flaggedTxHash) decisions.push(decision);
    }
    // A leaf may already be on chain (a crash after sending, before recording): record its event.
    const toSend = [];
    for (const decision of decisions) {
      if ((await chain.flaggedAnchoredAt(decision.leaf)) === 0n) {
        toSend.push(decision);
        continue;
      }
      const event = await chain.findFlaggedAnchored(decision.leaf);
      if (!event) throw new Error(`flagged leaf ${decision.leaf} is on chain but its event was not found yet`);
      await index.markFlaggedAnchored(decision.decisionId, event.txHash, event.blockNumber);
    }
    if (toSend.length === 0) return { txHash: '', blockNumber: '', alreadyAnchored: true };
    const leaves = toSend.map((d) => d.leaf);
    const batchIds = [...new Set(toSend.map((d) => d.batchId))];
    const receipt = await tx.send({ to: chain.address, data: chain.calldata('anchorFlagged', [leaves]), method: 'anchorFlagged', batchIds });
    for (const decision of toSend) await index.markFlaggedAnchored(decision.decisionId, receipt.txHash, receipt.blockNumber);
    log.info({ txHash: receipt.txHash, leaves: toSend.length, batches: batchIds.length, gasUsed: receipt.gasUsed.toString() }, 'flagged decisions anchored');
    return { txHash: receipt.txHash, blockNumber: receipt.blockNumber.toString(), alreadyAnchored: false };
  }

  return async function process(job: Job<AnchorJobData>): Promise<AnchorJobResult> {
    const log = deps.log.child({ jobId: job.id, job: job.name, ...('correlationId' in job.data ? { correlationId: job.data.correlationId } : {}) });
    const run = async (): Promise<AnchorJobResult> => {
      if (job.name === ANCHOR_BATCH) return await anchorBatch(job.data as AnchorBatchJob, log.child({ batchId: (job.data as AnchorBatchJob).batchId }));
      if (job.name === ANCHOR_FLAGGED) return await anchorFlagged(job.data as AnchorFlaggedJob, log.child({ batchId: (job.data as AnchorFlaggedJob).batchId }));
      throw new UnrecoverableError(`unknown anchor job ${job.name}`);
    };
    try {
      try {
        return await run();
      } catch (error) {
        // A send that failed mid-way (e.g. the chain node went away between broadcast and
        // confirmation) leaves its nonce open, and the manager refuses new sends (TX_OPEN) until
        // resume() settles it. Only AnchorWorker.start() used to call resume(), so every later job
        // failed until the process was restarted (found by the fault suite's chain restarts).
        if (!(error instanceof ClaimtrailError && error.code === 'TX_OPEN')) throw error;
        const resumed = await tx.resume();
        log.warn({ transactions: resumed.length }, 'settled anchor transactions a failed send left open; running the job again');
        return await run();
      }
    } catch (error) {
      // Translate at the edge: errors that say retrying cannot help stop BullMQ's retries.
      if (error instanceof ClaimtrailError && !error.retriable) throw new UnrecoverableError(`${error.code}: ${error.message}`);
      throw error;
    }
  };
}
