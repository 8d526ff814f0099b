import { describe, expect, it } from 'vitest';
import { ACCESS_EVENT_FORMAT, type AccessEvent, decodeAccessEvent, encodeAccessEvent } from '../../../monitoring/access-event.ts';
import { explainAccess, isPhiAccess, type WorkContext } from '../../../monitoring/explanations.ts';

const p = (c: string) => c.repeat(64);
const USER = p('a');
const OTHER = p('b');
const none: WorkContext = { queuesWorked: new Set(), escalatedByUser: false, drillDownFrom: false };

function event(overrides: Partial<AccessEvent> = {}, caseOverrides: Partial<NonNullable<AccessEvent['case']>> = {}): AccessEvent {
  return {
    format: ACCESS_EVENT_FORMAT,
    source: '7d1e8c6a-3f51-4d0e-9f8a-1b2c3d4e5f60',
    auditId: '42',
    at: '2026-12-01T10:00:00.000000Z',
    user: USER,
    role: 'supervisor',
    action: 'case.view',
    targetType: 'case',
    case: { id: '7', queue: 'flagged', assignee: null, status: 'open', member: p('c'), provider: p('d'), ...caseOverrides },
    ip: p('e'),
    detail: {},
    ...overrides,
  };
}

describe('explainAccess: the work context that accounts for an access', () => {
  it('explains a case assigned to the user, whatever their role', () => {
    expect(explainAccess(event({ role: 'investigator' }, { assignee: USER, status: 'assigned' }), none)).toBe('E_ASSIGNED');
    expect(explainAccess(event({ role: 'investigator', action: 'case.attachment.download' }, { assignee: USER, status: 'closed' }), none)).toBe('E_ASSIGNED');
  });

  it('explains the user\'s own escalations', () => {
    expect(explainAccess(event({}, { status: 'escalated' }), { ...none, escalatedByUser: true })).toBe('E_OWN_ESCALATION');
  });

  it('explains supervisor oversight of assigned and escalated cases and reassignments, not of open cases', () => {
    expect(explainAccess(event({}, { assignee: OTHER, status: 'assigned' }), none)).toBe('E_OVERSIGHT');
    expect(explainAccess(event({}, { status: 'escalated' }), none)).toBe('E_OVERSIGHT');
    expect(explainAccess(event({ action: 'case.reassign' }, { assignee: OTHER, status: 'assigned' }), none)).toBe('E_OVERSIGHT');
    expect(explainAccess(event({}, { status: 'open' }), none)).toBeNull();
    // An investigator does not oversee.
    expect(explainAccess(event({ role: 'investigator' }, { assignee: OTHER, status: 'assigned' }), none)).toBeNull();
  });

  it('explains a workable case in a queue the user works, not a closed one', () => {
    const worked = { ...none, queuesWorked: new Set(['flagged']) };
    expect(explainAccess(event({}, { status: 'open' }), worked)).toBe('E_QUEUE_WORKED');
    expect(explainAccess(event({}, { status: 'snoozed' }), worked)).toBe('E_QUEUE_WORKED');
    expect(explainAccess(event({}, { status: 'closed', assignee: OTHER }), worked)).toBeNull();
    expect(explainAccess(event({}, { queue: 'review' }), worked)).toBeNull();
  });

  it('explains a drill-down from an explained case to a related one', () => {
    expect(explainAccess(event({}, { status: 'closed', assignee: OTHER }), { ...none, drillDownFrom: true })).toBe('E_DRILL_DOWN');
  });

  it('leaves a supervisor\'s identifier search unexplained, and their plain case list explained', () => {
    const list = event({ action: 'cases.list', targetType: null, case: null, detail: { returned: 12 } });
    expect(isPhiAccess(list)).toBe(true);
    expect(explainAccess(list, none)).toBe('E_OVERSIGHT');
    expect(explainAccess({ ...list, detail: { returned: 1, identifierSearch: true } }, none)).toBeNull();
    expect(isPhiAccess({ ...list, detail: { returned: 0 } })).toBe(false);
    expect(isPhiAccess({ ...list, role: 'investigator' })).toBe(false);
  });

  it('marks actions that disclose no claim data, and system actors', () => {
    expect(explainAccess(event({ action: 'auth.login', case: null, targetType: null }), none)).toBe('N_NOT_PHI');
    expect(explainAccess(event({ action: 'queues.view', case: null, targetType: null }), none)).toBe('N_NOT_PHI');
    expect(explainAccess(event({ user: null, role: 'admin', action: 'labels.export', case: null, targetType: null }), none)).toBe('E_SYSTEM');
  });
});

describe('claimtrail-access-v1 codec', () => {
  it('round-trips an event and refuses anything else with the path of the problem', () => {
    const e = event();
    expect(decodeAccessEvent(encodeAccessEvent(e))).toEqual({ ok: true, event: e });
    expect(decodeAccessEvent(Buffer.from('{oops'))).toMatchObject({ ok: false, errors: [{ message: 'not JSON' }] });
    expect(decodeAccessEvent(null)).toMatchObject({ ok: false });
    const clear = { ...e, case: { ...e.case, member: 'M000123' } };
    expect(decodeAccessEvent(Buffer.from(JSON.stringify(clear)))).toMatchObject({ ok: false, errors: [{ path: 'case.member' }] });
    const extra = { ...e, userName: 'alice' };
    expect(decodeAccessEvent(Buffer.from(JSON.stringify(extra))).ok).toBe(false);
    expect(() => encodeAccessEvent({ ...e, ip: '10.0.0.1' })).toThrow();
  });
});
