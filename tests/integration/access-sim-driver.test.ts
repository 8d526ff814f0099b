import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSimCases } from '../../bench/access-sim/cases.ts';
import { type DrivenUser, SimClock, SimDriver } from '../../bench/access-sim/driver.ts';
import { simReviewConfig, startSimReviewServer } from '../../bench/access-sim/server.ts';
import { type Action, knownIp, type SimCase, type SimUser } from '../../bench/access-sim/simulator.ts';
import { devKeySources, devMasterKeySource } from '../../cli/dev-sources.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { type RunningPipeline, startPipeline } from '../../pipeline/runtime.ts';
import { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import { openMemberKeys } from '../../privacy/master-key.ts';
import { AccessPseudonyms } from '../../review/audit/access-pseudonyms.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import type { RunningReviewServer } from '../../review/server.ts';
import { AuthService } from '../../review/services/auth.service.ts';
import { migratedSchema, testLog } from '../support/env.ts';
import { reviewTestConfig } from '../support/review-cases.ts';

/**
 * The access-monitoring simulator's driver (bench/access-sim/driver.ts) on the real stack: a few
 * planned actions go through the real review server with the virtual clock injected, and arrive
 * through the audit outbox, the relay, Kafka and the monitor stage as access records stamped with
 * the virtual times and the simulated client addresses.
 */
describe('access simulator driver: actions through the review API -> access records', () => {
  let config: Awaited<ReturnType<typeof reviewTestConfig>>;
  const indexKey = randomBytes(32);
  let drop: () => Promise<void>;
  let pool: Pool;
  let server: RunningReviewServer;
  let pipeline: RunningPipeline;
  const clock = new SimClock();
  const users = new Map<string, DrivenUser>();
  const ivy: SimUser = { name: 'sim-inv-00', role: 'investigator', index: 0 };
  const sue: SimUser = { name: 'sim-sup-01', role: 'supervisor', index: 1 };
  let driver: SimDriver;
  const monday = Date.UTC(2026, 0, 5);

  beforeAll(async () => {
    config = await reviewTestConfig({ ACCESS_RELAY_POLL_MS: '100', MONITOR_CHAIN_POLL_MS: '0', MONITOR_SCORE_SECONDS: '0' });
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 3);
    clock.set(monday);
    const auth = new AuthService({ users: new UserRepository(pool), audit: new AuditRepository(pool, clock), sessionHours: 12, clock });
    for (const u of [ivy, sue]) {
      const created = await auth.createUser(u.name, u.role, null);
      users.set(u.name, { userId: created.user.userId, password: created.password! });
    }
    const intake = await auth.createUser('sim-intake', 'compliance', null, { service: true });
    const cases: SimCase[] = ['rule-hits', 'flagged', 'review', 'review'].map((queue, index) => ({ index, member: index < 2 ? 'MS000007' : `MS00010${index}`, provider: `100000000${index}`, queue: queue as SimCase['queue'], score: 0.9 - index * 0.1, arrives: -1, closedBefore: false }));
    const opener = { payloads: new ClaimPayloadRepository(pool, await openMemberKeys(pool, devMasterKeySource(config), testLog)), intakeUserId: intake.user.userId };
    const opened = await openSimCases(pool, config, opener, cases, generateClaims({ count: cases.length, seed: 5 }).claims, 0);
    expect(opened.map((c) => c.status)).toEqual(['open', 'open', 'open', 'open']);
    server = await startSimReviewServer(config, simReviewConfig(config, indexKey), indexKey, clock, testLog);
    pipeline = await startPipeline(config, testLog, { ...devKeySources(config), indexKey: { indexKey: () => indexKey } }, ['monitor']);
    driver = new SimDriver({ baseUrl: server.url, clock, seed: 1, users });
    driver.addCases(opened);
  }, 120_000);

  afterAll(async () => {
    await pipeline?.stop();
    await server?.stop();
    const admin = createKafka(config, testLog, '-access-sim-test').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [config.monitoring.accessTopic, config.monitoring.accessDlqTopic, `${config.database.schema}.verdicts`] }).catch(() => undefined);
    await admin.disconnect();
    await pool?.end();
    await drop?.();
    config?.closeChain();
  });

  it('records each action at its virtual time, from the simulated address, with the explanation the work context gives', async () => {
    const at = (h: number, m = 0) => monday + h * 3_600_000 + m * 60_000;
    const ivyIp = knownIp(ivy, 0);
    const sueIp = knownIp(sue, 1);
    const actions: Action[] = [
      { at: at(8), user: ivy, kind: 'login', ip: ivyIp },
      { at: at(8, 5), user: ivy, kind: 'take', ip: ivyIp },
      { at: at(8, 10), user: ivy, kind: 'viewMine', ip: ivyIp },
      { at: at(8, 20), user: ivy, kind: 'note', ip: ivyIp },
      { at: at(8, 30), user: ivy, kind: 'dispose', ip: ivyIp, disposition: 'false_positive' },
      // Sue's session: an identifier search for the member with two cases, then her cases one by one.
      { at: at(9), user: sue, kind: 'login', ip: sueIp },
      { at: at(9, 1), user: sue, kind: 'identSearch', ip: sueIp, member: 'MS000007' },
      { at: at(9, 2), user: sue, kind: 'snoop', ip: sueIp, member: 'MS000007' },
      { at: at(9, 3), user: sue, kind: 'snoop', ip: sueIp, member: 'MS000007' },
      // Fourteen hours after sign-in the session has expired: the driver signs in again before the view.
      { at: at(22), user: ivy, kind: 'viewMine', ip: ivyIp },
    ];
    for (const a of actions) await driver.perform(a);
    expect(driver.stats.refused).toEqual({});
    // The 22:00 view: the 08:00 session (12 hours) has expired on the virtual clock.
    expect(driver.stats.extraLogins).toBe(1);

    const written = Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_log')).rows[0]!.n);
    const deadline = Date.now() + 60_000;
    while (Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM access_records')).rows[0]!.n) < written) {
      if (Date.now() > deadline) throw new Error('access records did not arrive');
      await new Promise((r) => setTimeout(r, 200));
    }
    const pseudonyms = new AccessPseudonyms(indexKey);
    const { rows } = await pool.query<{ user_id: string; at: Date; action: string; ip_pseudonym: string; explanation: string | null; member_pseudonym: string | null }>(
      `SELECT user_id::text, at, action, ip_pseudonym, explanation, member_pseudonym FROM access_records WHERE user_id = ANY($1::bigint[]) AND action <> 'user.create' ORDER BY audit_id`,
      [[users.get(ivy.name)!.userId, users.get(sue.name)!.userId]],
    );
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(rows.map((r) => [r.at.toISOString(), r.action])).toEqual([
      [iso(at(8)), 'auth.login'],
      [iso(at(8, 5)), 'case.take'],
      [iso(at(8, 10)), 'case.view'],
      [iso(at(8, 20)), 'case.note'],
      [iso(at(8, 30)), 'case.dispose'],
      [iso(at(9)), 'auth.login'],
      [iso(at(9, 1)), 'cases.list'],
      [iso(at(9, 2)), 'case.view'],
      [iso(at(9, 3)), 'case.view'],
      [iso(at(22)), 'auth.login'],
      [iso(at(22)), 'case.view'],
    ]);
    const explanations = rows.map((r) => r.explanation);
    expect(explanations.slice(0, 6)).toEqual(['N_NOT_PHI', 'E_ASSIGNED', 'E_ASSIGNED', 'E_ASSIGNED', 'E_ASSIGNED', 'N_NOT_PHI']);
    // A supervisor's identifier search is never explained by the work context.
    expect(explanations[6]).toBeNull();
    expect(explanations.slice(9)).toEqual(['N_NOT_PHI', 'E_ASSIGNED']);
    expect(rows.filter((r) => r.user_id === users.get(ivy.name)!.userId).every((r) => r.ip_pseudonym === pseudonyms.of('ip', ivyIp))).toBe(true);
    expect(rows.filter((r) => r.user_id === users.get(sue.name)!.userId).every((r) => r.ip_pseudonym === pseudonyms.of('ip', sueIp))).toBe(true);
    // Sue opened both of the member's cases: the same member pseudonym, never the member id.
    const sueViews = rows.filter((r) => r.user_id === users.get(sue.name)!.userId && r.action === 'case.view');
    expect(new Set(sueViews.map((r) => r.member_pseudonym))).toEqual(new Set([pseudonyms.of('member', 'MS000007')]));
    expect(JSON.stringify(rows)).not.toContain('MS000007');
  }, 120_000);
});
