import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionIndexRepository, type DecisionsRecordedHook, type IndexedDecision } from '../../anchoring/decision-index.repository.ts';
import type { Config } from '../../core/config.ts';
import type { Outcome, Reason, ReasonV1 } from '../../domain/decision.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { migrate } from '../../infra/db/migrate.ts';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import { CaseOpeningService } from '../../review/services/case-opening.service.ts';
import { amountBand } from '../../review/services/queue-routing.ts';
import { isolatedConfig, migratedSchema } from '../support/env.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../infra/db/migrations', import.meta.url));
/** The migration that moves case opening from the trigger into CaseOpeningService. */
const SERVICE_MIGRATION = 1733000000000;
const hex = (s: string) => `0x${createHash('sha256').update(s).digest('hex')}`;

/** Migrations before SERVICE_MIGRATION: the schema in which the `review_open_case` trigger opens cases. */
const TRIGGER_MIGRATIONS = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && Number(f.split('_')[0]) < SERVICE_MIGRATION).length;

/** Every column of `cases` except its id and timestamps; the SLA as the span between them. */
const CASE_COLUMNS = `c.decision_id, c.claim_id, c.queue, c.outcome, c.score, c.amount::text AS amount, c.priority, c.line_of_business,
  c.member_id, c.provider_npi, c.rule_codes, c.status, c.assignee_id, c.assigned_at, c.snoozed_until, c.closed_at,
  (c.due_at - c.created_at)::text AS sla, (c.created_at = b.created_at) AS opened_with_batch`;

/**
 * CaseOpeningService opens exactly the cases the `review_open_case` trigger opened (its last
 * version, migration 1732900000000_phi-encryption.sql), column by column, for the same decisions,
 * payload rows and routing rules, except where it differs by design (migration 1733800000000):
 * `member_id`, `provider_npi` and `amount` stay NULL (no claim field in clear in `cases`), and
 * the priority is score x (amount band + 1) instead of score x amount.
 */
describe('case opening: service == the trigger it replaces', () => {
  const triggerConfig = isolatedConfig();
  const serviceConfig = isolatedConfig();
  const pools: Pool[] = [];
  const drops: Array<() => Promise<void>> = [];
  let triggerPool: Pool;
  let servicePool: Pool;
  const claims = generateClaims({ count: 200, seed: 33 }).claims;
  const rule = (code: string): ReasonV1 => ({ code, contribution: 1, text: `rule ${code}` });
  const feature = (code: string): ReasonV1 => ({ code, contribution: 0.1, text: `feature ${code}` });

  /** How each decision's payload row is stored (the routing inputs the trigger read). */
  type PayloadKind = 'sealed' | 'none' | 'ids-only' | 'legacy' | 'legacy-no-total' | 'legacy-bad-total' | 'legacy-not-json' | 'legacy-not-utf8' | 'legacy-many-decimals';
  const PAYLOAD_KINDS: PayloadKind[] = ['sealed', 'sealed', 'sealed', 'none', 'ids-only', 'legacy', 'legacy-no-total', 'legacy-bad-total', 'legacy-not-json', 'legacy-not-utf8', 'legacy-many-decimals'];
  const OUTCOMES: Outcome[] = ['flag', 'review', 'approve', 'flag', 'review'];
  const REASONS: Reason[][] = [[], [rule('R_EXCLUDED_PROVIDER')], [feature('F_CHARGE_PER_UNIT'), rule('R_DUPLICATE'), rule('R_EXCLUDED_PROVIDER')], [feature('F_AMOUNT')], [rule('R_DUPLICATE')]];
  const SCORES = [0.99, 0.85, 0.8, 0.9, 0.42, 0.123456789, 0.3, 0.97, 0.5];

  // A small seeded generator keeps the combinations independent of each other yet reproducible.
  let seed = 7;
  const pick = <T>(xs: readonly T[]): T => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return xs[Math.floor((seed / 2 ** 31) * xs.length)]!;
  };
  const plan = claims.map((claim) => ({ claim, payload: pick(PAYLOAD_KINDS), outcome: pick(OUTCOMES), reasons: pick(REASONS), score: pick(SCORES) }));

  function decisionsOf(config: Readonly<Config>, from: number, to: number): IndexedDecision[] {
    return plan.slice(from, to).map(({ claim, outcome, reasons, score }, k) => {
      const i = from + k;
      return {
        decisionId: hex(`equivalence-${i}`),
        claimId: claim.claimId,
        score,
        components: { rf: score, nn: score },
        outcome,
        reasons,
        modelHash: hex('model'),
        decidedAt: '2026-11-24T00:00:00.000Z',
        input: { topic: config.kafka.topics.claims, partition: 0, offset: String(i) },
        claimCommitment: hex(`c-${i}`),
        salt: hex(`s-${i}`),
        log: { topic: config.kafka.topics.decisions, partition: 0, offset: String(i) },
        leaf: hex(`l-${i}`),
        batchId: hex(`batch-${from}`),
        leafIndex: k,
      };
    });
  }

  /** The same routing rules, payload rows and decisions in one schema; `hook` opens the cases (or the trigger does). */
  async function populate(pool: Pool, config: Readonly<Config>, hook?: DecisionsRecordedHook): Promise<void> {
    await pool.query(`INSERT INTO review_queues (name, title, sla_hours, rank) VALUES ('institutional', 'Institutional claims', 72, 4), ('high-value-band', 'Score 0.8-0.9', 36, 5), ('excluded', 'Excluded providers', 12, 0)`);
    await pool.query(`INSERT INTO review_queue_rules (position, queue, line_of_business, min_score, max_score, outcome, rule_code) VALUES
      (10, 'excluded', NULL, NULL, NULL, NULL, 'R_EXCLUDED%'),
      (50, 'institutional', 'institutional', NULL, NULL, 'review', NULL),
      (60, 'high-value-band', NULL, 0.8, 0.9, NULL, NULL),
      (70, 'excluded', 'professional', 0.95, NULL, 'flag', 'R\\_D_P%')`);
    for (const [i, { claim, payload }] of plan.entries()) {
      const decisionId = hex(`equivalence-${i}`);
      const ids = [decisionId, claim.claimId, claim.memberId, claim.billingProviderNpi];
      const legacy = (bytes: Buffer) => pool.query('INSERT INTO claim_payloads (decision_id, claim_id, member_id, provider_npi, claim_bytes) VALUES ($1, $2, $3, $4, $5)', [...ids, bytes]);
      const json = (over: Record<string, unknown>) => Buffer.from(JSON.stringify({ ...claim, ...over }));
      // A sealed row as the scoring stage writes it: ciphertext (never opened here) plus the clear
      // routing columns both the trigger and the service read. Plain SQL, so the row has the same
      // shape in the trigger-era schema and in the latest one.
      if (payload === 'sealed') await pool.query('INSERT INTO claim_payloads (decision_id, claim_id, member_id, provider_npi, ciphertext, claim_type, total_charged) VALUES ($1, $2, $3, $4, $5, $6, $7)', [...ids, json({}), claim.claimType, claim.totalCharged]);
      else if (payload === 'ids-only') await pool.query('INSERT INTO claim_payloads (decision_id, claim_id, member_id, provider_npi) VALUES ($1, $2, $3, $4)', ids);
      else if (payload === 'legacy') await legacy(json({}));
      else if (payload === 'legacy-no-total') await legacy(json({ totalCharged: undefined }));
      else if (payload === 'legacy-bad-total') await legacy(json({ totalCharged: 'about a thousand' }));
      else if (payload === 'legacy-not-json') await legacy(Buffer.from('{"claimType": "professional", '));
      else if (payload === 'legacy-not-utf8') await legacy(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]));
      else if (payload === 'legacy-many-decimals') await legacy(json({ totalCharged: 1234.5678 }));
    }
    const index = new DecisionIndexRepository(pool);
    // Three batches, as the batching stage would record them: through the current repository and
    // the service in the latest schema; in the trigger-era schema with the columns that release
    // wrote (the current repository writes columns that schema does not have yet).
    for (const [from, to] of [[0, 30], [30, 31], [31, plan.length]] as const) {
      const decisions = decisionsOf(config, from, to);
      const batch = { batchId: decisions[0]!.batchId, topic: config.kafka.topics.decisions, partition: 0, firstOffset: String(from), lastOffset: String(to - 1), leafCount: decisions.length, root: hex(`root-${from}`) };
      if (hook) await index.recordBatch(batch, decisions, { hook });
      else await recordAsTriggerRelease(pool, batch, decisions);
    }
  }

  /** A batch and its decisions written with the columns of the trigger-era release, in one transaction. */
  async function recordAsTriggerRelease(pool: Pool, batch: { batchId: string; topic: string; partition: number; firstOffset: string; lastOffset: string; leafCount: number; root: string }, decisions: ReturnType<typeof decisionsOf>): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO batches (batch_id, topic, partition, first_offset, last_offset, leaf_count, root) VALUES ($1, $2, $3, $4, $5, $6, $7)', [batch.batchId, batch.topic, batch.partition, batch.firstOffset, batch.lastOffset, batch.leafCount, batch.root]);
      for (const d of decisions) {
        await client.query(
          `INSERT INTO decisions (decision_id, claim_id, score, rf_score, nn_score, outcome, reasons, model_hash, decided_at, decided_at_text, input_topic, input_partition, input_offset,
             claim_commitment, salt, correlation_id, log_topic, log_partition, log_offset, leaf, batch_id, leaf_index)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::timestamptz, $9, $10, $11, $12, $13, $14, NULL, $15, $16, $17, $18, $19, $20)`,
          [d.decisionId, d.claimId, d.score, d.components.rf, d.components.nn, d.outcome, JSON.stringify(d.reasons), d.modelHash, d.decidedAt, d.input.topic, d.input.partition, d.input.offset,
            d.claimCommitment, 'salt' in d ? d.salt : null, d.log.topic, d.log.partition, d.log.offset, d.leaf, d.batchId, d.leafIndex],
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  async function cases(pool: Pool): Promise<Array<Record<string, unknown>>> {
    const { rows } = await pool.query(`SELECT ${CASE_COLUMNS} FROM cases c JOIN decisions d USING (decision_id) JOIN batches b ON b.batch_id = d.batch_id ORDER BY c.case_id`);
    return rows;
  }

  beforeAll(async () => {
    expect(TRIGGER_MIGRATIONS).toBeGreaterThan(0);
    await migrate(triggerConfig.database.url, triggerConfig.database.schema, undefined, { count: TRIGGER_MIGRATIONS });
    drops.push(() => dropSchema(triggerConfig));
    drops.push(await migratedSchema(serviceConfig));
    triggerPool = createPool(triggerConfig.database.url, triggerConfig.database.schema, 2);
    servicePool = createPool(serviceConfig.database.url, serviceConfig.database.schema, 2);
    pools.push(triggerPool, servicePool);
  }, 120_000);

  afterAll(async () => {
    for (const pool of pools) await pool.end();
    for (const drop of drops) await drop();
  });

  it('opens the same cases with the same column values as the trigger', async () => {
    const hasTrigger = (pool: Pool) => pool.query(`SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = 'decisions_open_case' AND c.relnamespace = current_schema()::regnamespace`).then((r) => r.rowCount === 1);
    expect(await hasTrigger(triggerPool)).toBe(true);
    expect(await hasTrigger(servicePool)).toBe(false);

    await populate(triggerPool, triggerConfig);
    await populate(servicePool, serviceConfig, new CaseOpeningService());
    const byTrigger = await cases(triggerPool);
    const byService = await cases(servicePool);

    // The plan covers every queue, outcome, payload kind and unknown amount / line of business.
    expect(byTrigger.length).toBe(plan.filter((p) => p.outcome !== 'approve').length);
    expect(new Set(byTrigger.map((c) => c.queue))).toEqual(new Set(['excluded', 'institutional', 'high-value-band', 'rule-hits', 'flagged', 'review']));
    expect(byTrigger.some((c) => c.amount === null && c.line_of_business === null)).toBe(true);
    expect(byTrigger.some((c) => c.amount === '1234.57')).toBe(true);
    expect(byTrigger.every((c) => c.status === 'open' && c.opened_with_batch === true)).toBe(true);

    // By design: no claim field in clear, and a priority from the amount's band only.
    expect(byService.every((c) => c.member_id === null && c.provider_npi === null && c.amount === null)).toBe(true);
    expect(byTrigger.some((c) => c.member_id !== null && c.provider_npi !== null && c.amount !== null)).toBe(true);
    expect(byService.map((c) => c.priority)).toEqual(byTrigger.map((c) => (c.score as number) * (amountBand(c.amount === null ? null : Number(c.amount)) + 1)));
    expect(byService.map((c) => c.priority)).not.toEqual(byTrigger.map((c) => c.priority));
    // Everything else, column by column.
    const rest = ({ member_id: _m, provider_npi: _p, amount: _a, priority: _r, ...others }: Record<string, unknown>) => others;
    expect(byService.map(rest)).toEqual(byTrigger.map(rest));
  });

  it('opens no second case when a batch is recorded twice or its cases are opened again', async () => {
    const before = await cases(servicePool);
    const opener = new CaseOpeningService();
    const decisions = decisionsOf(serviceConfig, 0, 30);
    await new DecisionIndexRepository(servicePool).recordBatch(
      { batchId: decisions[0]!.batchId, topic: serviceConfig.kafka.topics.decisions, partition: 0, firstOffset: '0', lastOffset: '29', leafCount: decisions.length, root: hex('root-0') },
      decisions,
      { hook: opener },
    );
    expect(await opener.openCases(servicePool, decisions)).toBe(0);
    expect(await cases(servicePool)).toEqual(before);
  });

  it('rolls the decisions back when opening their cases fails, as the trigger did', async () => {
    const failing: DecisionsRecordedHook = {
      async decisionsRecorded(tx, decisions) {
        await new CaseOpeningService().openCases(tx, decisions);
        throw new Error('case opening failed');
      },
    };
    const decisions = decisionsOf(serviceConfig, 0, 1).map((d) => ({ ...d, decisionId: hex('rolled-back'), batchId: hex('rolled-back-batch'), log: { ...d.log, offset: '1000' } }));
    await expect(
      new DecisionIndexRepository(servicePool).recordBatch({ batchId: hex('rolled-back-batch'), topic: serviceConfig.kafka.topics.decisions, partition: 0, firstOffset: '1000', lastOffset: '1000', leafCount: 1, root: hex('r') }, decisions, { hook: failing }),
    ).rejects.toThrow('case opening failed');
    const { rows } = await servicePool.query(`SELECT (SELECT count(*)::int FROM decisions WHERE decision_id = $1) AS decisions, (SELECT count(*)::int FROM cases WHERE decision_id = $1) AS cases`, [hex('rolled-back')]);
    expect(rows[0]).toEqual({ decisions: 0, cases: 0 });
  });
});

async function dropSchema(config: Readonly<Config>): Promise<void> {
  const client = new pg.Client({ connectionString: config.database.url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${config.database.schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
