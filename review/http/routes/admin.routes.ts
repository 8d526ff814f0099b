import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Role } from '../../auth/roles.ts';
import type { AuthService } from '../../services/auth.service.ts';
import { actorOf } from '../auth.hook.ts';
import { CreatedToken, CreatedUser, CreateTokenBody, CreateUserBody, ErrorBody, UserList, UserParams } from '../schemas.ts';

const ADMIN: readonly Role[] = ['admin'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** User administration: list, create (password and token shown once), issue tokens. */
export const adminRoutes: FastifyPluginAsyncZod<{ auth: AuthService }> = async (app, { auth }) => {
  app.get('/api/admin/users', {
    config: { access: ADMIN },
    schema: { tags: ['admin'], summary: 'Active users', response: { 200: UserList, ...errors } },
  }, async () => ({ users: await auth.listUsers() }));

  app.post('/api/admin/users', {
    config: { access: ADMIN },
    schema: { tags: ['admin'], summary: 'Create a user; the generated password and first API token are returned once', body: CreateUserBody, response: { 201: CreatedUser, ...errors } },
  }, async (request, reply) => reply.status(201).send(await auth.createUser(request.body.name, request.body.role, actorOf(request))));

  app.post('/api/admin/users/:userId/tokens', {
    config: { access: ADMIN },
    schema: { tags: ['admin'], summary: 'Issue an API token for a user (returned once)', params: UserParams, body: CreateTokenBody, response: { 201: CreatedToken, ...errors } },
  }, async (request, reply) => reply.status(201).send({ token: await auth.createToken(request.params.userId, request.body.label, actorOf(request)) }));
};
