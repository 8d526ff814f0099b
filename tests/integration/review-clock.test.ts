import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import type { Clock } from '../../review/clock.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { AuditSealRepository } from '../../review/repositories/audit-seal.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import { AuthService } from '../../review/services/auth.service.ts';
import { isolatedConfig, migratedSchema } from '../support/env.ts';

/** A clock the test sets by hand. */
class ManualClock implements Clock {
  #at: Date;
  constructor(at: string) {
    this.#at = new Date(at);
  }
  set(at: string): void {
    this.#at = new Date(at);
  }
  now(): Date {
    return new Date(this.#at);
  }
}

/**
 * The review app's injectable clock (review/clock.ts): audit entries, sessions and the audit
 * sealer's minimum-age wait, on a real PostgreSQL schema.
 */
describe('review clock', () => {
  const config = isolatedConfig();
  let drop: () => Promise<void>;
  let pool: Pool;

  beforeAll(async () => {
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 2);
  });

  afterAll(async () => {
    await pool?.end();
    await drop?.();
  });

  it("stamps an audit entry with the injected clock's time, and its outbox row carries it to the access event", async () => {
    const clock = new ManualClock('2026-03-02T09:15:30.123Z');
    await new AuditRepository(pool, clock).append({ userId: null, name: 'cli:clock', role: 'admin', ip: '10.0.0.1' }, 'test.clock', null);
    const { rows } = await pool.query<{ at: Date; written_at: Date }>(`SELECT at, written_at FROM audit_log WHERE action = 'test.clock'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.at.toISOString()).toBe('2026-03-02T09:15:30.123Z');
    // The database keeps its own insertion time beside it.
    expect(Math.abs(rows[0]!.written_at.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('opens and checks sessions on the injected clock: valid within the session hours of the virtual sign-in, expired after', async () => {
    const clock = new ManualClock('2026-03-02T08:00:00.000Z');
    const users = new UserRepository(pool);
    const auth = new AuthService({ users, audit: new AuditRepository(pool, clock), sessionHours: 2, clock });
    const created = await auth.createUser('clock.user', 'investigator', null);
    const { session, expiresAt } = await auth.login('clock.user', created.password!, '10.0.0.2');
    expect(expiresAt.toISOString()).toBe('2026-03-02T10:00:00.000Z');
    // Long past in real time, but the app's clock says 09:59.
    clock.set('2026-03-02T09:59:00.000Z');
    expect(await auth.authenticate({ session })).toMatchObject({ name: 'clock.user' });
    clock.set('2026-03-02T10:00:01.000Z');
    expect(await auth.authenticate({ session })).toBeNull();
    const { rows } = await pool.query<{ at: Date }>(`SELECT at FROM audit_log WHERE action = 'auth.login' AND user_name = 'clock.user'`);
    expect(rows.map((r) => r.at.toISOString())).toEqual(['2026-03-02T08:00:00.000Z']);
  });

  it('seals by audit id whatever the entries say about their time, and holds back at the first entry the database wrote too recently', async () => {
    const seals = new AuditSealRepository(pool);
    const after = (await pool.query<{ n: string }>('SELECT coalesce(max(audit_id), 0)::text AS n FROM audit_log')).rows[0]!.n;
    // `at` out of order (an app clock may be anywhere): the range is still taken in audit id order.
    for (const at of ['2026-03-05T00:00:00Z', '2026-01-01T00:00:00Z', '2030-01-01T00:00:00Z']) {
      await new AuditRepository(pool, new ManualClock(at)).append({ userId: null, name: 'cli:clock', role: 'admin', ip: null }, 'test.seal', null);
    }
    const all = await seals.sealable(after, 0, 100);
    expect(all.map((e) => e.at)).toEqual(['2026-03-05T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', '2030-01-01T00:00:00.000000Z']);
    expect(all.map((e) => BigInt(e.auditId))).toEqual([...all.map((e) => BigInt(e.auditId))].sort((a, b) => (a < b ? -1 : 1)));
    // Written just now by the database: an entry stamped years ago by the app still waits the minimum age.
    expect(await seals.sealable(after, 3600, 100)).toEqual([]);
  });

  it('seals only the prefix before the first entry younger than the minimum age, even when later ids are older', async () => {
    const seals = new AuditSealRepository(pool);
    const after = (await pool.query<{ n: string }>('SELECT coalesce(max(audit_id), 0)::text AS n FROM audit_log')).rows[0]!.n;
    // As if ids were handed out in one order and committed in another: written_at set by hand (INSERT is allowed).
    for (const age of ['2 hours', '1 second', '3 hours']) {
      await pool.query(`INSERT INTO audit_log (user_name, role, action, written_at) VALUES ('cli:clock', 'admin', 'test.prefix', now() - $1::interval)`, [age]);
    }
    const ids = (await pool.query<{ id: string }>(`SELECT audit_id::text AS id FROM audit_log WHERE action = 'test.prefix' ORDER BY audit_id`)).rows.map((r) => r.id);
    expect((await seals.sealable(after, 60, 100)).map((e) => e.auditId)).toEqual([ids[0]]);
    expect((await seals.sealable(after, 0, 100)).map((e) => e.auditId)).toEqual(ids);
  });
});
