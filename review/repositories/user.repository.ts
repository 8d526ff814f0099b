import type { Pool } from 'pg';
import type { Principal, Role } from '../auth/roles.ts';

export interface UserRecord extends Principal {
  passwordHash: string | null;
  disabled: boolean;
  /** A token-only account for automation (no password); admins may mint its tokens. */
  service: boolean;
  createdAt: Date;
}

/** One API token as listed (never the secret, which is stored only as its sha256). */
export interface TokenRecord {
  tokenId: string;
  userId: string;
  label: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

interface UserRow {
  user_id: string;
  name: string;
  role: Role;
  password_hash: string | null;
  disabled: boolean;
  service: boolean;
  created_at: Date;
}

interface TokenRow {
  token_id: string;
  user_id: string;
  label: string;
  created_at: Date;
  expires_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const toUser = (r: UserRow): UserRecord => ({ userId: r.user_id, name: r.name, role: r.role, passwordHash: r.password_hash, disabled: r.disabled, service: r.service, createdAt: r.created_at });
const toToken = (r: TokenRow): TokenRecord => ({
  tokenId: r.token_id,
  userId: r.user_id,
  label: r.label,
  createdAt: r.created_at.toISOString(),
  expiresAt: r.expires_at.toISOString(),
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
  revokedAt: r.revoked_at?.toISOString() ?? null,
});
const COLUMNS = 'u.user_id::text, u.name, u.role, u.password_hash, u.disabled, u.service, u.created_at';
const TOKEN_COLUMNS = 't.token_id::text, t.user_id::text, t.label, t.created_at, t.expires_at, t.last_used_at, t.revoked_at';

/** Users, API tokens and sessions (secrets stored as hashes only). */
export class UserRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Inserts a user; returns null when the name is taken. */
  async create(name: string, role: Role, passwordHash: string | null, service = false): Promise<UserRecord | null> {
    const { rows } = await this.#pool.query<UserRow>(
      `INSERT INTO review_users AS u (name, role, password_hash, service) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
      [name, role, passwordHash, service],
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

  /** Every user (disabled ones too), by name; only `role` when given. */
  async list(role?: Role): Promise<UserRecord[]> {
    const { rows } = await this.#pool.query<UserRow>(`SELECT ${COLUMNS} FROM review_users u WHERE ($1::text IS NULL OR u.role = $1) ORDER BY u.name`, [role ?? null]);
    return rows.map(toUser);
  }

  /**
   * Disables or enables a user. Disabling also deletes the user's sessions and revokes every
   * token, in the same statement (atomic); enabling revives neither. Null for an unknown user.
   */
  async setDisabled(userId: string, disabled: boolean): Promise<UserRecord | null> {
    const { rows } = await this.#pool.query<UserRow>(
      `WITH u AS (UPDATE review_users SET disabled = $2 WHERE user_id = $1 RETURNING *),
            s AS (DELETE FROM review_sessions WHERE $2 AND user_id = $1),
            t AS (UPDATE review_api_tokens SET revoked_at = now() WHERE $2 AND user_id = $1 AND revoked_at IS NULL)
       SELECT ${COLUMNS} FROM u`,
      [userId, disabled],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  async addToken(userId: string, tokenHash: string, label: string, expiresAt: Date): Promise<TokenRecord> {
    const { rows } = await this.#pool.query<TokenRow>(
      `INSERT INTO review_api_tokens AS t (token_hash, user_id, label, expires_at) VALUES ($1, $2, $3, $4) RETURNING ${TOKEN_COLUMNS}`,
      [tokenHash, userId, label, expiresAt],
    );
    return toToken(rows[0]!);
  }

  /** The user's tokens, newest first (revoked and expired ones too). */
  async tokens(userId: string): Promise<TokenRecord[]> {
    const { rows } = await this.#pool.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM review_api_tokens t WHERE t.user_id = $1 ORDER BY t.token_id DESC`, [userId]);
    return rows.map(toToken);
  }

  /**
   * Revokes a token by id (a no-op on one revoked already); when `ownerId` is given, only a token
   * of that user. Null when there is no such token (of that owner).
   */
  async revokeToken(tokenId: string, ownerId?: string): Promise<TokenRecord | null> {
    const { rows } = await this.#pool.query<TokenRow>(
      `UPDATE review_api_tokens t SET revoked_at = coalesce(t.revoked_at, now())
       WHERE t.token_id = $1 AND ($2::bigint IS NULL OR t.user_id = $2) RETURNING ${TOKEN_COLUMNS}`,
      [tokenId, ownerId ?? null],
    );
    return rows[0] ? toToken(rows[0]) : null;
  }

  /** The enabled user holding this unexpired, unrevoked API token (and records its use), or null. */
  /** The enabled user of an unrevoked token unexpired at `now` (the app's clock, review/clock.ts), or null; stamps its use. */
  async findByToken(tokenHash: string, now: Date): Promise<UserRecord | null> {
    const { rows } = await this.#pool.query<UserRow>(
      `WITH t AS (UPDATE review_api_tokens SET last_used_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING user_id)
       SELECT ${COLUMNS} FROM review_users u JOIN t USING (user_id) WHERE NOT u.disabled`,
      [tokenHash, now],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  async addSession(userId: string, sessionHash: string, expiresAt: Date): Promise<void> {
    await this.#pool.query('INSERT INTO review_sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [sessionHash, userId, expiresAt]);
  }

  /** The enabled user of a session unexpired at `now` (the app's clock, review/clock.ts), or null. */
  async findBySession(sessionHash: string, now: Date): Promise<UserRecord | null> {
    const { rows } = await this.#pool.query<UserRow>(
      `SELECT ${COLUMNS} FROM review_users u JOIN review_sessions s USING (user_id)
       WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled`,
      [sessionHash, now],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  /** Ends a session; also sweeps the ones expired at `now` (the app's clock). */
  async deleteSession(sessionHash: string, now: Date): Promise<void> {
    await this.#pool.query('DELETE FROM review_sessions WHERE token_hash = $1 OR expires_at < $2', [sessionHash, now]);
  }
}
