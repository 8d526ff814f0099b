import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import type { AccessPseudonyms } from '../review/audit/access-pseudonyms.ts';
import { ACCESS_EVENT_FORMAT, type AccessEvent, encodeAccessEvent } from './access-event.ts';
import type { AccessOutboxRepository, OutboxEntry } from './access-outbox.repository.ts';

export interface AccessRelayOptions {
  kafka: Kafka;
  outbox: AccessOutboxRepository;
  pseudonyms: AccessPseudonyms;
  /** The access-events topic. */
  topic: string;
  log: Logger;
  /** Milliseconds between sweeps of the outbox. Default 1000. */
  pollMs?: number;
  /** Entries published per transaction. Default 500. */
  batchSize?: number;
}

const CASE_STATUSES = new Set(['open', 'assigned', 'snoozed', 'escalated', 'closed']);

/**
 * The CLI operator's entries (`cli`, `cli:<os user>`) and the monitor's own (`monitor:...`): system
 * actors, not review users. Their
 * user id, when set, is the user the command concerns (`review user create` records the new
 * user's id), so it must not be taken for the actor.
 */
function isSystemActor(entry: Pick<OutboxEntry, 'userName' | 'action'>): boolean {
  // `cli:` and `monitor:` cannot be review user names (no colon allowed); a plain `cli` can, so it
  // counts as the operator only on the one entry the CLI writes under it.
  return entry.userName.startsWith('cli:') || entry.userName.startsWith('monitor:') || (entry.userName === 'cli' && entry.action === 'user.create');
}

/**
 * Builds the access event of one outbox entry: every person and address as a keyed pseudonym,
 * no claim field, no user name, no free text.
 */
export function toAccessEvent(entry: OutboxEntry, source: string, pseudonyms: AccessPseudonyms): AccessEvent {
  const d = entry.details;
  const detail: AccessEvent['detail'] = {};
  if (typeof d.disposition === 'string') detail.disposition = d.disposition;
  if (entry.action === 'case.take') detail.queue = typeof d.queue === 'string' ? d.queue : null;
  if (Array.isArray(d.returned)) detail.returned = d.returned.length;
  // A case list filtered by member id or NPI (searched through their keyed hashes): whether, never what.
  const filter = d.filter;
  if (filter !== null && typeof filter === 'object' && ('memberHmac' in filter || 'providerHmac' in filter)) detail.identifierSearch = true;
  return {
    format: ACCESS_EVENT_FORMAT,
    source,
    auditId: entry.auditId,
    at: entry.at,
    user: isSystemActor(entry) ? null : pseudonyms.maybe('user', entry.userId),
    role: entry.role as AccessEvent['role'],
    action: entry.action,
    targetType: entry.targetType,
    case: entry.caseId === null
      ? null
      : {
          id: entry.caseId,
          queue: entry.caseQueue,
          assignee: pseudonyms.maybe('user', entry.caseAssigneeId),
          status: entry.caseStatus !== null && CASE_STATUSES.has(entry.caseStatus) ? (entry.caseStatus as NonNullable<AccessEvent['case']>['status']) : null,
          member: pseudonyms.maybe('member', entry.memberId),
          provider: pseudonyms.maybe('provider', entry.providerNpi),
        },
    ip: pseudonyms.maybe('ip', entry.ip),
    detail,
  };
}

/**
 * Publishes the access-events outbox to Kafka, in audit id order, one relay at a time (PostgreSQL
 * advisory lock). Each sweep reads a batch, produces it (idempotent producer, acks from all
 * replicas, key = the user's pseudonym so one user's events keep their order in one partition)
 * and marks it published in the same PostgreSQL transaction. A crash after the produce and before
 * the commit publishes those events again: delivery is at least once, and every consumer dedupes
 * on (`source`, `auditId`), which the monitor's tables enforce as a primary key.
 */
export class AccessRelay {
  readonly #o: Required<AccessRelayOptions>;
  #producer: Producer | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;

  constructor(options: AccessRelayOptions) {
    this.#o = { pollMs: 1000, batchSize: 500, ...options };
  }

  async start(): Promise<void> {
    // The idempotent producer retries until the broker answers (a bounded count could resend under
    // a new sequence number): while Kafka is away the relay stalls and the rows wait in the outbox.
    this.#producer = this.#o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 10_000 } });
    await this.#producer.connect();
    const tick = () => {
      this.#timer = setTimeout(() => {
        this.flush()
          .catch((error: unknown) => this.#o.log.error({ err: error }, 'relaying access events failed; they stay in the outbox'))
          .finally(() => {
            if (this.#timer) tick();
          });
      }, this.#o.pollMs);
    };
    tick();
  }

  /** Publishes everything unpublished now; returns how many events were sent. One flush at a time. */
  flush(): Promise<number> {
    this.#running ??= this.#flush().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #flush(): Promise<number> {
    const producer = this.#producer;
    if (!producer) throw new Error('AccessRelay.flush before start');
    const source = await this.#o.outbox.source();
    let sent = 0;
    for (;;) {
      const n = await this.#o.outbox.underRelayLock(async (db) => {
        const entries = await this.#o.outbox.unpublished(this.#o.batchSize, db);
        if (entries.length === 0) return 0;
        const messages = entries.map((e) => {
          const event = toAccessEvent(e, source, this.#o.pseudonyms);
          return { key: event.user ?? 'system', value: encodeAccessEvent(event) };
        });
        await producer.send({ topic: this.#o.topic, acks: -1, messages });
        await this.#o.outbox.markPublished(entries.map((e) => e.auditId), db);
        return entries.length;
      });
      // null: another relay holds the lock and publishes.
      if (!n) return sent;
      sent += n;
      if (n < this.#o.batchSize) return sent;
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
    await this.#producer?.disconnect();
    this.#producer = null;
  }
}
