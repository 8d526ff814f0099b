import { randomBytes } from 'node:crypto';
import { type KafkaMessage, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devKeySources } from '../../cli/dev-sources.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { DLQ_HEADERS, headerString } from '../../ingest/claim-decoder.ts';
import { ACCESS_EVENT_FORMAT, type AccessEvent, encodeAccessEvent } from '../../monitoring/access-event.ts';
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

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The monitor role on the real stack: accesses through the review API are explained from the work
 * context and recorded once each; malformed events, unknown users, other audit logs and clock
 * skew go to the DLQ with their reason and the monitor goes on.
 */
describe('access monitor: explanations and dead letters (real review app, PostgreSQL, Kafka)', () => {
  let config: Awaited<ReturnType<typeof reviewTestConfig>>;
  const indexKey = randomBytes(32);
  const pseudonyms = new AccessPseudonyms(indexKey);
  const verdictsTopic = uniqueName('verdicts');
  let drop: () => Promise<void>;
  let pool: Pool;
  let server: RunningReviewServer;
  let pipeline: RunningPipeline;
  const users: Record<string, CreatedUser> = {};
  // Cases 0 and 1 concern the same member; 2 and 3 others.
  const claims = generateClaims({ count: 4, seed: 57 }).claims.slice(0, 4).map((c, i) => ({ ...c, memberId: i < 2 ? 'MQ0001111' : `MQ000${i}${i}${i}${i}`, billingProviderNpi: `15555555${i}${i}` }));
  let caseIds: string[] = [];
  const token = (name: string) => users[name]!.token!;

  const explanationOf = async (userName: string, action: string, caseId: string) => {
    const { rows } = await pool.query<{ explanation: string | null }>(
      `SELECT r.explanation FROM access_records r JOIN review_users u USING (user_id) WHERE u.name = $1 AND r.action = $2 AND r.case_id = $3 ORDER BY r.audit_id`,
      [userName, action, caseId],
    );
    return rows.map((r) => r.explanation);
  };
  const recordedAll = async () => {
    const { rows } = await pool.query<{ audit: string; recorded: string }>('SELECT (SELECT count(*) FROM audit_log)::text AS audit, (SELECT count(*) FROM access_records)::text AS recorded');
    return rows[0]!.audit === rows[0]!.recorded;
  };

  beforeAll(async () => {
    config = await reviewTestConfig({ MONITOR_MAX_CLOCK_SKEW_SECONDS: '60', ACCESS_RELAY_POLL_MS: '100' });
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 3);
    caseIds = await recordFlaggedClaims(pool, config, claims, 0);
    const auth = new AuthService({ users: new UserRepository(pool), audit: new AuditRepository(pool), sessionHours: 1 });
    for (const [name, role] of [['ivy.mon', 'investigator'], ['sue.mon', 'supervisor'], ['sam.mon', 'supervisor']] as const) users[name] = await auth.createUser(name, role, null);
    server = await startTestReviewServer(config, loadReviewConfig({ REVIEW_HOST: '127.0.0.1', VERDICTS_TOPIC: verdictsTopic, REVIEW_AUDIT_SEAL_SECONDS: '0', REVIEW_INDEX_KEY: indexKey.toString('hex') }), testLog, 0);
    pipeline = await startPipeline(config, testLog, { ...devKeySources(config), indexKey: { indexKey: () => indexKey } }, ['monitor']);
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
    await server?.stop();
    const admin = createKafka(config, testLog, '-monitor-test').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [verdictsTopic, config.monitoring.accessTopic, config.monitoring.accessDlqTopic] }).catch(() => undefined);
    await admin.disconnect();
    await pool?.end();
    await drop?.();
    config?.closeChain();
  });

  it('explains each access from the work context and records it once', async () => {
    // ivy takes the top case and works it: assigned.
    const taken = await reviewCall(server.url, token('ivy.mon'), '/api/cases/take-next', { method: 'POST', body: {} });
    const ivyCase = String(taken.json.case.caseId);
    expect((await reviewCall(server.url, token('ivy.mon'), `/api/cases/${ivyCase}`)).status).toBe(200);
    const sameMember = caseIds[caseIds.indexOf(ivyCase) < 2 ? 1 - caseIds.indexOf(ivyCase) : 0]!;
    const others = caseIds.filter((id) => id !== ivyCase && id !== sameMember);
    // sue opens an open case of a queue she never worked: unexplained. Then she takes a case from
    // that queue and opens another open case of it: explained by the queue she works.
    expect((await reviewCall(server.url, token('sue.mon'), `/api/cases/${others[0]}`)).status).toBe(200);
    // sam oversees ivy's case, then drills down to the same member's other (open) case.
    expect((await reviewCall(server.url, token('sam.mon'), `/api/cases/${ivyCase}`)).status).toBe(200);
    expect((await reviewCall(server.url, token('sam.mon'), `/api/cases/${sameMember}`)).status).toBe(200);
    // sam looks a member up by id: an identifier search, unexplained.
    expect((await reviewCall(server.url, token('sam.mon'), `/api/cases?member=${claims[3]!.memberId}`)).status).toBe(200);
    await until('the first accesses recorded', recordedAll);
    const suesTake = await reviewCall(server.url, token('sue.mon'), '/api/cases/take-next', { method: 'POST', body: { queue: 'rule-hits' } });
    const suesCase = String(suesTake.json.case.caseId);
    const stillOpen = caseIds.find((id) => ![ivyCase, suesCase, others[0]].includes(id) && id !== sameMember) ?? others.find((id) => id !== suesCase)!;
    expect((await reviewCall(server.url, token('sue.mon'), `/api/cases/${stillOpen}`)).status).toBe(200);
    await until('every audit entry recorded', recordedAll);

    expect(await explanationOf('ivy.mon', 'case.take', ivyCase)).toEqual(['E_ASSIGNED']);
    expect(await explanationOf('ivy.mon', 'case.view', ivyCase)).toEqual(['E_ASSIGNED']);
    expect(await explanationOf('sue.mon', 'case.view', others[0]!)).toEqual([null]);
    expect(await explanationOf('sam.mon', 'case.view', ivyCase)).toEqual(['E_OVERSIGHT']);
    expect(await explanationOf('sam.mon', 'case.view', sameMember)).toEqual(['E_DRILL_DOWN']);
    expect(await explanationOf('sue.mon', 'case.view', stillOpen)).toEqual(['E_QUEUE_WORKED']);
    const { rows: lists } = await pool.query<{ explanation: string | null; phi: boolean; detail: { identifierSearch?: boolean } }>(
      `SELECT r.explanation, r.phi, r.detail FROM access_records r JOIN review_users u USING (user_id) WHERE u.name = 'sam.mon' AND r.action = 'cases.list'`,
    );
    expect(lists).toEqual([{ explanation: null, phi: true, detail: { returned: 1, identifierSearch: true } }]);
    // The CLI operator's user.create entries: a system actor, not the created user.
    const { rows: system } = await pool.query<{ user_id: string | null; explanation: string; phi: boolean }>(`SELECT user_id::text, explanation, phi FROM access_records WHERE action = 'user.create'`);
    expect(system).toEqual(Array(3).fill({ user_id: null, explanation: 'E_SYSTEM', phi: false }));
    const { rows: queues } = await pool.query<{ explanation: string; phi: boolean }>(`SELECT explanation, phi FROM access_records WHERE action = 'case.list' OR action = 'queues.view'`);
    expect(queues.every((r) => r.explanation === 'N_NOT_PHI' && !r.phi)).toBe(true);
    const { rows: member } = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM access_records WHERE member_pseudonym = $1', [pseudonyms.of('member', 'MQ0001111')]);
    expect(Number(member[0]!.n)).toBeGreaterThanOrEqual(4);
  });

  it('dead-letters malformed events, unknown users, other audit logs and clock skew with the reason, and goes on', async () => {
    const kafka = createKafka(config, testLog, '-monitor-bad');
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const { rows } = await pool.query<{ id: string }>('SELECT instance_id::text AS id FROM review_instance');
    const source = rows[0]!.id;
    const ivyId = users['ivy.mon']!.user.userId;
    const valid = (auditId: string, overrides: Partial<AccessEvent> = {}): AccessEvent => ({
      format: ACCESS_EVENT_FORMAT, source, auditId, at: new Date().toISOString().replace('Z', '000Z'), user: pseudonyms.of('user', ivyId), role: 'investigator',
      action: 'queues.view', targetType: null, case: null, ip: pseudonyms.of('ip', '10.9.9.9'), detail: {}, ...overrides,
    });
    const bad = [
      { value: Buffer.from('{"format":"claimtrail-access-v1",'), reason: 'ACCESS_EVENT_MALFORMED' },
      { value: Buffer.from(JSON.stringify({ ...valid('900001'), case: { id: '1', queue: null, assignee: null, status: null, member: 'M0001', provider: null } })), reason: 'ACCESS_EVENT_MALFORMED' },
      { value: encodeAccessEvent(valid('900002', { user: pseudonyms.of('user', '999999') })), reason: 'ACCESS_EVENT_UNKNOWN_USER' },
      { value: encodeAccessEvent(valid('900003', { source: '00000000-0000-4000-8000-000000000000' })), reason: 'ACCESS_EVENT_UNKNOWN_SOURCE' },
      { value: encodeAccessEvent(valid('900004', { at: new Date(Date.now() + 3_600_000).toISOString().replace('Z', '000Z') })), reason: 'ACCESS_EVENT_CLOCK_SKEW' },
      { value: encodeAccessEvent(valid('900005', { role: 'supervisor' })), reason: 'ACCESS_EVENT_ROLE_MISMATCH' },
    ];
    await producer.send({ topic: config.monitoring.accessTopic, acks: -1, messages: bad.map((b) => ({ key: 'k', value: b.value })) });
    // A valid event after them, and a redelivery of one already recorded: the monitor went on, and records nothing twice.
    await producer.send({ topic: config.monitoring.accessTopic, acks: -1, messages: [{ key: 'k', value: encodeAccessEvent(valid('900010')) }, { key: 'k', value: encodeAccessEvent(valid('900010')) }] });
    await producer.disconnect();
    await until('the valid event after the bad ones', async () => (await pool.query('SELECT 1 FROM access_records WHERE audit_id = 900010')).rows.length > 0);
    expect((await pool.query('SELECT 1 FROM access_records WHERE audit_id = 900010')).rows).toHaveLength(1);
    expect((await pool.query('SELECT 1 FROM access_records WHERE audit_id BETWEEN 900001 AND 900005')).rows).toHaveLength(0);

    const consumer = kafka.consumer({ groupId: uniqueName('dlq-reader'), readUncommitted: false });
    const got: KafkaMessage[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: config.monitoring.accessDlqTopic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { got.push(message); } });
    await until('six dead letters', async () => got.length >= bad.length, 20_000);
    await consumer.disconnect();
    expect(got.map((m) => headerString(m.headers, DLQ_HEADERS.reason))).toEqual(bad.map((b) => b.reason));
    expect(got.map((m) => m.value?.toString())).toEqual(bad.map((b) => b.value.toString()));
    for (const m of got) {
      expect(headerString(m.headers, DLQ_HEADERS.sourceTopic)).toBe(config.monitoring.accessTopic);
      expect(JSON.parse(headerString(m.headers, DLQ_HEADERS.errors)!).length).toBeGreaterThan(0);
    }
    expect(pipeline.monitor?.stage.joined).toBe(true);
  });
});
