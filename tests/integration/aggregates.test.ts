import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { generateClaims } from '../../fixtures/generator.ts';
import { aggregateFeatureNames, type AggregateObservation, OBSERVE_CHUNK_CLAIMS, OfflineClaimAggregates, RedisClaimAggregates } from '../../scoring/aggregates.ts';
import { createRedis } from '../../infra/redis.ts';
import { uniqueName } from '../support/env.ts';

/** Offline (in memory, point-in-time over the ordered file) == online (Redis Lua), exactly. */
describe('entity aggregates on the real Redis', () => {
  let redis: Redis;
  const prefix = uniqueName('claimtrail-test-agg');

  beforeAll(() => {
    redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });

  afterAll(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  });

  it('gives the same raw values and features as the offline evaluator on the same stream, and a replay changes nothing', async () => {
    const { claims, labels } = generateClaims({ count: 3000, seed: 7, fraudRate: 0.2 });
    const items = claims.map((claim, i) => ({ eventId: `e${i}`, claim }));
    const offline = new OfflineClaimAggregates();
    const expected = await offline.observeBatch(items);
    const online = new RedisClaimAggregates(redis, { prefix, fingerprintKey: randomBytes(32) });
    const got: AggregateObservation[] = [];
    // Batches of 250 and of 700 (three script calls of up to OBSERVE_CHUNK_CLAIMS, one pipeline).
    for (let i = 0; i < 1000; i += 250) got.push(...(await online.observeBatch(items.slice(i, i + 250))));
    for (let i = 1000; i < items.length; i += 700) got.push(...(await online.observeBatch(items.slice(i, i + 700))));
    expect(OBSERVE_CHUNK_CLAIMS).toBeLessThan(700);
    expect(got.length).toBe(expected.length);
    for (let i = 0; i < got.length; i++) {
      expect(got[i]!.raw).toEqual(expected[i]!.raw);
      expect(got[i]!.features).toEqual(expected[i]!.features);
      expect(got[i]!.features.length).toBe(aggregateFeatureNames().length);
    }
    // No self-leakage: the first claim sees nothing.
    expect(got[0]!.raw.every((v) => v === 0)).toBe(true);
    // Duplicates planted by the generator are seen (the copy comes after its source).
    const dupIdx = labels.flatMap((l, i) => (l.pattern === 'duplicate' ? [i] : []));
    expect(dupIdx.length).toBeGreaterThan(0);
    const detected = dupIdx.filter((i) => got[i]!.duplicate).length;
    expect(detected / dupIdx.length).toBeGreaterThan(0.9);

    // A replayed batch (crash before the Kafka commit): same answers, nothing counted twice.
    const replay = await online.observeBatch(items.slice(1000, 1250));
    expect(replay.map((r) => r.raw)).toEqual(expected.slice(1000, 1250).map((r) => r.raw));
    const fresh = await online.observeBatch([{ eventId: 'new', claim: claims[0]! }]);
    const fresh2 = await offline.observeBatch([{ eventId: 'new', claim: claims[0]! }]);
    expect(fresh[0]!.raw).toEqual(fresh2[0]!.raw);
    expect(fresh[0]!.duplicate).toBe(true);

    // The same event twice in one call: one observation, the second answer is the first's.
    const twice = await online.observeBatch([{ eventId: 'twice', claim: claims[1]! }, { eventId: 'twice', claim: claims[1]! }, { eventId: 'after', claim: claims[1]! }]);
    const twiceOffline = await offline.observeBatch([{ eventId: 'twice', claim: claims[1]! }, { eventId: 'twice', claim: claims[1]! }, { eventId: 'after', claim: claims[1]! }]);
    expect(twice.map((t) => t.raw)).toEqual(twiceOffline.map((t) => t.raw));
    expect(twice[1]!.raw).toEqual(twice[0]!.raw);
  });

  it.each([
    ['windows 1, 7, 90 days (a window over four 32-day blocks)', [1, 7, 90]],
    ['windows 32 and 33 days (block edges)', [32, 33]],
  ])('matches the offline evaluator with %s', async (_what, windowsDays) => {
    const { claims } = generateClaims({ count: 1500, seed: 19, fraudRate: 0.2 });
    const items = claims.map((claim, i) => ({ eventId: `w${windowsDays.join('-')}-${i}`, claim }));
    const expected = await new OfflineClaimAggregates({ windowsDays }).observeBatch(items);
    const online = new RedisClaimAggregates(redis, { prefix: `${prefix}:w${windowsDays.join('-')}`, fingerprintKey: randomBytes(32), spec: { windowsDays, ttlSeconds: 3600 } });
    const got: AggregateObservation[] = [];
    for (let i = 0; i < items.length; i += 300) got.push(...(await online.observeBatch(items.slice(i, i + 300))));
    expect(got.map((g) => g.raw)).toEqual(expected.map((e) => e.raw));
    // Non-trivial: the longest window sees more than the shortest somewhere.
    expect(got.some((g) => g.raw[2 * windowsDays.length - 1]! > g.raw[1]!)).toBe(true);
  });
});
