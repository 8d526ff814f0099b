import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { groupLag } from '../../infra/kafka/group-lag.ts';
import { BackfillGate } from '../../pipeline/backfill-gate.ts';
import { isolatedConfig, testLog, uniqueName } from '../support/env.ts';

/**
 * A backfill yields to live claims: on the real broker, while the live scoring group lags by more
 * than the limit the backfill's consumer is paused, and it resumes once the live group has caught
 * up to half the limit. The stage is a recorder (pausing a kafkajs consumer is kafkajs' job).
 */
describe('BackfillGate on the real Kafka', () => {
  const config = isolatedConfig();
  const topic = uniqueName('claims-backfill');
  const liveGroup = uniqueName('live-scoring');
  let kafka: Kafka;
  let admin: Admin;
  const calls: string[] = [];
  const stage = { pause: () => calls.push('pause'), resume: () => calls.push('resume') };

  beforeAll(async () => {
    kafka = createKafka(config, testLog);
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 50 }, (_, i) => ({ key: `m${i}`, value: `claim ${i}` })) });
    await producer.disconnect();
  });

  afterAll(async () => {
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('pauses while the live group lags beyond the limit, resumes at half of it, and pauses when the lag cannot be read', async () => {
    const gate = new BackfillGate({ admin, liveGroupId: liveGroup, topic, maxLag: 20, stage, log: testLog });
    expect(await groupLag(admin, liveGroup, topic)).toBe(50);
    await gate.check();
    expect(calls).toEqual(['pause']);
    expect(gate.paused).toBe(true);
    await gate.check();
    expect(calls).toEqual(['pause']);

    // The live group catches up to 12 behind: still above half the limit, the backfill stays paused.
    const high = await admin.fetchTopicOffsets(topic);
    const behind = (p: { high: string }, n: number) => String(Math.max(0, Number(p.high) - n));
    await admin.setOffsets({ groupId: liveGroup, topic, partitions: high.map((p) => ({ partition: p.partition, offset: behind(p, 6) })) });
    expect(await groupLag(admin, liveGroup, topic)).toBe(12);
    await gate.check();
    expect(calls).toEqual(['pause']);

    // Caught up: the backfill runs again.
    await admin.setOffsets({ groupId: liveGroup, topic, partitions: high.map((p) => ({ partition: p.partition, offset: p.high })) });
    expect(await groupLag(admin, liveGroup, topic)).toBe(0);
    await gate.check();
    expect(calls).toEqual(['pause', 'resume']);
    expect(gate.paused).toBe(false);

    // A lag it cannot read (the topic is gone) pauses: a backfill never races live claims blind.
    const blind = new BackfillGate({ admin, liveGroupId: liveGroup, topic: uniqueName('no-such-topic'), maxLag: 20, stage, log: testLog });
    await blind.check();
    expect(calls).toEqual(['pause', 'resume', 'pause']);
    expect(gate.pauses + blind.pauses).toBe(2);
  });
});
