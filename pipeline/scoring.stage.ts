import type { Kafka, Message } from 'kafkajs';
import { claimCommitment } from '../anchoring/core/commitment.ts';
import { secureRandomBytes } from '../core/secure-random.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { ClaimPayloadRepository, ClaimPayloadRow } from '../privacy/claim-payload.repository.ts';
import type { Claim } from '../domain/claim.schema.ts';
import { DECISION_FORMAT_V2, type DecisionV2 } from '../domain/decision.ts';
import { CORRELATION_HEADER, decisionIdFor, decisionIdV2, encodeDecision } from '../domain/decision-codec.ts';
import { decodeClaim, headerString, toDlqMessage } from '../ingest/claim-decoder.ts';
import { type StageBatch, type StageOutput, TransactionalStage } from '../infra/kafka/transactional-stage.ts';
import { metrics, secondsSince } from '../infra/metrics/registry.ts';
import type { Scorer, ScoreResult } from '../scoring/scorer.ts';
import type { ClaimAggregates } from '../scoring/aggregates.ts';
import { SHADOW_FORMAT, type ShadowRecord } from '../scoring/shadow.ts';

export interface ScoringStageDeps {
  kafka: Kafka;
  config: Readonly<Config>;
  scorer: Scorer;
  payloads: ClaimPayloadRepository;
  /**
   * This installation's id (`claimtrail_instance`, anchoring/instance.repository.ts): with
   * `config.scoringRunId` and the model hash it makes the decision ids (decisionIdV2).
   */
  instanceId: string;
  log: Logger;
  now?: () => Date;
  /**
   * Entity aggregates (Redis): read for each valid claim in order before it is added, keyed by
   * its decision id. The scorer takes these observations: the duplicate-claim rule for every
   * model, and the aggregate features when the model was trained with them. Not transactional
   * with Kafka: a batch replayed after a crash is observed again, but the per-decision-id record
   * makes the replay return the first answers without counting the claims twice.
   */
  aggregates: ClaimAggregates;
  /**
   * Challenger model scored in shadow on the same claims, features and aggregates (champion /
   * challenger): one `claimtrail-shadow-v1` record per decision goes to the shadow topic in the
   * same transaction. Never acted on. It gets the same observations as the champion (so the same
   * duplicate rule); its aggregate windows, when it has some, must be the store's.
   */
  challenger?: Scorer;
}

/** Value bytes per produce request of the scoring stage's transaction (see the constructor). */
export const DECISION_REQUEST_BYTES = 256 * 1024;

export interface ScoringStageCounters {
  decided: number;
  flagged: number;
  review: number;
  deadLettered: number;
  /** Decisions the challenger also scored, and those where its outcome differed. */
  shadowed: number;
  shadowDisagreements: number;
}

/**
 * Claims -> decisions, exactly once: decode and validate each claim (bad ones to the DLQ with
 * the reason), score the valid ones in one batch, store their payloads (claim and salt sealed
 * under the member's key), and produce `claimtrail-decision-v2` records (codes and contributions,
 * no salt, no text) plus DLQ copies in the transaction that commits the input offsets.
 */
export class ScoringStage {
  readonly counters: ScoringStageCounters = { decided: 0, flagged: 0, review: 0, deadLettered: 0, shadowed: 0, shadowDisagreements: 0 };
  readonly #deps: ScoringStageDeps;
  readonly #stage: TransactionalStage;
  /** What each partition's batch in flight adds to the metrics, counted once its transaction commits. */
  readonly #uncounted = new Map<number, { consumed: number; outcomes: Map<string, number>; dlq: Map<string, number> }>();

  constructor(deps: ScoringStageDeps) {
    this.#deps = deps;
    const { config } = deps;
    this.#stage = new TransactionalStage({
      kafka: deps.kafka,
      groupId: config.kafka.scoringGroupId,
      inputTopic: config.kafka.topics.claims,
      transactionalId: `${config.kafka.scoringGroupId}-${config.kafka.scoringInstanceId}`,
      partitionsConcurrently: config.kafka.scoringConcurrency,
      // One 1 MiB fetch of claims gives ~1 MiB of decisions, more than one record batch may hold
      // on the decisions topic (the broker's default max.message.bytes, 1 MiB): several produce
      // requests, one transaction.
      maxRequestBytes: DECISION_REQUEST_BYTES,
      log: deps.log,
      handle: (batch) => this.handle(batch),
      onCommitted: ({ partition }) => this.#count(partition),
    });
  }

  /** True while the stage's consumer is in its group (readiness). */
  get joined(): boolean {
    return this.#stage.joined;
  }

  /** Counts a committed batch: only what is visible downstream, so the counters equal the topics. */
  #count(partition: number): void {
    const tally = this.#uncounted.get(partition);
    if (!tally) return;
    this.#uncounted.delete(partition);
    metrics.claimsConsumed.inc(tally.consumed);
    for (const [outcome, n] of tally.outcomes) metrics.decisions.inc({ outcome }, n);
    for (const [reason, n] of tally.dlq) metrics.dlq.inc({ reason }, n);
  }

  start(): Promise<void> {
    return this.#stage.start();
  }

  /** Stops fetching claims (a backfill yielding to live claims: pipeline/backfill-gate.ts). */
  pause(): void {
    this.#stage.pause();
  }

  resume(): void {
    this.#stage.resume();
  }

  stop(): Promise<void> {
    return this.#stage.stop();
  }

  /**
   * Entity aggregates, then the champion's (and the challenger's) scores. Each claim's aggregates
   * are read (claims before it) and it is added, in order; the scorers take these observations for
   * their features and the duplicate rule. The event id is the input position (decision id v1),
   * not the decision id v2: a re-scoring run or another model over the same claims observes the
   * same events, so nothing is counted twice.
   */
  async #observeAndScore(batch: StageBatch, valid: ReadonlyArray<{ claim: Claim; offset: string }>): Promise<{ results: ScoreResult[]; shadow: ScoreResult[] | undefined }> {
    if (valid.length === 0) return { results: [], shadow: undefined };
    const { scorer, challenger } = this.#deps;
    const aggregateStarted = performance.now();
    const observed = await this.#deps.aggregates.observeBatch(valid.map((v) => ({ eventId: decisionIdFor(batch.topic, batch.partition, v.offset), claim: v.claim })));
    metrics.redisAggregateDuration.observe(secondsSince(aggregateStarted));
    const claims = valid.map((v) => v.claim);
    const scoreStarted = performance.now();
    const results = scorer.scoreBatch(claims, observed);
    const shadow = challenger ? challenger.scoreBatch(claims, observed) : undefined;
    metrics.stageDuration.observe({ stage: 'score' }, secondsSince(scoreStarted));
    return { results, shadow };
  }

  /** Pure-ish transform of one input batch (exposed for tests). */
  async handle(batch: StageBatch): Promise<StageOutput[]> {
    const { config, scorer, payloads } = this.#deps;
    const now = this.#deps.now ?? (() => new Date());
    const dlq: Message[] = [];
    const dlqReasons = new Map<string, number>();
    const decodeStarted = performance.now();
    const valid: Array<{ claim: Claim; bytes: Buffer; offset: string; correlationId: string | undefined }> = [];
    for (const message of batch.messages) {
      const decoded = decodeClaim(message.value, message.headers);
      if (decoded.ok) {
        valid.push({ claim: decoded.claim, bytes: decoded.bytes, offset: message.offset, correlationId: headerString(message.headers, CORRELATION_HEADER) });
      } else {
        dlq.push(toDlqMessage(message, { topic: batch.topic, partition: batch.partition, offset: message.offset }, decoded));
        dlqReasons.set(decoded.reason, (dlqReasons.get(decoded.reason) ?? 0) + 1);
      }
    }
    metrics.stageDuration.observe({ stage: 'decode' }, secondsSince(decodeStarted));

    const decidedAt = now().toISOString();
    const { instanceId } = this.#deps;
    const runId = config.scoringRunId;
    const ids = valid.map((v) => decisionIdV2({ instanceId, runId, modelHash: scorer.modelHash, topic: batch.topic, partition: batch.partition, offset: v.offset }));
    // Payloads first: a decision replayed after a crash commits with the salt its stored row
    // already holds (insertMany returns it), so record and sealed salt always agree. The COPY
    // needs nothing the scoring gives, so it runs while the aggregates are read and the batch is
    // scored; both are idempotent on replay (stored row / per-event record), and both are awaited
    // before anything is produced, so a failure of either retries the whole batch.
    const rows: ClaimPayloadRow[] = valid.map((v, i) => ({ decisionId: ids[i]!, claimId: v.claim.claimId, memberId: v.claim.memberId, providerNpi: v.claim.billingProviderNpi, claimBytes: v.bytes, claimType: v.claim.claimType, totalCharged: v.claim.totalCharged, salt: `0x${secureRandomBytes(32).toString('hex')}` }));
    const stored = payloads.insertMany(rows);
    const scored = this.#observeAndScore(batch, valid);
    const [storedResult, scoredResult] = await Promise.allSettled([stored, scored]);
    if (storedResult.status === 'rejected') throw storedResult.reason;
    if (scoredResult.status === 'rejected') throw scoredResult.reason;
    const salts = storedResult.value;
    const { results, shadow } = scoredResult.value;
    const challenger = this.#deps.challenger;
    const outcomes = new Map<string, number>();
    const decisions: Message[] = [];
    const shadowRecords: Message[] = [];
    let flagged = 0;
    let review = 0;
    valid.forEach((v, i) => {
      const result = results[i]!;
      const decisionId = ids[i]!;
      const decision: DecisionV2 = {
        format: DECISION_FORMAT_V2,
        instanceId,
        runId,
        decisionId,
        claimId: v.claim.claimId,
        score: result.score,
        components: result.components,
        outcome: result.outcome,
        reasons: result.reasons.map(({ code, contribution }) => ({ code, contribution })),
        modelHash: scorer.modelHash,
        decidedAt,
        input: { topic: batch.topic, partition: batch.partition, offset: v.offset },
        claimCommitment: claimCommitment(v.bytes, salts.get(decisionId)!),
        ...(v.correlationId ? { correlationId: v.correlationId } : {}),
      };
      outcomes.set(decision.outcome, (outcomes.get(decision.outcome) ?? 0) + 1);
      if (decision.outcome === 'flag') flagged++;
      else if (decision.outcome === 'review') review++;
      decisions.push({
        key: v.claim.claimId,
        value: encodeDecision(decision),
        headers: v.correlationId ? { [CORRELATION_HEADER]: v.correlationId } : {},
      });
      const s = shadow?.[i];
      if (s && challenger) {
        const record: ShadowRecord = {
          format: SHADOW_FORMAT,
          decisionId,
          claimId: v.claim.claimId,
          scoredAt: decidedAt,
          champion: { modelHash: scorer.modelHash, score: result.score, outcome: result.outcome },
          challenger: { modelHash: challenger.modelHash, score: s.score, components: s.components, outcome: s.outcome, reasonCodes: s.reasons.map((r) => r.code) },
        };
        if (s.outcome !== result.outcome) this.counters.shadowDisagreements++;
        shadowRecords.push({ key: v.claim.claimId, value: JSON.stringify(record) });
      }
    });
    this.counters.decided += decisions.length;
    this.counters.flagged += flagged;
    this.counters.review += review;
    this.counters.deadLettered += dlq.length;
    this.counters.shadowed += shadowRecords.length;
    this.#uncounted.set(batch.partition, { consumed: batch.messages.length, outcomes, dlq: dlqReasons });
    return [
      { topic: config.kafka.topics.decisions, messages: decisions },
      { topic: config.kafka.topics.dlq, messages: dlq },
      ...(shadowRecords.length > 0 ? [{ topic: config.kafka.topics.shadow, messages: shadowRecords }] : []),
    ];
  }
}
