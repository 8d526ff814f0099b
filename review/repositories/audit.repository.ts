import type { Pool } from 'pg';
import type { Actor, Role } from '../auth/roles.ts';
import { type Clock, systemClock } from '../clock.ts';
import type { Queryable } from './db.ts';

export interface AuditEntry {
  auditId: string;
  at: string;
  userId: string | null;
  userName: string;
  role: Role;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  userName?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
}

/**
 * Who an audit entry is about: a signed-in user (Actor), or a system actor such as the CLI
 * operator (`cli:<os user>`), who has no review user id.
 */
export type AuditActor = Omit<Actor, 'userId'> & { userId: string | null };

interface AuditRow {
  audit_id: string;
  at: Date;
  user_id: string | null;
  user_name: string;
  role: Role;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

/**
 * The append-only audit log (UPDATE, DELETE and TRUNCATE are refused by a trigger). `append`
 * takes a Queryable so an action and its audit entry commit together.
 */
export class AuditRepository {
  readonly #pool: Pool;
  readonly #clock: Clock;
  /** @param clock the source of each entry's `at` (default the system clock; see review/clock.ts). */
  constructor(pool: Pool, clock: Clock = systemClock) {
    this.#pool = pool;
    this.#clock = clock;
  }

  /**
   * Appends one entry and, in the same statement (so in the same transaction, whatever `db` is),
   * its row in the access-events outbox (`access_outbox`, published by monitoring/access-relay.ts)
   * with the work context of a case target as it stands now: queue, assignee and status.
   * The entry's `at` is the injected clock's time; the database still records its own insertion
   * time in `written_at`, which the sealer's minimum-age wait reads (an app clock behind the
   * database must not let a seal run ahead of a transaction still committing a lower audit id).
   * Nothing orders entries by `at`: the hash chain, seals and the relay go by `audit_id`.
   */
  async append(actor: AuditActor, action: string, target: { type: string; id: string } | null, details: Record<string, unknown> = {}, db: Queryable = this.#pool): Promise<void> {
    await db.query(
      `WITH entry AS (
         INSERT INTO audit_log (user_id, user_name, role, action, target_type, target_id, ip, details, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING audit_id, target_type, target_id
       )
       INSERT INTO access_outbox (audit_id, case_id, case_queue, case_assignee_id, case_status)
       SELECT entry.audit_id, c.case_id, c.queue, c.assignee_id, c.status
         FROM entry LEFT JOIN cases c
           ON entry.target_type = 'case' AND c.case_id = CASE WHEN entry.target_id ~ '^[0-9]{1,18}$' THEN entry.target_id::bigint END`,
      [actor.userId, actor.name, actor.role, action, target?.type ?? null, target?.id ?? null, actor.ip, JSON.stringify(details), this.#clock.now()],
    );
  }

  /** Newest first. */
  async list(filter: AuditFilter, page: { limit: number; offset: number }): Promise<{ total: number; items: AuditEntry[] }> {
    const where = `($1::text IS NULL OR user_name = $1) AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR target_type = $3) AND ($4::text IS NULL OR target_id = $4)`;
    const args = [filter.userName ?? null, filter.action ?? null, filter.targetType ?? null, filter.targetId ?? null];
    const [count, page_] = await Promise.all([
      this.#pool.query<{ n: string }>(`SELECT count(*) AS n FROM audit_log WHERE ${where}`, args),
      this.#pool.query<AuditRow>(
        `SELECT audit_id::text, at, user_id::text, user_name, role, action, target_type, target_id, ip, details FROM audit_log
         WHERE ${where} ORDER BY audit_log.audit_id DESC LIMIT $5 OFFSET $6`,
        [...args, page.limit, page.offset],
      ),
    ]);
    return {
      total: Number(count.rows[0]!.n),
      items: page_.rows.map((r) => ({ auditId: r.audit_id, at: r.at.toISOString(), userId: r.user_id, userName: r.user_name, role: r.role, action: r.action, targetType: r.target_type, targetId: r.target_id, ip: r.ip, details: r.details })),
    };
  }
}
