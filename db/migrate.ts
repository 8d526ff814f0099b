import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../core/logger.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Brings `schema` up to the newest migration (creating the schema when missing). Safe to run
 * from several processes at once: node-pg-migrate takes an advisory lock.
 */
export async function migrate(databaseUrl: string, schema: string, log?: Logger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    schema,
    createSchema: true,
    checkOrder: true,
    log: (msg: string) => log?.debug({ component: 'migrate' }, msg),
  });
  return applied.map((m) => m.name);
}
