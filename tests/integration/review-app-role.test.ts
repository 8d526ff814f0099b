import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../core/config.ts';
import { migrate } from '../../infra/db/migrate.ts';
import { isolatedConfig, migratedSchema } from '../support/env.ts';

const run = promisify(execFile);

/** PostgreSQL's SQLSTATE of an error, or 'none' when the statement ran. */
async function sqlState(db: pg.Client, sql: string): Promise<string> {
  try {
    await db.query(sql);
    return 'none';
  } catch (error) {
    return (error as { code?: string }).code ?? 'unknown';
  }
}

/**
 * The append-only trigger of audit_log binds only roles that do not own the table: the owner can
 * `ALTER TABLE ... DISABLE TRIGGER` and rewrite history. `claimtrail db grant-app-role` (an
 * operator step: CREATE ROLE needs CREATEROLE, which the migrating role does not have to hold)
 * makes a LOGIN role that owns nothing and may only INSERT and SELECT audit_log and audit_seals
 * (plus the anchor columns of audit_seals, which the anchor worker fills in).
 */
describe('claimtrail db grant-app-role: the app runs as a role that cannot rewrite the audit tables', () => {
  let config: Readonly<Config>;
  let drop: () => Promise<void>;
  let role: string;
  let app: pg.Client;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    config = isolatedConfig();
    drop = await migratedSchema(config);
    role = `${config.database.schema}_app`;
    env = { ...process.env, DATABASE_SCHEMA: config.database.schema, LOG_LEVEL: 'warn' };
    const first = await run(process.execPath, ['cli/main.ts', 'db', 'grant-app-role', '--role', role], { env });
    expect(first.stdout).toContain(role);
    // Idempotent: granting again changes nothing and succeeds.
    await run(process.execPath, ['cli/main.ts', 'db', 'grant-app-role', '--role', role], { env });
    const url = new URL(config.database.url);
    url.username = role;
    url.password = '';
    app = new pg.Client({ connectionString: url.toString(), options: `-c search_path=${config.database.schema}` });
    await app.connect();
  }, 120_000);

  afterAll(async () => {
    await app?.end();
    await drop?.();
    const admin = new pg.Client({ connectionString: config.database.url });
    await admin.connect();
    try {
      await admin.query(`DROP OWNED BY "${role}"`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS "${role}"`);
    } finally {
      await admin.end();
    }
  });

  it('may append to and read audit_log and audit_seals', async () => {
    const { rows } = await app.query<{ audit_id: string }>(`INSERT INTO audit_log (user_name, role, action) VALUES ('cli:test', 'admin', 'test.append') RETURNING audit_id::text`);
    expect(rows[0]!.audit_id).toMatch(/^\d+$/);
    expect((await app.query('SELECT count(*) FROM audit_log')).rowCount).toBe(1);
    await app.query(`INSERT INTO audit_seals (batch_id, first_audit_id, last_audit_id, leaf_count, root) VALUES ('0xseal', 1, 1, 1, '0xroot')`);
    expect((await app.query('SELECT root FROM audit_seals')).rows).toEqual([{ root: '0xroot' }]);
  });

  it('cannot disable the append-only trigger, nor update, delete or truncate audit rows', async () => {
    expect(await sqlState(app, 'ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update')).toBe('42501');
    expect(await sqlState(app, 'ALTER TABLE audit_log DISABLE TRIGGER ALL')).toBe('42501');
    expect(await sqlState(app, `UPDATE audit_log SET action = 'rewritten'`)).toBe('42501');
    expect(await sqlState(app, 'DELETE FROM audit_log')).toBe('42501');
    expect(await sqlState(app, 'TRUNCATE audit_log')).toBe('42501');
    expect(await sqlState(app, 'DROP TRIGGER audit_log_no_update ON audit_log')).toBe('42501');
  });

  it('cannot rewrite or delete a seal (only its anchor columns are writable)', async () => {
    expect(await sqlState(app, `UPDATE audit_seals SET root = '0xforged'`)).toBe('42501');
    expect(await sqlState(app, `UPDATE audit_seals SET first_audit_id = 2, last_audit_id = 2`)).toBe('42501');
    expect(await sqlState(app, 'DELETE FROM audit_seals')).toBe('42501');
    expect(await sqlState(app, 'ALTER TABLE audit_seals DISABLE TRIGGER ALL')).toBe('42501');
    expect(await sqlState(app, `UPDATE audit_seals SET status = 'anchored', tx_hash = '0xtx' WHERE batch_id = '0xseal'`)).toBe('none');
  });

  it('owns nothing in the schema and can still use the other tables', async () => {
    const { rows } = await app.query<{ n: string }>(`SELECT count(*) AS n FROM pg_tables WHERE schemaname = $1 AND tableowner = $2`, [config.database.schema, role]);
    expect(rows[0]!.n).toBe('0');
    expect(await sqlState(app, 'SELECT count(*) FROM decisions')).toBe('none');
    expect(await sqlState(app, 'SELECT count(*) FROM cases')).toBe('none');
    expect(await sqlState(app, 'CREATE TABLE sneaky (x int)')).toBe('42501');
  });

  it('can start: the migration check of every entry point passes as the role on a schema its owner migrated', async () => {
    const url = new URL(config.database.url);
    url.username = role;
    expect(await migrate(url.toString(), config.database.schema)).toEqual([]);
  });
});
