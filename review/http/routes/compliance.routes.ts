import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Role } from '../../auth/roles.ts';
import type { ComplianceService } from '../../services/compliance.service.ts';
import { actorOf } from '../auth.hook.ts';
import { DecisionList, DecisionParams, DecisionSearchQuery, ErrorBody, VerifyResult } from '../schemas.ts';

const COMPLIANCE: readonly Role[] = ['compliance'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
/** `?includeSalt=true` asks for the commitment salt (absent or `false`: none). */
const BundleQuery = z.object({ includeSalt: z.enum(['true', 'false']).optional() });

/** Compliance: find decisions, verify them against the chain, download proof bundles. */
export const complianceRoutes: FastifyPluginAsyncZod<{ compliance: ComplianceService }> = async (app, { compliance }) => {
  app.get('/api/compliance/decisions', {
    config: { access: COMPLIANCE },
    schema: { tags: ['compliance'], summary: 'Decisions about a claim id, newest first', querystring: DecisionSearchQuery, response: { 200: DecisionList, ...errors } },
  }, async (request) => ({ decisions: await compliance.search(actorOf(request), request.query.claimId) }));

  app.post('/api/compliance/decisions/:decisionId/verify', {
    config: { access: COMPLIANCE },
    schema: { tags: ['compliance'], summary: 'Verify a decision: leaf, Merkle proof, root on chain, confirmations (same verifier as `claimtrail verify`)', params: DecisionParams, response: { 200: VerifyResult, ...errors } },
  }, async (request) => compliance.verify(actorOf(request), request.params.decisionId));

  app.get('/api/compliance/decisions/:decisionId/bundle', {
    config: { access: COMPLIANCE },
    schema: {
      tags: ['compliance'],
      summary: 'Download the proof bundle (claimtrail-proof-v1 or -v2 by the decision); the salt only with includeSalt=true (audited; refused for an erased member)',
      params: DecisionParams,
      querystring: BundleQuery,
      response: { 200: z.record(z.string(), z.unknown()).describe('claimtrail-proof-v1 / claimtrail-proof-v2 JSON, see docs/proof-bundle.md'), ...errors },
    },
  }, async (request, reply) => {
    const bundle = await compliance.bundle(actorOf(request), request.params.decisionId, { includeSalt: request.query.includeSalt === 'true' });
    reply.header('content-disposition', `attachment; filename="proof-${bundle.decision.claimId.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`);
    return bundle;
  });
};
