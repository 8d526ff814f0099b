import type { Pool } from 'pg';
import type { Logger } from '../core/logger.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { metrics } from '../infra/metrics/registry.ts';
import type { AlertRepository } from './alert.repository.ts';
import { type DayAccess, type Features, userDayFeatures, windowStart } from './behaviour-features.ts';
import { SCORER_THRESHOLDS, type ScoredUserDay, scoreUserDays, type UserDay } from './behaviour-scorer.ts';

/** Days of history: each user's own baseline and the detector's training window. */
export const HISTORY_DAYS = 30;

interface AccessRow {
  user_id: string;
  role: string;
  at: Date;
  phi: boolean;
  explanation: string | null;
  action: string;
  case_id: string | null;
  member_pseudonym: string | null;
  ip_pseudonym: string | null;
  detail: { identifierSearch?: boolean; returned?: number };
}

/**
 * Scores the user-days of one day (UTC) from the access records: features per user, the user's
 * own 30-day baseline, the detector fitted on the last 30 days of user-days, role peers of the
 * same day. Stores every user-day and raises an access alert (once per user-day) at or above the
 * alert score, with its reasons and the features as numbers. Re-scoring a day (later in the day,
 * or after late events) updates the stored user-days; an alert already raised stays as it was.
 */
export class BehaviourMonitor {
  readonly #pool: Pool;
  readonly #alerts: AlertRepository;
  readonly #log: Logger;

  constructor(deps: { pool: Pool; alerts: AlertRepository; log: Logger }) {
    this.#pool = deps.pool;
    this.#alerts = deps.alerts;
    this.#log = deps.log;
  }

  /** @param day `YYYY-MM-DD` (UTC). @returns every scored user-day of that day. */
  async scoreDay(day: string): Promise<ScoredUserDay[]> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new InvalidArgumentError(`day must be YYYY-MM-DD, got ${day}`);
    const { rows } = await this.#pool.query<AccessRow>(
      `SELECT r.user_id::text, u.role, r.at, r.phi, r.explanation, r.action, r.case_id::text, r.member_pseudonym, r.ip_pseudonym, r.detail
         FROM access_records r JOIN review_users u USING (user_id)
        WHERE r.at >= $1::date AND r.at < $1::date + 1
        ORDER BY r.at`,
      [day],
    );
    const byUser = new Map<string, { role: string; accesses: DayAccess[] }>();
    for (const r of rows) {
      const entry = byUser.get(r.user_id) ?? { role: r.role, accesses: [] };
      entry.accesses.push({ at: r.at, phi: r.phi, explanation: r.explanation, action: r.action, caseId: r.case_id, member: r.member_pseudonym, ip: r.ip_pseudonym, identifierSearch: r.detail.identifierSearch === true, returned: r.detail.returned ?? 0 });
      byUser.set(r.user_id, entry);
    }
    if (byUser.size === 0) return [];
    const users = [...byUser.keys()];
    const prior = await this.#pool.query<{ user_id: string; day: string; phi: string }>(
      `SELECT user_id::text, to_char(at::date, 'YYYY-MM-DD') AS day, count(*) FILTER (WHERE phi)::text AS phi
         FROM access_records WHERE user_id = ANY($1::bigint[]) AND at >= $2::date - $3::int AND at < $2::date
        GROUP BY 1, 2`,
      [users, day, HISTORY_DAYS],
    );
    const ips = await this.#pool.query<{ user_id: string; ip: string }>(
      `SELECT DISTINCT user_id::text, ip_pseudonym AS ip FROM access_records
        WHERE user_id = ANY($1::bigint[]) AND ip_pseudonym IS NOT NULL AND at >= $2::date - $3::int AND at < $2::date`,
      [users, day, HISTORY_DAYS],
    );
    // The multi-day window: members of unexplained PHI accesses on the working days before this one.
    const recent = await this.#pool.query<{ user_id: string; member: string }>(
      `SELECT DISTINCT user_id::text, member_pseudonym AS member FROM access_records
        WHERE user_id = ANY($1::bigint[]) AND phi AND explanation IS NULL AND member_pseudonym IS NOT NULL AND at >= $2::date AND at < $3::date`,
      [users, windowStart(day), day],
    );
    const days: UserDay[] = users.map((userId) => {
      const { role, accesses } = byUser.get(userId)!;
      const history = {
        priorDailyPhi: prior.rows.filter((p) => p.user_id === userId).map((p) => Number(p.phi)),
        knownIps: new Set(ips.rows.filter((i) => i.user_id === userId).map((i) => i.ip)),
        recentUnexplainedMembers: new Set(recent.rows.filter((r) => r.user_id === userId).map((r) => r.member)),
      };
      return { userId, role, day, features: userDayFeatures(accesses, history) };
    });
    const earlier = await this.#pool.query<{ user_id: string; role: string; day: string; features: Features }>(
      `SELECT user_id::text, role, to_char(day, 'YYYY-MM-DD') AS day, features FROM monitor_user_days WHERE day >= $1::date - $2::int AND day < $1::date`,
      [day, HISTORY_DAYS],
    );
    const scored = scoreUserDays(days, earlier.rows.map((r) => ({ userId: r.user_id, role: r.role, day: r.day, features: r.features })));
    for (const s of scored) {
      await this.#pool.query(
        `INSERT INTO monitor_user_days (user_id, day, role, features, score, anomaly, reasons) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id, day) DO UPDATE SET role = excluded.role, features = excluded.features, score = excluded.score, anomaly = excluded.anomaly, reasons = excluded.reasons, scored_at = now()`,
        [s.userId, day, s.role, JSON.stringify(s.features), s.score, s.anomaly, JSON.stringify(s.reasons)],
      );
      if (s.score < SCORER_THRESHOLDS.alert) continue;
      const severity = s.score >= 0.85 ? 'high' : 'medium';
      const id = await this.#alerts.raise({ kind: 'access', severity, subjectUserId: s.userId, day, score: s.score, reasons: s.reasons, evidence: { features: s.features, anomaly: s.anomaly }, dedupeKey: `access:${s.userId}:${day}` });
      if (id !== null) {
        metrics.monitorAlerts.inc({ kind: 'access', severity });
        this.#log.warn({ alertId: id, userId: s.userId, day, score: s.score, reasons: s.reasons.map((r) => r.code) }, 'access alert raised');
      }
    }
    return scored;
  }
}
