import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Role } from '../../auth/roles.ts';
import type { AuthService } from '../../services/auth.service.ts';
import type { CaseService } from '../../services/case.service.ts';
import { actorOf } from '../auth.hook.ts';
import { CaseDetail, CaseList, CaseParams, CaseQuery, CaseSummary, DispositionBody, ErrorBody, NoteBody, NoteList, QueueSummary, ReassignBody, SnoozeBody, TakeNextBody, TakeNextResult, Team } from '../schemas.ts';
import { z } from 'zod';

const WORKERS: readonly Role[] = ['investigator', 'supervisor'];
const SUPERVISOR: readonly Role[] = ['supervisor'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** Queues and cases for investigators and supervisors. Thin: each handler calls CaseService. */
export const caseRoutes: FastifyPluginAsyncZod<{ cases: CaseService; auth: AuthService }> = async (app, { cases, auth }) => {
  app.get('/api/queues', {
    config: { access: WORKERS },
    schema: { tags: ['cases'], summary: 'Queues with case counts by status and SLA breaches', response: { 200: z.object({ queues: z.array(QueueSummary) }), ...errors } },
  }, async (request) => ({ queues: await cases.queues(actorOf(request)) }));

  app.get('/api/cases', {
    config: { access: WORKERS },
    schema: { tags: ['cases'], summary: 'Cases by priority (score x amount band) then age, filtered and paginated', querystring: CaseQuery, response: { 200: CaseList, ...errors } },
  }, async (request) => {
    const actor = actorOf(request);
    const q = request.query;
    const filter = {
      ...(q.queue ? { queue: q.queue } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.provider ? { providerNpi: q.provider } : {}),
      ...(q.member ? { memberId: q.member } : {}),
      ...(q.rule ? { rule: q.rule } : {}),
      ...(q.from ? { from: q.from } : {}),
      ...(q.to ? { to: q.to } : {}),
      ...(q.assignee ? { assigneeId: q.assignee === 'me' ? actor.userId : q.assignee } : {}),
      ...(q.breached !== undefined ? { breached: q.breached } : {}),
    };
    const result = await cases.list(actor, filter, { limit: q.limit, offset: q.offset });
    return { ...result, limit: q.limit, offset: q.offset };
  });

  app.post('/api/cases/take-next', {
    config: { access: WORKERS },
    schema: { tags: ['cases'], summary: 'Atomically assign the most urgent workable case to the caller', body: TakeNextBody, response: { 200: TakeNextResult, ...errors } },
  }, async (request) => ({ case: await cases.takeNext(actorOf(request), request.body.queue) }));

  app.get('/api/cases/:caseId', {
    config: { access: WORKERS },
    schema: { tags: ['cases'], summary: 'One case with the claim (PHI, audited), decision, related claims, notes and proof status', params: CaseParams, response: { 200: CaseDetail, ...errors } },
  }, async (request) => cases.view(actorOf(request), request.params.caseId));

  app.post('/api/cases/:caseId/notes', {
    config: { access: WORKERS },
    schema: { tags: ['cases'], summary: 'Add a note', params: CaseParams, body: NoteBody, response: { 200: NoteList, ...errors } },
  }, async (request) => ({ notes: await cases.addNote(actorOf(request), request.params.caseId, request.body.body) }));

  app.post('/api/cases/:caseId/disposition', {
    config: { access: WORKERS },
    schema: { tags: ['cases'], summary: 'Record a disposition with its mandatory note (escalated hands the case to supervisors)', params: CaseParams, body: DispositionBody, response: { 200: CaseSummary, ...errors } },
  }, async (request) => cases.dispose(actorOf(request), request.params.caseId, request.body.disposition, request.body.note));

  app.post('/api/cases/:caseId/snooze', {
    config: { access: WORKERS },
    schema: { tags: ['cases'], summary: 'Put the case back in its queue until a time', params: CaseParams, body: SnoozeBody, response: { 200: CaseSummary, ...errors } },
  }, async (request) => cases.snooze(actorOf(request), request.params.caseId, request.body.until));

  app.post('/api/cases/:caseId/reassign', {
    config: { access: SUPERVISOR },
    schema: { tags: ['supervisor'], summary: 'Give the case to an investigator or supervisor', params: CaseParams, body: ReassignBody, response: { 200: CaseSummary, ...errors } },
  }, async (request) => cases.reassign(actorOf(request), request.params.caseId, request.body.assigneeId));

  app.get('/api/team', {
    config: { access: SUPERVISOR },
    schema: { tags: ['supervisor'], summary: 'Investigators and supervisors cases can be assigned to', response: { 200: Team, ...errors } },
  }, async () => ({ users: [...(await auth.listUsers('investigator')), ...(await auth.listUsers('supervisor'))] }));
};
