import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devKeySources } from '../../cli/dev-sources.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { AlertRepository } from '../../monitoring/alert.repository.ts';
import { type RunningPipeline, startPipeline } from '../../pipeline/runtime.ts';
import { AccessPseudonyms } from '../../review/audit/access-pseudonyms.ts';
import { loadReviewConfig } from '../../review/config.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import type { RunningReviewServer } from '../../review/server.ts';
import { AuthService, type CreatedUser } from '../../review/services/auth.service.ts';
import { migratedSchema, testLog, uniqueName } from '../support/env.ts';
import { recordFlaggedClaims, reviewCall, reviewTestConfig } from '../support/review-cases.ts';
import { startTestReviewServer } from '../support/review.ts';

async function until<T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Watch the watchers, end to end on the real stack: a supervisor snoops on one member through the
 * review API and a foreign account anchors on our DecisionAnchorV2 on anvil; the monitor role
 * (relay, monitor, behaviour model, chain watch) raises both alerts, compliance sees them in its
 * queue with their reasons (never an alert about themselves), dispositions them, exports the
 * member's accounting of disclosures, and alerts and dispositions are sealed in the audit log.
 */
describe('access monitoring end to end: snooping + unknown anchorer -> compliance queue, sealed', () => {
  let config: Awaited<ReturnType<typeof reviewTestConfig>>;
  const indexKey = randomBytes(32);
  const verdictsTopic = uniqueName('verdicts');
  let drop: () => Promise<void>;
  let pool: Pool;
  let server: RunningReviewServer;
  let pipeline: RunningPipeline;
  const users: Record<string, CreatedUser> = {};
  const TARGET = 'MX00042424';
  // Six cases: four of the target member (routed to rule-hits like all), two of others.
  const claims = generateClaims({ count: 6, seed: 99 }).claims.slice(0, 6).map((c, i) => ({ ...c, memberId: i < 4 ? TARGET : `MX0000${i}${i}${i}${i}`, billingProviderNpi: `17777777${i}${i}` }));
  const token = (name: string) => users[name]!.token!;

  beforeAll(async () => {
    config = await reviewTestConfig({ ACCESS_RELAY_POLL_MS: '100', MONITOR_CHAIN_POLL_MS: '500', MONITOR_SCORE_SECONDS: '0' });
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 3);
    await recordFlaggedClaims(pool, config, claims, 0);
    const auth = new AuthService({ users: new UserRepository(pool), audit: new AuditRepository(pool), sessionHours: 1 });
    for (const [name, role] of [['ivy.e2e', 'investigator'], ['sly.e2e', 'supervisor'], ['cora.e2e', 'compliance'], ['ada.e2e', 'admin']] as const) users[name] = await auth.createUser(name, role, null);
    server = await startTestReviewServer(config, loadReviewConfig({ REVIEW_HOST: '127.0.0.1', VERDICTS_TOPIC: verdictsTopic, REVIEW_AUDIT_SEAL_SECONDS: '0', REVIEW_INDEX_KEY: indexKey.toString('hex') }), testLog, 0);
    pipeline = await startPipeline(config, testLog, { ...devKeySources(config), indexKey: { indexKey: () => indexKey } }, ['monitor']);
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
    await server?.stop();
    const admin = createKafka(config, testLog, '-access-e2e').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [verdictsTopic, config.monitoring.accessTopic, config.monitoring.accessDlqTopic] }).catch(() => undefined);
    await admin.disconnect();
    await pool?.end();
    await drop?.();
    config?.closeChain();
  });

  it('raises the snooping and unknown-anchorer alerts, shows them to compliance with reasons, and seals alerts and dispositions', async () => {
    // Legitimate work: ivy takes and works a case.
    const taken = await reviewCall(server.url, token('ivy.e2e'), '/api/cases/take-next', { method: 'POST', body: {} });
    expect(taken.status).toBe(200);
    expect((await reviewCall(server.url, token('ivy.e2e'), `/api/cases/${taken.json.case.caseId}`)).status).toBe(200);
    // The snooping session: sly looks the member up by id and opens every one of their open cases.
    const found = await reviewCall(server.url, token('sly.e2e'), `/api/cases?member=${TARGET}&limit=50`);
    expect(found.status).toBe(200);
    const targetCases = (found.json.items as Array<{ caseId: string; status: string }>).filter((c) => c.status === 'open').map((c) => String(c.caseId));
    expect(targetCases.length).toBeGreaterThanOrEqual(3);
    for (const id of targetCases) expect((await reviewCall(server.url, token('sly.e2e'), `/api/cases/${id}`)).status).toBe(200);
    // On the chain: a foreign account is granted ANCHORER_ROLE and anchors on our contract.
    const rogue = await config.deployment.addAnchorer();
    await rogue.anchorEpoch(`0x${randomBytes(32).toString('hex')}`, `0x${randomBytes(32).toString('hex')}`, 1, '1');

    // Every audit entry written so far reaches the monitor through the outbox, the relay and Kafka.
    const written = Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_log')).rows[0]!.n);
    await until('every access recorded', async () => Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM access_records')).rows[0]!.n) >= written);
    const slyId = users['sly.e2e']!.user.userId;
    expect((await pool.query(`SELECT 1 FROM access_records WHERE user_id = $1 AND action = 'case.view' AND explanation IS NULL`, [slyId])).rows).toHaveLength(targetCases.length);
    const today = new Date().toISOString().slice(0, 10);
    const scored = await pipeline.monitor!.behaviour.scoreDay(today);
    const snooper = scored.find((s) => s.userId === slyId)!;
    expect(snooper.reasons[0]).toMatchObject({ code: 'A_MEMBER_REPEAT', value: targetCases.length });
    expect(snooper.score).toBeGreaterThanOrEqual(0.6);
    expect(scored.find((s) => s.userId === users['ivy.e2e']!.user.userId)!.score).toBeLessThan(0.6);
    await until('the chain alert', async () => (await pool.query(`SELECT 1 FROM monitor_alerts WHERE kind = 'chain' AND reasons @> '[{"code": "C_UNKNOWN_ANCHORER"}]'`)).rows.length > 0);

    // Compliance's queue: both alerts, with reasons.
    const queue = await reviewCall(server.url, token('cora.e2e'), '/api/compliance/alerts?status=open');
    expect(queue.status).toBe(200);
    const items = queue.json.items as Array<{ alertId: string; kind: string; severity: string; subject: { name: string } | null; reasons: Array<{ code: string }> }>;
    const access = items.find((a) => a.kind === 'access' && a.subject?.name === 'sly.e2e')!;
    expect(access.reasons[0]!.code).toBe('A_MEMBER_REPEAT');
    const chain = items.find((a) => a.reasons[0]!.code === 'C_UNKNOWN_ANCHORER')!;
    expect(chain).toMatchObject({ kind: 'chain', severity: 'high', subject: null });
    expect(items.some((a) => a.reasons[0]!.code === 'C_ROLE_CHANGE')).toBe(true);
    // The alert with the subject's timeline; the snooper is refused the queue.
    const detail = await reviewCall(server.url, token('cora.e2e'), `/api/compliance/alerts/${access.alertId}`);
    expect(detail.status).toBe(200);
    expect(detail.json.timeline).toHaveLength(30);
    expect(detail.json.timeline.at(-1)).toMatchObject({ day: today });
    expect(detail.json.timeline.at(-1).unexplained).toBeGreaterThanOrEqual(targetCases.length);
    expect((await reviewCall(server.url, token('sly.e2e'), '/api/compliance/alerts')).status).toBe(403);

    // Dispositions become labels and are audited.
    const disposed = await reviewCall(server.url, token('cora.e2e'), `/api/compliance/alerts/${access.alertId}/disposition`, { method: 'POST', body: { disposition: 'policy_violation', note: 'no work reason for these views' } });
    expect(disposed.status).toBe(200);
    expect(disposed.json.alert.status).toBe('policy_violation');
    expect((await reviewCall(server.url, token('cora.e2e'), `/api/compliance/alerts/${access.alertId}/disposition`, { method: 'POST', body: { disposition: 'benign', note: 'again' } })).status).toBe(409);
    expect((await reviewCall(server.url, token('ada.e2e'), `/api/compliance/alerts/${chain.alertId}/disposition`, { method: 'POST', body: { disposition: 'needs_review', note: 'ask the chain team' } })).status).toBe(200);

    // The dispositioned access alert is a label for the next behaviour model (features, no person).
    const labels = await new AlertRepository(pool).labels();
    expect(labels).toEqual([expect.objectContaining({ alertId: access.alertId, day: today, role: 'supervisor', label: 1 })]);
    expect(labels[0]!.features.member_repeat).toBe(targetCases.length - 1);
    expect(JSON.stringify(labels)).not.toContain('sly');

    // Separation of duties: an alert about cora is invisible to her, and admin handles it.
    const aboutCora = (await new AlertRepository(pool).raise({ kind: 'access', severity: 'medium', subjectUserId: users['cora.e2e']!.user.userId, day: today, score: 0.7, reasons: [{ code: 'A_BULK', value: 500 }], dedupeKey: `test:cora:${today}` }))!;
    const coraList = await reviewCall(server.url, token('cora.e2e'), '/api/compliance/alerts?limit=200');
    expect((coraList.json.items as Array<{ alertId: string }>).some((a) => a.alertId === aboutCora)).toBe(false);
    expect((await reviewCall(server.url, token('cora.e2e'), `/api/compliance/alerts/${aboutCora}`)).status).toBe(404);
    expect((await reviewCall(server.url, token('cora.e2e'), `/api/compliance/alerts/${aboutCora}/disposition`, { method: 'POST', body: { disposition: 'benign', note: 'mine' } })).status).toBe(404);
    expect((await reviewCall(server.url, token('ada.e2e'), `/api/compliance/alerts/${aboutCora}`)).status).toBe(200);

    // The member's accounting of disclosures: sly's views, unexplained.
    const accounting = await reviewCall(server.url, token('cora.e2e'), `/api/compliance/disclosures?member=${TARGET}`);
    expect(accounting.status).toBe(200);
    expect(accounting.json.memberPseudonym).toBe(new AccessPseudonyms(indexKey).of('member', TARGET));
    const slyViews = (accounting.json.disclosures as Array<{ userName: string; action: string; explanation: string | null }>).filter((d) => d.userName === 'sly.e2e' && d.action === 'case.view');
    expect(slyViews).toHaveLength(targetCases.length);
    expect(slyViews.every((d) => d.explanation === null)).toBe(true);
    const csv = await fetch(`${server.url}/api/compliance/disclosures?member=${TARGET}&format=csv`, { headers: { authorization: `Bearer ${token('cora.e2e')}` } });
    expect(csv.headers.get('content-disposition')).toContain('attachment');
    expect((await csv.text()).split('\n')[0]).toBe('at,user,role,action,case,explanation');

    // Alerts and dispositions are in the audit log and sealed into an audit batch that verifies.
    const { rows: audited } = await pool.query<{ audit_id: string; action: string }>(`SELECT audit_id::text, action FROM audit_log WHERE action IN ('monitor.alert', 'alert.dispose') ORDER BY audit_id`);
    expect(audited.filter((a) => a.action === 'alert.dispose')).toHaveLength(2);
    expect(audited.filter((a) => a.action === 'monitor.alert').length).toBeGreaterThanOrEqual(3);
    const seal = (await server.seals.seal(0))!;
    for (const a of audited) expect(BigInt(a.audit_id) >= BigInt(seal.first) && BigInt(a.audit_id) <= BigInt(seal.last)).toBe(true);
    const check = await server.seals.verify({ userId: users['cora.e2e']!.user.userId, name: 'cora.e2e', role: 'compliance', ip: null }, seal.batchId);
    expect(check).toMatchObject({ ok: true, batchId: seal.batchId });
  });

  it('shows compliance the queue, the alert with its reasons and timeline chart, and records a disposition (browser)', async () => {
    const userDataDir = mkdtempSync(join(tmpdir(), 'claimtrail-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1360, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const problems: string[] = [];
      // Script errors and failed API calls; the browser's own favicon probe is not the app's.
      page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text()); });
      page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`${r.status()} ${r.url()}`); });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${server.url}/#/login`);
      await page.getByLabel('User name').fill('ada.e2e');
      await page.getByLabel('Password').fill(users['ada.e2e']!.password!);
      await page.keyboard.press('Enter');
      await page.locator('#who').getByText('ada.e2e').waitFor();
      await page.goto(`${server.url}/#/alerts?status=closed`);
      await page.getByRole('heading', { name: 'Monitor alerts' }).waitFor();
      await page.getByRole('cell', { name: /^A_MEMBER_REPEAT/ }).first().click();
      await page.getByRole('heading', { name: /^Alert \d+$/ }).waitFor();
      await page.getByText(/^A_MEMBER_REPEAT \d+/).waitFor();
      expect(await page.locator('svg[role="img"] rect').count()).toBeGreaterThan(0);
      await page.screenshot({ path: join(process.cwd(), 'tests', 'screenshots', 'review-monitor-alert.png'), fullPage: true });
      // An open chain alert: dispositioned through the form.
      await page.goto(`${server.url}/#/alerts?status=open`);
      await page.getByRole('cell', { name: 'C_ROLE_CHANGE' }).first().click();
      await page.getByLabel('benign').check();
      await page.getByLabel('Note (required)').fill('grant made by the chain team, ticket 42');
      await page.getByRole('button', { name: 'Record disposition' }).click();
      await page.getByText(/ada\.e2e: benign/).waitFor();
      expect(problems, problems.join('\n')).toEqual([]);
    } finally {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
