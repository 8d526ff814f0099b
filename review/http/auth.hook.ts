import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, Principal, Role } from '../auth/roles.ts';
import { ForbiddenError, UnauthenticatedError } from '../errors.ts';
import type { AuthService } from '../services/auth.service.ts';

/** Session cookie name. */
export const SESSION_COOKIE = 'ctr_session';

/** Who may call a route: the roles admitted, or `public`. Every /api route must say. */
export type RouteAccess = readonly Role[] | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * onRequest hook checking the route's `config.access`: a bearer token (`Authorization: Bearer
 * ctr_tok_...`) or the session cookie must name an enabled user whose role is admitted.
 * @throws UnauthenticatedError (401) without valid credentials; ForbiddenError (403) for a
 *   role the route does not admit.
 */
export function authHook(auth: AuthService) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public') return;
    const header = request.headers.authorization;
    let principal: Principal | null = null;
    if (header !== undefined) {
      const match = /^Bearer (\S+)$/.exec(header);
      if (!match) throw new UnauthenticatedError('Authorization header must be `Bearer <token>`');
      principal = await auth.authenticate({ bearer: match[1]! });
    } else {
      const session = request.cookies[SESSION_COOKIE];
      if (session) principal = await auth.authenticate({ session });
    }
    if (!principal) throw new UnauthenticatedError();
    if (!access.includes(principal.role)) throw new ForbiddenError(`${request.method} ${request.routeOptions.url} is not open to the ${principal.role} role`);
    request.principal = principal;
  };
}

/** The request's authenticated caller with its address. Only for routes that require a role. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.principal) throw new UnauthenticatedError();
  return { ...request.principal, ip: request.ip };
}
