import type { Pool } from 'pg';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { AccessPseudonyms } from '../audit/access-pseudonyms.ts';
import type { Actor } from '../auth/roles.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { AuditRepository } from '../repositories/audit.repository.ts';
import type { AlertDisposition, ComplianceAlert, ComplianceAlertRepository, Disclosure, TimelineDay } from '../repositories/compliance-alert.repository.ts';
import { withTransaction } from '../repositories/db.ts';

/** Days of the subject's activity shown with an access alert. */
const TIMELINE_DAYS = 30;
/** Most disclosures one accounting lists. */
const MAX_DISCLOSURES = 10_000;

/** An alert with what compliance needs to decide it. */
export interface AlertDetail {
  alert: ComplianceAlert;
  /** The subject's PHI accesses per day up to the alert's day (access alerts; empty for chain alerts). */
  timeline: TimelineDay[];
  dispositions: Awaited<ReturnType<ComplianceAlertRepository['dispositions']>>;
}

/**
 * The compliance queue over the monitor's alerts, and the accounting of disclosures. Separation
 * of duties: nobody lists, opens or dispositions an alert about themselves (it reads as missing).
 * Every read and disposition is audited; a disposition and its audit entry commit together, so
 * dispositions are sealed into the anchored audit batches like the alerts themselves.
 */
export class AlertService {
  readonly #d: { pool: Pool; alerts: ComplianceAlertRepository; audit: AuditRepository; pseudonyms: AccessPseudonyms };
  constructor(deps: { pool: Pool; alerts: ComplianceAlertRepository; audit: AuditRepository; pseudonyms: AccessPseudonyms }) {
    this.#d = deps;
  }

  async list(actor: Actor, filter: { status?: 'open' | 'closed' }, page: { limit: number; offset: number }): Promise<{ total: number; items: ComplianceAlert[] }> {
    const result = await this.#d.alerts.list(actor.userId, filter, page);
    await this.#d.audit.append(actor, 'alerts.list', null, { status: filter.status ?? null, ...page, returned: result.items.map((a) => a.alertId) });
    return result;
  }

  /** @throws NotFoundError for a missing alert or one about the actor. */
  async view(actor: Actor, alertId: string): Promise<AlertDetail> {
    const alert = await this.#d.alerts.get(alertId, actor.userId);
    if (!alert) throw new NotFoundError(`no alert ${alertId}`);
    const [timeline, dispositions] = await Promise.all([
      alert.subject && alert.day ? this.#d.alerts.timeline(alert.subject.userId, alert.day, TIMELINE_DAYS) : Promise.resolve([]),
      this.#d.alerts.dispositions(alertId),
    ]);
    await this.#d.audit.append(actor, 'alert.view', { type: 'alert', id: alertId }, { kind: alert.kind });
    return { alert, timeline, dispositions };
  }

  /**
   * Records compliance's disposition (the label of the next behaviour model: policy_violation 1,
   * benign 0, needs_review none yet) with its mandatory note. A closed alert (benign or
   * policy_violation) takes no further disposition.
   * @throws NotFoundError (missing or about the actor), ConflictError (closed), InvalidArgumentError (no note).
   */
  async dispose(actor: Actor, alertId: string, disposition: AlertDisposition, note: string): Promise<AlertDetail> {
    const text = note.trim();
    if (!text) throw new InvalidArgumentError('a disposition needs a note');
    await withTransaction(this.#d.pool, async (db) => {
      const alert = await this.#d.alerts.get(alertId, actor.userId, db, true);
      if (!alert) throw new NotFoundError(`no alert ${alertId}`);
      if (alert.status === 'benign' || alert.status === 'policy_violation') throw new ConflictError(`alert ${alertId} is closed as ${alert.status}`);
      const dispositionId = await this.#d.alerts.addDisposition(alertId, actor.userId, disposition, text, db);
      await this.#d.audit.append(actor, 'alert.dispose', { type: 'alert', id: alertId }, { dispositionId, disposition, label: disposition === 'policy_violation' ? 1 : disposition === 'benign' ? 0 : null }, db);
    });
    return this.view(actor, alertId);
  }

  /**
   * The accounting of disclosures of one member (HIPAA): who accessed the member's claim data,
   * when, how and under which explanation, from the monitor's access records. The member id is
   * turned into its access pseudonym here and never stored; the audit entry records the pseudonym.
   */
  async disclosures(actor: Actor, memberId: string): Promise<{ memberPseudonym: string; disclosures: Disclosure[] }> {
    if (!memberId.trim()) throw new InvalidArgumentError('a member id is needed');
    const memberPseudonym = this.#d.pseudonyms.of('member', memberId);
    const disclosures = await this.#d.alerts.disclosures(memberPseudonym, MAX_DISCLOSURES);
    await this.#d.audit.append(actor, 'disclosures.export', { type: 'member', id: memberPseudonym }, { count: disclosures.length });
    return { memberPseudonym, disclosures };
  }
}
