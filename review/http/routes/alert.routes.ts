import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Role } from '../../auth/roles.ts';
import { ALERT_DISPOSITIONS } from '../../repositories/compliance-alert.repository.ts';
import type { AlertService } from '../../services/alert.service.ts';
import { actorOf } from '../auth.hook.ts';
import { ErrorBody, Id } from '../schemas.ts';

const OVERSIGHT: readonly Role[] = ['compliance', 'admin'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

const Reason = z.object({ code: z.string(), value: z.number().optional(), note: z.string().optional() });
const Alert = z.object({
  alertId: z.string(),
  kind: z.enum(['chain', 'access']),
  severity: z.enum(['high', 'medium', 'low']),
  subject: z.object({ userId: z.string(), name: z.string(), role: z.string() }).nullable(),
  day: z.string().nullable(),
  score: z.number().nullable(),
  reasons: z.array(Reason),
  evidence: z.record(z.string(), z.unknown()),
  status: z.enum(['open', ...ALERT_DISPOSITIONS]),
  createdAt: z.string(),
});
const AlertDetail = z.object({
  alert: Alert,
  timeline: z.array(z.object({ day: z.string(), phi: z.number(), unexplained: z.number(), offHours: z.number() })),
  dispositions: z.array(z.object({ dispositionId: z.string(), userName: z.string(), disposition: z.enum(ALERT_DISPOSITIONS), note: z.string(), createdAt: z.string() })),
});
const AlertQuery = z.object({ status: z.enum(['open', 'closed']).optional(), limit: z.coerce.number().int().min(1).max(200).default(50), offset: z.coerce.number().int().min(0).default(0) });
const AlertParams = z.object({ alertId: Id });
// Free text: no NUL or unpaired surrogate (PostgreSQL cannot store them), as everywhere in the API.
const storable = (s: string) => !s.includes('\u0000') && s.isWellFormed();
const AlertDispositionBody = z.object({ disposition: z.enum(ALERT_DISPOSITIONS), note: z.string().trim().min(1, 'a disposition needs a note').max(10_000).refine(storable, 'must be Unicode text without NUL characters or unpaired surrogates') });
const DisclosureQuery = z.object({ member: z.string().trim().min(1).max(64).refine(storable, 'must be Unicode text without NUL characters or unpaired surrogates'), format: z.enum(['json', 'csv']).default('json') });

/** The compliance queue of the monitor's alerts (chain and access) and the accounting of disclosures. */
export const alertRoutes: FastifyPluginAsyncZod<{ alerts: AlertService }> = async (app, { alerts }) => {
  app.get('/api/compliance/alerts', {
    config: { access: OVERSIGHT },
    schema: { tags: ['compliance'], summary: 'Alerts of the monitor, newest first (never those about the caller)', querystring: AlertQuery, response: { 200: z.object({ total: z.number(), items: z.array(Alert) }), ...errors } },
  }, async (request) => {
    const { status, limit, offset } = request.query;
    return alerts.list(actorOf(request), status ? { status } : {}, { limit, offset });
  });

  app.get('/api/compliance/alerts/:alertId', {
    config: { access: OVERSIGHT },
    schema: { tags: ['compliance'], summary: 'One alert with its reasons, the subject\'s 30-day timeline and its dispositions', params: AlertParams, response: { 200: AlertDetail, ...errors } },
  }, async (request) => alerts.view(actorOf(request), request.params.alertId));

  app.post('/api/compliance/alerts/:alertId/disposition', {
    config: { access: OVERSIGHT },
    schema: { tags: ['compliance'], summary: 'Disposition an alert (benign / policy_violation / needs_review) with a note: the label of the next model, sealed in the audit log', params: AlertParams, body: AlertDispositionBody, response: { 200: AlertDetail, ...errors } },
  }, async (request) => alerts.dispose(actorOf(request), request.params.alertId, request.body.disposition, request.body.note));

  app.get('/api/compliance/disclosures', {
    config: { access: OVERSIGHT },
    schema: {
      tags: ['compliance'],
      summary: 'Accounting of disclosures of one member: who accessed their claim data, when, how, under which explanation (json or csv download)',
      querystring: DisclosureQuery,
      response: { 200: z.union([z.object({ memberPseudonym: z.string(), disclosures: z.array(z.object({ at: z.string(), userName: z.string(), role: z.string(), action: z.string(), caseId: z.string().nullable(), explanation: z.string().nullable() })) }), z.string()]), ...errors },
    },
  }, async (request, reply) => {
    const result = await alerts.disclosures(actorOf(request), request.query.member);
    if (request.query.format === 'json') return result;
    reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="disclosures.csv"');
    const rows = result.disclosures.map((d) => [d.at, d.userName, d.role, d.action, d.caseId ?? '', d.explanation ?? 'UNEXPLAINED'].join(','));
    return ['at,user,role,action,case,explanation', ...rows].join('\n') + '\n';
  });
};
