import type { AccessEvent } from './access-event.ts';

/**
 * Why an access is accounted for by the work context (explanation-based auditing): the first
 * that applies, in this order.
 * - `E_SYSTEM`: a system actor (the CLI operator); audited, not a person's browsing.
 * - `N_NOT_PHI`: the access disclosed no claim data (sign-in, tokens, queue counts, a masked list).
 * - `E_ASSIGNED`: the case was assigned to the user when they accessed it (closed cases stay with
 *   whoever closed them).
 * - `E_OWN_ESCALATION`: the user escalated this case earlier.
 * - `E_OVERSIGHT`: a supervisor on a case that is assigned to someone or escalated, or reassigning
 *   it, or a supervisor's case list without an identifier search (watching their role's queues).
 * - `E_QUEUE_WORKED`: a workable case (open or snoozed) in a queue the user took cases from within
 *   {@link QUEUE_WORK_DAYS} days.
 * - `E_DRILL_DOWN`: the case shares its member or provider with a case the user accessed with a
 *   direct explanation (not a drill-down itself) within {@link DRILL_DOWN_HOURS} hours.
 * Anything else that disclosed claim data is unexplained (null).
 */
export const EXPLANATIONS = ['E_SYSTEM', 'N_NOT_PHI', 'E_ASSIGNED', 'E_OWN_ESCALATION', 'E_OVERSIGHT', 'E_QUEUE_WORKED', 'E_DRILL_DOWN'] as const;
export type Explanation = (typeof EXPLANATIONS)[number];

/** Explanations that may open a drill-down (a drill-down never explains the next one: no laundering by chains). */
export const DIRECT_EXPLANATIONS: readonly Explanation[] = ['E_ASSIGNED', 'E_OWN_ESCALATION', 'E_OVERSIGHT', 'E_QUEUE_WORKED'];

/** How long taking a case from a queue counts as working that queue. */
export const QUEUE_WORK_DAYS = 30;
/** How long after a directly explained access its member's and provider's other cases are explained. */
export const DRILL_DOWN_HOURS = 2;

/** Case actions: each discloses the case's claim data to the user (the answer carries it). */
const CASE_PHI_ACTIONS = new Set(['case.view', 'case.take', 'case.note', 'case.dispose', 'case.snooze', 'case.reassign', 'case.attachment.upload', 'case.attachment.list', 'case.attachment.download']);

/** The work context of one user at the time of one access, read by the monitor from its tables. */
export interface WorkContext {
  /** The event's user pseudonym is the case's assignee (compared on the event itself). */
  /** Queues the user took a case from within QUEUE_WORK_DAYS before the access. */
  queuesWorked: ReadonlySet<string>;
  /** The user escalated this case before. */
  escalatedByUser: boolean;
  /** The user had a directly explained access to another case of the same member or provider within DRILL_DOWN_HOURS. */
  drillDownFrom: boolean;
}

/** Whether the access disclosed claim data. */
export function isPhiAccess(event: AccessEvent): boolean {
  if (event.case !== null && CASE_PHI_ACTIONS.has(event.action)) return true;
  // A supervisor's list shows member ids, NPIs and amounts of every case returned; an
  // investigator's only those of their own cases.
  if (event.action === 'cases.list') return event.role === 'supervisor' && (event.detail.returned ?? 0) > 0;
  return false;
}

/** The explanation of one access, or null when nothing in the work context accounts for it. */
export function explainAccess(event: AccessEvent, context: WorkContext): Explanation | null {
  if (event.user === null) return 'E_SYSTEM';
  if (!isPhiAccess(event)) return 'N_NOT_PHI';
  const c = event.case;
  if (c === null) {
    // Only a supervisor's unmasked case list gets here.
    return event.detail.identifierSearch ? null : 'E_OVERSIGHT';
  }
  if (c.assignee !== null && c.assignee === event.user) return 'E_ASSIGNED';
  if (context.escalatedByUser) return 'E_OWN_ESCALATION';
  if (event.role === 'supervisor' && (c.status === 'escalated' || (c.status === 'assigned' && c.assignee !== null) || event.action === 'case.reassign')) return 'E_OVERSIGHT';
  if ((c.status === 'open' || c.status === 'snoozed') && c.queue !== null && context.queuesWorked.has(c.queue)) return 'E_QUEUE_WORKED';
  if (context.drillDownFrom) return 'E_DRILL_DOWN';
  return null;
}
