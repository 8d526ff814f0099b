import { type ConfigResourceTypes, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../core/config.ts';
import { decodeClaim, toDlqMessage } from '../../ingest/claim-decoder.ts';
import { MAX_CLAIM_BYTES } from '../../domain/claim.schema.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import { ClaimsProducer, MAX_SENDABLE_CLAIM_BYTES } from '../../ingest/claims.producer.ts';
import { CLAIMS_TOPIC_MAX_MESSAGE_BYTES, createKafka, DLQ_TOPIC_MAX_MESSAGE_BYTES, ensureTopics, topicSizeProblems } from '../../infra/kafka/kafka.ts';
import { isolatedConfig, testLog } from '../support/env.ts';

/**
 * Topic size limits on the real broker: ensureTopics gives the claims topic room for a claim of
 * exactly MAX_CLAIM_BYTES with its key and headers, and the DLQ room for a whole fetched batch of
 * small malformed messages turned into DLQ copies (one record batch in the scoring transaction).
 */
describe('ensureTopics: max.message.bytes of the claims and DLQ topics', () => {
  let config: Readonly<Config>;
  const kafka = () => createKafka(config, testLog);

  beforeAll(async () => {
    config = isolatedConfig();
    await ensureTopics(kafka(), config);
  });

  afterAll(async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [...Object.values(config.kafka.topics), `${config.kafka.topics.dlq}.default`] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('sets the limits on the broker (describeConfigs), and topicSizeProblems finds nothing', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      const { claims, dlq, decisions } = config.kafka.topics;
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [claims, dlq, decisions].map((name) => ({ type: 2 as ConfigResourceTypes /* TOPIC */, name, configNames: ['max.message.bytes', 'retention.ms'] })),
      });
      const value = (topic: string, name: string) =>
        described.resources.find((r) => r.resourceName === topic)?.configEntries.find((e) => e.configName === name)?.configValue;
      expect(Number(value(claims, 'max.message.bytes'))).toBe(CLAIMS_TOPIC_MAX_MESSAGE_BYTES);
      expect(Number(value(dlq, 'max.message.bytes'))).toBe(DLQ_TOPIC_MAX_MESSAGE_BYTES);
      expect(value(dlq, 'retention.ms')).toBe(String(30 * 24 * 3600 * 1000));
      expect(value(decisions, 'retention.ms')).toBe('-1');
      expect(CLAIMS_TOPIC_MAX_MESSAGE_BYTES).toBeGreaterThan(MAX_CLAIM_BYTES);
      expect(DLQ_TOPIC_MAX_MESSAGE_BYTES).toBeGreaterThan(CLAIMS_TOPIC_MAX_MESSAGE_BYTES);
    } finally {
      await admin.disconnect();
    }
    expect(await topicSizeProblems(kafka(), config)).toEqual([]);
  });

  it('the broker takes a claim of exactly MAX_CLAIM_BYTES and one just over it (the stage, not the broker, rejects the latter)', async () => {
    const producer = new ClaimsProducer(kafka());
    await producer.connect();
    try {
      const exact = Buffer.alloc(MAX_CLAIM_BYTES, 0x61);
      const over = Buffer.alloc(MAX_CLAIM_BYTES + 1, 0x61);
      const sent = await producer.produce([{ key: 'M-000000001', value: exact }, { key: 'M-000000002', value: over }], { topic: config.kafka.topics.claims });
      expect(sent).toBe(2);
      expect(decodeClaim(over)).toMatchObject({ ok: false, reason: 'TOO_LARGE' });
    } finally {
      await producer.disconnect();
    }
  });

  it('ClaimsProducer refuses a claim the broker would refuse, with a precise error, after sending the claims before it', async () => {
    const producer = new ClaimsProducer(kafka());
    await producer.connect();
    try {
      const claims = [{ key: 'M-000000004', value: Buffer.from('{}') }, { key: 'M-000000004', value: Buffer.alloc(MAX_SENDABLE_CLAIM_BYTES + 1, 0x63) }];
      await expect(producer.produce(claims, { topic: config.kafka.topics.claims })).rejects.toThrow(
        new InvalidArgumentError(`claim 2 is ${MAX_SENDABLE_CLAIM_BYTES + 1 + 11} bytes; the claims topic takes at most ${MAX_SENDABLE_CLAIM_BYTES} (claims over ${MAX_CLAIM_BYTES} bytes are dead-lettered anyway); 1 claims were sent before it`),
      );
    } finally {
      await producer.disconnect();
    }
  });

  it('ClaimsProducer splits 500 large claims into requests under the topic limit', async () => {
    const producer = new ClaimsProducer(kafka());
    await producer.connect();
    try {
      // 500 x 20 KiB = 10 MiB, all on one key (one partition): one request would be one 10 MiB record batch.
      const claims = Array.from({ length: 500 }, () => ({ key: 'M-000000003', value: Buffer.alloc(20 * 1024, 0x62) }));
      expect(await producer.produce(claims, { topic: config.kafka.topics.claims })).toBe(500);
    } finally {
      await producer.disconnect();
    }
  });

  it('the DLQ takes the DLQ copies of a whole 1 MiB fetch of tiny malformed messages as one record batch; a default-sized topic refuses it', async () => {
    const client = kafka();
    const admin = client.admin();
    await admin.connect();
    const defaultDlq = `${config.kafka.topics.dlq}.default`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: defaultDlq, numPartitions: 1, replicationFactor: 1 }] });
    await admin.disconnect();
    // What the scoring stage writes for one fetch: ~1 MiB of ~70-byte records (key + 1-byte value
    // + correlation header), each rejected, each copied with its x-dlq-* headers.
    const copies = Array.from({ length: 15_000 }, (_, i) =>
      toDlqMessage(
        { key: Buffer.from(`M-${String(i).padStart(9, '0')}`), value: Buffer.from('x'), headers: { 'x-correlation-id': Buffer.from('3f1e5c1a-0000-4000-8000-000000000000') } },
        { topic: config.kafka.topics.claims, partition: 0, offset: String(i) },
        { reason: 'NOT_JSON', errors: [{ path: '(root)', message: 'not JSON: Unexpected token \'x\', "x" is not valid JSON' }] },
      ),
    );
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 2 } });
    await producer.connect();
    try {
      await expect(producer.send({ topic: config.kafka.topics.dlq, acks: -1, messages: copies })).resolves.toBeDefined();
      await expect(producer.send({ topic: defaultDlq, acks: -1, messages: copies })).rejects.toThrow(/too large|MESSAGE_TOO_LARGE|larger than/i);
    } finally {
      await producer.disconnect();
    }
  });
});
