import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchId as batchIdOf } from '../../anchoring/core/batch.ts';
import { claimCommitment } from '../../anchoring/core/commitment.ts';
import { decisionLeaf } from '../../anchoring/core/leaf.ts';
import { interimLeafValues } from '../../anchoring/interim-leaf.ts';
import { buildBatchTree } from '../../anchoring/core/merkle.ts';
import { DecisionIndexRepository, type IndexedDecision } from '../../anchoring/decision-index.repository.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { createPool, type Pool } from '../../infra/db/pool.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { loadReviewConfig } from '../../review/config.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import type { RunningReviewServer } from '../../review/server.ts';
import { startTestReviewServer } from '../support/review.ts';
import { AuthService, type CreatedUser } from '../../review/services/auth.service.ts';
import { CaseOpeningService } from '../../review/services/case-opening.service.ts';
import { amountBand } from '../../review/services/queue-routing.ts';
import { isolatedConfig, migratedSchema, payloadRepository, testLog, uniqueName } from '../support/env.ts';

const hex = (s: string) => `0x${createHash('sha256').update(s).digest('hex')}`;

/**
 * Identifiers on the case list: investigators see member id, NPI and amount only on the cases
 * assigned to them, and the member / NPI filters go through keyed-hash (HMAC) columns that the
 * review server fills at start and before each identifier search (never the clear columns).
 */
describe('review case identifiers: masking and keyed-hash search (real app, real PostgreSQL)', () => {
  const config = isolatedConfig();
  const indexKey = randomBytes(32).toString('hex');
  const verdictsTopic = uniqueName('verdicts');
  let drop: () => Promise<void>;
  let pool: Pool;
  let server: RunningReviewServer;
  const users: Record<string, CreatedUser> = {};
  let claims: Claim[] = [];
  let batches = 0;

  /** Stores payloads and records one batch of flag decisions (opening their cases) for `batch`. */
  async function recordClaims(batch: Claim[]): Promise<void> {
    const offset = batches * 100;
    const range = { topic: config.kafka.topics.decisions, partition: 0, firstOffset: String(offset), lastOffset: String(offset + batch.length - 1) };
    const id = batchIdOf(range);
    batches++;
    const decisions: IndexedDecision[] = batch.map((claim, i) => {
      const salt = hex(`salt-${claim.claimId}`);
      const base = {
        decisionId: hex(`ident-decision-${claim.claimId}`),
        claimId: claim.claimId,
        score: 0.9 - i * 0.01,
        components: { rf: 0.9, nn: 0.9 },
        outcome: 'flag' as const,
        reasons: [{ code: 'R_EXCLUDED_PROVIDER', contribution: 1, text: 'excluded provider' }],
        modelHash: hex('model'),
        decidedAt: '2026-11-24T00:00:00.000Z',
        input: { topic: config.kafka.topics.claims, partition: 0, offset: String(offset + i) },
        claimCommitment: claimCommitment(Buffer.from(JSON.stringify(claim)), salt),
        salt,
        log: { topic: config.kafka.topics.decisions, partition: 0, offset: String(offset + i) },
        batchId: id,
        leafIndex: i,
      };
      return { ...base, leaf: decisionLeaf(base) };
    });
    const tree = buildBatchTree(decisions.map((d) => interimLeafValues(d, d.log)));
    await (await payloadRepository(pool, config)).insertMany(
      decisions.map((d, i) => ({ decisionId: d.decisionId, claimId: d.claimId, memberId: batch[i]!.memberId, providerNpi: batch[i]!.billingProviderNpi, claimBytes: Buffer.from(JSON.stringify(batch[i])), claimType: batch[i]!.claimType, totalCharged: batch[i]!.totalCharged, salt: hex(`salt-${d.claimId}`) })),
    );
    await new DecisionIndexRepository(pool).recordBatch({ batchId: id, ...range, leafCount: tree.leafCount, root: tree.root }, decisions, { hook: new CaseOpeningService() });
  }

  async function call(who: string, path: string, init: { method?: string; body?: unknown } = {}) {
    const res = await fetch(`${server.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${users[who]!.token}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field
    return { status: res.status, json: (await res.json()) as any };
  }

  beforeAll(async () => {
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 2);
    // Four claims of four different members and providers.
    claims = generateClaims({ count: 5, seed: 23 }).claims.slice(0, 5).map((c, i) => ({ ...c, memberId: `M00${i}1234${i}`, billingProviderNpi: `12345678${i}${i}` }));
    await recordClaims(claims.slice(0, 4));
    const auth = new AuthService({ users: new UserRepository(pool), audit: new AuditRepository(pool), sessionHours: 1 });
    for (const [name, role] of [['ivy', 'investigator'], ['sue', 'supervisor']] as const) users[name] = await auth.createUser(name, role, null);
    server = await startTestReviewServer(config, loadReviewConfig({ REVIEW_HOST: '127.0.0.1', VERDICTS_TOPIC: verdictsTopic, REVIEW_AUDIT_SEAL_SECONDS: '0', REVIEW_INDEX_KEY: indexKey }), testLog, 0);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    const admin = createKafka(config, testLog, '-review-ident').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [verdictsTopic] }).catch(() => undefined);
    await admin.disconnect();
    await pool?.end();
    await drop?.();
  });

  it('fills the keyed-hash columns at start (hex HMACs, not the identifiers); cases hold no member id, NPI or amount', async () => {
    const { rows } = await pool.query<{ claim_id: string; member_id: string | null; provider_npi: string | null; amount: string | null; score: number; priority: number; member_hmac: string | null; provider_hmac: string | null }>(
      'SELECT claim_id, member_id, provider_npi, amount::text, score, priority, member_hmac, provider_hmac FROM cases',
    );
    expect(rows).toHaveLength(4);
    for (const r of rows) {
      const claim = claims.find((c) => c.claimId === r.claim_id)!;
      expect(r).toMatchObject({ member_id: null, provider_npi: null, amount: null });
      expect(r.priority).toBe(r.score * (amountBand(claim.totalCharged) + 1));
      expect(r.member_hmac).toMatch(/^[0-9a-f]{64}$/);
      expect(r.provider_hmac).toMatch(/^[0-9a-f]{64}$/);
      expect(r.member_hmac).not.toBe(createHash('sha256').update(claim.memberId).digest('hex'));
    }
    expect(new Set(rows.map((r) => r.member_hmac)).size).toBe(4);
  });

  it('shows an investigator member id, NPI and amount only on the cases assigned to them', async () => {
    const taken = (await call('ivy', '/api/cases/take-next', { method: 'POST', body: {} })).json.case;
    expect(taken.memberId).toMatch(/^M00/);
    const list = await call('ivy', '/api/cases?limit=50');
    expect(list.status).toBe(200);
    expect(list.json.items).toHaveLength(4);
    for (const c of list.json.items) {
      if (c.caseId === taken.caseId) {
        const claim = claims.find((x) => x.claimId === c.claimId)!;
        expect(c).toMatchObject({ masked: false, memberId: claim.memberId, providerNpi: claim.billingProviderNpi, amount: claim.totalCharged });
        expect(taken).toMatchObject({ memberId: claim.memberId, providerNpi: claim.billingProviderNpi, amount: claim.totalCharged });
        expect(c.priority).toBe(c.score * (amountBand(claim.totalCharged) + 1));
      } else {
        expect(c).toMatchObject({ masked: true, memberId: null, providerNpi: null, amount: null, priority: null });
      }
    }
    const supervisor = await call('sue', '/api/cases?limit=50');
    for (const c of supervisor.json.items) {
      const claim = claims.find((x) => x.claimId === c.claimId)!;
      expect(c).toMatchObject({ masked: false, memberId: claim.memberId, providerNpi: claim.billingProviderNpi, amount: claim.totalCharged });
    }
    // The case view (role-checked, audited) reads them from the decrypted claim.
    const view = await call('ivy', `/api/cases/${taken.caseId}`);
    expect(view.status).toBe(200);
    const claim = claims.find((x) => x.claimId === taken.claimId)!;
    expect(view.json.case).toMatchObject({ masked: false, memberId: claim.memberId, providerNpi: claim.billingProviderNpi, amount: claim.totalCharged });
    const other = supervisor.json.items.find((c: { caseId: string }) => c.caseId !== taken.caseId);
    expect((await call('ivy', `/api/cases/${other.caseId}`)).status).toBe(403);
  });

  it('searches by member and NPI through the keyed hash: investigators only within their own cases, never via the clear columns', async () => {
    const mine = (await call('ivy', '/api/cases?assignee=me')).json.items[0];
    const other = claims.slice(0, 4).find((c) => c.memberId !== mine.memberId)!;
    // "Is member X under investigation?" gets no answer for a case that is not the investigator's.
    expect((await call('ivy', `/api/cases?member=${other.memberId}`)).json).toMatchObject({ total: 0, items: [] });
    expect((await call('ivy', `/api/cases?provider=${other.billingProviderNpi}`)).json).toMatchObject({ total: 0, items: [] });
    expect((await call('ivy', `/api/cases?member=${mine.memberId}`)).json.items.map((c: { caseId: string }) => c.caseId)).toEqual([mine.caseId]);
    const found = await call('sue', `/api/cases?member=${other.memberId}`);
    expect(found.json.total).toBe(1);
    // The clear columns are not what the search reads (they are empty).
    expect((await pool.query('SELECT 1 FROM cases WHERE member_id IS NOT NULL OR provider_npi IS NOT NULL OR amount IS NOT NULL')).rowCount).toBe(0);
    expect((await call('sue', `/api/cases?member=${other.memberId}`)).json.total).toBe(1);
    expect((await call('sue', `/api/cases?provider=${other.billingProviderNpi}`)).json.total).toBe(1);
    // Nor does the audit log keep the searched identifier in the clear.
    const { rows } = await pool.query<{ details: string }>(`SELECT details::text FROM audit_log WHERE action = 'cases.list'`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.details).join('\n')).not.toContain(other.memberId);
  });

  it('hashes a case an older release opened (clear member id, NPI, amount) from its payload row, clears them and re-derives its priority, once', async () => {
    const claim = claims[3]!;
    const { rows: [before] } = await pool.query<{ score: number }>('SELECT score FROM cases WHERE claim_id = $1', [claim.claimId]);
    // As the trigger-era release left it: clear columns (here decoys, to show they are not what is hashed), score x amount.
    await pool.query(
      `UPDATE cases SET member_id = 'DECOY-MEMBER', provider_npi = '0000000000', amount = 12345.67, priority = score * 12345.67, member_hmac = NULL, provider_hmac = NULL, index_key_id = NULL
       WHERE claim_id = $1`,
      [claim.claimId],
    );
    expect((await call('sue', `/api/cases?member=${claim.memberId}`)).json.total).toBe(1);
    expect((await call('sue', '/api/cases?member=DECOY-MEMBER')).json.total).toBe(0);
    expect((await call('sue', `/api/cases?provider=${claim.billingProviderNpi}`)).json.total).toBe(1);
    const read = async () => (await pool.query('SELECT member_id, provider_npi, amount, priority, member_hmac, index_key_id FROM cases WHERE claim_id = $1', [claim.claimId])).rows[0];
    const after = await read();
    expect(after).toMatchObject({ member_id: null, provider_npi: null, amount: null, priority: before!.score * (amountBand(12345.67) + 1) });
    // Idempotent: a further fill leaves the row as it is.
    expect((await call('sue', `/api/cases?member=${claim.memberId}`)).json.total).toBe(1);
    expect(await read()).toEqual(after);
  });

  it('indexes a case opened after the server started before the next identifier search', async () => {
    await recordClaims([claims[4]!]);
    expect((await call('sue', `/api/cases?member=${claims[4]!.memberId}`)).json.total).toBe(1);
  });
});
