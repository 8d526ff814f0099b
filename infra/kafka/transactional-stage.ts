import { type Consumer, type Kafka, type KafkaMessage, type Message, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from '../../core/logger.ts';
import { restartOnUnrecoveredCrash } from './consumer-recovery.ts';
import { metrics, secondsSince } from '../metrics/registry.ts';

/** Messages a stage produces for one input batch, all in the same Kafka transaction. */
export interface StageOutput {
  topic: string;
  messages: Message[];
}

/** One partition's slice of input, in offset order. */
export interface StageBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

export interface TransactionalStageOptions {
  kafka: Kafka;
  /** Consumer group of the stage; its offsets are committed inside the transaction. */
  groupId: string;
  inputTopic: string;
  /**
   * Stable per process (e.g. `<group>-<instance>`): after a crash the restarted process fences
   * its zombie predecessor, whose open transaction is aborted.
   */
  transactionalId: string;
  log: Logger;
  /**
   * Turns one input batch into output messages. May run more than once for the same input (after
   * a crash or rebalance); only the run whose transaction commits is ever visible downstream.
   * Throwing aborts the transaction and the batch is retried from the last committed offset.
   */
  handle(batch: StageBatch): Promise<StageOutput[]>;
  /** Upper bound on bytes fetched per partition and request. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /**
   * Value bytes per produce request inside the transaction: outputs bigger than this go out in
   * several requests (same transaction). kafkajs writes a partition's messages of one request as
   * ONE record batch, which the topic's `max.message.bytes` limits. Default: one request.
   */
  maxRequestBytes?: number;
  /**
   * Partitions whose batches are handled at the same time (kafkajs `partitionsConsumedConcurrently`).
   * `handle` of one partition's batch (CPU, PostgreSQL, Redis) overlaps another's; transactions
   * still run one at a time (one transactional producer), in the order their batches finished
   * handling. Default 1 (strictly serial).
   */
  partitionsConcurrently?: number;
  /** Called after each committed transaction (metrics, progress). */
  onCommitted?(info: { partition: number; inputCount: number; outputCount: number; lastOffset: string }): void;
}

/**
 * An exactly-once consume -> transform -> produce loop on kafkajs: for each fetched batch the
 * outputs and the input offsets are committed in ONE Kafka transaction, and downstream consumers
 * read with isolation level read_committed. Kafka's own transactional protocol gives the
 * guarantee; this class only sequences it (one transaction at a time per producer).
 */
export class TransactionalStage {
  readonly #options: TransactionalStageOptions;
  readonly #consumer: Consumer;
  readonly #producer: Producer;
  readonly #log: Logger;
  #stopping = false;
  #joined = false;
  /** Tail of the chain of transactions: each waits for the one before it (one open transaction per producer). */
  #lastTransaction: Promise<unknown> = Promise.resolve();
  #cancelRecovery: () => void = () => undefined;

  /** True while the consumer is a member of its group (joined, not crashed or stopped): readiness. */
  get joined(): boolean {
    return this.#joined;
  }

  constructor(options: TransactionalStageOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
    });
    this.#producer = options.kafka.producer({
      transactionalId: options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
      createPartitioner: Partitioners.DefaultPartitioner,
      // Exactly-once needs the idempotent producer to retry until the broker answers: a bounded
      // retry count could resend a batch under a new sequence number. A stage stalls, never skips.
      // A short first retry matters: the broker answers CONCURRENT_TRANSACTIONS to the next
      // transaction while it still writes the previous one's commit markers (a few ms); waiting
      // kafkajs' usual 300 ms there capped the stage at a few transactions per second.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 10, maxRetryTime: 10_000 },
    });
  }

  /** Connects, subscribes from the earliest uncommitted offset and starts consuming. */
  async start(): Promise<void> {
    await this.#producer.connect();
    await this.#consumer.connect();
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, () => { this.#joined = true; });
    for (const event of [this.#consumer.events.CRASH, this.#consumer.events.STOP, this.#consumer.events.DISCONNECT]) this.#consumer.on(event, () => { this.#joined = false; });
    await this.#consumer.subscribe({ topic: this.#options.inputTopic, fromBeginning: true });
    this.#cancelRecovery = restartOnUnrecoveredCrash(this.#consumer, () => this.#rerun(), this.#log, () => this.#stopping);
    await this.#run();
  }

  /** After a crash kafkajs does not restart (see consumer-recovery.ts): the subscription is kept. */
  async #rerun(): Promise<void> {
    await this.#consumer.connect();
    await this.#run();
  }

  async #run(): Promise<void> {
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#options.partitionsConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const outputs = await this.#options.handle({ topic: batch.topic, partition: batch.partition, messages: batch.messages });
        const lastOffset = batch.lastOffset();
        await this.#oneAtATime(async () => {
          const started = performance.now();
          const transaction = await this.#producer.transaction();
          try {
            for (const topicMessages of requests(outputs, this.#options.maxRequestBytes ?? Infinity)) await transaction.sendBatch({ topicMessages, acks: -1 });
            await transaction.sendOffsets({
              consumerGroupId: this.#options.groupId,
              topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() }] }],
            });
            await transaction.commit();
            metrics.stageDuration.observe({ stage: 'transaction' }, secondsSince(started));
          } catch (error) {
            this.#log.warn({ err: error, partition: batch.partition }, 'transaction failed; aborting, the batch will be retried');
            await transaction.abort().catch((abortError: unknown) => this.#log.error({ err: abortError }, 'transaction abort failed'));
            throw error;
          }
        });
        resolveOffset(lastOffset);
        await heartbeat();
        this.#options.onCommitted?.({
          partition: batch.partition,
          inputCount: batch.messages.length,
          outputCount: outputs.reduce((n, o) => n + o.messages.length, 0),
          lastOffset,
        });
      },
    });
  }

  /** Stops fetching the input topic (the consumer stays in its group); batches in flight finish. */
  pause(): void {
    this.#consumer.pause([{ topic: this.#options.inputTopic }]);
  }

  /** Fetches again after {@link pause}. */
  resume(): void {
    this.#consumer.resume([{ topic: this.#options.inputTopic }]);
  }

  /** Runs `work` after every transaction queued before it has settled (committed or failed). */
  #oneAtATime(work: () => Promise<void>): Promise<void> {
    const run = this.#lastTransaction.then(work, work);
    this.#lastTransaction = run.catch(() => undefined);
    return run;
  }

  /** Stops consuming after the batch in flight and disconnects. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#cancelRecovery();
    await this.#consumer.disconnect();
    await this.#producer.disconnect();
  }
}

/** Outputs cut into produce requests of at most `maxBytes` value bytes (a bigger message goes alone). */
function requests(outputs: readonly StageOutput[], maxBytes: number): StageOutput[][] {
  const out: StageOutput[][] = [];
  let current: StageOutput[] = [];
  let bytes = 0;
  for (const { topic, messages } of outputs) {
    for (const message of messages) {
      const size = message.value?.length ?? 0;
      if (bytes > 0 && bytes + size > maxBytes) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      const last = current.at(-1);
      if (last?.topic === topic) last.messages.push(message);
      else current.push({ topic, messages: [message] });
      bytes += size;
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}
