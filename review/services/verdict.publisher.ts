import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from '../../core/logger.ts';
import type { CaseRepository, Disposition, DispositionRecord } from '../repositories/case.repository.ts';

/**
 * A verdict as produced to the verdicts topic (key: claim id). `label` is the training label a
 * disposition implies: 1 confirmed fraud, 0 false positive, null when it settles nothing.
 * No claim field is in it, only ids.
 */
export interface Verdict {
  format: 'claimtrail-verdict-v1';
  dispositionId: string;
  caseId: string;
  decisionId: string;
  claimId: string;
  disposition: Disposition;
  label: 0 | 1 | null;
  investigator: string;
  decidedAt: string;
}

export function toVerdict(d: DispositionRecord): Verdict {
  return {
    format: 'claimtrail-verdict-v1',
    dispositionId: d.dispositionId,
    caseId: d.caseId,
    decisionId: d.decisionId,
    claimId: d.claimId,
    disposition: d.disposition,
    label: d.disposition === 'confirmed_fraud' ? 1 : d.disposition === 'false_positive' ? 0 : null,
    investigator: d.userName,
    decidedAt: d.createdAt,
  };
}

/** Where verdicts go. */
export interface VerdictSink {
  send(verdicts: readonly Verdict[]): Promise<void>;
}

/** Kafka sink: an idempotent producer, acks from all replicas; the topic is created when missing. */
export class KafkaVerdictSink implements VerdictSink {
  readonly #kafka: Kafka;
  readonly #topic: string;
  #producer: Producer | null = null;

  constructor(kafka: Kafka, topic: string) {
    this.#kafka = kafka;
    this.#topic = topic;
  }

  async connect(): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(this.#topic)) {
        await admin.createTopics({ topics: [{ topic: this.#topic, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }], waitForLeaders: true });
      }
    } finally {
      await admin.disconnect();
    }
    this.#producer = this.#kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await this.#producer.connect();
  }

  async send(verdicts: readonly Verdict[]): Promise<void> {
    if (!this.#producer) throw new Error('KafkaVerdictSink.send before connect');
    await this.#producer.send({ topic: this.#topic, acks: -1, messages: verdicts.map((v) => ({ key: v.claimId, value: JSON.stringify(v) })) });
  }

  async disconnect(): Promise<void> {
    await this.#producer?.disconnect();
    this.#producer = null;
  }
}

/**
 * Moves dispositions to the verdicts topic: a transactional outbox. A disposition row is
 * committed first (with its case change and audit entry); `flush` then sends every unpublished
 * row and marks it published. A crash in between re-sends on the next flush, so delivery is at
 * least once and consumers dedupe on `dispositionId`.
 */
export class VerdictPublisher {
  readonly #cases: CaseRepository;
  readonly #sink: VerdictSink;
  readonly #log: Logger;
  #running: Promise<number> | null = null;
  #again = false;

  constructor(cases: CaseRepository, sink: VerdictSink, log: Logger) {
    this.#cases = cases;
    this.#sink = sink;
    this.#log = log;
  }

  /** Sends everything unpublished; returns how many verdicts were sent. One flush at a time. */
  flush(): Promise<number> {
    if (this.#running) {
      // A flush is under way and may have read the outbox already: make it drain once more.
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#flush().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Like flush, but failures are logged (the rows stay unpublished for the next flush). */
  flushInBackground(): void {
    this.flush().catch((error: unknown) => this.#log.error({ err: error }, 'publishing verdicts failed; they stay in the outbox'));
  }

  async #flush(): Promise<number> {
    let sent = 0;
    do {
      this.#again = false;
      for (;;) {
        const pending = await this.#cases.unpublishedDispositions(500);
        if (pending.length === 0) break;
        await this.#sink.send(pending.map(toVerdict));
        await this.#cases.markPublished(pending.map((d) => d.dispositionId));
        sent += pending.length;
      }
    } while (this.#again);
    return sent;
  }
}
