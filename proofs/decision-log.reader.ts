import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { ClaimtrailError } from '../core/errors.ts';

/** One record of the decisions log, as committed (read_committed: no aborted records, no markers). */
export interface DecisionLogRecord {
  partition: number;
  /** Kafka offset, decimal. */
  offset: string;
  value: Buffer | null;
}

/** Offsets `from`..`to` (both inclusive, decimal) of one partition. */
export interface DecisionLogRange {
  partition: number;
  from: string;
  to: string;
}

/** Options for {@link KafkaDecisionLog}. */
export interface KafkaDecisionLogOptions {
  /**
   * Milliseconds without a new record after which a partition that has not reached its range end
   * counts as read to the end (the end of a range may be a transaction marker or an aborted
   * record, which read_committed never delivers). Default 3000.
   */
  idleMs?: number;
  /** Milliseconds the whole read may take, group join included, before it fails. Default 120000. */
  timeoutMs?: number;
}

/** The decisions log could not be read within the time allowed. Retriable. */
export class DecisionLogReadError extends ClaimtrailError {
  constructor(message: string) {
    super('LOG_READ_FAILED', message, { retriable: true });
  }
}

/**
 * Reads ranges of the `decisions` topic the way the batcher saw them: read_committed, in offset
 * order per partition. Every read uses a fresh consumer group and never commits, so it moves no
 * offset of the pipeline's own groups.
 */
export class KafkaDecisionLog {
  readonly topic: string;
  readonly #kafka: Kafka;
  readonly #idleMs: number;
  readonly #timeoutMs: number;

  constructor(kafka: Kafka, topic: string, options: KafkaDecisionLogOptions = {}) {
    this.#kafka = kafka;
    this.topic = topic;
    this.#idleMs = options.idleMs ?? 3000;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
  }

  /** Each partition with its low and high watermark (high = offset of the next record). */
  async partitions(): Promise<Array<{ partition: number; low: string; high: string }>> {
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(this.topic);
      return offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })).sort((a, b) => a.partition - b.partition);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * The committed records inside `ranges`, in offset order per partition.
   * @throws DecisionLogReadError when the read does not finish within `timeoutMs`.
   */
  async read(ranges: readonly DecisionLogRange[]): Promise<DecisionLogRecord[]> {
    const wanted = new Map<number, { from: bigint; to: bigint }>();
    for (const r of ranges) {
      if (wanted.has(r.partition)) throw new ClaimtrailError('INVALID_ARGUMENT', `partition ${r.partition} given twice`);
      if (BigInt(r.from) <= BigInt(r.to)) wanted.set(r.partition, { from: BigInt(r.from), to: BigInt(r.to) });
    }
    if (wanted.size === 0) return [];
    const records: DecisionLogRecord[] = [];
    const done = new Set<number>();
    const consumer = this.#kafka.consumer({ groupId: `claimtrail-audit-${randomBytes(6).toString('hex')}`, readUncommitted: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: this.topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        let idle: NodeJS.Timeout | undefined;
        let deadline: NodeJS.Timeout | undefined = undefined;
        // Every way out clears both timers, so a finished read never keeps the process alive.
        const settle = (error?: unknown) => {
          clearTimeout(idle);
          clearTimeout(deadline);
          if (error === undefined) resolve();
          else reject(error);
        };
        deadline = setTimeout(
          () => settle(new DecisionLogReadError(`reading ${this.topic} took more than ${this.#timeoutMs} ms (${done.size} of ${wanted.size} partitions read)`)),
          this.#timeoutMs,
        );
        const finish = () => settle();
        // The idle clock starts once the group is joined, so a slow join never ends a read early.
        const armIdle = () => {
          clearTimeout(idle);
          idle = setTimeout(finish, this.#idleMs);
        };
        consumer.on(consumer.events.GROUP_JOIN, armIdle);
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const range = wanted.get(partition);
              if (!range || done.has(partition)) return;
              armIdle();
              const offset = BigInt(message.offset);
              if (offset >= range.from && offset <= range.to) records.push({ partition, offset: message.offset, value: message.value });
              if (offset >= range.to) {
                done.add(partition);
                consumer.pause([{ topic: this.topic, partitions: [partition] }]);
                if (done.size === wanted.size) finish();
              }
            },
          })
          .catch((error: unknown) => settle(error ?? new Error('consumer stopped')));
        for (const [partition, { from }] of wanted) consumer.seek({ topic: this.topic, partition, offset: from.toString() });
      });
    } finally {
      await consumer.disconnect();
    }
    return records.sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
  }
}
