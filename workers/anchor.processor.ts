import { type Job, UnrecoverableError } from 'bullmq';
import type { DecisionAnchorClient } from '../chain/decision-anchor.client.ts';
import { ClaimtrailError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { DecisionIndexRepository } from '../db/decision-index.repository.ts';
import { ANCHOR_BATCH, ANCHOR_FLAGGED, type AnchorBatchJob, type AnchorFlaggedJob, type AnchorJobData } from './anchor.queue.ts';

export interface AnchorProcessorDeps {
  index: DecisionIndexRepository;
  chain: DecisionAnchorClient;
  log: Logger;
}

/** Outcome of one anchor job, returned to BullMQ (kept with the completed job). */
export interface AnchorJobResult {
  txHash: string;
  blockNumber: string;
  alreadyAnchored: boolean;
}

/**
 * Anchors a batch root, or one flagged decision's leaf, and records where it landed.
 * Idempotent: the chain is read first, and a root already stored under the batch id counts as
 * done when it equals ours (a different root is a conflict no retry can fix).
 */
export function createAnchorProcessor(deps: AnchorProcessorDeps) {
  const { index, chain } = deps;

  async function anchorBatch(data: AnchorBatchJob, log: Logger): Promise<AnchorJobResult> {
    const batch = await index.getBatch(data.batchId);
    if (!batch) throw new UnrecoverableError(`batch ${data.batchId} is not in the decision index`);
    if (batch.status === 'anchored' && batch.anchor) {
      return { txHash: batch.anchor.txHash, blockNumber: batch.anchor.blockNumber.toString(), alreadyAnchored: true };
    }
    const chainId = await chain.chainId();
    const onChain = await chain.batchOf(batch.batchId);
    if (onChain) {
      if (onChain.root !== batch.root) {
        throw new UnrecoverableError(`batch ${batch.batchId}: chain holds root ${onChain.root}, ours is ${batch.root}`);
      }
      const event = await chain.findBatchAnchored(batch.batchId, Number(onChain.anchoredBlock));
      if (!event) throw new Error(`batch ${batch.batchId} is on chain but its BatchAnchored event was not found yet`);
      await index.markBatchAnchored(batch.batchId, { chainId, contract: chain.address, ...event });
      log.info({ txHash: event.txHash }, 'batch was already anchored; recorded');
      return { txHash: event.txHash, blockNumber: event.blockNumber.toString(), alreadyAnchored: true };
    }
    const receipt = await chain.anchorBatch(batch.batchId, batch.root, batch.leafCount);
    await index.markBatchAnchored(batch.batchId, { chainId, contract: chain.address, ...receipt });
    log.info({ txHash: receipt.txHash, blockNumber: receipt.blockNumber.toString(), gasUsed: receipt.gasUsed.toString(), leafCount: batch.leafCount }, 'batch anchored');
    return { txHash: receipt.txHash, blockNumber: receipt.blockNumber.toString(), alreadyAnchored: false };
  }

  async function anchorFlagged(data: AnchorFlaggedJob, log: Logger): Promise<AnchorJobResult> {
    const decisions = [];
    for (const decisionId of data.decisionIds) {
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
    const receipt = await chain.anchorFlagged(toSend.map((d) => d.leaf));
    for (const decision of toSend) await index.markFlaggedAnchored(decision.decisionId, receipt.txHash, receipt.blockNumber);
    log.info({ txHash: receipt.txHash, leaves: toSend.length, gasUsed: receipt.gasUsed.toString() }, 'flagged decisions anchored');
    return { txHash: receipt.txHash, blockNumber: receipt.blockNumber.toString(), alreadyAnchored: false };
  }

  return async function process(job: Job<AnchorJobData>): Promise<AnchorJobResult> {
    const log = deps.log.child({ jobId: job.id, job: job.name, ...('correlationId' in job.data ? { correlationId: job.data.correlationId } : {}) });
    try {
      if (job.name === ANCHOR_BATCH) return await anchorBatch(job.data as AnchorBatchJob, log.child({ batchId: (job.data as AnchorBatchJob).batchId }));
      if (job.name === ANCHOR_FLAGGED) return await anchorFlagged(job.data as AnchorFlaggedJob, log.child({ batchId: (job.data as AnchorFlaggedJob).batchId }));
      throw new UnrecoverableError(`unknown anchor job ${job.name}`);
    } catch (error) {
      // Translate at the edge: errors that say retrying cannot help stop BullMQ's retries.
      if (error instanceof ClaimtrailError && !error.retriable) throw new UnrecoverableError(`${error.code}: ${error.message}`);
      throw error;
    }
  };
}
