import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClaims } from '../../fixtures/generator.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import { createRedis } from '../../infra/redis.ts';
import { duplicateFingerprint, keyedDuplicateFingerprint, OfflineClaimAggregates, RedisClaimAggregates } from '../../scoring/aggregates.ts';
import { uniqueName } from '../support/env.ts';

/** Every key under `prefix`. */
async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

/** A claim and an exact copy under another claim id (the duplicate rule's case). */
function withCopy(claim: Claim, suffix: string): Claim[] {
  return [claim, { ...claim, claimId: `${claim.claimId}-${suffix}` }];
}

/**
 * The duplicate-claim keys (`<prefix>:dup:<fingerprint>`) are an HMAC under the aggregate key
 * secret, not a plain hash of member + provider + codes + dates (guessable by anyone who can list
 * Redis keys), and erasure finds and deletes a member's duplicate keys through a per-member index
 * whose name is keyed too (no member id in clear in it).
 */
describe('duplicate fingerprint keys in Redis', () => {
  let redis: Redis;
  const prefix = uniqueName('claimtrail-test-dup');
  const key = randomBytes(32);
  const { claims } = generateClaims({ count: 60, seed: 21, fraudRate: 0 });
  const memberA = claims[0]!.memberId;
  const aClaims = claims.filter((c) => c.memberId === memberA);
  const others = claims.filter((c) => c.memberId !== memberA);
  const stream = [...aClaims.flatMap((c) => withCopy(c, 'copy')), ...others.slice(0, 10).flatMap((c) => withCopy(c, 'copy'))];

  beforeAll(async () => {
    redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const online = new RedisClaimAggregates(redis, { prefix, fingerprintKey: key });
    const got = await online.observeBatch(stream.map((claim, i) => ({ eventId: `e${i}`, claim })));
    // Same notion of duplicate as offline: only the key names changed.
    const expected = await new OfflineClaimAggregates().observeBatch(stream.map((claim, i) => ({ eventId: `e${i}`, claim })));
    expect(got.map((o) => o.raw)).toEqual(expected.map((o) => o.raw));
    expect(got.filter((o) => o.duplicate).length).toBe(stream.length / 2);
  });

  afterAll(async () => {
    const keys = await keysUnder(redis, prefix);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('names duplicate keys by an HMAC under the configured key: not the plain hash, not another key', async () => {
    const dupKeys = (await keysUnder(redis, prefix)).filter((k) => k.startsWith(`${prefix}:dup:`)).map((k) => k.slice(`${prefix}:dup:`.length));
    const unique = [...aClaims, ...others.slice(0, 10)];
    expect(new Set(dupKeys)).toEqual(new Set(unique.map((c) => keyedDuplicateFingerprint(key, c))));
    const otherKey = randomBytes(32);
    for (const c of unique) {
      expect(dupKeys).not.toContain(duplicateFingerprint(c));
      expect(dupKeys).not.toContain(keyedDuplicateFingerprint(otherKey, c));
      const plain = createHash('sha256').update(JSON.stringify([c.memberId, c.billingProviderNpi])).digest('hex');
      for (const k of dupKeys) expect(plain.startsWith(k)).toBe(false);
    }
  });

  it('keeps no Redis key naming the member: its buckets are under its keyed reference', async () => {
    const keys = await keysUnder(redis, prefix);
    expect(keys.filter((k) => k.includes(memberA))).toEqual([]);
    const memberBuckets = keys.filter((k) => k.startsWith(`${prefix}:m:`));
    expect(memberBuckets.length).toBeGreaterThan(0);
    for (const k of memberBuckets) expect(k).toMatch(new RegExp(`^${prefix}:m:[0-9a-f]{32}:b-?\\d+$`));
  });

  it("forgetMember deletes the member's duplicate keys and their index, and no other member's", async () => {
    const online = new RedisClaimAggregates(redis, { prefix, fingerprintKey: key });
    const before = await keysUnder(redis, prefix);
    const forgotten = await online.forgetMember(memberA);
    expect(forgotten.duplicates).toBe(new Set(aClaims.map((c) => keyedDuplicateFingerprint(key, c))).size);
    expect(forgotten.buckets).toBeGreaterThan(0);
    const after = new Set(await keysUnder(redis, prefix));
    for (const c of aClaims) expect(after.has(`${prefix}:dup:${keyedDuplicateFingerprint(key, c)}`)).toBe(false);
    for (const c of others.slice(0, 10)) expect(after.has(`${prefix}:dup:${keyedDuplicateFingerprint(key, c)}`)).toBe(true);
    expect([...after].filter((k) => k.includes(memberA))).toEqual([]);
    // Only the member's buckets, its duplicate keys and its one index key went.
    expect(before.length - after.size).toBe(forgotten.buckets + forgotten.duplicates + 1);
  });

  it('refuses a fingerprint key shorter than 32 bytes', () => {
    expect(() => new RedisClaimAggregates(redis, { prefix, fingerprintKey: randomBytes(8) })).toThrow(/32 bytes/);
  });
});
