import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AnchorRootRepository } from '../anchoring/anchor-root.repository.ts';
import type { DecisionIndexRepository } from '../anchoring/decision-index.repository.ts';
import type { Logger } from '../core/logger.ts';
import { createAnchorProcessor, type AnchorJobResult, type AnchorProcessorDeps } from './anchor.processor.ts';
import type { AnchorQueue } from './anchor.queue.ts';
import type { AnchorJobData } from './anchor.queue.ts';

export interface AnchorWorkerDeps extends AnchorProcessorDeps {
  queue: AnchorQueue;
  /** Roots to anchor: decision batches and audit seals. */
  roots: AnchorRootRepository;
  /** Flagged decisions still waiting for their own anchor. */
  index: DecisionIndexRepository;
  log: Logger;
}

/**
 * The anchor worker: concurrency 1, because one signer sends one nonce sequence. Scale anchoring
 * by running more signers (each with its own queue), never by raising this concurrency.
 * On start it re-enqueues every batch (decision batch or audit seal) and flagged decision still
 * pending in PostgreSQL (job ids deduplicate), so a crash between storing a batch and enqueueing
 * it loses nothing.
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

  /** Hands every pending batch, audit seal and flagged decision in PostgreSQL to the queue again. */
  async reconcile(): Promise<{ batches: number; flagged: number }> {
    const { index, roots, queue } = this.#deps;
    const pending = await roots.pending();
    for (const batch of pending) await queue.enqueueBatch(batch.batchId);
    const flagged = await index.pendingFlagged(100_000);
    const byBatch = Map.groupBy(flagged, (f) => f.batchId);
    for (const [batchId, items] of byBatch) await queue.enqueueFlagged(batchId, items.map((f) => f.decisionId));
    return { batches: pending.length, flagged: flagged.length };
  }

  close(): Promise<void> {
    return this.#worker.close();
  }
}
