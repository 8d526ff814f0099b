import { type Job, UnrecoverableError } from 'bullmq';
import type { AnchorTxManager } from '../anchoring/chain/anchor-tx.manager.ts';
import type { BatchAnchorer } from '../anchoring/chain/batch-anchorer.ts';
import type { FlaggedAnchorer } from '../anchoring/chain/flagged-anchorer.ts';
import { ClaimtrailError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { ANCHOR_BATCH, ANCHOR_FLAGGED, type AnchorBatchJob, type AnchorFlaggedJob, type AnchorJobData } from './anchor.queue.ts';

export interface AnchorProcessorDeps {
  /** Batch roots (backlog in one transaction, reorg checks). */
  batches: BatchAnchorer;
  /** Flagged decisions' leaves (waiting leaves of other batches ride along). */
  flagged: FlaggedAnchorer;
  /** The signer's transaction manager, which both anchorers send through; used here only to resume(). */
  tx: AnchorTxManager;
  log: Logger;
}

/** Outcome of one anchor job, returned to BullMQ (kept with the completed job). */
export interface AnchorJobResult {
  txHash: string;
  blockNumber: string;
  alreadyAnchored: boolean;
}

/**
 * The anchor queue's processor: dispatches each job to the anchoring service for its kind
 * (batch-anchorer.ts, flagged-anchorer.ts) and translates errors for BullMQ. Both services are
 * idempotent (the chain is read first), so a retried job never anchors twice.
 */
export function createAnchorProcessor(deps: AnchorProcessorDeps) {
  const { batches, flagged, tx } = deps;

  async function anchorBatch(data: AnchorBatchJob, log: Logger): Promise<AnchorJobResult> {
    // Anchors a reorg took out of the canonical chain go back to pending first, so they ride along.
    const reorged = await batches.reorged();
    if (reorged.length > 0) log.warn({ batches: reorged }, 'batches back to pending after a reorg');
    const result = await batches.anchor(data.batchId);
    if (!result.alreadyAnchored) log.info({ txHash: result.txHash, blockNumber: result.blockNumber, batchesInTx: result.batchesInTx }, 'batch anchored');
    return { txHash: result.txHash, blockNumber: result.blockNumber, alreadyAnchored: result.alreadyAnchored };
  }

  async function anchorFlagged(data: AnchorFlaggedJob): Promise<AnchorJobResult> {
    const { txHash, blockNumber, alreadyAnchored } = await flagged.anchor(data.decisionIds);
    return { txHash, blockNumber, alreadyAnchored };
  }

  return async function process(job: Job<AnchorJobData>): Promise<AnchorJobResult> {
    const log = deps.log.child({ jobId: job.id, job: job.name, ...('correlationId' in job.data ? { correlationId: job.data.correlationId } : {}) });
    const run = async (): Promise<AnchorJobResult> => {
      if (job.name === ANCHOR_BATCH) return await anchorBatch(job.data as AnchorBatchJob, log.child({ batchId: (job.data as AnchorBatchJob).batchId }));
      if (job.name === ANCHOR_FLAGGED) return await anchorFlagged(job.data as AnchorFlaggedJob);
      throw new UnrecoverableError(`unknown anchor job ${job.name}`);
    };
    try {
      try {
        return await run();
      } catch (error) {
        // A send that failed part-way (say the chain node went away between broadcast and
        // confirmation) leaves its nonce open, and the manager refuses new sends (TX_OPEN) until
        // that nonce is settled. Settle it here and run the job again, so the worker recovers
        // by itself instead of failing every job until it is restarted.
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
