import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import { buildReviewApp, type ReviewAppDeps } from '../../review/http/app.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import { AuthService, type CreatedUser } from '../../review/services/auth.service.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * Sign-in under attack, on the real PostgreSQL with real scrypt: a burst of logins with random
 * names from one address is cut off by the per-address limit (429) before it can queue scrypt
 * work, while a real user behind the same trusted proxy, from another client address, still
 * signs in, and the audit log records the client's address rather than the proxy's.
 */
describe('review sign-in limits (real PostgreSQL, real scrypt)', () => {
  const config = isolatedConfig();
  let drop: () => Promise<void>;
  let pool: Pool;
  let app: FastifyInstance;
  let ivy: CreatedUser;

  beforeAll(async () => {
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 4);
    const auth = new AuthService({ users: new UserRepository(pool), audit: new AuditRepository(pool), sessionHours: 1 });
    ivy = await auth.createUser('ivy', 'investigator', null);
    ({ app } = await buildReviewApp({
      auth,
      cases: {},
      compliance: {},
      audit: new AuditRepository(pool),
      seals: {},
      log: testLog,
      cookieSecure: false,
      // The proxy in front is 127.0.0.1 (fastify.inject's address): its X-Forwarded-For is believed.
      trustProxy: ['127.0.0.1/32'],
      loginLimits: { perIpPerMinute: 20, globalPerMinute: 1000 },
    } as unknown as ReviewAppDeps));
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await pool?.end();
    await drop?.();
  });

  const login = (name: string, password: string, clientIp: string) =>
    app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'x-forwarded-for': clientIp }, payload: { name, password } });

  it('answers a 200-login burst of random names from one address with 429s, while a real user from another address signs in', async () => {
    const started = performance.now();
    const burst = Array.from({ length: 200 }, () => login(`u${randomBytes(6).toString('hex')}`, 'guess', '203.0.113.9'));
    const real = login('ivy', ivy.password!, '198.51.100.7');
    const [answers, mine] = await Promise.all([Promise.all(burst), real]);
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(150);
    expect(statuses.every((s) => s === 401 || s === 429 || s === 503)).toBe(true);
    const limited = answers.find((a) => a.statusCode === 429)!;
    expect(limited.json()).toMatchObject({ error: 'RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(mine.statusCode, mine.body).toBe(200);
    // scrypt ran for at most the admitted few, not for 200 names.
    expect(performance.now() - started).toBeLessThan(20_000);
    const { rows } = await pool.query<{ ip: string }>(`SELECT ip FROM audit_log WHERE action = 'auth.login' AND user_name = 'ivy'`);
    expect(rows.map((r) => r.ip)).toEqual(['198.51.100.7']);
  }, 60_000);

  it('still throttles one user name from one address after repeated failures (per-user limit kept)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await login('ivy', 'wrong', '192.0.2.44')).statusCode);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
  }, 60_000);
});
