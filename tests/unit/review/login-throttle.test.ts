import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logger.ts';
import { buildReviewApp, type ReviewAppDeps } from '../../../review/http/app.ts';
import { RateLimitedError, UnauthenticatedError } from '../../../review/errors.ts';
import type { AuthService } from '../../../review/services/auth.service.ts';
import { LoginThrottle } from '../../../review/services/login-throttle.ts';

describe('LoginThrottle', () => {
  it('refuses the 11th attempt after 10 failures in 15 minutes, then allows again when the oldest leaves the window', () => {
    let now = 1_000_000;
    const t = new LoginThrottle({ now: () => now });
    const key = LoginThrottle.key('Ivy', '10.0.0.1');
    for (let i = 0; i < 10; i++) {
      t.check(key);
      t.fail(key);
      now += 60_000; // one a minute: failures at 0..9 min
    }
    // now = 10 min: the first failure (at 0) leaves the window at 15 min.
    expect(() => t.check(key)).toThrow(RateLimitedError);
    try {
      t.check(key);
    } catch (error) {
      expect((error as RateLimitedError).retryAfterSeconds).toBe(5 * 60);
      expect((error as RateLimitedError).code).toBe('RATE_LIMITED');
    }
    now += 5 * 60_000;
    expect(() => t.check(key)).not.toThrow();
  });

  it('counts per user name (case-insensitive) and address, and a success clears the count', () => {
    const t = new LoginThrottle({ maxFailures: 2 });
    const key = LoginThrottle.key('ivy', '10.0.0.1');
    t.fail(LoginThrottle.key(' IVY ', '10.0.0.1'));
    t.fail(key);
    expect(() => t.check(key)).toThrow(RateLimitedError);
    expect(() => t.check(LoginThrottle.key('ivy', '10.0.0.2'))).not.toThrow();
    expect(() => t.check(LoginThrottle.key('ian', '10.0.0.1'))).not.toThrow();
    t.succeed(key);
    expect(() => t.check(key)).not.toThrow();
  });

  it('keeps memory bounded: expired keys are swept and the least recent dropped beyond maxKeys', () => {
    let now = 0;
    const t = new LoginThrottle({ maxKeys: 3, windowMs: 1000, now: () => now });
    for (const name of ['a', 'b', 'c']) t.fail(LoginThrottle.key(name, null));
    now = 2000;
    t.fail(LoginThrottle.key('d', null));
    expect(t.size).toBe(1);
    for (const name of ['e', 'f', 'g']) t.fail(LoginThrottle.key(name, null));
    expect(t.size).toBe(3);
  });
});

describe('POST /api/auth/login rate limit', () => {
  async function appWith(login: AuthService['login']) {
    const auth = { authenticate: async () => null, login } as unknown as AuthService;
    const deps = { auth, cases: {}, compliance: {}, audit: {}, seals: {}, log: createLogger('silent'), cookieSecure: true, loginThrottle: new LoginThrottle({ maxFailures: 3 }) } as unknown as ReviewAppDeps;
    return (await buildReviewApp(deps)).app;
  }

  it('answers 401 for each failure up to the limit, then 429 with Retry-After without checking the password', async () => {
    let calls = 0;
    const app = await appWith(async () => {
      calls++;
      throw new UnauthenticatedError('wrong user name or password');
    });
    const attempt = (name: string, ip = '10.0.0.9') => app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: ip, payload: { name, password: 'guess' } });
    for (let i = 0; i < 3; i++) expect((await attempt('ivy')).statusCode).toBe(401);
    const limited = await attempt('ivy');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: 'RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(890);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(900);
    expect(calls).toBe(3);
    // Another address, or another user from this address, is not affected.
    expect((await attempt('ivy', '10.0.0.10')).statusCode).toBe(401);
    expect((await attempt('ian')).statusCode).toBe(401);
  });

  it('a successful sign-in resets the count', async () => {
    let ok = false;
    const app = await appWith(async () => {
      if (!ok) throw new UnauthenticatedError('wrong user name or password');
      return { session: 'ctr_ses_x', expiresAt: new Date(Date.now() + 3_600_000), principal: { userId: '1', name: 'ivy', role: 'investigator' } };
    });
    const attempt = () => app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '10.0.0.9', payload: { name: 'ivy', password: 'pw' } });
    for (let i = 0; i < 2; i++) expect((await attempt()).statusCode).toBe(401);
    ok = true;
    expect((await attempt()).statusCode).toBe(200);
    ok = false;
    for (let i = 0; i < 3; i++) expect((await attempt()).statusCode).toBe(401);
    expect((await attempt()).statusCode).toBe(429);
  });
});
