import type { Admin } from 'kafkajs';
import type { Logger } from '../../core/logger.ts';
import type { Metrics } from './registry.ts';

/**
 * Sets claimtrail_consumer_lag{group,topic,partition} from each group's committed offsets and the
 * topics' high watermarks (a partition with no committed offset lags by high - low).
 */
export async function sampleConsumerLag(admin: Admin, groups: ReadonlyArray<{ groupId: string; topic: string }>, metrics: Metrics): Promise<void> {
  for (const { groupId, topic } of groups) {
    const [watermarks, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    const partitions = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const w of watermarks) {
      const offset = partitions.find((p) => p.partition === w.partition)?.offset ?? '-1';
      const from = BigInt(offset) < 0n ? BigInt(w.low) : BigInt(offset);
      const lag = BigInt(w.high) - from;
      metrics.consumerLag.set({ group: groupId, topic, partition: String(w.partition) }, Number(lag > 0n ? lag : 0n));
    }
  }
}

/** Runs `sample` every `intervalMs` (never overlapping), logging failures; returns a stopper. */
export function every(intervalMs: number, sample: () => Promise<void>, log: Logger, what: string): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = sample().catch((error: unknown) => log.warn({ err: error, component: 'metrics' }, `sampling ${what} failed`));
  };
  tick();
  const timer = setInterval(() => {
    if (!stopped) tick();
  }, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
