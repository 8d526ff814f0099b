import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchId as computeBatchId } from '../../anchoring/core/batch.ts';
import { claimCommitment } from '../../anchoring/core/commitment.ts';
import { leafHash, leafValues } from '../../anchoring/core/leaf.ts';
import { buildBatchTree } from '../../anchoring/core/merkle.ts';
import { verifyProofBundle } from '../../anchoring/core/verify-proof.ts';
import { DecisionIndexRepository, type IndexedDecision } from '../../anchoring/decision-index.repository.ts';
import { interimLeafValues } from '../../anchoring/interim-leaf.ts';
import type { DecisionV1 } from '../../domain/decision.ts';
import { decisionIdFor } from '../../domain/decision-codec.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { createPool } from '../../infra/db/pool.ts';
import { sealLegacyDecisions } from '../../pipeline/legacy-decisions.ts';
import type { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import { ProofService, ProofUnavailableError } from '../../proofs/proof.service.ts';
import { isolatedConfig, migratedSchema, payloadRepository } from '../support/env.ts';

/**
 * v1 decision rows written the v1 way (reason texts and the salt in clear in `decisions`, payload
 * rows without a sealed salt), then the scoring role's legacy step: texts and salts move into the
 * sealed store, the rows keep proving their leaves.
 */
describe('legacy v1 decision rows: salts and reason texts into the sealed store', () => {
  const config = isolatedConfig();
  let pool: Pool;
  let drop: () => Promise<void>;
  let payloads: ClaimPayloadRepository;
  let index: DecisionIndexRepository;
  const claims = generateClaims({ count: 7, seed: 404 }).claims;
  const topic = 'decisions';
  let decisions: Array<DecisionV1 & { log: IndexedDecision['log']; leaf: string; batchId: string; leafIndex: number }>;
  /** Claim 5's member is erased before the step; claim 6 never had a payload row. */
  const ERASED = 5;
  const NO_PAYLOAD = 6;

  beforeAll(async () => {
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 2);
    payloads = await payloadRepository(pool, config);
    index = new DecisionIndexRepository(pool);
    const range = { topic, partition: 0, firstOffset: '0', lastOffset: String(claims.length - 1) };
    const id = computeBatchId(range);
    const v1 = claims.map((c, i): DecisionV1 => {
      const salt = `0x${(i + 1).toString(16).padStart(2, '0').repeat(32)}`;
      return {
        decisionId: decisionIdFor('claims', 0, String(i)),
        claimId: c.claimId,
        score: 0.9,
        components: { rf: 0.9, nn: 0.9 },
        outcome: 'approve',
        reasons: [{ code: 'F_TOTAL_CHARGED', contribution: 0.2, text: `total charged $${c.totalCharged.toFixed(2)}` }, { code: 'F_DAYS_OF_SERVICE', contribution: 0.01, text: `served from ${c.serviceFrom}` }],
        modelHash: `0x${'77'.repeat(32)}`,
        decidedAt: '2024-05-01T12:00:00.000Z',
        input: { topic: 'claims', partition: 0, offset: String(i) },
        claimCommitment: claimCommitment(Buffer.from(JSON.stringify(c)), salt),
        salt,
      };
    });
    const values = v1.map((d, i) => leafValues({ ...d, log: { topic, partition: 0, offset: String(i) } }));
    const tree = buildBatchTree(values);
    decisions = v1.map((d, i) => ({ ...d, log: { topic, partition: 0, offset: String(i) }, leaf: leafHash(values[i]!), batchId: id, leafIndex: i }));
    await index.recordBatch({ batchId: id, ...range, leafCount: decisions.length, root: tree.root }, decisions);
    await payloads.insertMany(claims.slice(0, NO_PAYLOAD).map((c, i) => ({ decisionId: v1[i]!.decisionId, claimId: c.claimId, memberId: c.memberId, providerNpi: c.billingProviderNpi, claimBytes: Buffer.from(JSON.stringify(c)), claimType: c.claimType, totalCharged: c.totalCharged, salt: v1[i]!.salt })));
    // v1-era payload rows had no sealed salt.
    await pool.query('UPDATE claim_payloads SET salt_sealed = NULL');
    await pool.query('DELETE FROM member_data_keys WHERE member_id = $1', [claims[ERASED]!.memberId]);
  }, 120_000);

  afterAll(async () => {
    await pool?.end();
    await drop?.();
  });

  it('moves them in batches, keeps the erased member\'s out, and rewrites every row to codes and contributions with no salt', async () => {
    expect(await sealLegacyDecisions({ index, payloads }, 2)).toEqual({ sealed: 5, dropped: 2, deferred: 0 });
    const { rows } = await pool.query<{ salt: string | null; reasons: unknown[]; reasons_v1_hash: string | null }>('SELECT salt, reasons, reasons_v1_hash FROM decisions ORDER BY log_offset');
    expect(rows).toHaveLength(claims.length);
    for (const r of rows) {
      expect(r.salt).toBeNull();
      expect(r.reasons).toEqual([{ code: 'F_TOTAL_CHARGED', contribution: 0.2 }, { code: 'F_DAYS_OF_SERVICE', contribution: 0.01 }]);
      expect(r.reasons_v1_hash).toMatch(/^0x[0-9a-f]{64}$/);
    }
    // Nothing of the texts or salts is left in clear in the decision index.
    const dump = JSON.stringify((await pool.query('SELECT * FROM decisions')).rows);
    for (const d of decisions) {
      expect(dump).not.toContain(d.salt.slice(2));
      expect(dump).not.toContain(d.reasons[1]!.text);
    }
  });

  it('gives an entitled exporter the salt and the texts back while the member\'s key exists, never after', async () => {
    for (const [i, d] of decisions.entries()) {
      const salt = await payloads.salt(d.decisionId);
      const reasons = await payloads.reasonsV1(d.decisionId);
      if (i === NO_PAYLOAD) {
        expect([salt, reasons]).toEqual([null, null]);
      } else if (i === ERASED) {
        expect(salt).toBeNull();
        expect(reasons).toBeNull();
      } else {
        expect(salt).toEqual({ state: 'present', value: d.salt });
        expect(reasons).toEqual({ state: 'present', value: d.reasons });
      }
    }
  });

  it('keeps every row recomputing to the leaf its batch was built from', async () => {
    for (const d of decisions) {
      const row = (await index.getDecision(d.decisionId))!;
      expect('reasonsV1Hash' in row && row.reasonsV1Hash).toMatch(/^0x/);
      expect(leafHash(interimLeafValues(row, row.log))).toBe(d.leaf);
    }
  });

  it('still exports the v1 bundle, texts and salt included, through the sealed store; without it, says why', async () => {
    const provider = {} as ConstructorParameters<typeof ProofService>[0]['provider'];
    const proofs = new ProofService({ index, provider, sealed: payloads });
    const row = (await index.getDecision(decisions[0]!.decisionId))!;
    const bundle = await proofs.bundle(row, { includeSalt: true });
    expect(bundle.decision.reasons).toEqual(decisions[0]!.reasons);
    expect(bundle.salt).toBe(decisions[0]!.salt);
    expect(verifyProofBundle(bundle)).toMatchObject({ ok: true });
    await expect(new ProofService({ index, provider }).bundle(row)).rejects.toBeInstanceOf(ProofUnavailableError);
    await expect(proofs.bundle((await index.getDecision(decisions[ERASED]!.decisionId))!)).rejects.toBeInstanceOf(ProofUnavailableError);
  });

  it('is idempotent: a second run finds nothing and changes nothing', async () => {
    const before = (await pool.query('SELECT decision_id, reasons, reasons_v1_hash FROM decisions ORDER BY decision_id')).rows;
    const sealedBefore = (await pool.query('SELECT decision_id, salt_sealed, reasons_v1_sealed FROM claim_payloads ORDER BY decision_id')).rows;
    expect(await sealLegacyDecisions({ index, payloads }, 2)).toEqual({ sealed: 0, dropped: 0, deferred: 0 });
    expect((await pool.query('SELECT decision_id, reasons, reasons_v1_hash FROM decisions ORDER BY decision_id')).rows).toEqual(before);
    expect((await pool.query('SELECT decision_id, salt_sealed, reasons_v1_sealed FROM claim_payloads ORDER BY decision_id')).rows).toEqual(sealedBefore);
  });
});
