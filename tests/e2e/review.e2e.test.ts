import { execFile } from 'node:child_process';
import { sealRootOnChain } from '../../anchoring/chain/seal-root.ts';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KafkaMessage } from 'kafkajs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAnyProofBundle } from '../../anchoring/core/verify-any.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { loadReviewConfig } from '../../review/config.ts';
import type { Role } from '../../review/auth/roles.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import type { RunningReviewServer } from '../../review/server.ts';
import { startTestReviewServer } from '../support/review.ts';
import { AuthService, type CreatedUser } from '../../review/services/auth.service.ts';
import { trainModel } from '../../training/train.ts';
import { waitUntilSettled } from '../support/pipeline.ts';
import { isolatedConfig, migratedSchema, testLog, uniqueName } from '../support/env.ts';

const run = promisify(execFile);
const CLAIMS = 500;
const SEED = 6060;
const SCREENSHOTS = join(process.cwd(), 'tests', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';

/**
 * Every API route and the roles it admits. The test below fails when the OpenAPI document lists
 * a route missing here (or the other way round), so a new route cannot skip the matrix.
 */
const MATRIX: Array<{ method: string; url: string; roles: Role[]; body?: unknown }> = [
  { method: 'POST', url: '/api/auth/logout', roles: ['investigator', 'supervisor', 'compliance', 'admin'] },
  { method: 'GET', url: '/api/me', roles: ['investigator', 'supervisor', 'compliance', 'admin'] },
  { method: 'GET', url: '/api/queues', roles: ['investigator', 'supervisor'] },
  { method: 'GET', url: '/api/cases', roles: ['investigator', 'supervisor'] },
  { method: 'POST', url: '/api/cases/take-next', roles: ['investigator', 'supervisor'], body: { queue: 'no-such-queue' } },
  { method: 'GET', url: '/api/cases/{caseId}', roles: ['investigator', 'supervisor'] },
  { method: 'POST', url: '/api/cases/{caseId}/notes', roles: ['investigator', 'supervisor'], body: { body: 'matrix probe' } },
  { method: 'POST', url: '/api/cases/{caseId}/disposition', roles: ['investigator', 'supervisor'], body: { disposition: 'false_positive', note: 'matrix probe' } },
  { method: 'POST', url: '/api/cases/{caseId}/snooze', roles: ['investigator', 'supervisor'], body: { until: '2099-01-01T00:00:00Z' } },
  { method: 'POST', url: '/api/cases/{caseId}/attachments?name=probe.txt', roles: ['investigator', 'supervisor'], body: { probe: 'not an allowed type' } },
  { method: 'GET', url: '/api/cases/{caseId}/attachments', roles: ['investigator', 'supervisor'] },
  { method: 'GET', url: '/api/cases/{caseId}/attachments/{attachmentId}', roles: ['investigator', 'supervisor'] },
  { method: 'POST', url: '/api/cases/{caseId}/reassign', roles: ['supervisor'], body: { assigneeId: '999999' } },
  { method: 'GET', url: '/api/team', roles: ['supervisor'] },
  { method: 'GET', url: '/api/audit', roles: ['supervisor', 'compliance', 'admin'] },
  { method: 'GET', url: '/api/audit/batches', roles: ['supervisor', 'compliance', 'admin'] },
  { method: 'POST', url: '/api/audit/batches/{batchId}/verify', roles: ['supervisor', 'compliance', 'admin'] },
  { method: 'GET', url: '/api/compliance/decisions', roles: ['compliance'] },
  { method: 'POST', url: '/api/compliance/decisions/{decisionId}/verify', roles: ['compliance'] },
  { method: 'GET', url: '/api/compliance/decisions/{decisionId}/bundle', roles: ['compliance'] },
  { method: 'GET', url: '/api/compliance/alerts', roles: ['compliance', 'admin'] },
  { method: 'GET', url: '/api/compliance/alerts/{alertId}', roles: ['compliance', 'admin'] },
  { method: 'POST', url: '/api/compliance/alerts/{alertId}/disposition', roles: ['compliance', 'admin'], body: { disposition: 'benign', note: 'matrix probe' } },
  { method: 'GET', url: '/api/compliance/disclosures?member=M000000000', roles: ['compliance', 'admin'] },
  { method: 'GET', url: '/api/admin/users', roles: ['admin'] },
  { method: 'POST', url: '/api/admin/users', roles: ['admin'], body: { name: 'x', role: 'nobody' } },
  { method: 'POST', url: '/api/admin/users/{userId}/tokens', roles: ['admin'], body: { label: 'probe' } },
  { method: 'GET', url: '/api/admin/users/{userId}/tokens', roles: ['admin'] },
  { method: 'POST', url: '/api/admin/users/{userId}/disable', roles: ['admin'] },
  { method: 'POST', url: '/api/admin/users/{userId}/enable', roles: ['admin'] },
  { method: 'POST', url: '/api/admin/tokens/{tokenId}/revoke', roles: ['admin'] },
  { method: 'POST', url: '/api/me/tokens', roles: ['investigator', 'supervisor', 'compliance', 'admin'], body: { label: 'probe' } },
  { method: 'GET', url: '/api/me/tokens', roles: ['investigator', 'supervisor', 'compliance', 'admin'] },
  { method: 'POST', url: '/api/me/tokens/{tokenId}/revoke', roles: ['investigator', 'supervisor', 'compliance', 'admin'] },
];

describe('review app end to end: real pipeline decisions, API, browser', () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let server: RunningReviewServer;
  let dropSchema: () => Promise<void>;
  let modelDir: string;
  let verdictsTopic: string;
  const users: Record<string, CreatedUser> = {};

  // API answers are checked field by field below; `any` keeps those checks short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function call(who: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const headers: Record<string, string> = {};
    if (who) headers.authorization = `Bearer ${users[who]!.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  beforeAll(async () => {
    modelDir = mkdtempSync(join(tmpdir(), 'claimtrail-review-model-'));
    const training = generateClaims({ count: 1500, seed: 11 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 11, log: testLog });
    config = isolatedConfig({ MODEL_DIR: modelDir, BATCH_MAX_SIZE: '200', BATCH_MAX_AGE_MS: '1000' });
    verdictsTopic = `${config.database.schema}.verdicts`;
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, SEED, 0), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await waitUntilSettled(pipeline, CLAIMS, 180_000);
    const auth = new AuthService({ users: new UserRepository(pipeline.pool), audit: new AuditRepository(pipeline.pool), sessionHours: 1 });
    for (const [name, role] of [['ivy', 'investigator'], ['ian', 'investigator'], ['sue', 'supervisor'], ['cora', 'compliance'], ['ada', 'admin']] as const) {
      users[name] = await auth.createUser(name, role, null);
    }
    server = await startTestReviewServer(config, loadReviewConfig({ REVIEW_HOST: '127.0.0.1', VERDICTS_TOPIC: verdictsTopic }));
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    if (pipeline) {
      const admin = pipeline.kafka.admin();
      await pipeline.stop();
      await admin.connect();
      await admin.deleteTopics({ topics: [...Object.values(config.kafka.topics), verdictsTopic] }).catch(() => undefined);
      await admin.disconnect();
    }
    await dropSchema?.();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  });

  it('opens one case per flag / review decision, queued by rule hit, score and band', async () => {
    const { rows } = await pipeline.pool.query<{ decisions: string; cases: string; mismatched: string }>(
      `SELECT (SELECT count(*) FROM decisions WHERE outcome IN ('flag', 'review')) AS decisions, (SELECT count(*) FROM cases) AS cases,
              (SELECT count(*) FROM cases c JOIN decisions d USING (decision_id) WHERE c.outcome <> d.outcome OR c.score <> d.score) AS mismatched`,
    );
    expect(Number(rows[0]!.decisions)).toBeGreaterThan(5);
    expect(rows[0]!.cases).toBe(rows[0]!.decisions);
    expect(rows[0]!.mismatched).toBe('0');
    const { json } = await call('sue', 'GET', '/api/queues');
    expect(json.queues.map((q: { name: string }) => q.name)).toEqual(['rule-hits', 'flagged', 'review']);
    expect(json.queues.reduce((n: number, q: { open: number }) => n + q.open, 0)).toBe(Number(rows[0]!.cases));
    // No claim field in clear in cases: member id, NPI and amount are read from claim_payloads at view time.
    const clear = await pipeline.pool.query<{ n: string }>('SELECT count(*) AS n FROM cases WHERE amount IS NOT NULL OR member_id IS NOT NULL OR provider_npi IS NOT NULL');
    expect(clear.rows[0]!.n).toBe('0');
    const amounts = await pipeline.pool.query<{ n: string }>('SELECT count(*) AS n FROM cases c LEFT JOIN claim_payloads p USING (decision_id) WHERE p.total_charged IS NULL OR p.member_id IS NULL');
    expect(amounts.rows[0]!.n).toBe('0');
  });

  it('checks every API route for every role (role-by-route matrix)', async () => {
    const doc = (await call(null, 'GET', '/api/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([url, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${url}`));
    expect(documented.filter((r) => r !== 'POST /api/auth/login').sort()).toEqual(MATRIX.map((r) => `${r.method} ${r.url.split('?')[0]}`).sort());
    const ids = { caseId: '999999', decisionId: `0x${'00'.repeat(32)}`, userId: '999999', batchId: `0x${'00'.repeat(32)}`, attachmentId: '999999', tokenId: '999999', alertId: '999999' };
    for (const route of MATRIX) {
      const path = route.url.replace(/\{(\w+)\}/g, (_, k: keyof typeof ids) => ids[k]);
      const anonymous = await call(null, route.method, path, route.body);
      expect(anonymous.status, `anonymous ${route.method} ${route.url}`).toBe(401);
      expect(anonymous.json.error).toBe('UNAUTHENTICATED');
      for (const [name, role] of [['ivy', 'investigator'], ['sue', 'supervisor'], ['cora', 'compliance'], ['ada', 'admin']] as const) {
        const res = await call(name, route.method, path, route.body);
        if (route.roles.includes(role)) {
          expect([200, 201, 204, 400, 404], `${role} ${route.method} ${route.url}: ${JSON.stringify(res.json)}`).toContain(res.status);
        } else {
          expect(res.status, `${role} ${route.method} ${route.url}`).toBe(403);
          expect(res.json.error).toBe('FORBIDDEN');
        }
      }
    }
    expect((await call(null, 'GET', '/api/me')).status).toBe(401);
    const forged = await fetch(`${server.url}/api/me`, { headers: { authorization: 'Bearer ctr_tok_forged' } });
    expect(forged.status).toBe(401);
  });

  it('answers bad input with precise 4xx, never 500', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['GET', '/api/cases/abc', undefined, 400, 'INVALID_REQUEST'],
      ['GET', '/api/cases/99999999999999999999', undefined, 400, 'INVALID_REQUEST'],
      ['GET', '/api/cases?limit=0', undefined, 400, 'INVALID_REQUEST'],
      ['GET', '/api/cases?from=yesterday', undefined, 400, 'INVALID_REQUEST'],
      ['GET', '/api/cases?provider=12', undefined, 400, 'INVALID_REQUEST'],
      ['GET', '/api/cases?queue=nope', undefined, 404, 'NOT_FOUND'],
      ['GET', '/api/cases/999999', undefined, 404, 'NOT_FOUND'],
      ['POST', '/api/cases/1/disposition', { disposition: 'confirmed_fraud' }, 400, 'INVALID_REQUEST'],
      ['POST', '/api/cases/1/disposition', { disposition: 'confirmed_fraud', note: '   ' }, 400, 'INVALID_REQUEST'],
      ['POST', '/api/cases/1/disposition', { disposition: 'guilty', note: 'x' }, 400, 'INVALID_REQUEST'],
      ['POST', '/api/cases/1/snooze', { until: 'soon' }, 400, 'INVALID_REQUEST'],
    ];
    for (const [method, path, body, status, error] of cases) {
      const res = await call('ivy', method, path, body);
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(res.json.error, `${method} ${path}`).toBe(error);
    }
    const past = await call('ivy', 'POST', '/api/cases/take-next', {});
    const snooze = await call('ivy', 'POST', `/api/cases/${past.json.case.caseId}/snooze`, { until: '2001-01-01T00:00:00Z' });
    expect(snooze).toMatchObject({ status: 400, json: { error: 'INVALID_ARGUMENT' } });
    const notMine = await call('ian', 'GET', `/api/cases/${past.json.case.caseId}`);
    expect(notMine).toMatchObject({ status: 403, json: { error: 'FORBIDDEN' } });
    const raw = await fetch(`${server.url}/api/cases/take-next`, { method: 'POST', headers: { authorization: `Bearer ${users.ivy!.token}`, 'content-type': 'application/json' }, body: '{not json' });
    expect(raw.status).toBe(400);
    expect((await call('cora', 'GET', '/api/compliance/decisions?claimId=')).status).toBe(400);
    expect((await call('cora', 'POST', '/api/compliance/decisions/nothex/verify')).status).toBe(400);
    expect((await call('ada', 'POST', '/api/admin/users', { name: 'ivy', role: 'investigator' })).status).toBe(409);
  });

  it('never gives the same case to two concurrent take-next calls', async () => {
    const calls = Array.from({ length: 24 }, (_, i) => call(i % 2 === 0 ? 'ivy' : 'ian', 'POST', '/api/cases/take-next', {}));
    const results = await Promise.all(calls);
    expect(results.every((r) => r.status === 200)).toBe(true);
    const taken = results.map((r) => r.json.case).filter(Boolean) as Array<{ caseId: string; assigneeName: string }>;
    expect(taken.length).toBeGreaterThan(0);
    expect(new Set(taken.map((c) => c.caseId)).size).toBe(taken.length);
    const { rows } = await pipeline.pool.query<{ case_id: string; name: string }>(`SELECT c.case_id::text, u.name FROM cases c JOIN review_users u ON u.user_id = c.assignee_id WHERE c.case_id = ANY ($1::bigint[])`, [taken.map((c) => c.caseId)]);
    expect(new Map(rows.map((r) => [r.case_id, r.name]))).toEqual(new Map(taken.map((c) => [c.caseId, c.assigneeName])));
  });

  it('snoozes, escalates to a supervisor, reassigns, and keeps the audit log append-only', async () => {
    const taken = (await call('ian', 'POST', '/api/cases/take-next', { queue: 'review' })).json.case ?? (await call('ian', 'POST', '/api/cases/take-next', {})).json.case;
    const until = new Date(Date.now() + 86_400_000).toISOString();
    const snoozed = await call('ian', 'POST', `/api/cases/${taken.caseId}/snooze`, { until });
    expect(snoozed.json).toMatchObject({ status: 'snoozed', assigneeId: null, snoozedUntil: until });
    // Snoozed into the future: take-next skips it until then; a supervisor can still hand it out.
    const reassigned = await call('sue', 'POST', `/api/cases/${taken.caseId}/reassign`, { assigneeId: users.ian!.user.userId });
    expect(reassigned.json).toMatchObject({ status: 'assigned', assigneeName: 'ian', snoozedUntil: null });
    const escalated = await call('ian', 'POST', `/api/cases/${taken.caseId}/disposition`, { disposition: 'escalated', note: 'provider pattern spans several members' });
    expect(escalated.json).toMatchObject({ status: 'escalated', assigneeId: null });
    expect((await call('ian', 'GET', `/api/cases/${taken.caseId}`)).status).toBe(403);
    const list = await call('sue', 'GET', '/api/cases?status=escalated');
    expect(list.json.items.map((c: { caseId: string }) => c.caseId)).toContain(taken.caseId);
    const closed = await call('sue', 'POST', `/api/cases/${taken.caseId}/disposition`, { disposition: 'confirmed_fraud', note: 'confirmed with the provider records' });
    expect(closed.json).toMatchObject({ status: 'closed' });
    expect((await call('sue', 'POST', `/api/cases/${taken.caseId}/disposition`, { disposition: 'false_positive', note: 'again' })).status).toBe(409);
    const audit = await call('sue', 'GET', `/api/audit?targetType=case&targetId=${taken.caseId}&limit=20`);
    expect(audit.json.items.map((a: { action: string }) => a.action).reverse()).toEqual(['case.take', 'case.snooze', 'case.reassign', 'case.dispose', 'case.dispose']);
    expect(audit.json.items.every((a: { ip: string | null }) => a.ip)).toBe(true);
    await expect(pipeline.pool.query(`UPDATE audit_log SET action = 'tampered'`)).rejects.toThrow(/append-only/);
    await expect(pipeline.pool.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
  });

  it('publishes dispositions to the verdicts topic', async () => {
    await server.publisher.flush();
    const { rows } = await pipeline.pool.query<{ disposition_id: string; claim_id: string; disposition: string }>('SELECT disposition_id::text, claim_id, disposition FROM dispositions ORDER BY disposition_id');
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const consumer = pipeline.kafka.consumer({ groupId: uniqueName('verdicts-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: verdictsTopic, fromBeginning: true });
    const seen: KafkaMessage[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`verdicts: ${seen.length} of ${rows.length}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message);
          if (seen.length >= rows.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    const verdicts = seen.map((m) => ({ key: m.key!.toString(), ...JSON.parse(m.value!.toString()) }));
    expect(verdicts.map((v) => [v.dispositionId, v.key, v.claimId, v.disposition])).toEqual(rows.map((r) => [r.disposition_id, r.claim_id, r.claim_id, r.disposition]));
    expect(verdicts.find((v) => v.disposition === 'confirmed_fraud')).toMatchObject({ format: 'claimtrail-verdict-v1', label: 1 });
    const unpublished = await pipeline.pool.query<{ n: string }>('SELECT count(*) AS n FROM dispositions WHERE published_at IS NULL');
    expect(unpublished.rows[0]!.n).toBe('0');
  });

  it('creates users from the command line, printing the password and token once', async () => {
    // cli/commands/index.ts is wired separately; this drives registerReviewCommand the same way main.ts will.
    const script = `import { Command } from 'commander'; import { registerReviewCommand } from './cli/commands/review.command.ts';
      const program = new Command('claimtrail'); registerReviewCommand(program); await program.parseAsync(process.argv.slice(1), { from: 'user' });`;
    const env = { ...process.env, DATABASE_SCHEMA: config.database.schema, LOG_LEVEL: 'warn' };
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, '--', 'review', 'user', 'create', '--role', 'supervisor', '--name', 'sam', '--json'], { env });
    const created = JSON.parse(stdout) as CreatedUser;
    expect(created.user).toMatchObject({ name: 'sam', role: 'supervisor' });
    expect((await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${created.token}` } }).then((r) => r.json()))).toMatchObject({ name: 'sam', role: 'supervisor' });
    const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'sam', password: created.password }) });
    expect(login.status).toBe(200);
    const { rows } = await pipeline.pool.query<{ password_hash: string }>(`SELECT password_hash FROM review_users WHERE name = 'sam'`);
    expect(rows[0]!.password_hash).toMatch(/^scrypt\$/);
    expect(rows[0]!.password_hash).not.toContain(created.password);
    const bad = await run(process.execPath, ['--input-type=module', '-e', script, '--', 'review', 'user', 'create', '--role', 'root', '--name', 'x1'], { env }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).not.toBe(0);
    expect((bad as { stderr: string }).stderr).toContain('expected one of investigator, supervisor, compliance, admin');
  });

  describe('in the browser (playwright-core + Debian chromium)', () => {
    let context: BrowserContext;
    let page: Page;
    let userDataDir: string;
    let disposedClaim: string;

    beforeAll(async () => {
      userDataDir = mkdtempSync(join(tmpdir(), 'claimtrail-chromium-'));
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        acceptDownloads: true,
        viewport: { width: 1360, height: 900 },
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      page = context.pages()[0] ?? (await context.newPage());
    });

    afterAll(async () => {
      await context?.close();
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    });

    async function login(name: string): Promise<void> {
      await page.goto(`${server.url}/#/login`);
      await page.getByLabel('User name').fill(name);
      await page.getByLabel('Password').fill(users[name]!.password!);
      await page.keyboard.press('Enter');
      await page.locator('#who').getByText(name).waitFor();
    }

    async function logout(): Promise<void> {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    }

    it('investigator: signs in, takes the next case, reads its reasons, records a disposition with a note', async () => {
      await page.goto(`${server.url}/#/login`);
      await page.screenshot({ path: join(SCREENSHOTS, 'review-login.png') });
      await login('ivy');
      await page.getByRole('heading', { name: 'My work' }).waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, 'review-investigator-work.png'), fullPage: true });
      await page.keyboard.press('n');
      await page.getByRole('heading', { name: /^Case / }).waitFor();
      const caseId = /#\/case\/(\d+)/.exec(page.url())![1]!;
      const detail = (await call('sue', 'GET', `/api/cases/${caseId}`)).json;
      disposedClaim = detail.case.claimId;
      const shownCodes = await page.locator('section[aria-labelledby="h-reasons"] tbody td.mono').allTextContents();
      expect(shownCodes).toEqual(detail.decision.reasons.map((r: { code: string }) => r.code));
      expect(shownCodes.length).toBeGreaterThan(0);
      // Sentences exist only in this audited view, rendered from the claim; the index holds codes and contributions.
      const reasons = detail.decision.reasons as Array<{ code: string; contribution: number; text: string }>;
      expect(reasons.every((r) => r.text.length > 0)).toBe(true);
      const shownTexts = await page.locator('section[aria-labelledby="h-reasons"] tbody td:nth-child(2)').allTextContents();
      expect(shownTexts).toEqual(reasons.map((r) => r.text));
      const stored = await pipeline.pool.query<{ reasons: object[] }>('SELECT reasons FROM decisions WHERE decision_id = $1', [detail.decision.decisionId]);
      expect(stored.rows[0]!.reasons).toEqual(reasons.map(({ code, contribution }) => ({ code, contribution })));
      await page.locator('section[aria-labelledby="h-proof"]').getByText('anchored', { exact: true }).waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, 'review-case.png'), fullPage: true });
      // Attach a letter to the case, then download it again from the list.
      const letter = Buffer.from('Provider letter: records for 3 members requested on 2026-11-20.\n');
      await page.getByLabel(/^Attach a file/).setInputFiles({ name: 'provider-letter.txt', mimeType: 'text/plain', buffer: letter });
      await page.getByRole('button', { name: 'Upload' }).click();
      const attachmentLink = page.locator('#attachment-list').getByRole('link', { name: 'provider-letter.txt' });
      await attachmentLink.waitFor();
      const [attachmentDownload] = await Promise.all([page.waitForEvent('download'), attachmentLink.click()]);
      const saved = join(userDataDir, 'letter.txt');
      await attachmentDownload.saveAs(saved);
      expect(readFileSync(saved).equals(letter)).toBe(true);
      await page.screenshot({ path: join(SCREENSHOTS, 'review-case-attachment.png'), fullPage: true });
      // A disposition without a note is refused by the form; then with a note it goes through.
      await page.getByLabel('confirmed fraud').check();
      await page.getByRole('button', { name: 'Record disposition' }).click();
      expect(await page.getByLabel('Note (required)').evaluate((el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing)).toBe(true);
      await page.getByLabel('Note (required)').fill('Units far above the MUE for this code; provider billed the same pattern for 3 members.');
      await page.getByRole('button', { name: 'Record disposition' }).click();
      await page.getByRole('heading', { name: 'My work' }).waitFor();
      const after = (await call('sue', 'GET', `/api/cases/${caseId}`)).json;
      expect(after.case.status).toBe('closed');
      expect(after.dispositions).toMatchObject([{ userName: 'ivy', disposition: 'confirmed_fraud', note: expect.stringContaining('MUE') }]);
    });

    it('investigator is refused the admin and compliance routes', async () => {
      const statuses = await page.evaluate(async () => {
        const paths = ['/api/admin/users', '/api/compliance/decisions?claimId=x', '/api/audit', '/api/team'];
        return Promise.all(paths.map(async (p) => (await fetch(p)).status));
      });
      expect(statuses).toEqual([403, 403, 403, 403]);
      await page.goto(`${server.url}/#/compliance`);
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
      expect(await page.getByRole('alert').textContent()).toContain('not open to the investigator role');
      await page.screenshot({ path: join(SCREENSHOTS, 'review-investigator-refused.png') });
      await logout();
    });

    it('supervisor: sees the queues and the audit entries of the investigator', async () => {
      await login('sue');
      await page.getByRole('heading', { name: 'Queues & audit' }).waitFor();
      await page.getByRole('cell', { name: 'Flagged by score' }).waitFor();
      const audit = page.locator('section[aria-labelledby="h-audit"]');
      await audit.getByRole('row').filter({ hasText: 'ivy' }).filter({ hasText: 'case.dispose' }).first().waitFor();
      await audit.getByRole('row').filter({ hasText: 'ivy' }).filter({ hasText: 'case.view' }).first().waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, 'review-supervisor.png'), fullPage: true });
      // Date filters: every case was created today; a range in the past shows none.
      const total = (await call('sue', 'GET', '/api/cases?limit=1')).json.total as number;
      const cases = page.locator('h2').filter({ hasText: /^Cases \(/ });
      await page.getByLabel('Created from').fill('2000-01-01');
      await page.getByLabel('Created to').fill('2000-01-31');
      await page.locator('form:has(#f-from)').getByRole('button', { name: 'Filter' }).click();
      await cases.filter({ hasText: 'Cases (0)' }).waitFor();
      const today = await page.evaluate(() => {
        const d = new Date();
        return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
      });
      await page.getByLabel('Created from').fill(today);
      await page.getByLabel('Created to').fill(today);
      await page.locator('form:has(#f-from)').getByRole('button', { name: 'Filter' }).click();
      await cases.filter({ hasText: `Cases (${total})` }).waitFor();
      expect(page.url()).toContain(`from=${today}`);
      await logout();
    });

    it('compliance: finds a decision, verifies it on chain and downloads its proof bundle', async () => {
      await login('cora');
      await page.getByRole('heading', { name: 'Decision proofs' }).waitFor();
      await page.keyboard.press('/');
      await page.keyboard.type(disposedClaim);
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: 'Verify on chain' }).click();
      expect(await page.locator('.result.pass').textContent()).toMatch(/^PASS — decision is in batch/);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download proof bundle' }).click()]);
      const file = join(userDataDir, 'bundle.json');
      await download.saveAs(file);
      const bundle = JSON.parse(readFileSync(file, 'utf8')) as { format: string; decision: { claimId: string }; salt?: string };
      // The pipeline batches v2 records as v2 leaves: the download is a v2 bundle, without salt.
      expect(bundle.format).toBe('claimtrail-proof-v2');
      expect(bundle.decision.claimId).toBe(disposedClaim);
      expect(bundle.salt).toBeUndefined();
      expect(verifyAnyProofBundle(bundle)).toEqual({ ok: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'review-compliance.png'), fullPage: true });
      const audit = await call('ada', 'GET', `/api/audit?user=cora&limit=10`);
      expect(audit.json.items.map((a: { action: string }) => a.action)).toEqual(expect.arrayContaining(['decision.search', 'decision.verify', 'decision.bundle']));
      await logout();
    });

    it('admin: creates a user whose password is shown once (and no token: an admin never holds a person\'s token)', async () => {
      await login('ada');
      await page.getByRole('heading', { name: 'Users' }).waitFor();
      await page.getByLabel('Name').fill('nina');
      await page.getByLabel('Role').selectOption('investigator');
      await page.getByRole('button', { name: 'Create user' }).click();
      const password = (await page.locator('#new-password').textContent())!;
      expect(await page.locator('#new-token').count()).toBe(0);
      await page.screenshot({ path: join(SCREENSHOTS, 'review-admin.png'), fullPage: true });
      const res = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'nina', password }) });
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toMatch(/ctr_session=ctr_ses_.+HttpOnly.*SameSite=Strict/i);
      const wrong = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'nina', password: `${password}x` }) });
      expect(wrong.status).toBe(401);
    });
  });

  it('seals the audit log into Merkle batches anchored by the anchor worker, and detects a row altered behind the trigger', async () => {
    const sealed = await server.seals.seal(0);
    expect(sealed).not.toBeNull();
    const { rows } = await pipeline.pool.query<{ n: string; min: string; max: string }>('SELECT count(*) AS n, min(audit_id)::text AS min, max(audit_id)::text AS max FROM audit_log WHERE audit_id <= $1', [sealed!.last]);
    expect(sealed).toMatchObject({ leafCount: Number(rows[0]!.n), first: rows[0]!.min, last: rows[0]!.max });
    expect(await server.seals.seal(0)).toBeNull();
    const deadline = Date.now() + 60_000;
    while ((await server.seals.get(sealed!.batchId))?.status !== 'anchored') {
      if (Date.now() > deadline) throw new Error('audit batch was not anchored');
      await new Promise((r) => setTimeout(r, 300));
    }
    // Proof format v2: the seal is an entry of an epoch on DecisionAnchorV2.
    expect(await sealRootOnChain({ provider: pipeline.anchor!.v2.provider, epochs: new EpochRepository(pipeline.pool) }, sealed!.batchId, { deployments: [{ contract: pipeline.anchor!.v2.address, version: 'v2', anchorers: [pipeline.anchor!.tx.address] }] })).toBe(sealed!.root);
    // Seals have their own table: the decision batches stay decision batches.
    expect(await pipeline.index.getBatch(sealed!.batchId)).toBeNull();
    const listed = await call('sue', 'GET', '/api/audit/batches');
    expect(listed.json.batches.map((b: { batchId: string }) => b.batchId)).toContain(sealed!.batchId);
    expect((await call('cora', 'POST', `/api/audit/batches/${sealed!.batchId}/verify`)).json).toEqual({ ok: true, batchId: sealed!.batchId, leafCount: sealed!.leafCount, root: sealed!.root, anchored: true });
    // Someone with table-owner rights switches the append-only trigger off and edits history.
    await pipeline.pool.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
    await pipeline.pool.query(`UPDATE audit_log SET user_name = 'nobody' WHERE audit_id = $1`, [sealed!.first]);
    await pipeline.pool.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
    const tampered = (await call('cora', 'POST', `/api/audit/batches/${sealed!.batchId}/verify`)).json;
    expect(tampered).toMatchObject({ ok: false, code: 'ROOT_MISMATCH', expected: sealed!.root });
    expect(tampered.computed).not.toBe(sealed!.root);
  });
});
