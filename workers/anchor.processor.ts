import { type Job, UnrecoverableError } from 'bullmq';
import type { AnchorRootRepository } from '../anchoring/anchor-root.repository.ts';
import type { AnchorTxManager } from '../anchoring/chain/anchor-tx.manager.ts';
import type { BatchAnchorer } from '../anchoring/chain/batch-anchorer.ts';
import type { EpochAnchorer } from '../anchoring/chain/epoch-anchorer.ts';
import type { FlaggedAnchorer } from '../anchoring/chain/flagged-anchorer.ts';
import type { FlaggedRootAnchorer } from '../anchoring/chain/flagged-root-anchorer.ts';
import { ClaimtrailError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { metrics } from '../infra/metrics/registry.ts';
import {
  ANCHOR_BATCH, ANCHOR_EPOCH, ANCHOR_FLAGGED, ANCHOR_FLAGGED_ROOT, type AnchorBatchJob, type AnchorFlaggedJob, type AnchorJobData,
} from './anchor.queue.ts';

export interface AnchorProcessorDeps {
  /** v2: epochs of every pending v2 batch root and audit seal (reorg checks included). */
  epochs: EpochAnchorer;
  /** v2: per-block flagged trees of every waiting flagged v2 decision. */
  flaggedRoots: FlaggedRootAnchorer;
  /**
   * v1: batch roots of v1-leaf batches on the v1 contract (rare leftovers from before the
   * upgrade); absent when no v1 contract is configured or recorded for the chain.
   */
  batches?: BatchAnchorer;
  /** v1: flagged v1-leaf decisions' leaves on the v1 contract; absent like `batches`. */
  flagged?: FlaggedAnchorer;
  /** Routes a v1 `anchor-batch` job: a v1 decision batch goes the v1 way, a seal or v2 batch to an epoch. */
  roots: AnchorRootRepository;
  /** The signer's transaction manager, which every anchorer sends through; used here only to resume(). */
  tx: AnchorTxManager;
  log: Logger;
}

/** Outcome of one anchor job, returned to BullMQ (kept with the completed job). */
export interface AnchorJobResult {
  /** The (last) transaction the job sent or found; '' when it had nothing to do. */
  txHash: string;
  blockNumber: string;
  alreadyAnchored: boolean;
  /** v2 jobs: epochs or flagged roots anchored (0: nothing was waiting, nothing was sent). */
  anchored?: number;
}

/**
 * The anchor queue's processor: dispatches each job to the anchoring service for its kind
 * (epoch-anchorer.ts and flagged-root-anchorer.ts for v2; batch-anchorer.ts and
 * flagged-anchorer.ts for v1 leftovers) and translates errors for BullMQ. Every service reads the
 * chain before sending, so a retried job never anchors twice.
 */
export function createAnchorProcessor(deps: AnchorProcessorDeps) {
  const { epochs, flaggedRoots, tx } = deps;

  async function anchorEpochs(log: Logger): Promise<AnchorJobResult> {
    // Epochs a reorg took out of the canonical chain go back to pending first, then go out again.
    const reorged = await epochs.reorged();
    if (reorged.length > 0) log.warn({ epochs: reorged }, 'epochs back to pending after a reorg');
    const done = await epochs.anchorPending();
    for (const e of done.filter((x) => !x.alreadyAnchored)) metrics.batchesAnchored.inc(e.batchCount);
    for (const e of done.filter((x) => !x.alreadyAnchored)) log.info({ epochId: e.epochId, txHash: e.txHash, batches: e.batchCount, leaves: e.leafCount }, 'epoch anchored');
    const last = done.at(-1);
    return { txHash: last?.txHash ?? '', blockNumber: last?.blockNumber ?? '', alreadyAnchored: done.length > 0 && done.every((e) => e.alreadyAnchored), anchored: done.length };
  }

  async function anchorFlaggedRoots(log: Logger): Promise<AnchorJobResult> {
    const reorged = await flaggedRoots.reorged();
    if (reorged.length > 0) log.warn({ roots: reorged }, 'flagged roots back to pending after a reorg');
    const done = await flaggedRoots.anchorPending();
    const last = done.at(-1);
    return { txHash: last?.txHash ?? '', blockNumber: last?.blockNumber ?? '', alreadyAnchored: done.length > 0 && done.every((r) => r.alreadyAnchored), anchored: done.length };
  }

  async function anchorBatch(data: AnchorBatchJob, log: Logger): Promise<AnchorJobResult> {
    const root = await deps.roots.get(data.batchId);
    // Audit seals (the review app still hands them over by id) and v2 batches go into epochs.
    if (root && (root.source === 'audit' || root.leafEncoding !== 'claimtrail-leaf-v1' || root.inEpoch)) return anchorEpochs(log);
    const batches = v1(deps.batches);
    // Anchors a reorg took out of the canonical chain go back to pending first, so they ride along.
    const reorged = await batches.reorged();
    if (reorged.length > 0) log.warn({ batches: reorged }, 'batches back to pending after a reorg');
    const result = await batches.anchor(data.batchId);
    if (!result.alreadyAnchored) metrics.batchesAnchored.inc(result.batchesInTx);
    if (!result.alreadyAnchored) log.info({ txHash: result.txHash, blockNumber: result.blockNumber, batchesInTx: result.batchesInTx }, 'batch anchored');
    return { txHash: result.txHash, blockNumber: result.blockNumber, alreadyAnchored: result.alreadyAnchored };
  }

  async function anchorFlagged(data: AnchorFlaggedJob): Promise<AnchorJobResult> {
    const { txHash, blockNumber, alreadyAnchored } = await v1(deps.flagged).anchor(data.decisionIds);
    return { txHash, blockNumber, alreadyAnchored };
  }

  return async function process(job: Job<AnchorJobData>): Promise<AnchorJobResult> {
    const log = deps.log.child({ jobId: job.id, job: job.name, ...('correlationId' in job.data && job.data.correlationId ? { correlationId: job.data.correlationId } : {}) });
    const run = async (): Promise<AnchorJobResult> => {
      if (job.name === ANCHOR_EPOCH) return await anchorEpochs(log);
      if (job.name === ANCHOR_FLAGGED_ROOT) return await anchorFlaggedRoots(log);
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

/** The v1 anchorer, or V1_CONTRACT_MISSING (non-retriable) when this process has no v1 contract. */
function v1<T>(anchorer: T | undefined): T {
  if (!anchorer) throw new ClaimtrailError('V1_CONTRACT_MISSING', 'a v1-leaf batch or flagged decision waits, but no v1 DecisionAnchor is configured (DECISION_ANCHOR_ADDRESS) or recorded for this chain');
  return anchorer;
}
