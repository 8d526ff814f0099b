import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import type { ErrorCode } from '../core/error-codes.ts';
import type { Logger } from '../core/logger.ts';
import { withTransaction } from '../infra/db/transaction.ts';
import { type StageBatch, type StageOutput, TransactionalStage } from '../infra/kafka/transactional-stage.ts';
import { metrics } from '../infra/metrics/registry.ts';
import { DLQ_HEADERS } from '../ingest/claim-decoder.ts';
import { type AccessEvent, decodeAccessEvent } from './access-event.ts';
import type { AccessRecordRepository } from './access-record.repository.ts';
import { explainAccess, isPhiAccess } from './explanations.ts';
import type { UserDirectory } from './user-directory.ts';

/** Why the monitor dead-letters an access event (registered in core/error-codes.ts). */
export type AccessDlqReason = Extract<ErrorCode, `ACCESS_EVENT_${string}`>;

export interface AccessMonitorOptions {
  kafka: Kafka;
  pool: Pool;
  records: AccessRecordRepository;
  users: UserDirectory;
  /** The audit log this monitor watches (review_instance id of its database): events of another are dead-lettered. */
  source: string;
  accessTopic: string;
  dlqTopic: string;
  groupId: string;
  /** Stable per process: `<group>-<instance>`. */
  transactionalId: string;
  /** Events stamped further ahead of `now()` than this are dead-lettered (seconds). */
  maxClockSkewSeconds: number;
  log: Logger;
  /** The monitor's clock (tests pin it). Default: the system clock. */
  now?: () => Date;
}

type Outcome = { dlq: AccessDlqReason; errors: Array<{ path: string; message: string }> } | { recorded: 'explained' | 'unexplained' | 'not_phi' | 'duplicate' };

/**
 * The monitor role: consumes access-events, explains each access from the work context
 * (explanations.ts) and records it in `access_records`. Bad events (malformed, from another audit
 * log, of an unknown user or role, stamped ahead of the clock) go to the DLQ with the reason in
 * `x-dlq-reason`; the monitor never stops on them. Records commit in PostgreSQL first (one
 * transaction per fetched batch; a redelivered event is recognised by its (source, audit id) and
 * left alone), then the DLQ copies and the input offsets in one Kafka transaction
 * (TransactionalStage): each event is recorded or dead-lettered exactly once.
 */
export class AccessMonitorStage {
  readonly #o: AccessMonitorOptions;
  readonly #stage: TransactionalStage;

  constructor(options: AccessMonitorOptions) {
    this.#o = options;
    this.#stage = new TransactionalStage({
      kafka: options.kafka,
      groupId: options.groupId,
      inputTopic: options.accessTopic,
      transactionalId: options.transactionalId,
      log: options.log,
      handle: (batch) => this.handle(batch),
    });
  }

  get joined(): boolean {
    return this.#stage.joined;
  }

  start(): Promise<void> {
    return this.#stage.start();
  }

  stop(): Promise<void> {
    return this.#stage.stop();
  }

  /** One fetched batch: records in PostgreSQL, dead letters returned for the Kafka transaction. */
  async handle(batch: StageBatch): Promise<StageOutput[]> {
    const dead: StageOutput = { topic: this.#o.dlqTopic, messages: [] };
    const outcomes = await withTransaction(this.#o.pool, async (db) => {
      const out: Outcome[] = [];
      for (const message of batch.messages) out.push(await this.#process(message, db));
      return out;
    });
    const failedAt = (this.#o.now?.() ?? new Date()).toISOString();
    outcomes.forEach((outcome, i) => {
      const message = batch.messages[i]!;
      if ('dlq' in outcome) {
        metrics.accessDlq.inc({ reason: outcome.dlq });
        this.#o.log.warn({ reason: outcome.dlq, partition: batch.partition, offset: message.offset }, 'access event dead-lettered');
        dead.messages.push({ key: message.key, value: message.value, headers: dlqHeaders(message.headers, outcome, { topic: batch.topic, partition: batch.partition, offset: message.offset }, failedAt) });
      } else if (outcome.recorded !== 'duplicate') {
        metrics.accessEvents.inc({ outcome: outcome.recorded });
      }
    });
    return dead.messages.length > 0 ? [dead] : [];
  }

  async #process(message: KafkaMessage, db: PoolClient): Promise<Outcome> {
    const decoded = decodeAccessEvent(message.value);
    if (!decoded.ok) return { dlq: 'ACCESS_EVENT_MALFORMED', errors: decoded.errors };
    const event = decoded.event;
    if (event.source !== this.#o.source) return { dlq: 'ACCESS_EVENT_UNKNOWN_SOURCE', errors: [{ path: 'source', message: 'not the audit log of this monitor\'s database' }] };
    const now = (this.#o.now?.() ?? new Date()).getTime();
    const ahead = (Date.parse(event.at) - now) / 1000;
    if (ahead > this.#o.maxClockSkewSeconds) return { dlq: 'ACCESS_EVENT_CLOCK_SKEW', errors: [{ path: 'at', message: `${Math.round(ahead)} s ahead of the monitor's clock (at most ${this.#o.maxClockSkewSeconds} s)` }] };
    let userId: string | null = null;
    if (event.user !== null) {
      const user = await this.#o.users.lookup(event.user);
      if (!user) return { dlq: 'ACCESS_EVENT_UNKNOWN_USER', errors: [{ path: 'user', message: 'no review user has this pseudonym' }] };
      if (user.role !== event.role) return { dlq: 'ACCESS_EVENT_ROLE_MISMATCH', errors: [{ path: 'role', message: `the event says ${event.role}, the user is ${user.role}` }] };
      userId = user.userId;
    }
    if (await this.#o.records.has(event.source, event.auditId, db)) return { recorded: 'duplicate' };
    const c = event.case;
    const context = userId === null
      ? { queuesWorked: new Set<string>(), escalatedByUser: false, drillDownFrom: false }
      : await this.#o.records.context(userId, event.at, c && { id: c.id, member: c.member, provider: c.provider }, db);
    const explanation = explainAccess(event, context);
    const phi = isPhiAccess(event);
    await this.#o.records.insert({
      source: event.source,
      auditId: event.auditId,
      at: event.at,
      userId,
      role: event.role,
      action: event.action,
      phi,
      caseId: c?.id ?? null,
      caseQueue: c?.queue ?? null,
      member: c?.member ?? null,
      provider: c?.provider ?? null,
      ip: event.ip,
      explanation,
      detail: event.detail,
    }, db);
    if (userId !== null) await this.#workContext(event, userId, db);
    return { recorded: !phi ? 'not_phi' : explanation === null ? 'unexplained' : 'explained' };
  }

  /** What the event tells about the user's work: the queue a take came from, an escalation. */
  async #workContext(event: AccessEvent, userId: string, db: PoolClient): Promise<void> {
    if (event.action === 'case.take') {
      const queue = event.detail.queue ?? event.case?.queue ?? null;
      if (queue) await this.#o.records.workedQueue(userId, queue, event.at, db);
    }
    if (event.action === 'case.dispose' && event.detail.disposition === 'escalated' && event.case) await this.#o.records.escalated(userId, event.case.id, event.at, db);
  }
}

function dlqHeaders(original: IHeaders | undefined, outcome: { dlq: AccessDlqReason; errors: Array<{ path: string; message: string }> }, source: { topic: string; partition: number; offset: string }, failedAt: string): IHeaders {
  return {
    ...(original ?? {}),
    [DLQ_HEADERS.reason]: outcome.dlq,
    [DLQ_HEADERS.errors]: JSON.stringify(outcome.errors.slice(0, 20)),
    [DLQ_HEADERS.sourceTopic]: source.topic,
    [DLQ_HEADERS.sourcePartition]: String(source.partition),
    [DLQ_HEADERS.sourceOffset]: source.offset,
    [DLQ_HEADERS.failedAt]: failedAt,
  };
}
