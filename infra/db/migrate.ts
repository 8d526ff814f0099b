import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { ConfigError, StackError } from '../../core/errors.ts';
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
  // Up to date: nothing to take a lock for. This is also what lets the app run as a role that
  // owns nothing and may not create schemas (infra/db/app-role.ts): the owner migrates.
  if (options.count === undefined && (await upToDate(databaseUrl, schema))) return [];
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

/**
 * True when every migration file is recorded in `schema`.pgmigrations; false when one is not, or
 * the schema or table does not exist yet (the runner then creates them).
 */
async function upToDate(databaseUrl: string, schema: string): Promise<boolean> {
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -'.sql'.length));
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect().catch((error: unknown) => {
    throw explainConnectError(error);
  });
  try {
    const { rows } = await db.query<{ name: string }>(`SELECT name FROM ${db.escapeIdentifier(schema)}.pgmigrations`);
    const applied = new Set(rows.map((r) => r.name));
    return files.every((f) => applied.has(f));
  } catch (error) {
    // 3F000 no such schema, 42P01 no such table: a fresh database, for the runner to set up.
    if (['3F000', '42P01'].includes((error as { code?: string }).code ?? '')) return false;
    throw error;
  } finally {
    await db.end();
  }
}

/**
 * The first connection of a run, as one line for the operator: a refused login or unknown
 * database is configuration (exit 2), an unreachable server is the stack (exit 3). Anything
 * else is passed on unchanged.
 */
function explainConnectError(error: unknown): unknown {
  const { code, message } = error as { code?: string; message?: string };
  // SQLSTATE class 28 (authorization) and 3D000 (no such database): DATABASE_URL is wrong.
  if (code?.startsWith('28') || code === '3D000') return new ConfigError([`DATABASE_URL: PostgreSQL refused the connection: ${message ?? code}`]);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') {
    return new StackError('postgres', `no PostgreSQL answers at the DATABASE_URL host (${code}; start it with \`claimtrail stack up\`)`, { retriable: true, cause: error });
  }
  return error;
}
