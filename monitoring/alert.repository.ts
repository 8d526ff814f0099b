import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '../infra/db/transaction.ts';
import type { AuditActor } from '../review/repositories/audit.repository.ts';
import { AuditRepository } from '../review/repositories/audit.repository.ts';

/** One reason of an alert: a stable code and, where it helps, a non-identifying number. */
export interface AlertReason {
  code: string;
  value?: number;
  /** A short non-identifying note (an address, a block, a threshold). */
  note?: string;
}

/** An alert to raise. */
export interface NewAlert {
  kind: 'chain' | 'access';
  severity: 'high' | 'medium' | 'low';
  subjectUserId?: string | null;
  day?: string | null;
  score?: number | null;
  reasons: AlertReason[];
  evidence?: Record<string, unknown>;
  /** Identity of the finding: the same key never raises twice. */
  dedupeKey: string;
}

/** One labelled user-day for the next behaviour model: its features (numbers only) and compliance's verdict. */
export interface AlertLabel {
  alertId: string;
  day: string;
  role: string;
  features: Record<string, number>;
  /** 1 policy violation, 0 benign (the latest disposition of the alert; needs_review gives none). */
  label: 0 | 1;
}

/** The monitor as a system actor in the audit log. */
export const MONITOR_ACTOR: AuditActor = Object.freeze({ userId: null, name: 'monitor:claimtrail', role: 'compliance', ip: null });

/**
 * Raises alerts: the `monitor_alerts` row and its `monitor.alert` audit entry commit together, so
 * every alert is sealed into the anchored audit batches with the rest of the audit log. Raising
 * the same finding again (same dedupe key) does nothing.
 */
export class AlertRepository {
  readonly #pool: Pool;
  readonly #audit: AuditRepository;
  constructor(pool: Pool) {
    this.#pool = pool;
    this.#audit = new AuditRepository(pool);
  }

  /** @returns the new alert's id, or null when the finding was raised before. */
  async raise(alert: NewAlert, db?: PoolClient): Promise<string | null> {
    const run = async (client: PoolClient) => {
      const { rows } = await client.query<{ alert_id: string }>(
        `INSERT INTO monitor_alerts (kind, severity, subject_user_id, day, score, reasons, evidence, dedupe_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedupe_key) DO NOTHING RETURNING alert_id::text`,
        [alert.kind, alert.severity, alert.subjectUserId ?? null, alert.day ?? null, alert.score ?? null, JSON.stringify(alert.reasons), JSON.stringify(alert.evidence ?? {}), alert.dedupeKey],
      );
      const id = rows[0]?.alert_id ?? null;
      if (id !== null) {
        await this.#audit.append(MONITOR_ACTOR, 'monitor.alert', { type: 'alert', id }, {
          kind: alert.kind, severity: alert.severity, subjectUserId: alert.subjectUserId ?? null, day: alert.day ?? null, score: alert.score ?? null, reasons: alert.reasons, evidence: alert.evidence ?? {},
        }, client);
      }
      return id;
    };
    return db ? run(db) : withTransaction(this.#pool, run);
  }

  /** Labelled access alerts: the latest disposition of each, with the user-day's features; no person named. */
  async labels(): Promise<AlertLabel[]> {
    const { rows } = await this.#pool.query<{ alert_id: string; day: string; role: string; features: Record<string, number>; disposition: string }>(
      `SELECT a.alert_id::text, to_char(a.day, 'YYYY-MM-DD') AS day, u.role, u.features, d.disposition
         FROM monitor_alerts a
         JOIN LATERAL (SELECT disposition FROM alert_dispositions WHERE alert_id = a.alert_id ORDER BY disposition_id DESC LIMIT 1) d ON true
         JOIN monitor_user_days u ON u.user_id = a.subject_user_id AND u.day = a.day
        WHERE a.kind = 'access' AND d.disposition IN ('benign', 'policy_violation')
        ORDER BY a.alert_id`,
    );
    return rows.map((r) => ({ alertId: r.alert_id, day: r.day, role: r.role, features: r.features, label: r.disposition === 'policy_violation' ? 1 : 0 }));
  }
}
