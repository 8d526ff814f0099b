import { randomUUID } from 'node:crypto';
import { CompressionTypes, type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { OutgoingClaim } from './claim-sources.ts';

/** Header carrying the correlation id from the producer through decisions into anchor jobs. */
export const CORRELATION_HEADER = 'x-correlation-id';

export interface ProduceOptions {
  topic: string;
  /** Messages per produce request. Default 500. */
  batchSize?: number;
  /** Called after each acknowledged request with the running total. */
  onProgress?(sent: number): void;
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

  /** Produces every claim of `source`; returns how many were acknowledged. */
  async produce(source: AsyncIterable<OutgoingClaim> | Iterable<OutgoingClaim>, options: ProduceOptions): Promise<number> {
    const batchSize = options.batchSize ?? 500;
    let pending: OutgoingClaim[] = [];
    let sent = 0;
    const flush = async () => {
      if (pending.length === 0) return;
      await this.#producer.send({
        topic: options.topic,
        acks: -1,
        compression: CompressionTypes.None,
        messages: pending.map((c) => ({ key: c.key, value: c.value, headers: { [CORRELATION_HEADER]: randomUUID() } })),
      });
      sent += pending.length;
      pending = [];
      options.onProgress?.(sent);
    };
    for await (const claim of source) {
      pending.push(claim);
      if (pending.length >= batchSize) await flush();
    }
    await flush();
    return sent;
  }
}
