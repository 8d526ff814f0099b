/**
 * The Kafka side of a federation: two topics per federation on the consortium cluster, reached
 * with the installation's Kafka settings (TLS, SASL: infra/kafka/connection-options.ts).
 *
 * | topic                                   | writer        | carries                                                       |
 * |-----------------------------------------|---------------|---------------------------------------------------------------|
 * | `claimtrail.fed.<federation>.down`      | coordinator   | tasks, round announcements, rosters, share deliveries, unmask requests, the end |
 * | `claimtrail.fed.<federation>.up`        | participants  | hellos, key adverts, sealed shares, masked updates, reveals (the acknowledgements), trees |
 *
 * Every record value is one signed `claimtrail-fed-msg-v1` message (JSON); the key is the round
 * (or the recipient, for deliveries). Nothing identifying travels: only ids of insurers, public
 * keys, sealed shares, masked ring vectors, sums, and (union forest) trees. Both sides read their
 * topic from the start, so one federation name serves one training run.
 */
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { Logger } from '../../core/logger.ts';
import { FederationError } from '../secure-aggregation/errors.ts';
import type { SignedMessage } from '../secure-aggregation/identity.ts';

/** Largest record: a union-forest contribution of a large party. */
export const FEDERATION_TOPIC_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export function federationTopics(federation: string): { down: string; up: string } {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(federation)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `federation name must match [A-Za-z0-9_-]{1,100}, got ${JSON.stringify(federation)}`);
  return { down: `claimtrail.fed.${federation}.down`, up: `claimtrail.fed.${federation}.up` };
}

/** Creates both topics when missing (one partition each: the protocol is ordered). */
export async function ensureFederationTopics(kafka: Kafka, federation: string): Promise<void> {
  const { down, up } = federationTopics(federation);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [down, up].filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(FEDERATION_TOPIC_MAX_MESSAGE_BYTES) }] })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/** Waits for messages matching a predicate, in arrival order. */
class Inbox {
  readonly #queue: SignedMessage[] = [];
  readonly #waiters: { match: (m: SignedMessage) => boolean; resolve: (m: SignedMessage) => void }[] = [];

  push(m: SignedMessage): void {
    const i = this.#waiters.findIndex((w) => w.match(m));
    if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(m);
    else this.#queue.push(m);
  }

  /** The next message matching `match`, or undefined after `timeoutMs`. */
  next(match: (m: SignedMessage) => boolean, timeoutMs: number): Promise<SignedMessage | undefined> {
    const i = this.#queue.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#queue.splice(i, 1)[0]);
    return new Promise((resolve) => {
      const waiter = {
        match,
        resolve: (m: SignedMessage | undefined) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        resolve(undefined);
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }
}

/** One side's view of the federation topics: it writes one, reads the other. */
export class FederationChannel {
  readonly #producer: Producer;
  readonly #consumer: Consumer;
  readonly #writeTopic: string;
  readonly #log: Logger;
  readonly inbox = new Inbox();
  /** Bytes written and read (record values), for the per-round report. */
  bytesOut = 0;
  bytesIn = 0;

  private constructor(producer: Producer, consumer: Consumer, writeTopic: string, log: Logger) {
    this.#producer = producer;
    this.#consumer = consumer;
    this.#writeTopic = writeTopic;
    this.#log = log;
  }

  /**
   * Connects as `role`: the coordinator writes `down` and reads `up`, a participant the reverse.
   * `groupId` must be unique to this process (each reader sees every message).
   */
  static async open(kafka: Kafka, federation: string, role: 'coordinator' | 'participant', groupId: string, log: Logger): Promise<FederationChannel> {
    await ensureFederationTopics(kafka, federation);
    const { down, up } = federationTopics(federation);
    const [writeTopic, readTopic] = role === 'coordinator' ? [down, up] : [up, down];
    const producer = kafka.producer({ maxInFlightRequests: 1 });
    await producer.connect();
    const consumer = kafka.consumer({ groupId, maxBytes: FEDERATION_TOPIC_MAX_MESSAGE_BYTES, maxBytesPerPartition: FEDERATION_TOPIC_MAX_MESSAGE_BYTES });
    await consumer.connect();
    await consumer.subscribe({ topic: readTopic, fromBeginning: true });
    const channel = new FederationChannel(producer, consumer, writeTopic, log);
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        channel.bytesIn += message.value.length;
        let parsed: unknown;
        try {
          parsed = JSON.parse(message.value.toString('utf8'));
        } catch {
          log.warn({ component: 'federation', topic: readTopic }, 'a record that is not JSON was skipped');
          return;
        }
        channel.inbox.push(parsed as SignedMessage);
      },
    });
    return channel;
  }

  async send(message: SignedMessage, key = message.round): Promise<void> {
    const value = Buffer.from(JSON.stringify(message));
    this.bytesOut += value.length;
    await this.#producer.send({ topic: this.#writeTopic, acks: -1, messages: [{ key, value }] });
  }

  async close(): Promise<void> {
    await this.#consumer.disconnect().catch((error: unknown) => this.#log.warn({ component: 'federation', err: error }, 'consumer disconnect failed'));
    await this.#producer.disconnect().catch((error: unknown) => this.#log.warn({ component: 'federation', err: error }, 'producer disconnect failed'));
  }
}
