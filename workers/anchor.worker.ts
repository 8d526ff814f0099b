import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AnchorRootRepository } from '../anchoring/anchor-root.repository.ts';
import type { DecisionIndexRepository } from '../anchoring/decision-index.repository.ts';
import type { EpochRepository } from '../anchoring/epoch.repository.ts';
import type { FlaggedRootRepository } from '../anchoring/flagged-root.repository.ts';
import type { Logger } from '../core/logger.ts';
import { createAnchorProcessor, type AnchorJobResult, type AnchorProcessorDeps } from './anchor.processor.ts';
import type { AnchorQueue } from './anchor.queue.ts';
import type { AnchorJobData } from './anchor.queue.ts';

export interface AnchorWorkerDeps extends AnchorProcessorDeps {
  queue: AnchorQueue;
  /** v1 roots still to anchor (v1-leaf decision batches). */
  roots: AnchorRootRepository;
  /** Flagged decisions still waiting (v1 leaves individually, v2 in flagged trees). */
  index: DecisionIndexRepository;
  /** Epochs and what waits for one. */
  epochStore: EpochRepository;
  /** Flagged trees not anchored yet. */
  flaggedStore: FlaggedRootRepository;
  /** The installation's id (epoch ids and v2 batch ids derive from it). */
  instanceId: string;
  log: Logger;
}

/**
 * The anchor worker: concurrency 1, because one signer sends one nonce sequence. Scale anchoring
 * by running more signers (each with its own queue), never by raising this concurrency.
 * On start it hands everything still pending in PostgreSQL to the queue again (v2: one epoch job
 * and one flagged job, deduplicated; v1: one job per batch, job ids deduplicate), so a crash
 * between storing a batch and enqueueing it loses nothing.
 */
export class AnchorWorker {
  readonly #worker: Worker<AnchorJobData, AnchorJobResult>;
  readonly #deps: AnchorWorkerDeps;

  constructor(name: string, connection: Redis, deps: AnchorWorkerDeps) {
    this.#deps = deps;
    this.#worker = new Worker<AnchorJobData, AnchorJobResult>(name, createAnchorProcessor(deps), { connection, concurrency: 1, autorun: false });
    this.#worker.on('failed', (job, error) => deps.log.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, err: error }, 'anchor job failed'));
    this.#worker.on('error', (error) => deps.log.error({ err: error }, 'anchor worker error'));
  }

  /** Re-enqueues pending work, then starts processing (returns once running). */
  async start(): Promise<void> {
    // Nonces a crash left open are finished (confirmed or failed) before anything new is sent.
    const resumed = await this.#deps.tx.resume();
    if (resumed.length > 0) this.#deps.log.info({ transactions: resumed.length }, 'resumed open anchor transactions');
    await this.reconcile();
    void this.#worker.run();
    await this.#worker.waitUntilReady();
  }

  /** Hands every pending v1 batch, v1 flagged decision, and (as one job each) v2 epoch and flagged work to the queue again. */
  async reconcile(): Promise<{ batches: number; flagged: number; epochWork: boolean; flaggedRootWork: boolean }> {
    const { index, roots, queue, epochStore, flaggedStore, instanceId } = this.#deps;
    const pending = await roots.pending();
    for (const batch of pending) await queue.enqueueBatch(batch.batchId);
    const flagged = await index.pendingFlagged(100_000);
    const byBatch = Map.groupBy(flagged, (f) => f.batchId);
    for (const [batchId, items] of byBatch) await queue.enqueueFlagged(batchId, items.map((f) => f.decisionId));
    const epochWork = await epochStore.hasWork(instanceId);
    if (epochWork) await queue.enqueueEpoch();
    const flaggedRootWork = (await flaggedStore.pending()).length > 0 || (await index.pendingFlaggedV2(1)).length > 0;
    if (flaggedRootWork) await queue.enqueueFlaggedRoot();
    return { batches: pending.length, flagged: flagged.length, epochWork, flaggedRootWork };
  }

  close(): Promise<void> {
    return this.#worker.close();
  }
}
