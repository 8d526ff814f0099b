import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from '../../core/logger.ts';
import { InvariantError } from '../../core/errors.ts';
import type { AuditRepository } from '../repositories/audit.repository.ts';
import type { AuditSealService } from '../services/audit-seal.service.ts';
import type { AuthService } from '../services/auth.service.ts';
import type { CaseService } from '../services/case.service.ts';
import type { ComplianceService } from '../services/compliance.service.ts';
import { LoginThrottle } from '../services/login-throttle.ts';
import { authHook, sessionCookieName } from './auth.hook.ts';
import { errorHandler } from './error-handler.ts';
import { adminRoutes } from './routes/admin.routes.ts';
import { attachmentRoutes } from './routes/attachment.routes.ts';
import { auditRoutes } from './routes/audit.routes.ts';
import { authRoutes, type LoginLimits } from './routes/auth.routes.ts';
import { caseRoutes } from './routes/case.routes.ts';
import { complianceRoutes } from './routes/compliance.routes.ts';
import { alertRoutes } from './routes/alert.routes.ts';
import type { AlertService } from '../services/alert.service.ts';

const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));

export interface ReviewAppDeps {
  auth: AuthService;
  cases: CaseService;
  compliance: ComplianceService;
  /** The compliance queue of the monitor's alerts and the accounting of disclosures. */
  alerts: AlertService;
  audit: AuditRepository;
  seals: AuditSealService;
  log: Logger;
  /** The app is served over https (behind a TLS proxy): `Secure` session cookie named `__Host-ctr_session`. */
  cookieSecure: boolean;
  /** Send Strict-Transport-Security. Default false; true when not bound to loopback (review/config.ts). */
  hsts?: boolean;
  /** Failed-login limiter; default 10 failures per user name and address per 15 minutes. */
  loginThrottle?: LoginThrottle;
  /** Sign-in attempts per minute, per client address and over all; default 20 and 300. */
  loginLimits?: LoginLimits;
  /** fastify `trustProxy`: whose X-Forwarded-* headers to believe (review/config.ts). Default false. */
  trustProxy?: boolean | number | string[];
}

/** One registered API route and who may call it (for the role matrix test and the docs). */
export interface ApiRoute {
  method: string;
  url: string;
  access: readonly string[] | 'public';
}

/**
 * Builds the review app: JSON API under /api (zod-validated, OpenAPI at /api/openapi.json), the
 * web UI from review/web at /. Every /api route must declare `config.access`; registering one
 * without it fails at startup, so no route is open by accident.
 */
export async function buildReviewApp(deps: ReviewAppDeps): Promise<{ app: FastifyInstance; routes: ApiRoute[] }> {
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'review-http' }) as FastifyBaseLogger,
    // fastify's own request logs carry the raw URL, query string included (`?member=...`,
    // attachment names): they are off, and the onResponse hook below logs the route template.
    disableRequestLogging: true,
    bodyLimit: 256 * 1024,
    // A hop count n trusts the n closest proxies (as fastify documents for a number; its types lack it).
    trustProxy: typeof deps.trustProxy === 'number' ? trustHops(deps.trustProxy) : (deps.trustProxy ?? false),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.decorateRequest('principal', null);

  const routes: ApiRoute[] = [];
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const access = route.config?.access;
    if (access === undefined) throw new InvariantError(`route ${String(route.method)} ${route.url} declares no access`);
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url, access });
  });

  await app.register(fastifyCookie);
  // Only routes that ask for it are limited (the sign-in route); in memory, per process.
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'claimtrail review API', version: '1.0.0', description: 'Investigator queues, cases and dispositions; audit; compliance proofs. Auth: session cookie from POST /api/auth/login, or `Authorization: Bearer <API token>`.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: sessionCookieName(deps.cookieSecure) } } },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route template (`/api/cases/:caseId`), never request.url: ids, member ids and file
    // names in paths and query strings stay out of the logs. Unmatched routes log `route: null`.
    request.log.info({ method: request.method, route: request.routeOptions.url ?? null, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request completed');
  });
  // Security headers: a strict CSP for the UI (no inline script or style), nosniff, no referrer,
  // no framing. No `upgrade-insecure-requests`, which would break local http development; HSTS
  // only when served off loopback (a browser pinning https on 127.0.0.1 breaks every local app).
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'], styleSrc: ["'self'"], scriptSrc: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'self'"], objectSrc: ["'none'"] } },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: deps.hsts ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  // onRequest, before body parsing and validation: a caller without access learns nothing more.
  app.addHook('onRequest', authHook(deps.auth, sessionCookieName(deps.cookieSecure)));
  app.addHook('onSend', async (_request, reply, payload) => {
    // API answers can hold PHI: never cache them.
    reply.header('cache-control', 'no-store');
    return payload;
  });

  await app.register(authRoutes, { auth: deps.auth, cookieSecure: deps.cookieSecure, throttle: deps.loginThrottle ?? new LoginThrottle(), limits: deps.loginLimits ?? { perIpPerMinute: 20, globalPerMinute: 300 } });
  await app.register(caseRoutes, { cases: deps.cases, auth: deps.auth });
  await app.register(attachmentRoutes, { cases: deps.cases });
  await app.register(auditRoutes, { audit: deps.audit, seals: deps.seals });
  await app.register(complianceRoutes, { compliance: deps.compliance });
  await app.register(alertRoutes, { alerts: deps.alerts });
  await app.register(adminRoutes, { auth: deps.auth });
  app.get('/api/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());

  await app.register(fastifyStatic, { root: WEB_ROOT, prefix: '/', index: ['index.html'] });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ error: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }));
  return { app, routes };
}

/** proxy-addr's trust function for "the `hops` closest proxies". */
function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}
