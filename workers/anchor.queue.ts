import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AnchorJobSink } from '../pipeline/batching.stage.ts';

/** Job names on the anchor queue. */
export const ANCHOR_BATCH = 'anchor-batch';
export const ANCHOR_FLAGGED = 'anchor-flagged';

export interface AnchorBatchJob {
  batchId: string;
  correlationId?: string;
}

export interface AnchorFlaggedJob {
  decisionId: string;
}

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
 * Producer side of the anchor queue. Job ids are the batch id / `flag-<decision id>`, so handing
 * the same batch over twice (after a crash) enqueues it once.
 */
export class AnchorQueue implements AnchorJobSink {
  readonly queue: Queue<AnchorJobData>;

  constructor(name: string, connection: Redis) {
    this.queue = new Queue<AnchorJobData>(name, { connection, defaultJobOptions: JOB_OPTIONS });
  }

  async enqueueBatch(batchId: string, correlationId?: string): Promise<void> {
    await this.queue.add(ANCHOR_BATCH, { batchId, ...(correlationId ? { correlationId } : {}) }, { jobId: batchId });
  }

  async enqueueFlagged(decisionIds: readonly string[]): Promise<void> {
    await this.queue.addBulk(decisionIds.map((decisionId) => ({ name: ANCHOR_FLAGGED, data: { decisionId }, opts: { jobId: `flag-${decisionId}` } })));
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
