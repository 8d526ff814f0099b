import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, Principal, Role } from '../auth/roles.ts';
import { ForbiddenError, UnauthenticatedError } from '../errors.ts';
import type { AuthService } from '../services/auth.service.ts';
import { crossSiteRefusal } from './same-origin.ts';

/**
 * Session cookie name: `__Host-ctr_session` when the cookie is `Secure` (served over https), which
 * makes browsers insist on Secure, Path=/ and no Domain, so no sibling subdomain can set or shadow
 * it; plain `ctr_session` for local http development, where a `__Host-` cookie would be refused.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-ctr_session' : 'ctr_session';
}

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
 * ctr_tok_...`) or the session cookie (named {@link sessionCookieName}) must name an enabled user
 * whose role is admitted. A write authenticated by the cookie must also come from this origin
 * (same-origin.ts); token-authenticated calls are exempt.
 * @throws UnauthenticatedError (401) without valid credentials; ForbiddenError (403) for a
 *   role the route does not admit or a cross-site cookie write.
 */
export function authHook(auth: AuthService, cookieName: string) {
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
      const session = request.cookies[cookieName];
      if (session) principal = await auth.authenticate({ session });
      if (principal) {
        const refusal = crossSiteRefusal({ method: request.method, fetchSite: header1(request.headers['sec-fetch-site']), origin: header1(request.headers.origin), selfOrigin: `${request.protocol}://${request.host}` });
        if (refusal) throw new ForbiddenError(`cross-site request refused: ${refusal}`);
      }
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

function header1(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
