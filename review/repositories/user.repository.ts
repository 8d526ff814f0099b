import type { Pool } from 'pg';
import type { Principal, Role } from '../auth/roles.ts';

export interface UserRecord extends Principal {
  passwordHash: string | null;
  disabled: boolean;
  createdAt: Date;
}

interface UserRow {
  user_id: string;
  name: string;
  role: Role;
  password_hash: string | null;
  disabled: boolean;
  created_at: Date;
}

const toUser = (r: UserRow): UserRecord => ({ userId: r.user_id, name: r.name, role: r.role, passwordHash: r.password_hash, disabled: r.disabled, createdAt: r.created_at });
const COLUMNS = 'u.user_id::text, u.name, u.role, u.password_hash, u.disabled, u.created_at';

/** Users, API tokens and sessions (secrets stored as hashes only). */
export class UserRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Inserts a user; returns null when the name is taken. */
  async create(name: string, role: Role, passwordHash: string | null): Promise<UserRecord | null> {
    const { rows } = await this.#pool.query<UserRow>(
      `INSERT INTO review_users AS u (name, role, password_hash) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
      [name, role, passwordHash],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  async findByName(name: string): Promise<UserRecord | null> {
    const { rows } = await this.#pool.query<UserRow>(`SELECT ${COLUMNS} FROM review_users u WHERE u.name = $1`, [name]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async findById(userId: string): Promise<UserRecord | null> {
    const { rows } = await this.#pool.query<UserRow>(`SELECT ${COLUMNS} FROM review_users u WHERE u.user_id = $1`, [userId]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async list(role?: Role): Promise<UserRecord[]> {
    const { rows } = await this.#pool.query<UserRow>(`SELECT ${COLUMNS} FROM review_users u WHERE ($1::text IS NULL OR u.role = $1) ORDER BY u.name`, [role ?? null]);
    return rows.map(toUser);
  }

  async addToken(userId: string, tokenHash: string, label: string): Promise<void> {
    await this.#pool.query('INSERT INTO review_api_tokens (token_hash, user_id, label) VALUES ($1, $2, $3)', [tokenHash, userId, label]);
  }

  /** The enabled user holding this API token (and records its use), or null. */
  async findByToken(tokenHash: string): Promise<UserRecord | null> {
    const { rows } = await this.#pool.query<UserRow>(
      `WITH t AS (UPDATE review_api_tokens SET last_used_at = now() WHERE token_hash = $1 RETURNING user_id)
       SELECT ${COLUMNS} FROM review_users u JOIN t USING (user_id) WHERE NOT u.disabled`,
      [tokenHash],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  async addSession(userId: string, sessionHash: string, expiresAt: Date): Promise<void> {
    await this.#pool.query('INSERT INTO review_sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [sessionHash, userId, expiresAt]);
  }

  /** The enabled user of an unexpired session, or null. */
  async findBySession(sessionHash: string): Promise<UserRecord | null> {
    const { rows } = await this.#pool.query<UserRow>(
      `SELECT ${COLUMNS} FROM review_users u JOIN review_sessions s USING (user_id)
       WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT u.disabled`,
      [sessionHash],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  /** Ends a session; also sweeps expired ones. */
  async deleteSession(sessionHash: string): Promise<void> {
    await this.#pool.query('DELETE FROM review_sessions WHERE token_hash = $1 OR expires_at < now()', [sessionHash]);
  }
}
