import { Queue, QueueEvents, Worker } from 'bullmq';
import { Wallet, toQuantity } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { AnchorTxManager } from '../../anchoring/chain/anchor-tx.manager.ts';
import { AnchorTxRepository } from '../../anchoring/chain/anchor-tx.repository.ts';
import { DecisionAnchorClient } from '../../anchoring/chain/decision-anchor.client.ts';
import { deployDecisionAnchor } from '../../anchoring/chain/deployment.ts';
import { createPool } from '../../infra/db/pool.ts';
import { createKafka, ensureTopics } from '../../infra/kafka/kafka.ts';
import { createRedis } from '../../infra/redis.ts';
import { isolatedConfig, migratedSchema, testLog, uniqueName } from '../support/env.ts';

// The four real services of the local stack, each exercised once over a real connection.
describe('foundation: the local stack answers', () => {
  const config = isolatedConfig();
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('Kafka: a consumer group receives what a producer sent, in order per key', async () => {
    const kafka = createKafka(config, testLog);
    await ensureTopics(kafka, config);
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(async () => {
      await admin.deleteTopics({ topics: Object.values(config.kafka.topics) });
      await admin.disconnect();
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = Array.from({ length: 50 }, (_, i) => ({ key: `member-${i % 5}`, value: `message-${i}` }));
    await producer.send({ topic: config.kafka.topics.claims, acks: -1, messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('group') });
    await consumer.connect();
    await consumer.subscribe({ topic: config.kafka.topics.claims, fromBeginning: true });
    const received: Array<{ key: string; value: string }> = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received.length} of 50 messages arrived`)), 60_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          received.push({ key: message.key!.toString(), value: message.value!.toString() });
          if (received.length === sent.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect(received.map((m) => m.value).sort()).toEqual(sent.map((m) => m.value).sort());
    for (const key of ['member-0', 'member-3']) {
      expect(received.filter((m) => m.key === key).map((m) => m.value)).toEqual(sent.filter((m) => m.key === key).map((m) => m.value));
    }
  });

  it('Redis: a BullMQ job makes the round trip and returns its result', async () => {
    const connection = createRedis(config.redisUrl);
    const name = uniqueName('queue');
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection: createRedis(config.redisUrl) });
    const worker = new Worker(name, async (job) => ({ doubled: (job.data as { n: number }).n * 2 }), { connection: createRedis(config.redisUrl) });
    cleanups.push(async () => {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    });
    await events.waitUntilReady();
    const job = await queue.add('double', { n: 21 }, { jobId: 'job-1' });
    expect(await job.waitUntilFinished(events, 30_000)).toEqual({ doubled: 42 });
    const again = await queue.add('double', { n: 5 }, { jobId: 'job-1' });
    expect(again.id).toBe('job-1');
    expect(await queue.getJobCounts('completed', 'waiting')).toMatchObject({ completed: 1, waiting: 0 });
  });

  it('PostgreSQL: the migration-created schema takes and returns a batch row', async () => {
    const drop = await migratedSchema(config);
    const pool = createPool(config.database.url, config.database.schema);
    cleanups.push(async () => {
      await pool.end();
      await drop();
    });
    await pool.query(`INSERT INTO batches (batch_id, topic, partition, first_offset, last_offset, leaf_count, root) VALUES ('0x01', 'decisions', 0, 0, 9, 10, '0xab')`);
    const { rows } = await pool.query<{ last_offset: string; status: string }>(`SELECT last_offset::text, status FROM batches WHERE batch_id = '0x01'`);
    expect(rows).toEqual([{ last_offset: '9', status: 'pending' }]);
    await expect(pool.query(`INSERT INTO batches (batch_id, topic, partition, first_offset, last_offset, leaf_count, root) VALUES ('0x02', 'decisions', 0, 5, 1, 1, '0xab')`)).rejects.toThrow(/check constraint/);
  });

  it('EVM chain: DecisionAnchor deploys and reads back through ethers', async () => {
    // A signer of its own (one signer, one sender: the pipeline's dev signer may be busy), funded
    // with the dev node's setBalance, its transaction manager over this test's schema, and a
    // fresh deployment sent through it.
    const drop = await migratedSchema(config);
    const pool = createPool(config.database.url, config.database.schema, 2);
    const provider = await connectProvider(config.chain.rpcUrl);
    cleanups.push(async () => {
      provider.destroy();
      await pool.end();
      await drop();
    });
    const key = Wallet.createRandom().privateKey;
    await provider.send('anvil_setBalance', [new Wallet(key).address, toQuantity(10n ** 21n)]);
    const tx = new AnchorTxManager({ provider, signerKey: key, repo: new AnchorTxRepository(pool), log: testLog }, { maxFeeCapWei: 500_000_000_000n, pollMs: 100 });
    const { address } = await deployDecisionAnchor(tx, provider);
    const client = new DecisionAnchorClient({ provider, address });
    expect(await client.isDeployed()).toBe(true);
    const batchId = `0x${'11'.repeat(32)}`;
    const root = `0x${'22'.repeat(32)}`;
    expect(await client.batchOf(batchId)).toBeNull();
    const receipt = await tx.send({ to: address, data: client.calldata('anchorBatch', [batchId, root, 3]), method: 'anchorBatch', batchIds: [batchId] });
    expect(receipt.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await client.batchOf(batchId)).toMatchObject({ root, leafCount: 3, anchoredBlock: receipt.blockNumber });
  });
});
