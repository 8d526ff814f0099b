import type { Pool, PoolClient } from 'pg';

/** One unpublished audit entry with the context the relay turns into an access event. Contains identifiers: never log it. */
export interface OutboxEntry {
  auditId: string;
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, as stored). */
  at: string;
  userId: string | null;
  /** The audit entry's actor name: `cli` / `cli:<os user>` marks a system actor. */
  userName: string;
  role: string;
  action: string;
  targetType: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  caseId: string | null;
  caseQueue: string | null;
  caseAssigneeId: string | null;
  caseStatus: string | null;
  /** From the case's `claim_payloads` lookup columns (null once the member is erased). */
  memberId: string | null;
  providerNpi: string | null;
}

interface Row {
  audit_id: string;
  at_text: string;
  user_id: string | null;
  user_name: string;
  role: string;
  action: string;
  target_type: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  case_id: string | null;
  case_queue: string | null;
  case_assignee_id: string | null;
  case_status: string | null;
  member_id: string | null;
  provider_npi: string | null;
}

/** Advisory lock key of the relay: one relay publishes at a time, in audit id order. */
const RELAY_LOCK = 'claimtrail-access-relay';

/**
 * The access-events outbox (`access_outbox`, written with each audit entry by
 * review/repositories/audit.repository.ts): the relay's reads and its published marks.
 */
export class AccessOutboxRepository {
  readonly #pool: Pool;
  #source: Promise<string> | null = null;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** The audit log's identity (review_instance id), the `source` of every event. */
  source(): Promise<string> {
    this.#source ??= this.#pool.query<{ id: string }>('SELECT instance_id::text AS id FROM review_instance').then(({ rows }) => rows[0]!.id);
    return this.#source;
  }

  /**
   * Runs `fn` in a transaction holding the relay lock, or returns null at once when another
   * relay holds it. Rows marked inside commit with the transaction.
   */
  async underRelayLock<T>(fn: (db: PoolClient) => Promise<T>): Promise<T | null> {
    const db = await this.#pool.connect();
    try {
      await db.query('BEGIN');
      const { rows } = await db.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [RELAY_LOCK]);
      if (!rows[0]!.ok) {
        await db.query('ROLLBACK');
        return null;
      }
      const result = await fn(db);
      await db.query('COMMIT');
      return result;
    } catch (error) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      db.release();
    }
  }

  /** The oldest unpublished entries, in audit id order. */
  async unpublished(limit: number, db: PoolClient): Promise<OutboxEntry[]> {
    const { rows } = await db.query<Row>(
      `SELECT o.audit_id::text, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at_text, a.user_id::text, a.user_name, a.role, a.action,
              a.target_type, a.ip, a.details, o.case_id::text, o.case_queue, o.case_assignee_id::text, o.case_status, p.member_id, p.provider_npi
         FROM access_outbox o
         JOIN audit_log a ON a.audit_id = o.audit_id
         LEFT JOIN cases c ON c.case_id = o.case_id
         LEFT JOIN claim_payloads p ON p.decision_id = c.decision_id
        WHERE o.published_at IS NULL
        ORDER BY o.audit_id
        LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      auditId: r.audit_id,
      at: r.at_text,
      userId: r.user_id,
      userName: r.user_name,
      role: r.role,
      action: r.action,
      targetType: r.target_type,
      ip: r.ip,
      details: r.details,
      caseId: r.case_id,
      caseQueue: r.case_queue,
      caseAssigneeId: r.case_assignee_id,
      caseStatus: r.case_status,
      memberId: r.member_id,
      providerNpi: r.provider_npi,
    }));
  }

  async markPublished(auditIds: readonly string[], db: PoolClient): Promise<void> {
    await db.query('UPDATE access_outbox SET published_at = now() WHERE audit_id = ANY($1::bigint[])', [auditIds]);
  }

  /** Entries not yet published (for the lag gauge and tests). */
  async pendingCount(): Promise<number> {
    const { rows } = await this.#pool.query<{ n: string }>('SELECT count(*) AS n FROM access_outbox WHERE published_at IS NULL');
    return Number(rows[0]!.n);
  }
}
