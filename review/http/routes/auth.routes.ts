import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES } from '../../auth/roles.ts';
import { RateLimitedError, UnauthenticatedError } from '../../errors.ts';
import type { AuthService } from '../../services/auth.service.ts';
import { LoginThrottle } from '../../services/login-throttle.ts';
import { actorOf, sessionCookieName } from '../auth.hook.ts';
import { CreatedToken, CreateTokenBody, ErrorBody, LoginBody, Principal, TokenInfo, TokenList, TokenParams } from '../schemas.ts';

/** Sign-in attempts allowed per minute (fixed one-minute windows, @fastify/rate-limit's in-memory store). */
export interface LoginLimits {
  /** Per client address (request.ip, proxy-aware through trustProxy). */
  perIpPerMinute: number;
  /** Over all addresses: a ceiling on scrypt work a distributed burst can cause. */
  globalPerMinute: number;
}

export interface AuthRoutesOptions {
  auth: AuthService;
  cookieSecure: boolean;
  throttle: LoginThrottle;
  limits: LoginLimits;
}

/** Sign in (session cookie), sign out, who am I, and one's own API tokens. */
export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, { auth, cookieSecure, throttle, limits }) => {
  const cookieName = sessionCookieName(cookieSecure);
  const perIp = app.createRateLimit({ max: limits.perIpPerMinute, timeWindow: 60_000 });
  const overall = app.createRateLimit({ max: limits.globalPerMinute, timeWindow: 60_000, keyGenerator: () => 'login:all' });
  app.post('/api/auth/login', {
    config: { access: 'public' },
    // Before the body is parsed and long before scrypt: a burst is refused for the price of a map lookup.
    // The address limit goes first, so one address's refused attempts do not use up everyone's quota.
    onRequest: async (request) => {
      for (const [limit, scope] of [[perIp, 'this address'], [overall, 'all addresses']] as const) {
        const state = await limit(request);
        if (!state.isAllowed && state.isExceeded) throw new RateLimitedError(`too many sign-in attempts from ${scope}; try again later`, Math.max(1, state.ttlInSeconds));
      }
    },
    schema: {
      tags: ['auth'],
      summary: 'Sign in with name and password; sets an HttpOnly session cookie. 429 with Retry-After: too many attempts from one address or overall per minute, too many failures for one name from one address, or too many password checks already running',
      body: LoginBody,
      response: { 200: Principal, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody },
    },
  }, async (request, reply) => {
    const key = LoginThrottle.key(request.body.name, request.ip);
    throttle.check(key);
    const { session, expiresAt, principal } = await auth.login(request.body.name, request.body.password, request.ip).catch((error: unknown) => {
      if (error instanceof UnauthenticatedError) throttle.fail(key);
      throw error;
    });
    throttle.succeed(key);
    // No Domain attribute: host-only (and required for the __Host- prefix).
    reply.setCookie(cookieName, session, { httpOnly: true, sameSite: 'strict', secure: cookieSecure, path: '/', expires: expiresAt });
    return principal;
  });

  app.post('/api/auth/logout', {
    config: { access: ROLES },
    schema: { tags: ['auth'], summary: 'End the session', response: { 204: z.null(), 401: ErrorBody } },
  }, async (request, reply) => {
    const session = request.cookies[cookieName];
    if (session) await auth.logout(session, actorOf(request));
    reply.clearCookie(cookieName, { path: '/', secure: cookieSecure, httpOnly: true, sameSite: 'strict' });
    return reply.status(204).send(null);
  });

  app.get('/api/me', {
    config: { access: ROLES },
    schema: { tags: ['auth'], summary: 'The signed-in user', response: { 200: Principal, 401: ErrorBody } },
  }, async (request) => actorOf(request));

  const tokenErrors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
  app.post('/api/me/tokens', {
    config: { access: ROLES },
    schema: { tags: ['auth'], summary: 'Mint an API token for yourself (returned once; default 30 days)', body: CreateTokenBody, response: { 201: CreatedToken, ...tokenErrors } },
  }, async (request, reply) => {
    const actor = actorOf(request);
    return reply.status(201).send(await auth.createToken(actor, actor.userId, request.body.label, request.body.expiresInDays));
  });

  app.get('/api/me/tokens', {
    config: { access: ROLES },
    schema: { tags: ['auth'], summary: 'Your API tokens (never the secrets)', response: { 200: TokenList, ...tokenErrors } },
  }, async (request) => ({ tokens: await auth.tokens(actorOf(request).userId) }));

  app.post('/api/me/tokens/:tokenId/revoke', {
    config: { access: ROLES },
    schema: { tags: ['auth'], summary: 'Revoke one of your API tokens by id', params: TokenParams, response: { 200: TokenInfo, ...tokenErrors } },
  }, async (request) => {
    const actor = actorOf(request);
    return auth.revokeToken(actor, request.params.tokenId, actor.userId);
  });
};
