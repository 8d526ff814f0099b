import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { MAX_FLAGGED_PER_TX } from '../anchoring/chain/flagged-anchorer.ts';

/** Where closed batches and flagged decisions are handed to the anchor workers. */
export interface AnchorJobSink {
  enqueueBatch(batchId: string, correlationId?: string): Promise<void>;
  /** Flagged decisions of one batch, anchored individually (each leaf its own on-chain record). */
  enqueueFlagged(batchId: string, decisionIds: readonly string[]): Promise<void>;
}

/** Job names on the anchor queue. */
export const ANCHOR_BATCH = 'anchor-batch';
export const ANCHOR_FLAGGED = 'anchor-flagged';

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

export type AnchorJobData = AnchorBatchJob | AnchorFlaggedJob;

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
 * Producer side of the anchor queue. Job ids are the batch id / `flag-<batch id>-<chunk>`, so
 * handing the same batch over twice (after a crash) enqueues it once.
 */
export class AnchorQueue implements AnchorJobSink {
  readonly queue: Queue<AnchorJobData>;

  constructor(name: string, connection: Redis) {
    this.queue = new Queue<AnchorJobData>(name, { connection, defaultJobOptions: JOB_OPTIONS });
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

  close(): Promise<void> {
    return this.queue.close();
  }
}
