import { decodeDecision } from '../domain/decision-codec.ts';
import type { Admin, Consumer, ConsumerGroupJoinEvent, Kafka, KafkaMessage } from 'kafkajs';
import type { Config } from '../core/config.ts';
import { invariant } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import {
  BatchOverlapError, LEAF_V1, LEAF_V2, type DecisionIndexRepository, type DecisionsRecordedHook, type IndexedDecision, type LeafEncoding,
} from '../anchoring/decision-index.repository.ts';
import { isDecisionV2, type Decision, type LogPosition } from '../domain/decision.ts';
import { batchId as computeBatchId } from '../anchoring/core/batch.ts';
import { assertBatchLeavesV2, buildBatchTreeV2 } from '../anchoring/core/batch-v2.ts';
import { batchIdV2 } from '../anchoring/core/ids-v2.ts';
import { interimLeafValues } from '../anchoring/interim-leaf.ts';
import { buildBatchTree } from '../anchoring/core/merkle.ts';
import { decisionLeafValuesV2 } from '../anchoring/decision-leaf.ts';
import type { AnchorJobSink } from '../workers/anchor.queue.ts';
import { restartOnUnrecoveredCrash } from '../infra/kafka/consumer-recovery.ts';
import type { LogIdentityRepository } from '../anchoring/log-identity.repository.ts';
import { checkLogIdentity } from './log-identity.ts';
import { metrics, secondsSince } from '../infra/metrics/registry.ts';


export interface BatchingStageDeps {
  kafka: Kafka;
  config: Readonly<Config>;
  index: DecisionIndexRepository;
  /** The Kafka log identity this schema's batches belong to, checked before subscribing (pipeline/log-identity.ts). */
  identity: LogIdentityRepository;
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
  /** What every item shares: {@link encodingKey}. */
  key: string;
  items: Array<{ decision: Decision; offset: string }>;
}

/**
 * What one batch's records must share: the leaf encoding, and for v2 the installation (a v2
 * batch id and every v2 leaf bind one instanceId). v1 records (left on the topic from before
 * the upgrade) keep v1 leaves; v2 records get v2 leaves.
 */
function encodingKey(decision: Decision): string {
  return isDecisionV2(decision) ? `${LEAF_V2}:${decision.instanceId}` : LEAF_V1;
}

/** A closed batch's id, root and leaf hashes under its encoding (exported for the bench's stage timings). */
export function buildBatch(items: ReadonlyArray<{ decision: Decision; offset: string }>, topic: string, partition: number): { encoding: LeafEncoding; batchId: string; root: string; leaves: readonly string[] } {
  const firstOffset = items[0]!.offset;
  const lastOffset = items.at(-1)!.offset;
  const log = (offset: string): LogPosition => ({ topic, partition, offset });
  const first = items[0]!.decision;
  if (isDecisionV2(first)) {
    const values = items.map(({ decision, offset }) => {
      invariant(isDecisionV2(decision), 'a v2 batch holds v2 records only');
      return decisionLeafValuesV2(decision, log(offset));
    });
    const range = { topic, partition, firstOffset, lastOffset };
    assertBatchLeavesV2(first.instanceId, range, values);
    const tree = buildBatchTreeV2(values);
    return { encoding: LEAF_V2, batchId: batchIdV2(first.instanceId, topic, partition, firstOffset, lastOffset), root: tree.root, leaves: tree.leafHashes };
  }
  const values = items.map(({ decision, offset }) => interimLeafValues(decision, log(offset)));
  const tree = buildBatchTree(values);
  return { encoding: LEAF_V1, batchId: computeBatchId({ topic, partition, firstOffset, lastOffset }), root: tree.root, leaves: tree.leafHashes };
}

/**
 * Decisions -> Merkle batches. Reads the `decisions` topic (read_committed) and cuts each
 * partition into contiguous offset ranges, closed by size (BATCH_MAX_SIZE), age
 * (BATCH_MAX_AGE_MS), or a change of leaf encoding: v2 records become `claimtrail-leaf-v2`
 * leaves under batch id v2, v1 records (left from before the upgrade) keep v1 leaves and ids,
 * and a batch never mixes the two. A closed batch is written to PostgreSQL with all its decisions (and what
 * the `recorded` hook writes for them, e.g. review cases) in one transaction, handed to the anchor queue (v2: the epoch and flagged jobs; v1: job id = batch id), and only then are the Kafka
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
  #joined = false;
  #cancelRecovery: () => void = () => undefined;

  constructor(deps: BatchingStageDeps) {
    this.#deps = deps;
    this.#consumer = deps.kafka.consumer({ groupId: deps.config.kafka.batchingGroupId, readUncommitted: false, maxBytesPerPartition: 4 * 1024 * 1024 });
    this.#admin = deps.kafka.admin();
  }

  /** True while the stage's consumer is in its group (readiness). */
  get joined(): boolean {
    return this.#joined;
  }

  async start(): Promise<void> {
    const { config } = this.#deps;
    await this.#admin.connect();
    // Another cluster or a recreated topic would make every stored offset wrong: refuse before subscribing.
    try {
      await checkLogIdentity({ kafka: this.#deps.kafka, admin: this.#admin, identity: this.#deps.identity, topic: config.kafka.topics.decisions, log: this.#deps.log });
    } catch (error) {
      await this.#admin.disconnect();
      throw error;
    }
    await this.#consumer.connect();
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, (event: ConsumerGroupJoinEvent) => {
      this.#joined = true;
      const partitions = event.payload.memberAssignment[config.kafka.topics.decisions] ?? [];
      void this.#exclusive(() => this.#resync(partitions, true)).catch((error: unknown) => this.#deps.log.error({ err: error }, 'rewinding partitions failed'));
    });
    for (const event of [this.#consumer.events.CRASH, this.#consumer.events.STOP, this.#consumer.events.DISCONNECT]) this.#consumer.on(event, () => { this.#joined = false; });
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
      const key = encodingKey(decision);
      let open = this.#open.get(partition);
      // A batch never mixes encodings (or installations): the record that changes them closes it.
      if (open && open.key !== key) {
        await this.#close(partition);
        open = this.#open.get(partition);
      }
      if (!open) {
        open = { partition, openedAt: Date.now(), key, items: [] };
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
    const started = performance.now();
    const topic = config.kafka.topics.decisions;
    const firstOffset = open.items[0]!.offset;
    const lastOffset = open.items.at(-1)!.offset;
    const { encoding, batchId: id, root, leaves } = buildBatch(open.items, topic, partition);
    const indexed: IndexedDecision[] = open.items.map(({ decision, offset }, leafIndex) => ({
      ...decision,
      log: { topic, partition, offset },
      leaf: leaves[leafIndex]!,
      batchId: id,
      leafIndex,
      leafEncoding: encoding,
    }));
    try {
      await index.recordBatch({ batchId: id, topic, partition, firstOffset, lastOffset, leafCount: indexed.length, root, leafEncoding: encoding }, indexed, { hook: recorded });
    } catch (error) {
      if (!(error instanceof BatchOverlapError)) throw error;
      // Our view of the partition is stale (another batcher got there first): start over from
      // what is stored instead of writing a batch that shares log positions with another.
      log.warn({ err: error, partition }, 'batch overlaps a stored one; rewinding the partition');
      await this.#resync([partition]);
      return;
    }
    const correlationId = indexed.find((d) => d.correlationId)?.correlationId;
    const flagged = indexed.filter((d) => d.outcome === 'flag').map((d) => d.decisionId);
    if (encoding === LEAF_V2) {
      // v2: one epoch job and one flagged job, each taking everything pending (workers/anchor.queue.ts).
      await jobs.enqueueEpoch(correlationId);
      if (flagged.length > 0) await jobs.enqueueFlaggedRoot(correlationId);
    } else {
      // v1 leaves (rare: records from before the upgrade) go to the v1 contract, as before.
      await jobs.enqueueBatch(id, correlationId);
      if (flagged.length > 0) await jobs.enqueueFlagged(id, flagged);
    }
    await this.#consumer.commitOffsets([{ topic, partition, offset: (BigInt(lastOffset) + 1n).toString() }]);
    this.#open.delete(partition);
    this.#lastBatched.set(partition, BigInt(lastOffset));
    metrics.stageDuration.observe({ stage: 'batch_close' }, secondsSince(started));
    metrics.batchSize.observe(indexed.length);
    metrics.batchAge.observe((Date.now() - open.openedAt) / 1000);
    log.info({ batchId: id, partition, firstOffset, lastOffset, leafCount: indexed.length, leafEncoding: encoding }, 'batch closed');
    this.#deps.onBatchClosed?.({ batchId: id, partition, leafCount: indexed.length });
  }
}
