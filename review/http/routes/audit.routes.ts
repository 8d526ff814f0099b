import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Role } from '../../auth/roles.ts';
import type { AuditRepository } from '../../repositories/audit.repository.ts';
import { actorOf } from '../auth.hook.ts';
import type { AuditSealService } from '../../services/audit-seal.service.ts';
import { AuditBatchCheck, AuditBatchList, AuditBatchParams, AuditList, AuditQuery, ErrorBody } from '../schemas.ts';

const AUDITORS: readonly Role[] = ['supervisor', 'compliance', 'admin'];

/** The audit trail, newest first. Reading it is itself audited. */
export const auditRoutes: FastifyPluginAsyncZod<{ audit: AuditRepository; seals: AuditSealService }> = async (app, { audit, seals }) => {
  app.get('/api/audit', {
    config: { access: AUDITORS },
    schema: { tags: ['audit'], summary: 'Audit entries, newest first', querystring: AuditQuery, response: { 200: AuditList, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody } },
  }, async (request) => {
    const q = request.query;
    const filter = { ...(q.user ? { userName: q.user } : {}), ...(q.action ? { action: q.action } : {}), ...(q.targetType ? { targetType: q.targetType } : {}), ...(q.targetId ? { targetId: q.targetId } : {}) };
    const result = await audit.list(filter, { limit: q.limit, offset: q.offset });
    await audit.append(actorOf(request), 'audit.view', null, { filter });
    return { ...result, limit: q.limit, offset: q.offset };
  });

  app.get('/api/audit/batches', {
    config: { access: AUDITORS },
    schema: { tags: ['audit'], summary: 'Sealed audit batches (Merkle roots handed to the anchor worker), newest first', response: { 200: AuditBatchList, 401: ErrorBody, 403: ErrorBody } },
  }, async () => ({ batches: await seals.list() }));

  app.post('/api/audit/batches/:batchId/verify', {
    config: { access: AUDITORS },
    schema: { tags: ['audit'], summary: 'Recompute an audit batch root from the rows and compare it with the sealed and on-chain roots', params: AuditBatchParams, response: { 200: AuditBatchCheck, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody } },
  }, async (request) => seals.verify(actorOf(request), request.params.batchId));
};
