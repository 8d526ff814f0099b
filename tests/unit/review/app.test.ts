import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../../core/logger.ts';
import type { Principal } from '../../../review/auth/roles.ts';
import { buildReviewApp, type ReviewAppDeps } from '../../../review/http/app.ts';
import type { AuthService } from '../../../review/services/auth.service.ts';
import type { CaseService } from '../../../review/services/case.service.ts';

/** The HTTP edge alone: fake services, no database. */
async function appWith(principal: Principal | null, cases: Partial<CaseService> = {}, options: Partial<ReviewAppDeps> & { authExtra?: Partial<AuthService> } = {}) {
  const { authExtra, ...rest } = options;
  const auth = { authenticate: async () => principal, ...authExtra } as unknown as AuthService;
  const deps = { auth, cases: cases as CaseService, compliance: {}, audit: {}, seals: {}, log: createLogger('silent'), cookieSecure: true, ...rest } as unknown as ReviewAppDeps;
  return buildReviewApp(deps);
}

/** A logger whose JSON lines land in `lines`. */
function capturingLogger(lines: string[]): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return pino({ level: 'info' }, sink);
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

describe('review HTTP edge: attachments', () => {
  const auth = { authorization: 'Bearer t' };

  it('passes the raw body and its content type to the service and answers 201', async () => {
    const calls: unknown[] = [];
    const saved = { attachmentId: '3', caseId: '1', fileName: 'scan.pdf', contentType: 'application/pdf', sizeBytes: 9, sha256: 'ab'.repeat(32), uploadedBy: 'ivy', createdAt: '2026-11-24T00:00:00.000Z' };
    const { app } = await appWith(investigator, {
      addAttachment: async (_actor, caseId, file) => {
        calls.push({ caseId, ...file, content: file.content.toString('latin1') });
        return saved;
      },
    });
    const res = await app.inject({ method: 'POST', url: '/api/cases/1/attachments?name=scan.pdf', headers: { ...auth, 'content-type': 'application/pdf' }, payload: Buffer.from('%PDF-1.7\n') });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual(saved);
    expect(calls).toEqual([{ caseId: '1', fileName: 'scan.pdf', contentType: 'application/pdf', content: '%PDF-1.7\n' }]);
  });

  it('answers 413 above the size limit and 400 without a file name, before the service runs', async () => {
    let called = false;
    const { app } = await appWith(investigator, {
      addAttachment: async () => {
        called = true;
        throw new Error('not reached');
      },
    });
    const big = await app.inject({ method: 'POST', url: '/api/cases/1/attachments?name=big.txt', headers: { ...auth, 'content-type': 'text/plain' }, payload: Buffer.alloc(5 * 1024 * 1024 + 1, 0x61) });
    expect(big.statusCode).toBe(413);
    const unnamed = await app.inject({ method: 'POST', url: '/api/cases/1/attachments', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello' });
    expect(unnamed.statusCode).toBe(400);
    expect(unnamed.json().issues.map((i: { path: string }) => i.path)).toEqual(['querystring.name']);
    expect(called).toBe(false);
  });

  it('serves a download as an attachment with its stored type, bytes unchanged', async () => {
    const content = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00]);
    const { app } = await appWith(investigator, {
      attachment: async () => ({ attachmentId: '3', caseId: '1', fileName: 'Röntgen "1".png', contentType: 'image/png', sizeBytes: content.length, sha256: 'cd'.repeat(32), uploadedBy: 'ivy', createdAt: '2026-11-24T00:00:00.000Z', content }),
    });
    const res = await app.inject({ method: 'GET', url: '/api/cases/1/attachments/3', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="R_ntgen _1_.png"; filename*=UTF-8''${encodeURIComponent('Röntgen "1".png')}`);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.rawPayload.equals(content)).toBe(true);
  });
});

describe('review HTTP edge: request logs', () => {
  it('logs the route template, method and status of each request, never the raw URL or its query string', async () => {
    const lines: string[] = [];
    const saved = { attachmentId: '3', caseId: '1', fileName: 'x.txt', contentType: 'text/plain', sizeBytes: 2, sha256: 'ab'.repeat(32), uploadedBy: 'ivy', createdAt: '2026-11-24T00:00:00.000Z' };
    const { app } = await appWith(investigator, { list: async () => ({ total: 0, items: [] }), addAttachment: async () => saved }, { log: capturingLogger(lines) });
    const auth = { authorization: 'Bearer t' };
    expect((await app.inject({ method: 'GET', url: '/api/cases?member=M0012345&provider=1234567890', headers: auth })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/cases/42/attachments?name=letter-for-jane-doe.txt', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hi' })).statusCode).toBe(201);
    expect((await app.inject({ method: 'GET', url: '/api/no/such/M0012345?member=M0012345', headers: auth })).statusCode).toBe(404);
    const text = lines.join('\n');
    expect(text).not.toContain('M0012345');
    expect(text).not.toContain('1234567890');
    expect(text).not.toContain('jane-doe');
    expect(text).not.toContain('/api/cases/42');
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.statusCode !== undefined);
    expect(entries).toEqual([
      expect.objectContaining({ method: 'GET', route: '/api/cases', statusCode: 200 }),
      expect.objectContaining({ method: 'POST', route: '/api/cases/:caseId/attachments', statusCode: 201 }),
      expect.objectContaining({ method: 'GET', route: null, statusCode: 404 }),
    ]);
  });
});

describe('review HTTP edge: cross-site writes, cookies, HSTS', () => {
  const noted = { addNote: async () => [] };

  it('refuses a cookie-authenticated write from another site or without Origin / Sec-Fetch-Site, and lets same-origin and bearer writes through', async () => {
    const { app } = await appWith(investigator, noted, { cookieSecure: false });
    const post = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/api/cases/1/notes', headers: { 'content-type': 'application/json', ...headers }, payload: { body: 'hello' } });
    const cookie = { cookie: 'ctr_session=ctr_ses_x' };
    const refused = [
      await post({ ...cookie, origin: 'https://evil.example' }),
      await post({ ...cookie, 'sec-fetch-site': 'cross-site' }),
      await post({ ...cookie, 'sec-fetch-site': 'same-site', origin: 'http://localhost' }),
      await post({ ...cookie }),
    ];
    for (const res of refused) {
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error).toBe('FORBIDDEN');
    }
    expect((await post({ ...cookie, 'sec-fetch-site': 'same-origin', origin: 'http://localhost' })).statusCode).toBe(200);
    expect((await post({ ...cookie, origin: 'http://localhost' })).statusCode).toBe(200);
    // API clients with a token are not exposed to CSRF (a browser never adds the header by itself).
    expect((await post({ authorization: 'Bearer t', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).statusCode).toBe(200);
    // Safe methods stay open to cookies from anywhere the browser sends them.
    const list = await appWith(investigator, { list: async () => ({ total: 0, items: [] }) }, { cookieSecure: false });
    expect((await list.app.inject({ method: 'GET', url: '/api/cases', headers: { cookie: 'ctr_session=ctr_ses_x', 'sec-fetch-site': 'cross-site' } })).statusCode).toBe(200);
  });

  const login = { login: async () => ({ session: 'ctr_ses_abc', expiresAt: new Date(Date.now() + 3_600_000), principal: investigator }) };

  it('names the session cookie __Host-ctr_session (Secure, Path=/, no Domain) over https and reads it back', async () => {
    const { app } = await appWith(investigator, noted, { cookieSecure: true, authExtra: login });
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { name: 'ivy', password: 'pw' } });
    expect(res.statusCode).toBe(200);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^__Host-ctr_session=ctr_ses_abc;/);
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).not.toMatch(/Domain=/i);
    const write = await app.inject({ method: 'POST', url: '/api/cases/1/notes', headers: { cookie: '__Host-ctr_session=ctr_ses_abc', 'sec-fetch-site': 'same-origin' }, payload: { body: 'x' } });
    expect(write.statusCode).toBe(200);
  });

  it('keeps plain ctr_session without Secure for local http, and sends HSTS only off loopback', async () => {
    const local = await appWith(investigator, noted, { cookieSecure: false, hsts: false, authExtra: login });
    const res = await local.app.inject({ method: 'POST', url: '/api/auth/login', payload: { name: 'ivy', password: 'pw' } });
    expect(String(res.headers['set-cookie'])).toMatch(/^ctr_session=ctr_ses_abc;/);
    expect(String(res.headers['set-cookie'])).not.toMatch(/Secure/);
    expect(res.headers['strict-transport-security']).toBeUndefined();
    const served = await appWith(investigator, noted, { cookieSecure: true, hsts: true, authExtra: login });
    const me = await served.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(me.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(me.headers['content-security-policy']).toContain("script-src 'self'");
    expect(me.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
  });
});
