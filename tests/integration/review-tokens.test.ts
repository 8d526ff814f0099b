import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import { buildReviewApp, type ReviewAppDeps } from '../../review/http/app.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import { AuthService, type CreatedUser } from '../../review/services/auth.service.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * API tokens and account state on the real PostgreSQL through the HTTP edge: an admin mints
 * tokens only for themselves or for service users, tokens expire and can be listed and revoked
 * by id, and disabling a user ends their sessions and tokens.
 */
describe('review API tokens and user disabling (real PostgreSQL)', () => {
  const config = isolatedConfig();
  let drop: () => Promise<void>;
  let pool: Pool;
  let app: FastifyInstance;
  const users: Record<string, CreatedUser> = {};

  async function call(bearer: string | null, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await app.inject({ method: method as 'GET', url, headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers }, ...(body !== undefined ? { payload: body as object } : {}) });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field
    return { status: res.statusCode, json: (res.body ? res.json() : null) as any, headers: res.headers };
  }
  const admin = () => users.ada!.token!;

  beforeAll(async () => {
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 2);
    const auth = new AuthService({ users: new UserRepository(pool), audit: new AuditRepository(pool), sessionHours: 1, tokenDefaultDays: 30, tokenMaxDays: 90 });
    for (const [name, role] of [['ada', 'admin'], ['sue', 'supervisor'], ['ivy', 'investigator']] as const) users[name] = await auth.createUser(name, role, null);
    ({ app } = await buildReviewApp({ auth, cases: {}, compliance: {}, audit: new AuditRepository(pool), seals: {}, log: testLog, cookieSecure: false } as unknown as ReviewAppDeps));
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await pool?.end();
    await drop?.();
  });

  it('refuses an admin a token for another person (403), and mints one for themselves with a default expiry of 30 days', async () => {
    const forSupervisor = await call(admin(), 'POST', `/api/admin/users/${users.sue!.user.userId}/tokens`, { label: 'act as sue' });
    expect(forSupervisor.status).toBe(403);
    expect(forSupervisor.json.error).toBe('FORBIDDEN');
    const own = await call(admin(), 'POST', `/api/admin/users/${users.ada!.user.userId}/tokens`, { label: 'scripts' });
    expect(own.status).toBe(201);
    expect(own.json.token).toMatch(/^ctr_tok_/);
    expect(own.json.tokenId).toMatch(/^\d+$/);
    const days = (Date.parse(own.json.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    expect((await call(own.json.token, 'GET', '/api/me')).json).toMatchObject({ name: 'ada' });
    expect((await call(admin(), 'POST', `/api/admin/users/${users.ada!.user.userId}/tokens`, { label: 'too long', expiresInDays: 91 })).status).toBe(400);
  });

  it('creates a service user (no password) whose tokens the admin may mint, list and revoke by id', async () => {
    const created = await call(admin(), 'POST', '/api/admin/users', { name: 'etl-bot', role: 'compliance', service: true });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ user: { name: 'etl-bot', role: 'compliance', service: true, disabled: false }, password: null });
    const minted = await call(admin(), 'POST', `/api/admin/users/${created.json.user.userId}/tokens`, { label: 'nightly', expiresInDays: 7 });
    expect(minted.status).toBe(201);
    expect((await call(minted.json.token, 'GET', '/api/me')).json).toMatchObject({ name: 'etl-bot' });
    const listed = await call(admin(), 'GET', `/api/admin/users/${created.json.user.userId}/tokens`);
    expect(listed.status).toBe(200);
    expect(listed.json.tokens.map((t: { tokenId: string; label: string; revokedAt: string | null }) => [t.tokenId, t.label, t.revokedAt])).toContainEqual([minted.json.tokenId, 'nightly', null]);
    expect(JSON.stringify(listed.json)).not.toContain('ctr_tok_');
    const revoked = await call(admin(), 'POST', `/api/admin/tokens/${minted.json.tokenId}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedAt).not.toBeNull();
    expect((await call(minted.json.token, 'GET', '/api/me')).status).toBe(401);
    // A human user made over the API gets a password to hand over, never a token the admin could use.
    const human = await call(admin(), 'POST', '/api/admin/users', { name: 'nina', role: 'investigator' });
    expect(human.json).toMatchObject({ user: { service: false }, token: null });
    expect(human.json.password).toEqual(expect.any(String));
  });

  it('answers 401 for an expired token', async () => {
    const own = await call(admin(), 'POST', `/api/admin/users/${users.ada!.user.userId}/tokens`, { label: 'short', expiresInDays: 1 });
    expect((await call(own.json.token, 'GET', '/api/me')).status).toBe(200);
    await pool.query(`UPDATE review_api_tokens SET expires_at = now() - interval '1 second' WHERE token_id = $1`, [own.json.tokenId]);
    expect((await call(own.json.token, 'GET', '/api/me')).status).toBe(401);
  });

  it('lets a user mint, list and revoke their own tokens', async () => {
    const minted = await call(users.ivy!.token, 'POST', '/api/me/tokens', { label: 'laptop' });
    expect(minted.status).toBe(201);
    const mine = await call(minted.json.token, 'GET', '/api/me/tokens');
    expect(mine.json.tokens.map((t: { label: string }) => t.label)).toEqual(expect.arrayContaining(['initial', 'laptop']));
    // Someone else's token id is not theirs to revoke.
    const adaTokens = await call(admin(), 'GET', `/api/admin/users/${users.ada!.user.userId}/tokens`);
    expect((await call(users.ivy!.token, 'POST', `/api/me/tokens/${adaTokens.json.tokens[0].tokenId}/revoke`)).status).toBe(404);
    expect((await call(users.ivy!.token, 'POST', `/api/me/tokens/${minted.json.tokenId}/revoke`)).status).toBe(200);
    expect((await call(minted.json.token, 'GET', '/api/me')).status).toBe(401);
  });

  it('disables a user: their sessions and tokens stop working (401) and re-enabling does not revive them', async () => {
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { name: 'sue', password: users.sue!.password } });
    expect(login.statusCode).toBe(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect((await call(null, 'GET', '/api/me', undefined, { cookie })).status).toBe(200);
    expect((await call(users.sue!.token, 'GET', '/api/me')).status).toBe(200);
    const disabled = await call(admin(), 'POST', `/api/admin/users/${users.sue!.user.userId}/disable`);
    expect(disabled.status).toBe(200);
    expect(disabled.json).toMatchObject({ name: 'sue', disabled: true });
    expect((await call(users.sue!.token, 'GET', '/api/me')).status).toBe(401);
    expect((await call(null, 'GET', '/api/me', undefined, { cookie })).status).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { name: 'sue', password: users.sue!.password } })).statusCode).toBe(401);
    const listed = await call(admin(), 'GET', '/api/admin/users');
    expect(listed.json.users.find((u: { name: string }) => u.name === 'sue')).toMatchObject({ disabled: true });
    expect((await call(admin(), 'POST', `/api/admin/users/${users.sue!.user.userId}/enable`)).json).toMatchObject({ disabled: false });
    expect((await call(users.sue!.token, 'GET', '/api/me')).status).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { name: 'sue', password: users.sue!.password } })).statusCode).toBe(200);
    // An admin cannot lock themselves out.
    expect((await call(admin(), 'POST', `/api/admin/users/${users.ada!.user.userId}/disable`)).status).toBe(409);
    const { rows } = await pool.query<{ action: string }>(`SELECT action FROM audit_log WHERE target_id = $1 ORDER BY audit_id`, [users.sue!.user.userId]);
    expect(rows.map((r) => r.action)).toEqual(expect.arrayContaining(['user.disable', 'user.enable']));
  });
});
