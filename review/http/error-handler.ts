import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ClaimtrailError } from '../../core/errors.ts';
import { RateLimitedError } from '../errors.ts';

/** Status for each stable error code a service may throw; anything else is our bug (500). */
const STATUS_BY_CODE: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PROOF_UNAVAILABLE: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
};

/**
 * The one place service errors become HTTP: validation errors list every issue with its path;
 * our coded errors map by code; fastify's own 4xx (bad JSON, wrong content type, body too large)
 * keep their status. Unexpected errors are logged and answered with a generic 500.
 */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      path: [error.validationContext ?? '', ...String(v.instancePath ?? '').split('/').filter(Boolean)].filter(Boolean).join('.'),
      message: v.message ?? 'invalid',
    }));
    return reply.status(400).send({ error: 'INVALID_REQUEST', message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues });
  }
  if (error instanceof ClaimtrailError && STATUS_BY_CODE[error.code]) {
    if (error instanceof RateLimitedError) reply.header('retry-after', String(error.retryAfterSeconds));
    return reply.status(STATUS_BY_CODE[error.code]!).send({ error: error.code, message: error.message });
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return reply.status(error.statusCode).send({ error: error.code ?? 'BAD_REQUEST', message: error.message });
  }
  request.log.error({ err: error }, 'request failed');
  return reply.status(500).send({ error: 'INTERNAL', message: 'internal error; the request id is in the server log' });
}
