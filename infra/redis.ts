import { Redis } from 'ioredis';

/** An ioredis connection as BullMQ wants it (no per-command retry limit: workers block). */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}
