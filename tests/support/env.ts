import { randomBytes } from 'node:crypto';
import pg, { type Pool } from 'pg';
import { loadConfig, type Config, isolatedEnv } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import { migrate } from '../../infra/db/migrate.ts';
import { openMemberKeys } from '../../privacy/master-key.ts';
import { devMasterKeySource } from '../../cli/dev-sources.ts';

/** A short random suffix for per-test topic, queue, group and schema names. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** Quiet logger for tests (LOG_LEVEL=debug to see everything). */
export const testLog = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn');

/**
 * Config for one test: fresh topics, consumer groups, queue and PostgreSQL schema, so tests never
 * see each other's data, and a fresh random PHI master key (unless the environment or `overrides`
 * name one). Everything else comes from the environment like in production.
 */
export function isolatedConfig(overrides: Record<string, string> = {}): Readonly<Config> {
  const id = uniqueName('t');
  const env = { ...process.env, ...overrides };
  const masterKey = env.PHI_MASTER_KEY || env.PHI_MASTER_KEY_FILE ? {} : { PHI_MASTER_KEY: randomBytes(32).toString('hex') };
  return loadConfig({
    ...process.env,
    ...isolatedEnv(id),
    ...masterKey,
    ...overrides,
  });
}

/** The encrypted claim payload store of a test's schema, under the config's master key. */
export async function payloadRepository(pool: Pool, config: Readonly<Config>): Promise<ClaimPayloadRepository> {
  return new ClaimPayloadRepository(pool, await openMemberKeys(pool, devMasterKeySource(config), testLog));
}

/** Creates the config's schema with all migrations; returns a function that drops it. */
export async function migratedSchema(config: Readonly<Config>): Promise<() => Promise<void>> {
  await migrate(config.database.url, config.database.schema);
  return async () => {
    const client = new pg.Client({ connectionString: config.database.url });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${config.database.schema}" CASCADE`);
    } finally {
      await client.end();
    }
  };
}
