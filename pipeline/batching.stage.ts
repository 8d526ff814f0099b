import { decodeDecision } from '../domain/decision-codec.ts';
import type { Admin, Consumer, ConsumerGroupJoinEvent, Kafka, KafkaMessage } from 'kafkajs';
import type { Config } from '../core/config.ts';
import { invariant } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { BatchOverlapError, type DecisionIndexRepository, type DecisionsRecordedHook, type IndexedDecision } from '../anchoring/decision-index.repository.ts';
import type { Decision } from '../domain/decision.ts';
import { batchId as computeBatchId } from '../anchoring/core/batch.ts';
import { leafHash } from '../anchoring/core/leaf.ts';
import { interimLeafValues } from '../anchoring/interim-leaf.ts';
import { buildBatchTree } from '../anchoring/core/merkle.ts';
import type { AnchorJobSink } from '../workers/anchor.queue.ts';
import { restartOnUnrecoveredCrash } from '../infra/kafka/consumer-recovery.ts';


export interface BatchingStageDeps {
  kafka: Kafka;
  config: Readonly<Config>;
  index: DecisionIndexRepository;
  /**
   * Runs inside each new batch's PostgreSQL transaction, after its decisions are inserted, so
   * what it writes commits with them (the runtime wires the review app's case opener).
   */
  recorded: DecisionsRecordedHook;
  jobs: AnchorJobSink;
  log: Logger;
  /** Called after each batch is stored and handed over. */
  onBatchClosed?(info: { batchId: string; partition: number; leafCount: number }): void;
}

interface OpenBatch {
  partition: number;
  openedAt: number;
  items: Array<{ decision: Decision; offset: string }>;
}

/**
 * Decisions -> Merkle batches. Reads the `decisions` topic (read_committed) and cuts each
 * partition into contiguous offset ranges, closed by size (BATCH_MAX_SIZE) or age
 * (BATCH_MAX_AGE_MS). A closed batch is written to PostgreSQL with all its decisions (and what
 * the `recorded` hook writes for them, e.g. review cases) in one transaction, handed to the anchor queue (job id = batch id), and only then are the Kafka
 * offsets committed. PostgreSQL is the source of truth for where the next batch starts: offsets
 * already in a stored batch are skipped, so a crash between the two commits never makes two
 * batches overlap. On every (re)assignment each partition is rewound to the offset after its
 * last stored batch, and batches fetched before the rewind are dropped as stale (kafkajs
 * `isStale`), so what is open in memory always starts right after what is stored.
 */
export class BatchingStage {
  readonly #deps: BatchingStageDeps;
  readonly #consumer: Consumer;
  readonly #admin: Admin;
  readonly #open = new Map<number, OpenBatch>();
  readonly #lastBatched = new Map<number, bigint | null>();
  #serial: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #cancelRecovery: () => void = () => undefined;

  constructor(deps: BatchingStageDeps) {
    this.#deps = deps;
    this.#consumer = deps.kafka.consumer({ groupId: deps.config.kafka.batchingGroupId, readUncommitted: false, maxBytesPerPartition: 4 * 1024 * 1024 });
    this.#admin = deps.kafka.admin();
  }

  async start(): Promise<void> {
    const { config } = this.#deps;
    await this.#admin.connect();
    await this.#consumer.connect();
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, (event: ConsumerGroupJoinEvent) => {
      const partitions = event.payload.memberAssignment[config.kafka.topics.decisions] ?? [];
      void this.#exclusive(() => this.#resync(partitions, true)).catch((error: unknown) => this.#deps.log.error({ err: error }, 'rewinding partitions failed'));
    });
    await this.#consumer.subscribe({ topic: config.kafka.topics.decisions, fromBeginning: true });
    this.#cancelRecovery = restartOnUnrecoveredCrash(this.#consumer, () => this.#rerun(), this.#deps.log, () => this.#stopping);
    await this.#run();
    const tick = Math.max(20, Math.min(500, Math.floor(config.anchor.batchMaxAgeMs / 4)));
    this.#timer = setInterval(() => {
      void this.#exclusive(() => this.#closeAged()).catch((error: unknown) => this.#deps.log.error({ err: error }, 'closing aged batches failed; will retry'));
    }, tick);
  }

  /** After a crash kafkajs does not restart (see infra/kafka/consumer-recovery.ts); the new join rewinds every partition (GROUP_JOIN). */
  async #rerun(): Promise<void> {
    await this.#consumer.connect();
    await this.#run();
  }

  async #run(): Promise<void> {
    await this.#consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        await this.#exclusive(async () => {
          // Checked inside the lock: a rewind queued before this batch makes it stale.
          if (!isRunning() || isStale()) return;
          await this.#accept(batch.partition, batch.messages);
        });
        await heartbeat();
      },
    });
  }

  /** Stops the timer, closes what is open (so nothing waits for a restart) and disconnects. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#cancelRecovery();
    if (this.#timer) clearInterval(this.#timer);
    await this.#consumer.stop();
    await this.#exclusive(async () => {
      for (const partition of [...this.#open.keys()]) await this.#close(partition);
    }).catch((error: unknown) => this.#deps.log.error({ err: error }, 'closing open batches on stop failed; they will be re-read on restart'));
    await this.#consumer.disconnect();
    await this.#admin.disconnect();
  }

  /**
   * Forgets what is open for `partitions` and rewinds each to the first offset after its last
   * stored batch (or to the start of the log when none is stored). A new assignment passes
   * `everything` so partitions no longer ours are forgotten too.
   */
  async #resync(partitions: readonly number[], everything = false): Promise<void> {
    const { config, index } = this.#deps;
    const topic = config.kafka.topics.decisions;
    if (everything) {
      this.#open.clear();
      this.#lastBatched.clear();
    }
    for (const partition of partitions) this.#open.delete(partition);
    if (partitions.length === 0) return;
    const watermarks = await this.#admin.fetchTopicOffsets(topic);
    for (const partition of partitions) {
      const last = await index.lastBatchedOffset(topic, partition);
      this.#lastBatched.set(partition, last);
      const low = watermarks.find((w) => w.partition === partition)?.low ?? '0';
      const offset = last === null ? low : (last + 1n).toString();
      this.#consumer.seek({ topic, partition, offset });
    }
  }

  #exclusive(fn: () => Promise<void>): Promise<void> {
    const next = this.#serial.then(fn);
    this.#serial = next.catch(() => undefined);
    return next;
  }

  async #accept(partition: number, messages: KafkaMessage[]): Promise<void> {
    const { config, index } = this.#deps;
    if (!this.#lastBatched.has(partition)) {
      this.#lastBatched.set(partition, await index.lastBatchedOffset(config.kafka.topics.decisions, partition));
    }
    const stored = this.#lastBatched.get(partition) ?? null;
    for (const message of messages) {
      // Skip what is already stored, and anything delivered twice into the open batch.
      const offset = BigInt(message.offset);
      const openLast = this.#open.get(partition)?.items.at(-1)?.offset;
      if ((stored !== null && offset <= stored) || (openLast !== undefined && offset <= BigInt(openLast))) continue;
      invariant(message.value, `decisions record ${partition}/${message.offset} has no value`);
      const decision = decodeDecision(message.value);
      let open = this.#open.get(partition);
      if (!open) {
        open = { partition, openedAt: Date.now(), items: [] };
        this.#open.set(partition, open);
      }
      open.items.push({ decision, offset: message.offset });
      if (open.items.length >= config.anchor.batchMaxSize) await this.#close(partition);
    }
  }

  async #closeAged(): Promise<void> {
    const maxAge = this.#deps.config.anchor.batchMaxAgeMs;
    const now = Date.now();
    for (const [partition, open] of this.#open) {
      if (now - open.openedAt >= maxAge) await this.#close(partition);
    }
  }

  async #close(partition: number): Promise<void> {
    const open = this.#open.get(partition);
    if (!open || open.items.length === 0) return;
    const { config, index, recorded, jobs, log } = this.#deps;
    const topic = config.kafka.topics.decisions;
    const firstOffset = open.items[0]!.offset;
    const lastOffset = open.items.at(-1)!.offset;
    const id = computeBatchId({ topic, partition, firstOffset, lastOffset });
    // v1 and v2 records alike become v1 leaves (interim, until leaf v2: anchoring/interim-leaf.ts).
    const values = open.items.map(({ decision, offset }) => interimLeafValues(decision, { topic, partition, offset }));
    const tree = buildBatchTree(values);
    const indexed: IndexedDecision[] = open.items.map(({ decision, offset }, leafIndex) => ({
      ...decision,
      log: { topic, partition, offset },
      leaf: tree.leafHashes[leafIndex] ?? leafHash(values[leafIndex]!),
      batchId: id,
      leafIndex,
    }));
    try {
      await index.recordBatch({ batchId: id, topic, partition, firstOffset, lastOffset, leafCount: indexed.length, root: tree.root }, indexed, { hook: recorded });
    } catch (error) {
      if (!(error instanceof BatchOverlapError)) throw error;
      // Our view of the partition is stale (another batcher got there first): start over from
      // what is stored instead of writing a batch that shares log positions with another.
      log.warn({ err: error, partition }, 'batch overlaps a stored one; rewinding the partition');
      await this.#resync([partition]);
      return;
    }
    await jobs.enqueueBatch(id, indexed.find((d) => d.correlationId)?.correlationId);
    const flagged = indexed.filter((d) => d.outcome === 'flag').map((d) => d.decisionId);
    if (flagged.length > 0) await jobs.enqueueFlagged(id, flagged);
    await this.#consumer.commitOffsets([{ topic, partition, offset: (BigInt(lastOffset) + 1n).toString() }]);
    this.#open.delete(partition);
    this.#lastBatched.set(partition, BigInt(lastOffset));
    log.info({ batchId: id, partition, firstOffset, lastOffset, leafCount: indexed.length }, 'batch closed');
    this.#deps.onBatchClosed?.({ batchId: id, partition, leafCount: indexed.length });
  }
}
