import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { MAX_FLAGGED_PER_TX } from '../anchoring/chain/flagged-anchorer.ts';

/** Where closed batches and flagged decisions are handed to the anchor workers. */
export interface AnchorJobSink {
  /**
   * v1: one batch root (a v1-leaf batch from before the upgrade) for the v1 contract. An id that
   * is not a pending v1 decision batch (an audit seal, a v2 batch) runs the epoch job instead.
   */
  enqueueBatch(batchId: string, correlationId?: string): Promise<void>;
  /** v1: flagged v1-leaf decisions of one batch, anchored individually on the v1 contract. */
  enqueueFlagged(batchId: string, decisionIds: readonly string[]): Promise<void>;
  /** v2: asks for an epoch of everything pending (v2 batches and audit seals). Deduplicated. */
  enqueueEpoch(correlationId?: string): Promise<void>;
  /** v2: asks for a flagged tree of every flagged v2 decision waiting. Deduplicated. */
  enqueueFlaggedRoot(correlationId?: string): Promise<void>;
}

/** Job names on the anchor queue. */
export const ANCHOR_BATCH = 'anchor-batch';
export const ANCHOR_FLAGGED = 'anchor-flagged';
/** v2: one `anchorEpoch` transaction over every pending v2 batch root and audit seal. */
export const ANCHOR_EPOCH = 'anchor-epoch';
/** v2: one `anchorFlaggedRoot` transaction over every waiting flagged v2 decision. */
export const ANCHOR_FLAGGED_ROOT = 'anchor-flagged-root';

/** Data of the v2 jobs: none is needed (a job takes everything pending); the correlation id is for logs. */
export interface AnchorSweepJob {
  correlationId?: string;
}

export interface AnchorBatchJob {
  batchId: string;
  correlationId?: string;
}

/** Flagged decisions of one batch; each leaf gets its own record and event on chain. */
export interface AnchorFlaggedJob {
  batchId: string;
  decisionIds: string[];
}

/** Most flagged decisions per job: one job's leaves always fit one `anchorFlagged` transaction. */
export const MAX_FLAGGED_PER_JOB = MAX_FLAGGED_PER_TX;

export type AnchorJobData = AnchorBatchJob | AnchorFlaggedJob | AnchorSweepJob;

/**
 * Retries with exponential backoff (1 s, 2 s, 4 s ... ~17 min in all) cover chain and database
 * outages; completed jobs are kept a while so a re-enqueue of the same id is a no-op.
 */
const JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 },
  removeOnFail: false,
};

/**
 * Producer side of the anchor queue.
 *
 * Queue design (docs/anchor-transactions.md#jobs). One queue per signer, one worker with
 * concurrency 1 (one nonce sequence). v2 has two job kinds, each of which takes EVERYTHING pending
 * of its kind when it runs, so a job's identity does not matter, only that one runs after the work
 * was stored:
 * - `anchor-epoch` (deduplication id `anchor-epoch`): every v2 batch and audit seal in no epoch
 *   -> one `anchorEpoch` transaction;
 * - `anchor-flagged-root` (deduplication id `anchor-flagged-root`): every waiting flagged v2
 *   decision -> one `anchorFlaggedRoot` transaction.
 * Both use BullMQ deduplication with `keepLastIfActive`: at most one job of a kind waits and one
 * runs, whatever the backlog, so a thousand closed batches can never queue ahead of a flagged
 * tree (or the reverse); an add while a job of the kind runs leaves one waiting job, which runs
 * after it and sees what the running one missed. A job that finds nothing sends nothing.
 * v1 jobs (rare leftovers from before the upgrade) keep their ids: the batch id /
 * `flag-<batch id>-<chunk>`, so handing the same batch over twice (after a crash) enqueues it once.
 */
export class AnchorQueue implements AnchorJobSink {
  readonly queue: Queue<AnchorJobData>;
  readonly #epochDelayMs: number;

  /**
   * @param options.epochDelayMs how long an epoch job waits after the request that created it
   *   (ANCHOR_EPOCH_SECONDS): requests within that time join the same job, so epochs come at most
   *   once per interval and each takes everything closed meanwhile. 0 (default): run at once.
   */
  constructor(name: string, connection: Redis, options: { epochDelayMs?: number } = {}) {
    this.queue = new Queue<AnchorJobData>(name, { connection, defaultJobOptions: JOB_OPTIONS });
    this.#epochDelayMs = options.epochDelayMs ?? 0;
  }

  async enqueueBatch(batchId: string, correlationId?: string): Promise<void> {
    await this.queue.add(ANCHOR_BATCH, { batchId, ...(correlationId ? { correlationId } : {}) }, { jobId: batchId });
  }

  async enqueueFlagged(batchId: string, decisionIds: readonly string[]): Promise<void> {
    const jobs = [];
    for (let i = 0; i < decisionIds.length; i += MAX_FLAGGED_PER_JOB) {
      const chunk = decisionIds.slice(i, i + MAX_FLAGGED_PER_JOB);
      jobs.push({ name: ANCHOR_FLAGGED, data: { batchId, decisionIds: chunk }, opts: { jobId: `flag-${batchId}-${i / MAX_FLAGGED_PER_JOB}` } });
    }
    await this.queue.addBulk(jobs);
  }

  async enqueueEpoch(correlationId?: string): Promise<void> {
    await this.#sweep(ANCHOR_EPOCH, correlationId, this.#epochDelayMs);
  }

  async enqueueFlaggedRoot(correlationId?: string): Promise<void> {
    await this.#sweep(ANCHOR_FLAGGED_ROOT, correlationId);
  }

  /** One job of a v2 kind, deduplicated by kind (see the class comment); BullMQ numbers it. */
  async #sweep(name: typeof ANCHOR_EPOCH | typeof ANCHOR_FLAGGED_ROOT, correlationId?: string, delayMs = 0): Promise<void> {
    await this.queue.add(name, correlationId ? { correlationId } : {}, { deduplication: { id: name, keepLastIfActive: true }, ...(delayMs > 0 ? { delay: delayMs } : {}) });
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
