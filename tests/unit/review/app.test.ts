import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logger.ts';
import type { Principal } from '../../../review/auth/roles.ts';
import { buildReviewApp, type ReviewAppDeps } from '../../../review/http/app.ts';
import type { AuthService } from '../../../review/services/auth.service.ts';
import type { CaseService } from '../../../review/services/case.service.ts';

/** The HTTP edge alone: fake services, no database. */
async function appWith(principal: Principal | null, cases: Partial<CaseService> = {}) {
  const auth = { authenticate: async () => principal } as unknown as AuthService;
  const deps = { auth, cases: cases as CaseService, compliance: {}, audit: {}, seals: {}, log: createLogger('silent'), cookieSecure: true } as unknown as ReviewAppDeps;
  return buildReviewApp(deps);
}

const investigator: Principal = { userId: '7', name: 'ivy', role: 'investigator' };

describe('review HTTP edge', () => {
  it('refuses to register an /api route that does not declare who may call it', async () => {
    const { app } = await appWith(null);
    expect(() => app.get('/api/unguarded', async () => 'open')).toThrow(/declares no access/);
  });

  it('lists every route with its access, and serves the OpenAPI document publicly', async () => {
    const { app, routes } = await appWith(null);
    expect(routes.find((r) => r.url === '/api/cases/:caseId/disposition')).toEqual({ method: 'POST', url: '/api/cases/:caseId/disposition', access: ['investigator', 'supervisor'] });
    expect(routes.filter((r) => r.access === 'public').map((r) => r.url).sort()).toEqual(['/api/auth/login', '/api/openapi.json']);
    const doc = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(doc.json().paths['/api/cases/{caseId}/disposition'].post.requestBody.content['application/json'].schema.required).toEqual(['disposition', 'note']);
  });

  it('answers 401 without credentials, 401 for a malformed Authorization header, 403 for a role the route does not admit', async () => {
    const anonymous = await appWith(null);
    expect((await anonymous.app.inject({ method: 'GET', url: '/api/cases' })).json()).toMatchObject({ error: 'UNAUTHENTICATED' });
    expect((await anonymous.app.inject({ method: 'GET', url: '/api/cases', headers: { authorization: 'Basic abc' } })).statusCode).toBe(401);
    const signedIn = await appWith(investigator);
    const res = await signedIn.app.inject({ method: 'GET', url: '/api/admin/users', headers: { authorization: 'Bearer t' } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ error: 'FORBIDDEN', message: 'GET /api/admin/users is not open to the investigator role' });
  });

  it('maps validation failures to 400 with every issue, and a service bug to a bare 500', async () => {
    const { app } = await appWith(investigator, { dispose: async () => { throw new Error('db exploded with secrets'); } });
    const bad = await app.inject({ method: 'POST', url: '/api/cases/abc/disposition', headers: { authorization: 'Bearer t' }, payload: { disposition: 'guilty' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues.map((i: { path: string }) => i.path).sort()).toEqual(['params.caseId']);
    const bug = await app.inject({ method: 'POST', url: '/api/cases/1/disposition', headers: { authorization: 'Bearer t' }, payload: { disposition: 'false_positive', note: 'fine' } });
    expect(bug.statusCode).toBe(500);
    expect(bug.body).not.toContain('secrets');
    expect(bug.headers['cache-control']).toBe('no-store');
  });
});
