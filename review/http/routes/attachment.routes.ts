import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Role } from '../../auth/roles.ts';
import { ATTACHMENT_MAX_BYTES, ATTACHMENT_TYPES } from '../../services/attachment-policy.ts';
import type { CaseService } from '../../services/case.service.ts';
import { actorOf } from '../auth.hook.ts';
import { AttachmentList, AttachmentParams, AttachmentSummary, AttachmentUploadQuery, CaseParams, ErrorBody } from '../schemas.ts';

const WORKERS: readonly Role[] = ['investigator', 'supervisor'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody };

/** `filename=` for Content-Disposition: an ASCII fallback plus the exact name (RFC 6266 / 8187). */
function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/**
 * Case attachments. Uploads are the raw file as the request body with its own Content-Type
 * (this plugin's scope reads every body as bytes, at most ATTACHMENT_MAX_BYTES: bigger is 413);
 * the service checks the type allowlist and the bytes. Downloads always come as attachments.
 */
export const attachmentRoutes: FastifyPluginAsyncZod<{ cases: CaseService }> = async (app, { cases }) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: ATTACHMENT_MAX_BYTES }, (_request, body, done) => done(null, body));

  app.post('/api/cases/:caseId/attachments', {
    config: { access: WORKERS },
    bodyLimit: ATTACHMENT_MAX_BYTES,
    schema: {
      tags: ['cases'],
      summary: `Attach a file: the request body is the file, Content-Type one of ${ATTACHMENT_TYPES.join(', ')}, at most ${ATTACHMENT_MAX_BYTES} bytes`,
      params: CaseParams,
      querystring: AttachmentUploadQuery,
      response: { 201: AttachmentSummary, ...errors },
    },
  }, async (request, reply) => {
    const content = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const saved = await cases.addAttachment(actorOf(request), request.params.caseId, { fileName: request.query.name, contentType: request.headers['content-type'] ?? '', content });
    return reply.status(201).send(saved);
  });

  app.get('/api/cases/:caseId/attachments', {
    config: { access: WORKERS },
    schema: { tags: ['cases'], summary: 'Attachments of a case (no contents)', params: CaseParams, response: { 200: AttachmentList, ...errors } },
  }, async (request) => ({ attachments: await cases.attachments(actorOf(request), request.params.caseId) }));

  app.get('/api/cases/:caseId/attachments/:attachmentId', {
    config: { access: WORKERS },
    schema: { tags: ['cases'], summary: 'Download one attachment (audited)', params: AttachmentParams, response: errors },
  }, async (request, reply) => {
    const file = await cases.attachment(actorOf(request), request.params.caseId, request.params.attachmentId);
    return reply
      .header('content-type', file.contentType)
      .header('content-disposition', contentDisposition(file.fileName))
      .header('x-attachment-sha256', file.sha256)
      // Bytes, not JSON: fastify sends a Buffer as is (the typed reply only knows the error bodies).
      .send(file.content as never);
  });
};
