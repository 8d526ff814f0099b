import pg from 'pg';
import { InvalidArgumentError } from '../../core/errors.ts';

/**
 * The PostgreSQL role the app (pipeline roles, review server, CLI commands) runs as in
 * production: a LOGIN role that owns nothing, so the append-only trigger of `audit_log` binds it.
 * A table's owner can `ALTER TABLE audit_log DISABLE TRIGGER ...`, rewrite history and enable it
 * again; a role that is not the owner (nor a superuser) cannot, and without UPDATE, DELETE or
 * TRUNCATE privileges it cannot even try.
 *
 * It is an operator step (`claimtrail db grant-app-role`), not a migration: CREATE ROLE needs
 * CREATEROLE, which the role that owns and migrates the schema should not need to hold, and roles
 * are cluster-wide, not inside the schema. Idempotent; run it again after each migration (new
 * tables get their grants then).
 */

/** Lower-case SQL identifier, safe to quote into DDL. */
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The audit tables: the app role may read and append to them, never rewrite them. */
export const AUDIT_TABLES = Object.freeze(['audit_log', 'audit_seals']);

/**
 * Columns of `audit_seals` the anchor worker fills in once a seal is on chain. Writable by the
 * app role: a forged status cannot pass verification, which reads the chain at the configured
 * contract whatever the row says (review/services/audit-seal.service.ts).
 */
export const AUDIT_SEAL_ANCHOR_COLUMNS = Object.freeze(['status', 'chain_id', 'contract', 'tx_hash', 'block_number', 'block_hash', 'anchored_at']);

/** What {@link grantAppRole} did. */
export interface AppRoleGrant {
  role: string;
  schema: string;
  /** True when the role was created now (false: it existed). */
  created: boolean;
  /** Tables of the schema the role may use. */
  tables: number;
}

/**
 * Creates `role` (LOGIN, no other attribute) when missing and sets its privileges on `schema`:
 * SELECT, INSERT, UPDATE, DELETE on every table but the audit tables, SELECT and INSERT on those
 * (plus UPDATE of {@link AUDIT_SEAL_ANCHOR_COLUMNS}), SELECT on the migrations table, sequences
 * usable. Runs as the operator's connection (the schema owner, with CREATEROLE to create roles).
 * @param options.password sets (or changes) the role's password when given.
 * @throws InvalidArgumentError for a bad role name, or a role that is a superuser or owns a table
 *   of the schema (the trigger would not bind it).
 */
export async function grantAppRole(databaseUrl: string, schema: string, role: string, options: { password?: string } = {}): Promise<AppRoleGrant> {
  if (!ROLE_NAME.test(role)) throw new InvalidArgumentError(`--role: expected a lower-case SQL identifier (a-z, 0-9, _), got ${JSON.stringify(role)}`);
  if (!ROLE_NAME.test(schema)) throw new InvalidArgumentError(`DATABASE_SCHEMA: expected a lower-case SQL identifier, got ${JSON.stringify(schema)}`);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query('BEGIN');
    const existing = await db.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [role]);
    if (existing.rows[0]?.rolsuper) throw new InvalidArgumentError(`role ${role} is a superuser: the append-only trigger does not bind it; pick another role`);
    const owned = await db.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tableowner = $2', [schema, role]);
    if (owned.rows.length > 0) throw new InvalidArgumentError(`role ${role} owns ${owned.rows.map((r) => r.tablename).join(', ')} in ${schema}: the app must run as a role that owns nothing`);
    const created = existing.rows.length === 0;
    if (created) await db.query(`CREATE ROLE "${role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`);
    if (options.password !== undefined) await db.query(`ALTER ROLE "${role}" PASSWORD ${db.escapeLiteral(options.password)}`);
    const database = (await db.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
    await db.query(`GRANT CONNECT ON DATABASE ${db.escapeIdentifier(database)} TO "${role}"`);
    await db.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
    await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO "${role}"`);
    await db.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "${schema}" TO "${role}"`);
    const audit = AUDIT_TABLES.map((t) => `"${schema}".${t}`).join(', ');
    await db.query(`REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ${audit} FROM "${role}"`);
    await db.query(`GRANT UPDATE (${AUDIT_SEAL_ANCHOR_COLUMNS.join(', ')}) ON "${schema}".audit_seals TO "${role}"`);
    // Migrations are the owner's job; the app only checks that none is pending.
    await db.query(`REVOKE INSERT, UPDATE, DELETE ON "${schema}".pgmigrations FROM "${role}"`);
    const tables = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM pg_tables WHERE schemaname = $1', [schema]);
    await db.query('COMMIT');
    return { role, schema, created, tables: Number(tables.rows[0]!.n) };
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await db.end();
  }
}
