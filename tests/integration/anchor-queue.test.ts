import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../infra/redis.ts';
import { ANCHOR_EPOCH, ANCHOR_FLAGGED_ROOT, AnchorQueue } from '../../workers/anchor.queue.ts';
import { uniqueName } from '../support/env.ts';

/**
 * The v2 job kinds on real Redis (BullMQ): any number of requests leave one job of a kind, and
 * with an epoch interval (ANCHOR_EPOCH_SECONDS) the epoch job waits while flagged roots never do.
 */
describe('AnchorQueue: one job per kind, epochs paced by the interval', () => {
  let redis: Redis;
  const queues: AnchorQueue[] = [];

  beforeAll(() => {
    redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });

  afterAll(async () => {
    for (const q of queues) {
      await q.queue.obliterate({ force: true });
      await q.close();
    }
    await redis.quit();
  });

  it('without an interval: 50 requests of each kind leave one waiting job of each', async () => {
    const q = new AnchorQueue(uniqueName('aq'), redis);
    queues.push(q);
    for (let i = 0; i < 50; i++) {
      await q.enqueueEpoch(`c-${i}`);
      await q.enqueueFlaggedRoot(`c-${i}`);
    }
    const waiting = await q.queue.getWaiting();
    expect(waiting.map((j) => j.name).sort()).toEqual([ANCHOR_EPOCH, ANCHOR_FLAGGED_ROOT]);
    expect(await q.queue.getDelayedCount()).toBe(0);
  });

  it('with a 30 s interval: the epoch job is delayed from the first request, later ones join it; flagged roots run at once', async () => {
    const q = new AnchorQueue(uniqueName('aq'), redis, { epochDelayMs: 30_000 });
    queues.push(q);
    const before = Date.now();
    await q.enqueueEpoch('first');
    for (let i = 0; i < 20; i++) await q.enqueueEpoch(`later-${i}`);
    await q.enqueueFlaggedRoot('f');
    const delayed = await q.queue.getDelayed();
    expect(delayed).toHaveLength(1);
    expect(delayed[0]!.name).toBe(ANCHOR_EPOCH);
    expect(delayed[0]!.data).toEqual({ correlationId: 'first' });
    expect(delayed[0]!.timestamp + delayed[0]!.opts.delay!).toBeGreaterThanOrEqual(before + 30_000);
    expect((await q.queue.getWaiting()).map((j) => j.name)).toEqual([ANCHOR_FLAGGED_ROOT]);
  });
});
