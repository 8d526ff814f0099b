import type { Kafka, Message } from 'kafkajs';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { CORRELATION_HEADER } from '../domain/decision-codec.ts';
import { CONTENT_TYPE_HEADER, DLQ_HEADERS, headerString } from '../ingest/claim-decoder.ts';
import { SOURCE_NAME_HEADER, interchangeMessages } from '../ingest/insurer-files.ts';
import { MAX_REQUEST_CLAIM_BYTES } from '../ingest/claims.producer.ts';
import { INTERCHANGES_TOPIC_MAX_MESSAGE_BYTES } from '../infra/kafka/kafka.ts';
import { type StageBatch, type StageOutput, TransactionalStage } from '../infra/kafka/transactional-stage.ts';

export interface IngestStageDeps {
  kafka: Kafka;
  config: Readonly<Config>;
  log: Logger;
  now?: () => Date;
}

export interface IngestStageCounters {
  /** Interchange (file) messages consumed. */
  interchanges: number;
  /** Claim messages (slices, resources) written to the claims topic. */
  claims: number;
  /** DLQ entries (rejected interchanges, groups, sets, Bundles; parts counted). */
  deadLettered: number;
  acks: number;
}

/**
 * Interchanges -> claims, exactly once: each message of the `interchanges` topic is a whole insurer
 * file (an X12 interchange or a FHIR Claim / Bundle, up to 64 MiB); it is split as `claimtrail
 * produce --file` splits one (ingest/insurer-files.ts): one message per claim on `claims` (the
 * claim slice or resource bytes, `content-type` header), DLQ entries for what is rejected before
 * it is a claim, and X12 acknowledgements (TA1 / 999 / 277CA) on the acks topic, all in the
 * transaction that commits the input offset. A crash before the commit re-splits the file; only
 * the committed split is ever visible (read_committed).
 */
export class IngestStage {
  readonly counters: IngestStageCounters = { interchanges: 0, claims: 0, deadLettered: 0, acks: 0 };
  readonly #deps: IngestStageDeps;
  readonly #stage: TransactionalStage;

  constructor(deps: IngestStageDeps) {
    this.#deps = deps;
    const { config } = deps;
    this.#stage = new TransactionalStage({
      kafka: deps.kafka,
      groupId: config.kafka.ingestGroupId,
      inputTopic: config.kafka.topics.interchanges,
      transactionalId: `${config.kafka.ingestGroupId}-${config.kafka.scoringInstanceId}`,
      log: deps.log,
      // One whole interchange per fetch at least; the claims go out in requests the claims topic takes.
      maxBytesPerPartition: INTERCHANGES_TOPIC_MAX_MESSAGE_BYTES,
      maxRequestBytes: MAX_REQUEST_CLAIM_BYTES,
      handle: (batch) => this.handle(batch),
    });
  }

  start(): Promise<void> {
    return this.#stage.start();
  }

  stop(): Promise<void> {
    return this.#stage.stop();
  }

  /** Splits one input batch (exposed for tests). Pure apart from the counters. */
  async handle(batch: StageBatch): Promise<StageOutput[]> {
    const { topics } = this.#deps.config.kafka;
    const now = (this.#deps.now ?? (() => new Date()))();
    const claims: Message[] = [];
    const dlq: Message[] = [];
    const acks: Message[] = [];
    for (const message of batch.messages) {
      const position = { [DLQ_HEADERS.sourceTopic]: batch.topic, [DLQ_HEADERS.sourcePartition]: String(batch.partition), [DLQ_HEADERS.sourceOffset]: message.offset };
      const source = headerString(message.headers, SOURCE_NAME_HEADER) ?? `${batch.topic}/${batch.partition}/${message.offset}`;
      const correlationId = headerString(message.headers, CORRELATION_HEADER);
      const carried = correlationId ? { [CORRELATION_HEADER]: correlationId } : {};
      for (const m of interchangeMessages(message.value, headerString(message.headers, CONTENT_TYPE_HEADER), source, now)) {
        if (m.route === 'claims') claims.push({ key: m.key, value: m.value, headers: { ...m.headers, ...carried } });
        else if (m.route === 'dlq') dlq.push({ key: m.key, value: m.value, headers: { ...m.headers, ...position, [DLQ_HEADERS.failedAt]: now.toISOString(), ...carried } });
        else acks.push({ key: m.key, value: m.value, headers: { ...m.headers, ...carried } });
      }
    }
    this.counters.interchanges += batch.messages.length;
    this.counters.claims += claims.length;
    this.counters.deadLettered += dlq.length;
    this.counters.acks += acks.length;
    return [
      { topic: topics.claims, messages: claims },
      { topic: topics.dlq, messages: dlq },
      { topic: topics.acks, messages: acks },
    ];
  }
}

/** Starts the `ingest` role (pipeline/runtime.ts); resolves to its stop function. */
export async function startIngestStage(deps: IngestStageDeps): Promise<() => Promise<void>> {
  const stage = new IngestStage({ ...deps, log: deps.log.child({ component: 'ingest' }) });
  await stage.start();
  return () => stage.stop();
}
