import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { TransactionalStage } from '../../infra/kafka/transactional-stage.ts';
import { DECISION_REQUEST_BYTES } from '../../pipeline/scoring.stage.ts';
import { isolatedConfig, testLog, uniqueName } from '../support/env.ts';

/**
 * One input batch whose outputs are more bytes than the output topic's record-batch limit
 * (max.message.bytes; the decisions topic keeps the broker's 1 MiB default, and one 1 MiB fetch of
 * claims gives about that much in decisions): with `maxRequestBytes` the stage sends them in
 * several produce requests of ONE transaction, which commits with the input offset; without it
 * the broker refuses the request and nothing commits.
 */
describe('TransactionalStage: outputs larger than a record batch', () => {
  const config = isolatedConfig();
  let kafka: Kafka;
  let admin: Admin;
  const LIMIT = 320 * 1024;
  const OUTPUTS = 1_200;
  const value = Buffer.alloc(1024, 'x');

  beforeAll(async () => {
    kafka = createKafka(config, testLog);
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  async function run(maxRequestBytes: number | undefined): Promise<{ committed: number; visible: number; failures: number }> {
    const input = uniqueName('split-in');
    const output = uniqueName('split-out');
    const groupId = uniqueName('split-group');
    await admin.createTopics({
      topics: [
        { topic: input, numPartitions: 1 },
        { topic: output, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(LIMIT) }] },
      ],
      waitForLeaders: true,
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: input, messages: [{ value: 'one input' }] });
    await producer.disconnect();
    const lines: string[] = [];
    const stage = new TransactionalStage({
      kafka,
      groupId,
      inputTopic: input,
      transactionalId: uniqueName('split-tx'),
      log: createLogger('warn', { write: (line: string) => void lines.push(line) }),
      ...(maxRequestBytes ? { maxRequestBytes } : {}),
      handle: async () => [{ topic: output, messages: Array.from({ length: OUTPUTS }, (_, i) => ({ key: String(i), value })) }],
    });
    await stage.start();
    const deadline = Date.now() + 20_000;
    let committed = 0;
    while (Date.now() < deadline) {
      const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
      committed = Number(offsets[0]?.partitions[0]?.offset ?? -1);
      if (committed === 1) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await stage.stop();
    // What a read_committed reader sees on the output topic: the end offset counts aborted
    // records and transaction markers too, so count by consuming.
    const consumer = kafka.consumer({ groupId: uniqueName('split-reader'), readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topic: output, fromBeginning: true });
    let visible = 0;
    await consumer.run({ eachMessage: async () => void visible++ });
    await new Promise((r) => setTimeout(r, 4_000));
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
    return { committed, visible, failures: lines.filter((l) => /transaction failed/.test(l)).length };
  }

  it('commits every output and the input offset in one transaction when requests are cut', async () => {
    expect(OUTPUTS * value.length).toBeGreaterThan(3 * LIMIT);
    expect(DECISION_REQUEST_BYTES).toBeLessThan(LIMIT);
    const got = await run(DECISION_REQUEST_BYTES);
    expect(got).toEqual({ committed: 1, visible: OUTPUTS, failures: 0 });
  }, 60_000);

  it('without cutting, the broker refuses the batch and nothing is committed (what the cut prevents)', async () => {
    const got = await run(undefined);
    expect(got.committed).not.toBe(1);
    expect(got.visible).toBe(0);
    expect(got.failures).toBeGreaterThan(0);
  }, 60_000);
});
