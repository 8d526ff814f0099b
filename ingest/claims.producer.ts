import { CORRELATION_HEADER } from '../domain/decision-codec.ts';
import { randomUUID } from 'node:crypto';
import { CompressionTypes, type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { OutgoingClaim } from './claim-sources.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { MAX_CLAIM_BYTES } from '../domain/claim.schema.ts';
import { CLAIMS_TOPIC_MAX_MESSAGE_BYTES } from '../infra/kafka/kafka.ts';

/**
 * Default byte budget of one produce request: half the claims topic's `max.message.bytes`, so the
 * record batch of any partition (a subset of the request, plus per-record overhead) fits. A claim
 * bigger than the budget is sent alone.
 */
export const MAX_REQUEST_CLAIM_BYTES = Math.floor(CLAIMS_TOPIC_MAX_MESSAGE_BYTES / 2);

/**
 * Largest claim (value + key bytes) the producer sends: the claims topic's `max.message.bytes`
 * less 4 KiB for the record batch header, the record's varints and the correlation header.
 * Bigger claims would be refused by the broker (MESSAGE_TOO_LARGE) mid-run; claims between
 * MAX_CLAIM_BYTES and this size are sent and dead-lettered as TOO_LARGE by the scoring stage.
 */
export const MAX_SENDABLE_CLAIM_BYTES = CLAIMS_TOPIC_MAX_MESSAGE_BYTES - 4096;


export interface ProduceOptions {
  topic: string;
  /** Messages per produce request. Default 500. */
  batchSize?: number;
  /**
   * Claim bytes per produce request; a request is sent early when the next claim would pass it.
   * Default {@link MAX_REQUEST_CLAIM_BYTES}. kafkajs writes each partition's messages of a request
   * as ONE record batch, and the topic's `max.message.bytes` limits the batch, not the record:
   * counting messages alone let 500 large claims exceed it (MESSAGE_TOO_LARGE).
   */
  maxRequestBytes?: number;
  /** Called after each acknowledged request with the running total. */
  onProgress?(sent: number): void;
  /** Topics of messages routed `dlq` / `acks` (insurer files: rejected envelopes, X12 acknowledgements). */
  routes?: { dlq: string; acks: string };
}

/**
 * Sends claims to the claims topic, keyed by member id (one member's claims stay in order on one
 * partition), each with a fresh correlation id header. Idempotent producer, acks from all
 * in-sync replicas: a claim acknowledged here is in the log once.
 */
export class ClaimsProducer {
  readonly #producer: Producer;
  constructor(kafka: Kafka) {
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Murmur2 on the key, like the Java client: a member's claims land on the same partition
      // whichever client an insurer produces with.
      createPartitioner: Partitioners.DefaultPartitioner,
      // The idempotent producer must not give up mid-sequence (kafkajs warns otherwise); Ctrl-C stops it.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 10_000 },
    });
  }

  connect(): Promise<void> {
    return this.#producer.connect();
  }

  disconnect(): Promise<void> {
    return this.#producer.disconnect();
  }

  /**
   * Produces every claim of `source`; returns how many claims were acknowledged (messages routed
   * to the DLQ or the acks topic are sent in the same requests but not counted).
   * @throws InvalidArgumentError at the first claim bigger than {@link MAX_SENDABLE_CLAIM_BYTES}
   *   (the claims before it are sent).
   */
  async produce(source: AsyncIterable<OutgoingClaim> | Iterable<OutgoingClaim>, options: ProduceOptions): Promise<number> {
    const batchSize = options.batchSize ?? 500;
    const maxBytes = options.maxRequestBytes ?? MAX_REQUEST_CLAIM_BYTES;
    let pending: OutgoingClaim[] = [];
    let pendingBytes = 0;
    let sent = 0;
    const flush = async () => {
      if (pending.length === 0) return;
      const byTopic = new Map<string, Array<{ key: string | null; value: Buffer; headers: Record<string, string> }>>();
      for (const c of pending) {
        const topic = c.route === 'dlq' ? options.routes?.dlq : c.route === 'acks' ? options.routes?.acks : options.topic;
        if (topic === undefined) throw new InvalidArgumentError(`a message routed to ${c.route} needs options.routes`);
        const list = byTopic.get(topic) ?? [];
        list.push({ key: c.key, value: c.value, headers: { ...c.headers, [CORRELATION_HEADER]: randomUUID() } });
        byTopic.set(topic, list);
      }
      await this.#producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      sent += pending.filter((c) => (c.route ?? 'claims') === 'claims').length;
      pending = [];
      pendingBytes = 0;
      options.onProgress?.(sent);
    };
    for await (const claim of source) {
      const bytes = claim.value.length + (claim.key?.length ?? 0);
      if (bytes > MAX_SENDABLE_CLAIM_BYTES) {
        await flush();
        throw new InvalidArgumentError(
          `claim ${sent + 1} is ${bytes} bytes; the claims topic takes at most ${MAX_SENDABLE_CLAIM_BYTES} (claims over ${MAX_CLAIM_BYTES} bytes are dead-lettered anyway); ${sent} claims were sent before it`,
        );
      }
      if (pending.length > 0 && pendingBytes + bytes > maxBytes) await flush();
      pending.push(claim);
      pendingBytes += bytes;
      if (pending.length >= batchSize) await flush();
    }
    await flush();
    return sent;
  }
}
