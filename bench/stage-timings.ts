import { InstanceRepository } from '../anchoring/instance.repository.ts';
import { newSalt } from '../anchoring/core/commitment.ts';
import { decodeDecision } from '../domain/decision-codec.ts';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { ClaimPayloadRepository } from '../privacy/claim-payload.repository.ts';
import { openMemberKeys } from '../privacy/master-key.ts';
import { CaseOpeningService } from '../review/services/case-opening.service.ts';
import { devAggregateKeySource, devMasterKeySource } from '../cli/dev-sources.ts';
import { DecisionIndexRepository, type IndexedDecision } from '../anchoring/decision-index.repository.ts';
import { migrate } from '../infra/db/migrate.ts';
import { createPool } from '../infra/db/pool.ts';
import { decodeClaim } from '../ingest/claim-decoder.ts';
import { ensureTopics } from '../infra/kafka/kafka.ts';
import { buildBatch } from '../pipeline/batching.stage.ts';
import { ScoringStage } from '../pipeline/scoring.stage.ts';
import { DEFAULT_AGGREGATE_SPEC, offlineObservations, RedisClaimAggregates } from '../scoring/aggregates.ts';
import type { Scorer } from '../scoring/scorer.ts';
import { createRedis } from '../infra/redis.ts';
import { metrics } from '../infra/metrics/registry.ts';
import type { EncodedClaim } from './claims-feed.ts';
import { percentiles, retryWhileMigrating } from './support.ts';

/** Median wall milliseconds of each step of one batch, run outside Kafka's consumer loop. */
export interface StageTimings {
  batchSize: number;
  rounds: number;
  /** ScoringStage.handle as a whole: decode + entity aggregates in Redis + score + decision build + PG payload insert. */
  handleMs: number;
  /** The entity-aggregate round trip inside handle (one Lua script call per run of 256 claims, pipelined), from the stage's own histogram. */
  aggregatesMs: number;
  decodeMs: number;
  scoreMs: number;
  payloadInsertMs: number;
  /** One Kafka transaction like TransactionalStage's: sendBatch of the decisions + sendOffsets + commit. */
  transactionMs: number;
  /** Batching stage close: leaf tuples + Merkle tree + PostgreSQL recordBatch of the batch (opening its review cases, as in the pipeline). */
  batchCloseMs: number;
}

/**
 * Per-stage wall timings of one input batch, with the pipeline's own classes (ScoringStage.handle
 * is public for tests; the transaction mirrors infra/kafka/transactional-stage.ts), so the report can
 * say where a batch's time goes without hooks in pipeline code. `config` must be a bench config
 * (own topics and schema); the caller cleans it up.
 */
export async function stageTimings(kafka: Kafka, config: Readonly<Config>, scorer: Scorer, claims: readonly EncodedClaim[], batchSize: number, rounds: number, log: Logger): Promise<StageTimings> {
  await ensureTopics(kafka, config);
  await retryWhileMigrating('stage timings', () => migrate(config.database.url, config.database.schema));
  const pool = createPool(config.database.url, config.database.schema);
  const producer = kafka.producer({ transactionalId: `${config.kafka.scoringInstanceId}-timings`, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const payloads = new ClaimPayloadRepository(pool, await openMemberKeys(pool, devMasterKeySource(config), log));
  const index = new DecisionIndexRepository(pool);
  const caseOpener = new CaseOpeningService();
  // The stage observes entity aggregates in the real Redis (a fresh prefix per run), as in the
  // pipeline; the bare scoreBatch step gets the same values precomputed offline.
  const redis = createRedis(config.redisUrl);
  const aggregates = new RedisClaimAggregates(redis, { prefix: `claimtrail:agg:${config.kafka.scoringGroupId}:timings-${Date.now()}`, spec: { ...DEFAULT_AGGREGATE_SPEC, ...(scorer.aggregates ?? {}) }, fingerprintKey: devAggregateKeySource(config).aggregateKey(log) });
  const stage = new ScoringStage({ kafka, config, scorer, payloads, instanceId: await new InstanceRepository(pool).instanceId(), log, aggregates });
  const steps: Record<Exclude<keyof StageTimings, 'batchSize' | 'rounds'>, number[]> = { handleMs: [], aggregatesMs: [], decodeMs: [], scoreMs: [], payloadInsertMs: [], transactionMs: [], batchCloseMs: [] };
  const aggregateSeconds = async () => (await metrics.redisAggregateDuration.get()).values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  const time = async <T>(into: number[], fn: () => Promise<T> | T): Promise<T> => {
    const t = performance.now();
    const out = await fn();
    into.push(performance.now() - t);
    return out;
  };
  try {
    for (let round = 0; round < rounds; round++) {
      const base = round * batchSize;
      const slice = Array.from({ length: batchSize }, (_, i) => claims[(base + i) % claims.length]!);
      // Offsets unique per round: decision ids (and payload rows) never collide.
      const messages = slice.map((c, i) => ({ key: Buffer.from(c.key), value: c.value, offset: String(base + i), headers: {}, timestamp: String(Date.now()), attributes: 0 }) as KafkaMessage);
      const decoded = await time(steps.decodeMs, () => slice.map((c) => decodeClaim(c.value)));
      const valid = decoded.flatMap((d) => (d.ok ? [d.claim] : []));
      const observed = offlineObservations(valid, scorer.aggregates);
      await time(steps.scoreMs, () => scorer.scoreBatch(valid, observed));
      await time(steps.payloadInsertMs, () =>
        payloads.insertMany(valid.map((c, i) => ({ decisionId: `0x${(1e12 + base + i).toString(16).padStart(64, '0')}`, claimId: c.claimId, memberId: c.memberId, providerNpi: c.billingProviderNpi, claimBytes: slice[i]!.value, claimType: c.claimType, totalCharged: c.totalCharged, salt: newSalt() }))),
      );
      const aggregatesBefore = await aggregateSeconds();
      const outputs = await time(steps.handleMs, () => stage.handle({ topic: config.kafka.topics.claims, partition: 0, messages }));
      steps.aggregatesMs.push(((await aggregateSeconds()) - aggregatesBefore) * 1000);
      await time(steps.transactionMs, async () => {
        const transaction = await producer.transaction();
        try {
          await transaction.sendBatch({ topicMessages: outputs.filter((o) => o.messages.length > 0), acks: -1 });
          await transaction.sendOffsets({ consumerGroupId: config.kafka.scoringGroupId, topics: [{ topic: config.kafka.topics.claims, partitions: [{ partition: 0, offset: String(base + batchSize) }] }] });
          await transaction.commit();
        } catch (error) {
          await transaction.abort();
          throw error;
        }
      });
      const decisions = outputs[0]!.messages.map((m) => decodeDecision(m.value as Buffer));
      await time(steps.batchCloseMs, async () => {
        const topic = config.kafka.topics.decisions;
        const partition = 0;
        const offsets = decisions.map((_, i) => String(base + i));
        // The batching stage's own builder: v2 leaves, batch id and tree, as production closes a batch.
        const built = buildBatch(decisions.map((decision, i) => ({ decision, offset: offsets[i]! })), topic, partition);
        const indexed: IndexedDecision[] = decisions.map((d, i) => ({ ...d, log: { topic, partition, offset: offsets[i]! }, leaf: built.leaves[i]!, batchId: built.batchId, leafIndex: i, leafEncoding: built.encoding }));
        await index.recordBatch({ batchId: built.batchId, topic, partition, firstOffset: offsets[0]!, lastOffset: offsets.at(-1)!, leafCount: indexed.length, root: built.root, leafEncoding: built.encoding }, indexed, { hook: caseOpener });
      });
    }
  } finally {
    await producer.disconnect();
    await pool.end();
    redis.disconnect();
  }
  const median = (xs: number[]) => percentiles(xs).p50;
  return {
    batchSize,
    rounds,
    handleMs: median(steps.handleMs),
    aggregatesMs: median(steps.aggregatesMs),
    decodeMs: median(steps.decodeMs),
    scoreMs: median(steps.scoreMs),
    payloadInsertMs: median(steps.payloadInsertMs),
    transactionMs: median(steps.transactionMs),
    batchCloseMs: median(steps.batchCloseMs),
  };
}
