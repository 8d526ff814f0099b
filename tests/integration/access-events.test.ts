import { randomBytes } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClaims } from '../../fixtures/generator.ts';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { decodeAccessEvent, type AccessEvent } from '../../monitoring/access-event.ts';
import { AccessOutboxRepository } from '../../monitoring/access-outbox.repository.ts';
import { AccessRelay } from '../../monitoring/access-relay.ts';
import { ensureAccessTopics } from '../../monitoring/access-topics.ts';
import { AccessPseudonyms } from '../../review/audit/access-pseudonyms.ts';
import { loadReviewConfig } from '../../review/config.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import { withTransaction } from '../../review/repositories/db.ts';
import type { RunningReviewServer } from '../../review/server.ts';
import { AuthService, type CreatedUser } from '../../review/services/auth.service.ts';
import { migratedSchema, testLog, uniqueName } from '../support/env.ts';
import { recordFlaggedClaims, reviewCall, reviewTestConfig } from '../support/review-cases.ts';
import { startTestReviewServer } from '../support/review.ts';

/** Reads every committed message of `topic` from the beginning until `count` arrived. */
async function readTopic(kafka: ReturnType<typeof createKafka>, topic: string, count: number, timeoutMs = 20_000): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), readUncommitted: false });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({ eachMessage: async ({ message }) => { got.push(message); if (got.length >= count) resolve(); } });
  });
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  await consumer.disconnect();
  return got;
}

/**
 * Access events as a stream: every audit entry written through the review API gets its outbox row
 * in the same transaction, and the relay publishes it to the access-events topic with keyed
 * pseudonyms only (real review app, PostgreSQL and Kafka).
 */
describe('access events: audit outbox -> relay -> Kafka (real stack)', () => {
  let config: Awaited<ReturnType<typeof reviewTestConfig>>;
  let kafka: ReturnType<typeof createKafka>;
  const indexKey = randomBytes(32);
  const pseudonyms = new AccessPseudonyms(indexKey);
  const verdictsTopic = uniqueName('verdicts');
  let drop: () => Promise<void>;
  let pool: Pool;
  let server: RunningReviewServer;
  let relay: AccessRelay;
  const users: Record<string, CreatedUser> = {};
  const claims = generateClaims({ count: 3, seed: 41 }).claims.slice(0, 3).map((c, i) => ({ ...c, memberId: `MZ${i}77123${i}`, billingProviderNpi: `19876543${i}${i}` }));
  let caseIds: string[] = [];

  beforeAll(async () => {
    config = await reviewTestConfig();
    kafka = createKafka(config, testLog, '-access-test');
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 3);
    caseIds = await recordFlaggedClaims(pool, config, claims, 0);
    const auth = new AuthService({ users: new UserRepository(pool), audit: new AuditRepository(pool), sessionHours: 1 });
    for (const [name, role] of [['ivy.access', 'investigator'], ['sue.access', 'supervisor']] as const) users[name] = await auth.createUser(name, role, null);
    server = await startTestReviewServer(config, loadReviewConfig({ REVIEW_HOST: '127.0.0.1', VERDICTS_TOPIC: verdictsTopic, REVIEW_AUDIT_SEAL_SECONDS: '0', REVIEW_INDEX_KEY: indexKey.toString('hex') }), testLog, 0);
    await ensureAccessTopics(kafka, config);
    relay = new AccessRelay({ kafka, outbox: new AccessOutboxRepository(pool), pseudonyms, topic: config.monitoring.accessTopic, log: testLog, pollMs: 60_000 });
    await relay.start();
  }, 120_000);

  afterAll(async () => {
    await relay?.stop();
    await server?.stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [verdictsTopic, config.monitoring.accessTopic, config.monitoring.accessDlqTopic] }).catch(() => undefined);
    await admin.disconnect();
    await pool?.end();
    await drop?.();
    config?.closeChain();
  });

  it('writes an outbox row for every audit entry, with the case work context at the time of access', async () => {
    const ivy = users['ivy.access']!.token!;
    const taken = await reviewCall(server.url, ivy, '/api/cases/take-next', { method: 'POST', body: {} });
    expect(taken.status).toBe(200);
    const viewed = await reviewCall(server.url, ivy, `/api/cases/${taken.json.case.caseId}`);
    expect(viewed.status).toBe(200);
    const sue = users['sue.access']!.token!;
    const other = caseIds.find((id) => id !== String(taken.json.case.caseId))!;
    expect((await reviewCall(server.url, sue, `/api/cases/${other}`)).status).toBe(200);
    const { rows } = await pool.query<{ audit_id: string; action: string; case_id: string | null; case_assignee_id: string | null; case_status: string | null; case_queue: string | null; in_outbox: boolean }>(
      `SELECT a.audit_id::text, a.action, o.case_id::text, o.case_assignee_id::text, o.case_status, o.case_queue, o.audit_id IS NOT NULL AS in_outbox
         FROM audit_log a LEFT JOIN access_outbox o USING (audit_id) ORDER BY a.audit_id`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(rows.every((r) => r.in_outbox)).toBe(true);
    const take = rows.find((r) => r.action === 'case.take')!;
    expect(take).toMatchObject({ case_id: String(taken.json.case.caseId), case_assignee_id: users['ivy.access']!.user.userId, case_status: 'assigned', case_queue: 'rule-hits' });
    const supView = rows.filter((r) => r.action === 'case.view').find((r) => r.case_id === other)!;
    expect(supView).toMatchObject({ case_assignee_id: null, case_status: 'open' });
  });

  it('rolls the outbox row back with its audit entry', async () => {
    const before = await pool.query<{ n: string }>('SELECT count(*) AS n FROM access_outbox');
    await expect(withTransaction(pool, async (db) => {
      await new AuditRepository(pool).append({ userId: null, name: 'cli:test', role: 'admin', ip: null }, 'test.rollback', null, {}, db);
      throw new Error('rolled back on purpose');
    })).rejects.toThrow('rolled back on purpose');
    const after = await pool.query<{ n: string }>('SELECT count(*) AS n FROM access_outbox');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('publishes every entry once, in audit id order, with pseudonyms and no identifier in clear', async () => {
    const sent = await relay.flush();
    const { rows } = await pool.query<{ audit_id: string }>('SELECT audit_id::text FROM audit_log ORDER BY audit_id');
    expect(sent).toBe(rows.length);
    expect(await new AccessOutboxRepository(pool).pendingCount()).toBe(0);
    expect(await relay.flush()).toBe(0);
    const messages = await readTopic(kafka, config.monitoring.accessTopic, rows.length);
    expect(messages).toHaveLength(rows.length);
    const events = messages.map((m) => {
      const d = decodeAccessEvent(m.value);
      if (!d.ok) throw new Error(JSON.stringify(d.errors));
      expect(m.key?.toString()).toBe(d.event.user ?? 'system');
      return d.event;
    });
    expect(events.map((e) => e.auditId).sort((a, b) => Number(a) - Number(b))).toEqual(rows.map((r) => r.audit_id));
    const ivyId = users['ivy.access']!.user.userId;
    const views = events.filter((e): e is AccessEvent & { case: NonNullable<AccessEvent['case']> } => e.action === 'case.view' && e.case !== null);
    expect(views).toHaveLength(2);
    for (const v of views) {
      const claim = claims[caseIds.indexOf(v.case.id)]!;
      expect(v.case.member).toBe(pseudonyms.of('member', claim.memberId));
      expect(v.case.provider).toBe(pseudonyms.of('provider', claim.billingProviderNpi));
      expect(v.ip).toBe(pseudonyms.of('ip', '127.0.0.1'));
    }
    expect(views.find((v) => v.role === 'investigator')!).toMatchObject({ user: pseudonyms.of('user', ivyId), case: { assignee: pseudonyms.of('user', ivyId), status: 'assigned' } });
    // No identifier in clear anywhere in the topic's bytes: member ids, NPIs, user names, the client address.
    const bytes = messages.map((m) => `${m.key?.toString()}|${m.value?.toString()}`).join('\n');
    for (const secret of [...claims.map((c) => c.memberId), ...claims.map((c) => c.billingProviderNpi), ...claims.map((c) => c.claimId), 'ivy.access', 'sue.access', '127.0.0.1']) {
      expect(bytes.includes(secret), secret).toBe(false);
    }
  });

  it('publishes again what a crashed relay had sent but not marked (at least once; consumers dedupe on source + audit id)', async () => {
    await new AuditRepository(pool).append({ userId: users['sue.access']!.user.userId, name: 'sue.access', role: 'supervisor', ip: '10.1.2.3' }, 'queues.view', null);
    const outbox = new AccessOutboxRepository(pool);
    const crashing = Object.assign(Object.create(AccessOutboxRepository.prototype) as AccessOutboxRepository, {
      source: () => outbox.source(),
      underRelayLock: outbox.underRelayLock.bind(outbox),
      unpublished: outbox.unpublished.bind(outbox),
      markPublished: async () => { throw new Error('crash between produce and mark'); },
    });
    const crashed = new AccessRelay({ kafka, outbox: crashing, pseudonyms, topic: config.monitoring.accessTopic, log: testLog, pollMs: 60_000 });
    await crashed.start();
    await expect(crashed.flush()).rejects.toThrow('crash between produce and mark');
    await crashed.stop();
    expect(await outbox.pendingCount()).toBe(1);
    expect(await relay.flush()).toBe(1);
    expect(await outbox.pendingCount()).toBe(0);
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM audit_log');
    const messages = await readTopic(kafka, config.monitoring.accessTopic, Number(rows[0]!.n) + 1);
    const ids = messages.map((m) => (decodeAccessEvent(m.value) as { ok: true; event: AccessEvent }).event.auditId);
    expect(ids.length).toBe(Number(rows[0]!.n) + 1);
    expect(new Set(ids).size).toBe(Number(rows[0]!.n));
  });
});
