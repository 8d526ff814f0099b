import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Role } from '../../auth/roles.ts';
import type { AuthService } from '../../services/auth.service.ts';
import { actorOf } from '../auth.hook.ts';
import { CreatedToken, CreatedUser, CreateTokenBody, CreateUserBody, ErrorBody, TokenInfo, TokenList, TokenParams, UserInfo, UserList, UserParams } from '../schemas.ts';

const ADMIN: readonly Role[] = ['admin'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/**
 * User administration: list, create, disable / enable; API tokens for the admin's own account or
 * for service users (never to act as another person), listed and revoked by id.
 */
export const adminRoutes: FastifyPluginAsyncZod<{ auth: AuthService }> = async (app, { auth }) => {
  app.get('/api/admin/users', {
    config: { access: ADMIN },
    schema: { tags: ['admin'], summary: 'Every user, with disabled and service flags', response: { 200: UserList, ...errors } },
  }, async () => ({ users: await auth.listAllUsers() }));

  app.post('/api/admin/users', {
    config: { access: ADMIN },
    schema: { tags: ['admin'], summary: 'Create a user: a person gets a generated password, a service user an API token (returned once)', body: CreateUserBody, response: { 201: CreatedUser, ...errors } },
  }, async (request, reply) => reply.status(201).send(await auth.createUser(request.body.name, request.body.role, actorOf(request), { service: request.body.service })));

  app.post('/api/admin/users/:userId/disable', {
    config: { access: ADMIN },
    schema: { tags: ['admin'], summary: 'Disable a user: ends their sessions and revokes their tokens (not your own account: 409)', params: UserParams, response: { 200: UserInfo, ...errors } },
  }, async (request) => auth.setDisabled(actorOf(request), request.params.userId, true));

  app.post('/api/admin/users/:userId/enable', {
    config: { access: ADMIN },
    schema: { tags: ['admin'], summary: 'Enable a user again (sessions and tokens ended by disabling stay ended)', params: UserParams, response: { 200: UserInfo, ...errors } },
  }, async (request) => auth.setDisabled(actorOf(request), request.params.userId, false));

  app.post('/api/admin/users/:userId/tokens', {
    config: { access: ADMIN },
    schema: { tags: ['admin'], summary: 'Mint an API token (returned once) for yourself or a service user; for another person 403', params: UserParams, body: CreateTokenBody, response: { 201: CreatedToken, ...errors } },
  }, async (request, reply) => reply.status(201).send(await auth.createToken(actorOf(request), request.params.userId, request.body.label, request.body.expiresInDays)));

  app.get('/api/admin/users/:userId/tokens', {
    config: { access: ADMIN },
    schema: { tags: ['admin'], summary: 'The API tokens of a user (ids, labels, expiry, revocation; never the secrets)', params: UserParams, response: { 200: TokenList, ...errors } },
  }, async (request) => ({ tokens: await auth.tokens(request.params.userId) }));

  app.post('/api/admin/tokens/:tokenId/revoke', {
    config: { access: ADMIN },
    schema: { tags: ['admin'], summary: 'Revoke any API token by id', params: TokenParams, response: { 200: TokenInfo, ...errors } },
  }, async (request) => auth.revokeToken(actorOf(request), request.params.tokenId));
};
