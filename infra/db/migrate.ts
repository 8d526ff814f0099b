import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../../core/logger.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));
const LOCK_WAIT_MS = 120_000;

/**
 * Advisory-lock key of one schema's migrations. node-pg-migrate's default is one key for the
 * whole server, so migrating two schemas at once (tests, several tenants) collided.
 */
function schemaLockValue(schema: string): number {
  // 48 bits keep it a safe JS integer inside PostgreSQL's bigint lock space.
  return Number.parseInt(createHash('sha256').update(`claimtrail-migrate:${schema}`).digest('hex').slice(0, 12), 16);
}

/**
 * Brings `schema` up to the newest migration (creating the schema when missing). Several
 * processes may call it at once: one migrates under the schema's advisory lock, the others
 * wait for it (node-pg-migrate only *tries* the lock, so we retry) for up to two minutes.
 * `options.count` applies at most that many pending migrations instead (an older schema, for
 * tests comparing behaviour across a migration).
 */
export async function migrate(databaseUrl: string, schema: string, log?: Logger, options: { count?: number } = {}): Promise<string[]> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      const applied = await runner({
        databaseUrl,
        dir: MIGRATIONS_DIR,
        direction: 'up',
        ...(options.count !== undefined ? { count: options.count } : {}),
        migrationsTable: 'pgmigrations',
        schema,
        createSchema: true,
        checkOrder: true,
        lockValue: schemaLockValue(schema),
        log: (msg: string) => log?.debug({ component: 'migrate' }, msg),
      });
      return applied.map((m) => m.name);
    } catch (error) {
      const busy = error instanceof Error && error.message.includes('Another migration is already running');
      if (!busy || Date.now() > deadline) throw error;
      log?.info({ component: 'migrate', schema, attempt }, 'another process is migrating this schema; waiting');
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * attempt)));
    }
  }
}
