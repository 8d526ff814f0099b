/**
 * Reproduction of a broker-restart failure mode: kafkajs does not restart a
 * consumer whose crash error is not retriable. After a broker restart the group coordinator can
 * stay "loading" longer than the client's retries; the scoring consumer then crashed with
 * `KafkaJSNonRetriableError: Failed to find group coordinator` (CRASH event, restart: false) and
 * the `claimtrail run --roles scoring` process would stay alive doing nothing. infra/kafka/consumer-recovery.ts re-runs it.
 *
 * Waiting for the coordinator to be slow enough is timing-dependent, so this script injects the
 * same crash path deterministically: the first batch handed to the consumer throws an error marked
 * `retriable: false`. Part 1 shows a bare kafkajs consumer never consumes again; part 2 shows a
 * TransactionalStage (infra/kafka/consumer-recovery.ts) runs its consumer again and processes every
 * message exactly once. Shared Kafka, fresh topics. Run: node tests/faults/repro-kafka-crash.ts
 */
import { randomBytes } from 'node:crypto';
import { isolatedEnv, loadConfig } from '../../core/config.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { TransactionalStage } from '../../infra/kafka/transactional-stage.ts';
import { testLog } from '../support/env.ts';
import { readTopic } from './invariants.ts';
import { sleep } from './children.ts';

const id = `repro_${randomBytes(4).toString('hex')}`;
const config = loadConfig({ ...process.env, ...isolatedEnv(id) });
const kafka = createKafka(config, testLog);
const input = `${id}.in`;
const output = `${id}.out`;
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: input, numPartitions: 1 }, { topic: output, numPartitions: 1 }], waitForLeaders: true });
const producer = kafka.producer();
await producer.connect();
await producer.send({ topic: input, messages: Array.from({ length: 10 }, (_, i) => ({ key: String(i), value: String(i) })) });
await producer.disconnect();

const nonRetriable = () => Object.assign(new Error('injected: a crash kafkajs does not restart'), { retriable: false });
let exitCode = 0;
try {
  // Part 1: a bare kafkajs consumer.
  const bare = kafka.consumer({ groupId: `${id}-bare` });
  let crashed: boolean | undefined;
  bare.on(bare.events.CRASH, (e) => (crashed = e.payload.restart));
  let seen = 0;
  let thrown = false;
  await bare.connect();
  await bare.subscribe({ topic: input, fromBeginning: true });
  await bare.run({
    eachBatch: async ({ batch }) => {
      if (!thrown) {
        thrown = true;
        throw nonRetriable();
      }
      seen += batch.messages.length;
    },
  });
  await sleep(15_000);
  console.log(`bare kafkajs consumer: crash event restart=${crashed}, messages consumed after the crash within 15 s: ${seen}/10`);
  await bare.disconnect();

  // Part 2: the same crash inside a TransactionalStage.
  let stageThrown = false;
  const stage = new TransactionalStage({
    kafka,
    groupId: `${id}-stage`,
    inputTopic: input,
    transactionalId: `${id}-stage`,
    log: testLog,
    handle: async (b) => {
      if (!stageThrown) {
        stageThrown = true;
        throw nonRetriable();
      }
      return [{ topic: output, messages: b.messages.map((m) => ({ key: m.key, value: m.value })) }];
    },
  });
  await stage.start();
  const out = await readTopic(kafka, output, 10, 2_000, 30_000);
  await stage.stop();
  const values = out.map((m) => m.value!.toString()).sort((a, b) => Number(a) - Number(b));
  console.log(`TransactionalStage: ${out.length} outputs (${values.join(',')}), expected each of 0..9 once`);
  if (out.length !== 10 || new Set(values).size !== 10) exitCode = 1;
} finally {
  await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
  await admin.disconnect();
}
process.exit(exitCode);
