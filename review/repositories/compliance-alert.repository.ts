import type { Pool } from 'pg';
import type { Queryable } from './db.ts';

export const ALERT_DISPOSITIONS = ['benign', 'policy_violation', 'needs_review'] as const;
export type AlertDisposition = (typeof ALERT_DISPOSITIONS)[number];

/** An alert of the monitor as the compliance queue shows it (reasons are codes and numbers). */
export interface ComplianceAlert {
  alertId: string;
  kind: 'chain' | 'access';
  severity: 'high' | 'medium' | 'low';
  /** The user an access alert is about (null for chain alerts). */
  subject: { userId: string; name: string; role: string } | null;
  day: string | null;
  score: number | null;
  reasons: Array<{ code: string; value?: number; note?: string }>;
  evidence: Record<string, unknown>;
  status: 'open' | AlertDisposition;
  createdAt: string;
}

/** One day of the subject's activity, for the alert's timeline chart. */
export interface TimelineDay {
  day: string;
  phi: number;
  unexplained: number;
  offHours: number;
}

/** One disclosure of a member's claim data: who, when, what, under which explanation. */
export interface Disclosure {
  at: string;
  userName: string;
  role: string;
  action: string;
  caseId: string | null;
  explanation: string | null;
}

interface AlertRow {
  alert_id: string;
  kind: ComplianceAlert['kind'];
  severity: ComplianceAlert['severity'];
  subject_user_id: string | null;
  subject_name: string | null;
  subject_role: string | null;
  day: string | null;
  score: number | null;
  reasons: ComplianceAlert['reasons'];
  evidence: Record<string, unknown>;
  status: ComplianceAlert['status'];
  created_at: Date;
}

const SELECT = `SELECT a.alert_id::text, a.kind, a.severity, a.subject_user_id::text, u.name AS subject_name, u.role AS subject_role,
  to_char(a.day, 'YYYY-MM-DD') AS day, a.score, a.reasons, a.evidence, a.status, a.created_at
  FROM monitor_alerts a LEFT JOIN review_users u ON u.user_id = a.subject_user_id`;

const toAlert = (r: AlertRow): ComplianceAlert => ({
  alertId: r.alert_id,
  kind: r.kind,
  severity: r.severity,
  subject: r.subject_user_id ? { userId: r.subject_user_id, name: r.subject_name ?? '', role: r.subject_role ?? '' } : null,
  day: r.day,
  score: r.score,
  reasons: r.reasons,
  evidence: r.evidence,
  status: r.status,
  createdAt: r.created_at.toISOString(),
});

/**
 * The review app's read of the monitor's tables (written by monitoring/, which the review app never
 * imports): alerts, their dispositions, the subject's timeline, and the accounting of disclosures.
 * Every query leaves out alerts about `viewerId` (separation of duties).
 */
export class ComplianceAlertRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Alerts not about `viewerId`, newest first; `status` filters ('open' also lists needs_review). */
  async list(viewerId: string, filter: { status?: 'open' | 'closed' }, page: { limit: number; offset: number }): Promise<{ total: number; items: ComplianceAlert[] }> {
    const where = `a.subject_user_id IS DISTINCT FROM $1::bigint AND ($2::text IS NULL OR ($2 = 'open' AND a.status IN ('open', 'needs_review')) OR ($2 = 'closed' AND a.status IN ('benign', 'policy_violation')))`;
    const args = [viewerId, filter.status ?? null];
    const [count, rows] = await Promise.all([
      this.#pool.query<{ n: string }>(`SELECT count(*) AS n FROM monitor_alerts a WHERE ${where}`, args),
      this.#pool.query<AlertRow>(`${SELECT} WHERE ${where} ORDER BY a.alert_id DESC LIMIT $3 OFFSET $4`, [...args, page.limit, page.offset]),
    ]);
    return { total: Number(count.rows[0]!.n), items: rows.rows.map(toAlert) };
  }

  /** One alert, or null when missing or about `viewerId`. */
  async get(alertId: string, viewerId: string, db: Queryable = this.#pool, lock = false): Promise<ComplianceAlert | null> {
    const { rows } = await db.query<AlertRow>(`${SELECT} WHERE a.alert_id = $1 AND a.subject_user_id IS DISTINCT FROM $2::bigint${lock ? ' FOR UPDATE OF a' : ''}`, [alertId, viewerId]);
    return rows[0] ? toAlert(rows[0]) : null;
  }

  async dispositions(alertId: string): Promise<Array<{ dispositionId: string; userName: string; disposition: AlertDisposition; note: string; createdAt: string }>> {
    const { rows } = await this.#pool.query<{ disposition_id: string; name: string; disposition: AlertDisposition; note: string; created_at: Date }>(
      `SELECT d.disposition_id::text, u.name, d.disposition, d.note, d.created_at FROM alert_dispositions d JOIN review_users u USING (user_id) WHERE d.alert_id = $1 ORDER BY d.disposition_id`,
      [alertId],
    );
    return rows.map((r) => ({ dispositionId: r.disposition_id, userName: r.name, disposition: r.disposition, note: r.note, createdAt: r.created_at.toISOString() }));
  }

  async addDisposition(alertId: string, userId: string, disposition: AlertDisposition, note: string, db: Queryable): Promise<string> {
    const { rows } = await db.query<{ id: string }>(`INSERT INTO alert_dispositions (alert_id, user_id, disposition, note) VALUES ($1, $2, $3, $4) RETURNING disposition_id::text AS id`, [alertId, userId, disposition, note]);
    await db.query('UPDATE monitor_alerts SET status = $2 WHERE alert_id = $1', [alertId, disposition]);
    return rows[0]!.id;
  }

  /** The subject's PHI accesses per day over the `days` days up to `day`. */
  async timeline(userId: string, day: string, days: number): Promise<TimelineDay[]> {
    const { rows } = await this.#pool.query<{ day: string; phi: string; unexplained: string; off_hours: string }>(
      `SELECT to_char(g.day, 'YYYY-MM-DD') AS day,
              count(r.*) FILTER (WHERE r.phi)::text AS phi,
              count(r.*) FILTER (WHERE r.phi AND r.explanation IS NULL)::text AS unexplained,
              count(r.*) FILTER (WHERE r.phi AND (extract(isodow FROM r.at AT TIME ZONE 'UTC') >= 6 OR extract(hour FROM r.at AT TIME ZONE 'UTC') NOT BETWEEN 7 AND 18))::text AS off_hours
         FROM generate_series($2::date - ($3::int - 1), $2::date, interval '1 day') AS g(day)
         LEFT JOIN access_records r ON r.user_id = $1 AND r.at >= g.day AND r.at < g.day + interval '1 day'
        GROUP BY g.day ORDER BY g.day`,
      [userId, day, days],
    );
    return rows.map((r) => ({ day: r.day, phi: Number(r.phi), unexplained: Number(r.unexplained), offHours: Number(r.off_hours) }));
  }

  /** Every recorded disclosure of the member behind `memberPseudonym`, oldest first. */
  async disclosures(memberPseudonym: string, limit: number): Promise<Disclosure[]> {
    const { rows } = await this.#pool.query<{ at: Date; name: string; role: string; action: string; case_id: string | null; explanation: string | null }>(
      `SELECT r.at, u.name, r.role, r.action, r.case_id::text, r.explanation FROM access_records r JOIN review_users u USING (user_id)
        WHERE r.member_pseudonym = $1 AND r.phi ORDER BY r.at, r.audit_id LIMIT $2`,
      [memberPseudonym, limit],
    );
    return rows.map((r) => ({ at: r.at.toISOString(), userName: r.name, role: r.role, action: r.action, caseId: r.case_id, explanation: r.explanation }));
  }
}
