import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES } from '../../auth/roles.ts';
import type { AuthService } from '../../services/auth.service.ts';
import { actorOf, SESSION_COOKIE } from '../auth.hook.ts';
import { ErrorBody, LoginBody, Principal } from '../schemas.ts';

export interface AuthRoutesOptions {
  auth: AuthService;
  cookieSecure: boolean;
}

/** Sign in (session cookie), sign out, who am I. */
export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, { auth, cookieSecure }) => {
  app.post('/api/auth/login', {
    config: { access: 'public' },
    schema: { tags: ['auth'], summary: 'Sign in with name and password; sets an HttpOnly session cookie', body: LoginBody, response: { 200: Principal, 400: ErrorBody, 401: ErrorBody } },
  }, async (request, reply) => {
    const { session, expiresAt, principal } = await auth.login(request.body.name, request.body.password, request.ip);
    reply.setCookie(SESSION_COOKIE, session, { httpOnly: true, sameSite: 'strict', secure: cookieSecure, path: '/', expires: expiresAt });
    return principal;
  });

  app.post('/api/auth/logout', {
    config: { access: ROLES },
    schema: { tags: ['auth'], summary: 'End the session', response: { 204: z.null(), 401: ErrorBody } },
  }, async (request, reply) => {
    const session = request.cookies[SESSION_COOKIE];
    if (session) await auth.logout(session, actorOf(request));
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send(null);
  });

  app.get('/api/me', {
    config: { access: ROLES },
    schema: { tags: ['auth'], summary: 'The signed-in user', response: { 200: Principal, 401: ErrorBody } },
  }, async (request) => actorOf(request));
};
