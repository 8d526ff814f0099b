import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES } from '../../auth/roles.ts';
import { UnauthenticatedError } from '../../errors.ts';
import type { AuthService } from '../../services/auth.service.ts';
import { LoginThrottle } from '../../services/login-throttle.ts';
import { actorOf, sessionCookieName } from '../auth.hook.ts';
import { CreatedToken, CreateTokenBody, ErrorBody, LoginBody, Principal, TokenInfo, TokenList, TokenParams } from '../schemas.ts';

export interface AuthRoutesOptions {
  auth: AuthService;
  cookieSecure: boolean;
  throttle: LoginThrottle;
}

/** Sign in (session cookie), sign out, who am I, and one's own API tokens. */
export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, { auth, cookieSecure, throttle }) => {
  const cookieName = sessionCookieName(cookieSecure);
  app.post('/api/auth/login', {
    config: { access: 'public' },
    schema: { tags: ['auth'], summary: 'Sign in with name and password; sets an HttpOnly session cookie. Too many failures for one name from one address: 429 with Retry-After', body: LoginBody, response: { 200: Principal, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody } },
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
