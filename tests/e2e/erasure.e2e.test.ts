import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimCommitment } from '../../anchoring/core/commitment.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import type { Config } from '../../core/config.ts';
import type { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import type { Claim } from '../../domain/claim.schema.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { devAggregateKeySource, devKeySources } from '../../cli/dev-sources.ts';
import { ERASURE_MAC_PURPOSE } from '../../privacy/erasure.service.ts';
import { LocalKeyWrapper } from '../../privacy/key-wrapper.ts';
import { ProofService, ProofUnavailableError } from '../../proofs/proof.service.ts';
import { createAnchorReaderV2 } from '../../proofs/anchor-reader-v2.ts';
import { configuredTrustAnchor } from '../../proofs/configured-trust.ts';
import type { ProofBundleV2 } from '../../anchoring/core/proof-bundle-v2.ts';
import { verifyAgainstChainV2, verifyProofBundleV2 } from '../../anchoring/core/verify-proof-v2.ts';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import { FlaggedRootRepository } from '../../anchoring/flagged-root.repository.ts';
import { loadReviewConfig } from '../../review/config.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import type { RunningReviewServer } from '../../review/server.ts';
import { startTestReviewServer } from '../support/review.ts';
import { AuthService } from '../../review/services/auth.service.ts';
import { trainModel } from '../../training/train.ts';
import { createRedis } from '../../infra/redis.ts';
import { keyedDuplicateFingerprint, memberRef } from '../../scoring/aggregates.ts';
import { isolatedConfig, migratedSchema, payloadRepository, testLog, uniqueName } from '../support/env.ts';
import { stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';

const run = promisify(execFile);
const CLAIMS = 300;
const SEED = 7070;

/** Every byte of every value of a table, as one buffer (bytea raw, everything else as text). */
async function tableBytes(pipeline: RunningPipeline, table: string): Promise<Buffer> {
  const { rows } = await pipeline.pool.query<Record<string, unknown>>(`SELECT * FROM ${table}`);
  const parts: Buffer[] = [];
  for (const row of rows) for (const v of Object.values(row)) if (v !== null) parts.push(Buffer.isBuffer(v) ? v : Buffer.from(v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v)));
  return Buffer.concat(parts);
}

/** Claim field values that must never be stored in clear (claim, member and provider ids and the two routing fields are clear columns by design). */
function phiNeedles(claims: readonly Claim[]): string[] {
  const out = new Set<string>(['"diagnosisCodes"', '"memberDateOfBirth"', '"procedureCode"', '"serviceFrom"']);
  for (const c of claims) {
    if (c.memberDateOfBirth) out.add(c.memberDateOfBirth);
    for (const d of c.diagnosisCodes) if (d.length >= 5) out.add(d);
    out.add(`"claimId":"${c.claimId}"`);
  }
  return [...out];
}

describe(`erasure: ${CLAIMS} claims through the real stack, one member crypto-shredded, every proof still verifies`, () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let dropSchema: () => Promise<void>;
  let modelDir: string;
  let env: NodeJS.ProcessEnv;
  let payloads: ClaimPayloadRepository;
  let review: RunningReviewServer | undefined;
  const verdictsTopic = uniqueName('verdicts');
  const { claims } = generateClaims({ count: CLAIMS, seed: SEED });
  // A row stored in clear before encryption at rest existed: the pipeline must encrypt it at start.
  const legacy = generateClaims({ count: 1, seed: SEED + 1 }).claims[0]!;
  const legacyDecisionId = `0x${'ab'.repeat(32)}`;

  beforeAll(async () => {
    modelDir = mkdtempSync(join(tmpdir(), 'claimtrail-model-'));
    const training = generateClaims({ count: 1500, seed: 13 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 13, log: testLog });
    config = isolatedConfig({ MODEL_DIR: modelDir, BATCH_MAX_SIZE: '60', BATCH_MAX_AGE_MS: '1000' });
    env = { ...process.env, DATABASE_SCHEMA: config.database.schema, AGGREGATE_KEY_PREFIX: config.aggregates.keyPrefix, PHI_MASTER_KEY: config.privacy.masterKeyHex!, LOG_LEVEL: 'warn' };
    dropSchema = await migratedSchema(config);
    const db = new pg.Client({ connectionString: config.database.url, options: `-c search_path=${config.database.schema}` });
    await db.connect();
    await db.query('INSERT INTO claim_payloads (decision_id, claim_id, member_id, provider_npi, claim_bytes) VALUES ($1, $2, $3, $4, $5)', [
      legacyDecisionId, legacy.claimId, legacy.memberId, legacy.billingProviderNpi, Buffer.from(JSON.stringify(legacy)),
    ]);
    await db.end();
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    payloads = await payloadRepository(pipeline.pool, config);
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, SEED, 0), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await waitUntilSettled(pipeline, CLAIMS, 240_000);
  }, 600_000);

  afterAll(async () => {
    await review?.stop();
    const admin = createKafka(config, testLog).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [verdictsTopic] }).catch(() => undefined);
    await admin.disconnect();
    await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  });

  it('stores no payload in clear: legacy rows encrypted at start, every payload sealed and decrypting to the committed bytes', async () => {
    const { rows } = await pipeline.pool.query<{ n: string; clear: string; sealed: string }>(
      'SELECT count(*) AS n, count(claim_bytes) AS clear, count(*) FILTER (WHERE ciphertext IS NOT NULL AND key_id IS NOT NULL) AS sealed FROM claim_payloads',
    );
    expect(rows[0]).toEqual({ n: String(CLAIMS + 1), clear: '0', sealed: String(CLAIMS + 1) });
    const legacyRow = await payloads.get(legacyDecisionId);
    expect(legacyRow?.state === 'present' && JSON.parse(legacyRow.claimBytes.toString('utf8'))).toEqual(legacy);
    // Decision record v2: no salt in the decision index, only sealed beside the payload.
    const clearSalts = await pipeline.pool.query<{ n: string; v2: string }>(`SELECT count(salt) AS n, count(*) FILTER (WHERE format = 'claimtrail-decision-v2' AND run_id = 'live') AS v2 FROM decisions`);
    expect(clearSalts.rows[0]).toEqual({ n: '0', v2: String(CLAIMS) });
    // The encrypted bytes and the sealed salt are exactly what the commitment on chain was made from.
    const decisions = await pipeline.pool.query<{ decision_id: string; claim_commitment: string }>('SELECT decision_id, claim_commitment FROM decisions ORDER BY random() LIMIT 50');
    const opened = await payloads.getMany(decisions.rows.map((d) => d.decision_id));
    for (const d of decisions.rows) {
      const p = opened.get(d.decision_id);
      const salt = await payloads.salt(d.decision_id);
      expect(p?.state).toBe('present');
      expect(salt?.state).toBe('present');
      if (p?.state === 'present' && salt?.state === 'present') expect(claimCommitment(p.claimBytes, salt.value)).toBe(d.claim_commitment);
    }
    // No claim field value (beyond the ids and the two routing fields) anywhere in the tables that hold claim data.
    const haystack = Buffer.concat(await Promise.all(['claim_payloads', 'cases', 'member_data_keys', 'phi_keyring'].map((t) => tableBytes(pipeline, t))));
    const leaks = phiNeedles([...claims, legacy]).filter((n) => haystack.includes(Buffer.from(n, 'utf8')));
    expect(leaks).toEqual([]);
    // The scanner does find what it looks for (positive control).
    expect(haystack.includes(Buffer.from(claims[0]!.memberId))).toBe(true);
  });

  describe('after `claimtrail erase --member` of a member with flagged claims', () => {
    let memberId: string;
    let decisionIds: string[];
    let keyId: string;
    let erase: { memberId: string; reference: string; deletedKeys: number; payloads: number; cases: number; aggregateKeys: number; duplicateKeys: number; auditId: string };
    let redis: Redis;
    let aggregateKeysBefore: string[];
    let duplicateKeysBefore: string[];
    // The member's duplicate-claim keys: named by an HMAC under the aggregate key (the dev key of this state folder).
    const memberDuplicateKeys = async (): Promise<string[]> => {
      const key = devAggregateKeySource(config).aggregateKey(testLog);
      const names = [...new Set(claims.filter((c) => c.memberId === memberId).map((c) => `${config.aggregates.keyPrefix}:dup:${keyedDuplicateFingerprint(key, c)}`))];
      const exists = await Promise.all(names.map((n) => redis.exists(n)));
      return names.filter((_, i) => exists[i] === 1);
    };
    let bundlesBefore: ProofBundleV2[];
    const v2Repositories = () => ({ epochs: new EpochRepository(pipeline.pool), flaggedRoots: new FlaggedRootRepository(pipeline.pool) });
    // The member's bucket hashes: named by its keyed reference (HMAC under the aggregate key), never in clear.
    const memberAggregateKeys = async (): Promise<string[]> => {
      const ref = memberRef(devAggregateKeySource(config).aggregateKey(testLog), memberId);
      expect(await redis.keys(`${config.aggregates.keyPrefix}:m:${memberId}:*`)).toEqual([]);
      return (await redis.keys(`${config.aggregates.keyPrefix}:m:${ref}:*`)).filter((k) => /:b-?\d+$/.test(k));
    };

    beforeAll(async () => {
      const { rows } = await pipeline.pool.query<{ member_id: string }>(
        `SELECT p.member_id FROM claim_payloads p JOIN decisions d USING (decision_id)
         GROUP BY p.member_id HAVING count(*) FILTER (WHERE d.outcome = 'flag') > 0 ORDER BY count(*) DESC, p.member_id LIMIT 1`,
      );
      memberId = rows[0]!.member_id;
      const ids = await pipeline.pool.query<{ decision_id: string; key_id: string }>('SELECT decision_id, key_id::text FROM claim_payloads WHERE member_id = $1', [memberId]);
      decisionIds = ids.rows.map((r) => r.decision_id);
      keyId = ids.rows[0]!.key_id;
      expect(new Set(ids.rows.map((r) => r.key_id))).toEqual(new Set([keyId]));
      // Bundles of the member exported before the erasure, salt included (an entitled export).
      const entitled = new ProofService({ index: pipeline.index, provider: pipeline.anchor!.v2.provider, sealed: payloads, v2: v2Repositories() });
      bundlesBefore = await Promise.all(decisionIds.map(async (id) => (await entitled.bundle((await pipeline.index.getDecision(id))!, { includeSalt: true })) as ProofBundleV2));
      redis = createRedis(config.redisUrl);
      aggregateKeysBefore = await memberAggregateKeys();
      duplicateKeysBefore = await memberDuplicateKeys();
      const { stdout } = await run(process.execPath, ['cli/main.ts', 'erase', '--member', memberId, '--json'], { env });
      erase = JSON.parse(stdout) as typeof erase;
    }, 120_000);

    afterAll(() => redis?.disconnect());

    it('reports what it did: one key deleted, every payload of the member cleared, no member id or member search hash left on its cases', async () => {
      const cases = await pipeline.pool.query<{ member_id: string | null; member_hmac: string | null }>('SELECT member_id, member_hmac FROM cases WHERE decision_id = ANY($1::text[])', [decisionIds]);
      // Case opening leaves cases.member_id NULL (review/README.md); `cases` counts the cases whose
      // member search hash (filled by the review server) erasure cleared.
      expect(erase).toMatchObject({ memberId, deletedKeys: 1, payloads: decisionIds.length });
      expect(erase.cases).toBeLessThanOrEqual(cases.rowCount ?? 0);
      expect(cases.rowCount).toBeGreaterThan(0);
      expect(cases.rows.every((r) => r.member_id === null && r.member_hmac === null)).toBe(true);
    });

    it("deletes the member's entity aggregate buckets in Redis (the only keys naming a member)", async () => {
      expect(aggregateKeysBefore.length).toBeGreaterThan(0);
      expect(erase.aggregateKeys).toBe(aggregateKeysBefore.length);
      expect(await memberAggregateKeys()).toEqual([]);
    });

    it("deletes the member's duplicate-claim keys in Redis (HMAC-named, found through the member's keyed index)", async () => {
      expect(duplicateKeysBefore.length).toBeGreaterThan(0);
      expect(erase.duplicateKeys).toBe(duplicateKeysBefore.length);
      expect(await memberDuplicateKeys()).toEqual([]);
    });

    it('leaves no decryptable payload and no member id in claim_payloads, cases or member_data_keys', async () => {
      const fresh = await payloadRepository(pipeline.pool, config);
      for (const [, p] of await fresh.getMany(decisionIds)) expect(p.state).toBe('erased');
      const { rows } = await pipeline.pool.query<{ key_id: string | null; ciphertext: Buffer | null; member_id: string | null; erased_at: Date | null }>(
        'SELECT key_id::text, ciphertext, member_id, erased_at FROM claim_payloads WHERE decision_id = ANY($1::text[])',
        [decisionIds],
      );
      expect(rows).toHaveLength(decisionIds.length);
      for (const r of rows) expect(r).toMatchObject({ key_id: null, member_id: null, erased_at: expect.any(Date) });
      expect((await pipeline.pool.query('SELECT 1 FROM member_data_keys WHERE key_id = $1 OR member_id = $2', [keyId, memberId])).rowCount).toBe(0);
      for (const table of ['claim_payloads', 'cases', 'member_data_keys']) {
        expect((await tableBytes(pipeline, table)).includes(Buffer.from(memberId)), `member id in ${table}`).toBe(false);
      }
    });

    it("leaves the member's salts unobtainable and the decision rows intact", async () => {
      const fresh = await payloadRepository(pipeline.pool, config);
      for (const id of decisionIds) expect(await fresh.salt(id), id).toMatchObject({ state: 'erased' });
      // Also through the repository the pipeline uses, whose key cache once held the member's key.
      for (const id of decisionIds) expect((await payloads.salt(id))?.state, id).toBe('erased');
      const { rows } = await pipeline.pool.query<{ n: string; leaves: string; sealed: string }>(
        `SELECT count(*) AS n, count(*) FILTER (WHERE leaf ~ '^0x[0-9a-f]{64}$' AND batch_id IS NOT NULL AND format IS NOT NULL) AS leaves,
                (SELECT count(salt_sealed) FROM claim_payloads WHERE decision_id = ANY($1::text[])) AS sealed
           FROM decisions WHERE decision_id = ANY($1::text[])`,
        [decisionIds],
      );
      // The sealed salts stay as ciphertext nobody can open (crypto-shredded with the key).
      expect(rows[0]).toEqual({ n: String(decisionIds.length), leaves: String(decisionIds.length), sealed: String(decisionIds.length) });
    });

    it('records the erasure in the audit log under a keyed hash, never the member id', async () => {
      const { rows } = await pipeline.pool.query<{ action: string; target_type: string; target_id: string; role: string; row: string }>(
        'SELECT action, target_type, target_id, role, row_to_json(a)::text AS row FROM audit_log a WHERE audit_id = $1',
        [erase.auditId],
      );
      const reference = `hmac-sha256:${(await new LocalKeyWrapper(Buffer.from(config.privacy.masterKeyHex!, 'hex')).mac(ERASURE_MAC_PURPOSE, Buffer.from(memberId))).toString('hex')}`;
      expect(rows[0]).toMatchObject({ action: 'member.erase', target_type: 'member', target_id: reference, role: 'admin' });
      expect((await tableBytes(pipeline, 'audit_log')).includes(Buffer.from(memberId))).toBe(false);
    });

    it('every decision of the member still verifies PASS on chain (v2: pinned to DecisionAnchorV2 and our anchorer), flagged ones through their flagged root too', async () => {
      const provider = pipeline.anchor!.v2.provider;
      const proofs = new ProofService({ index: pipeline.index, provider, v2: v2Repositories() });
      const trust = await configuredTrustAnchor(config, provider);
      let flagged = 0;
      for (const id of decisionIds) {
        const decision = (await pipeline.index.getDecision(id))!;
        expect(decision.leafEncoding, id).toBe('claimtrail-leaf-v2');
        const result = await proofs.verify(decision, { minConfirmations: 1, trust });
        expect(result, `decision ${id}`).toMatchObject({ ok: true, contract: pipeline.anchor!.v2.address, anchorer: pipeline.anchor!.tx.address.toLowerCase() });
        if (decision.outcome === 'flag') {
          flagged++;
          expect(result, `flagged decision ${id}`).toHaveProperty('flaggedConfirmations');
        }
      }
      expect(flagged).toBeGreaterThan(0);
    }, 120_000);

    it('bundles exported before the erasure still verify without their salt (pure and on chain); a new export refuses the salt but proves without it', async () => {
      const provider = pipeline.anchor!.v2.provider;
      const trust = await configuredTrustAnchor(config, provider);
      const v2 = trust.deployments.find((d) => d.version === 'v2')!;
      const pin = { chainId: v2.chainId!, contract: v2.contract, anchorer: v2.anchorers![0]! };
      expect(bundlesBefore.length).toBe(decisionIds.length);
      for (const bundle of bundlesBefore) {
        expect(bundle.salt).toMatch(/^0x[0-9a-f]{64}$/);
        const { salt: _salt, ...saltless } = bundle;
        expect(verifyProofBundleV2(saltless, { trust: pin })).toEqual({ ok: true });
        expect(await verifyAgainstChainV2(saltless, createAnchorReaderV2(provider, pin.contract), pin, { minConfirmations: 1 })).toMatchObject({ ok: true });
      }
      const proofs = new ProofService({ index: pipeline.index, provider, sealed: payloads, v2: v2Repositories() });
      const decision = (await pipeline.index.getDecision(decisionIds[0]!))!;
      await expect(proofs.bundle(decision, { includeSalt: true })).rejects.toBeInstanceOf(ProofUnavailableError);
      const fresh = (await proofs.bundle(decision)) as ProofBundleV2;
      expect(fresh.salt).toBeUndefined();
      expect(verifyProofBundleV2(fresh, { trust: pin })).toEqual({ ok: true });
    }, 120_000);

    it('shows an erased claim as erased in the review app (200, not 500)', async () => {
      const auth = new AuthService({ users: new UserRepository(pipeline.pool), audit: new AuditRepository(pipeline.pool), sessionHours: 1 });
      const sue = await auth.createUser('sue', 'supervisor', null);
      review = await startTestReviewServer(config, loadReviewConfig({ REVIEW_HOST: '127.0.0.1', VERDICTS_TOPIC: verdictsTopic, REVIEW_AUDIT_SEAL_SECONDS: '0' }));
      const { rows } = await pipeline.pool.query<{ case_id: string }>('SELECT case_id::text FROM cases WHERE decision_id = ANY($1::text[]) LIMIT 1', [decisionIds]);
      const res = await fetch(`${review.url}/api/cases/${rows[0]!.case_id}`, { headers: { authorization: `Bearer ${sue.token}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { case: { memberId: string | null }; claim: Record<string, unknown> | null };
      expect(body.case.memberId).toBeNull();
      expect(body.claim).toMatchObject({ erased: true });
      expect(JSON.stringify(body)).not.toContain(memberId);
    }, 120_000);

    it('is idempotent, and refuses bad input with exit code 2', async () => {
      const again = JSON.parse((await run(process.execPath, ['cli/main.ts', 'erase', '--member', memberId, '--json'], { env })).stdout) as typeof erase;
      expect(again).toMatchObject({ deletedKeys: 0, payloads: 0, cases: 0, reference: erase.reference });
      // In parallel: each CLI start takes seconds on a busy machine.
      const bad = [['erase'], ['erase', '--member', ' spaced out'], ['erase', '--member', 'x'.repeat(65)]];
      const failures = await Promise.all(bad.map((args) => run(process.execPath, ['cli/main.ts', ...args], { env }).then(() => ({ code: 0, stderr: '' }), (error: { code: number; stderr: string }) => error)));
      failures.forEach((failed, i) => {
        expect(failed.code, bad[i]!.join(' ')).toBe(2);
        expect(failed.stderr).toMatch(/--member/);
      });
    }, 240_000);

    it('a later claim of the member is stored under a new key, even by a scoring process that had the old key cached', async () => {
      const later: Claim = { ...claims.find((c) => c.memberId === memberId)!, claimId: `${memberId}-after-erasure` };
      const producer = new ClaimsProducer(pipeline.kafka);
      await producer.connect();
      await producer.produce([{ key: memberId, value: Buffer.from(JSON.stringify(later)) }], { topic: config.kafka.topics.claims });
      await producer.disconnect();
      await waitUntilSettled(pipeline, CLAIMS + 1, 120_000);
      const { rows } = await pipeline.pool.query<{ decision_id: string; key_id: string }>('SELECT decision_id, key_id::text FROM claim_payloads WHERE claim_id = $1', [later.claimId]);
      expect(rows[0]!.key_id).not.toBe(keyId);
      const stored = await payloads.get(rows[0]!.decision_id);
      expect(stored?.state === 'present' && JSON.parse(stored.claimBytes.toString('utf8'))).toEqual(later);
    }, 180_000);
  });
});
