import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import { generateClaims } from '../fixtures/generator.ts';
import { sleep } from './support.ts';

/** One claim message ready to send: key = member id (as production keys it), value = claim JSON bytes. */
export interface EncodedClaim {
  claimId: string;
  key: string;
  value: Buffer;
}

/** Generates `count` schema-valid synthetic claims once and encodes them (the same bytes every stage sees). */
export function encodeClaims(count: number, seed: number): EncodedClaim[] {
  const { claims } = generateClaims({ count, seed });
  return claims.map((c) => ({ claimId: c.claimId, key: c.memberId, value: Buffer.from(JSON.stringify(c), 'utf8') }));
}

/** Broker default message.max.bytes is 1 MiB per record batch: requests stay well under it. */
const MAX_REQUEST_BYTES = 512 * 1024;

/** Consecutive slices of claims[from, to) of at most MAX_REQUEST_BYTES (and at least one claim) each. */
function* chunks(claims: readonly EncodedClaim[], from: number, to: number): Generator<EncodedClaim[]> {
  let start = from;
  while (start < to) {
    let end = start;
    let bytes = 0;
    while (end < to && (end === start || bytes + claims[end]!.value.length < MAX_REQUEST_BYTES)) bytes += claims[end++]!.value.length;
    yield claims.slice(start, end);
    start = end;
  }
}

function benchProducer(kafka: Kafka): Producer {
  // Murmur2 on the member id like ClaimsProducer, so partitions fill as in production. Not the
  // idempotent single-in-flight producer: the feed must not be what limits the pipeline.
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
}

/** Produces `claims` to `topic` as fast as the broker takes them; returns claims/s of the preload. */
export async function preload(kafka: Kafka, topic: string, claims: readonly EncodedClaim[], onProgress?: (sent: number) => void): Promise<number> {
  const producer = benchProducer(kafka);
  await producer.connect();
  const started = performance.now();
  const failures: unknown[] = [];
  try {
    let sent = 0;
    const inFlight: Promise<void>[] = [];
    for (const chunk of chunks(claims, 0, claims.length)) {
      const messages = chunk.map((c) => ({ key: c.key, value: c.value }));
      inFlight.push(
        producer.send({ topic, acks: -1, messages }).then(
          () => {
            sent += messages.length;
            onProgress?.(sent);
          },
          (error: unknown) => void failures.push(error),
        ),
      );
      if (inFlight.length >= 4) await inFlight.shift();
      if (failures.length > 0) break;
    }
    await Promise.all(inFlight);
    if (failures.length > 0) throw failures[0];
  } finally {
    await producer.disconnect();
  }
  return claims.length / ((performance.now() - started) / 1000);
}

/** Result of an open-loop feed. */
export interface OpenLoopResult {
  sent: number;
  seconds: number;
  /** Achieved offered rate, claims/s. */
  offeredPerSecond: number;
}

/**
 * Open loop: offers claims at `rate` per second (or as fast as the producer goes when `rate` is
 * 'max') for `durationS` seconds or until `claims` runs out, whatever the pipeline does. Each
 * claim's send time (ms, Date.now()) goes into `sentAt` under its claim id just before the send,
 * so latency = decision seen - sentAt includes the produce request itself.
 */
export async function openLoop(
  kafka: Kafka,
  topic: string,
  claims: readonly EncodedClaim[],
  options: { rate: number | 'max'; durationS: number; sentAt: Map<string, number> },
): Promise<OpenLoopResult> {
  const producer = benchProducer(kafka);
  await producer.connect();
  const started = performance.now();
  const deadline = started + options.durationS * 1000;
  let next = 0;
  const inFlight: Promise<unknown>[] = [];
  const failures: unknown[] = [];
  const send = (count: number) => {
    const to = Math.min(claims.length, next + count);
    for (const slice of chunks(claims, next, to)) {
      const now = Date.now();
      for (const c of slice) options.sentAt.set(c.claimId, now);
      inFlight.push(producer.send({ topic, acks: -1, messages: slice.map((c) => ({ key: c.key, value: c.value })) }).catch((error: unknown) => void failures.push(error)));
    }
    next = to;
  };
  try {
    while (performance.now() < deadline && next < claims.length && failures.length === 0) {
      if (options.rate === 'max') {
        send(1_000);
        if (inFlight.length >= 2) await inFlight.shift();
        continue;
      }
      // Send what is due every 5 ms: small requests, so the feed adds little latency of its own.
      const due = Math.floor(((performance.now() - started) / 1000) * options.rate) - next;
      if (due > 0) send(due);
      while (inFlight.length > 8) await inFlight.shift();
      await sleep(5);
    }
    await Promise.all(inFlight);
    if (failures.length > 0) throw failures[0];
  } finally {
    await producer.disconnect();
  }
  const seconds = (performance.now() - started) / 1000;
  return { sent: next, seconds, offeredPerSecond: next / seconds };
}
