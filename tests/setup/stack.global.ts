import { Redis } from 'ioredis';
import { createLogger } from '../../core/logger.ts';
import { stackUp } from '../../stack/stack.ts';

/**
 * Redis key patterns that only tests create: their names come from tests/support/env.ts
 * (`t_<hex>`) and the OpenZeppelin e2e test (`oz_<hex>`): entity aggregates and BullMQ queues.
 */
const TEST_KEY_PATTERNS = ['claimtrail:agg:t_*', 'claimtrail:agg:oz_*', 'bull:t_*', 'bull:oz_*'];

/**
 * Only keys untouched this long are removed: another test run on the same machine (a second
 * checkout, CI beside a developer, even `vitest list`, which runs this teardown too) keeps its
 * live keys busy, and wiping them made its pipeline lose anchor jobs ("Missing key for job").
 * Keys of this run that are younger go with the next run's teardown (aggregates also have a TTL).
 */
const MIN_IDLE_SECONDS = 15 * 60;

export async function deleteTestKeys(url: string, minIdleSeconds = MIN_IDLE_SECONDS): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  let deleted = 0;
  try {
    await redis.connect();
    for (const match of TEST_KEY_PATTERNS) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        if (keys.length === 0) continue;
        const idle = await Promise.all(keys.map((k) => redis.object('IDLETIME', k) as Promise<number | null>));
        const stale = keys.filter((_, i) => (idle[i] ?? 0) >= minIdleSeconds);
        if (stale.length > 0) deleted += await redis.unlink(...stale);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/**
 * vitest globalSetup of the integration project: the tests run against the live local stack, so
 * bring it up first (a no-op taking well under a second when it already runs). It is left
 * running afterwards on purpose: other engineers and the next test run share it, and
 * `claimtrail stack down` is the way to stop it. The teardown removes the Redis keys the tests
 * made (Kafka topics and PostgreSQL schemas are removed by each test itself).
 */
export default async function setup(): Promise<() => Promise<void>> {
  const result = await stackUp({ log: createLogger(process.env.LOG_LEVEL ?? 'warn') });
  if (result.started.length > 0) {
    process.stdout.write(`[stack] started ${result.started.join(', ')} in ${(result.elapsedMs / 1000).toFixed(1)} s\n`);
  }
  return async () => {
    const deleted = await deleteTestKeys(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    if (deleted > 0) process.stdout.write(`[stack] removed ${deleted} Redis keys left by tests\n`);
  };
}
