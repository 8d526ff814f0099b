import type { Pool, PoolClient } from 'pg';
import type { Role } from '../review/auth/roles.ts';
import { DIRECT_EXPLANATIONS, DRILL_DOWN_HOURS, type Explanation, QUEUE_WORK_DAYS, type WorkContext } from './explanations.ts';

/** One access as the monitor records it. */
export interface AccessRecord {
  source: string;
  auditId: string;
  at: string;
  userId: string | null;
  role: Role;
  action: string;
  phi: boolean;
  caseId: string | null;
  caseQueue: string | null;
  member: string | null;
  provider: string | null;
  ip: string | null;
  explanation: Explanation | null;
  detail: Record<string, unknown>;
}

/** A review user as the monitor knows them. */
export interface DirectoryUser {
  userId: string;
  role: Role;
}

/**
 * The monitor's tables: access records (one per event, first delivery wins), the work context it
 * keeps from the events (queues worked, own escalations), and the review users it resolves
 * pseudonyms against. Writes take the stage's transaction client.
 */
export class AccessRecordRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Every review user (id and role), for the pseudonym directory. */
  async users(): Promise<DirectoryUser[]> {
    const { rows } = await this.#pool.query<{ user_id: string; role: Role }>('SELECT user_id::text, role FROM review_users');
    return rows.map((r) => ({ userId: r.user_id, role: r.role }));
  }

  /** Whether the event was recorded already (a redelivery). */
  async has(source: string, auditId: string, db: PoolClient): Promise<boolean> {
    const { rows } = await db.query('SELECT 1 FROM access_records WHERE source = $1 AND audit_id = $2', [source, auditId]);
    return rows.length > 0;
  }

  /** The work context of `userId` at `at` for a case of (member, provider); see explanations.ts. */
  async context(userId: string, at: string, c: { id: string; member: string | null; provider: string | null } | null, db: PoolClient): Promise<WorkContext> {
    const queues = await db.query<{ queue: string }>(`SELECT queue FROM monitor_user_queues WHERE user_id = $1 AND last_at >= $2::timestamptz - make_interval(days => $3)`, [userId, at, QUEUE_WORK_DAYS]);
    if (c === null) return { queuesWorked: new Set(queues.rows.map((r) => r.queue)), escalatedByUser: false, drillDownFrom: false };
    const escalated = await db.query('SELECT 1 FROM monitor_escalations WHERE user_id = $1 AND case_id = $2', [userId, c.id]);
    const drill = c.member === null && c.provider === null
      ? { rows: [] }
      : await db.query(
          `SELECT 1 FROM access_records
            WHERE user_id = $1 AND at BETWEEN $2::timestamptz - make_interval(hours => $3) AND $2::timestamptz
              AND explanation = ANY($4::text[]) AND case_id IS DISTINCT FROM $5::bigint
              AND ((member_pseudonym = $6 AND $6 IS NOT NULL) OR (provider_pseudonym = $7 AND $7 IS NOT NULL))
            LIMIT 1`,
          [userId, at, DRILL_DOWN_HOURS, DIRECT_EXPLANATIONS, c.id, c.member, c.provider],
        );
    return { queuesWorked: new Set(queues.rows.map((r) => r.queue)), escalatedByUser: escalated.rows.length > 0, drillDownFrom: drill.rows.length > 0 };
  }

  /** Records one access (nothing when its (source, audit id) is recorded already). */
  async insert(r: AccessRecord, db: PoolClient): Promise<boolean> {
    const result = await db.query(
      `INSERT INTO access_records (source, audit_id, at, user_id, role, action, phi, case_id, case_queue, member_pseudonym, provider_pseudonym, ip_pseudonym, explanation, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (source, audit_id) DO NOTHING`,
      [r.source, r.auditId, r.at, r.userId, r.role, r.action, r.phi, r.caseId, r.caseQueue, r.member, r.provider, r.ip, r.explanation, JSON.stringify(r.detail)],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async workedQueue(userId: string, queue: string, at: string, db: PoolClient): Promise<void> {
    await db.query(
      `INSERT INTO monitor_user_queues (user_id, queue, last_at) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, queue) DO UPDATE SET last_at = greatest(monitor_user_queues.last_at, excluded.last_at)`,
      [userId, queue, at],
    );
  }

  async escalated(userId: string, caseId: string, at: string, db: PoolClient): Promise<void> {
    await db.query('INSERT INTO monitor_escalations (user_id, case_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [userId, caseId, at]);
  }
}
