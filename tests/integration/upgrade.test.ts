import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JsonRpcProvider } from 'ethers';
import { runner } from 'node-pg-migrate';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnchorRootRepository } from '../../anchoring/anchor-root.repository.ts';
import { AnchorTxManager } from '../../anchoring/chain/anchor-tx.manager.ts';
import { AnchorTxRepository } from '../../anchoring/chain/anchor-tx.repository.ts';
import { BatchAnchorer } from '../../anchoring/chain/batch-anchorer.ts';
import { DecisionAnchorClient } from '../../anchoring/chain/decision-anchor.client.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { assertProofBundle, verifyAgainstChain, verifyProofBundle } from '../../anchoring/core/verify-proof.ts';
import { pinnedTrust } from '../../anchoring/core/trust.ts';
import { loadConfig } from '../../core/config.ts';
import { DecisionIndexRepository } from '../../anchoring/decision-index.repository.ts';
import { migrate } from '../../infra/db/migrate.ts';
import { createPool } from '../../infra/db/pool.ts';
import { createAnchorReader } from '../../proofs/anchor-reader.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { AuditSealRepository } from '../../review/repositories/audit-seal.repository.ts';
import { AuditSealService } from '../../review/services/audit-seal.service.ts';
import { isolatedConfig, testLog } from '../support/env.ts';
import { startPrivateAnvil, type PrivateAnvil } from '../support/private-anvil.ts';

/**
 * An installation of the previous release upgrades in place. tests/upgrade/fixtures/ holds what
 * release d11ac8c itself wrote (tests/upgrade/make-fixture.sh, README there): its PostgreSQL
 * schema with decisions, batches, cases, an audit log and two audit seals (one anchored, one
 * pending), the chain it anchored on, and proof bundles exported with its `claimtrail proof`.
 * The dump is restored under a fresh schema name, the chain state into a private anvil, and the
 * current migrations run over it.
 */
const FIXTURES = fileURLToPath(new URL('../upgrade/fixtures/', import.meta.url));
const MIGRATIONS = fileURLToPath(new URL('../../infra/db/migrations', import.meta.url));
const release = JSON.parse(readFileSync(`${FIXTURES}release.json`, 'utf8')) as {
  release: string;
  schema: string;
  chainId: number;
  contract: string;
  defaultNames: { topics: Record<string, string>; scoringGroupId: string; batchingGroupId: string; anchorQueue: string };
};
const AUDIT_PSEUDO_TOPIC = "topic LIKE 'claimtrail.audit-log.%'";

interface SealRow {
  batch_id: string;
  first: string;
  last: string;
  leaf_count: number;
  root: string;
  status: string;
  tx_hash: string | null;
  block_number: string | null;
  block_hash: string | null;
}

/** Migration names of this checkout, in order. */
const migrationNames = () => readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, '')).sort();

/** Loads the release's pg_dump into `schema` (the dump names its own schema; renamed on the way). */
function restoreDump(databaseUrl: string, schema: string): void {
  const dump = readFileSync(`${FIXTURES}database.sql`, 'utf8')
    .replaceAll(new RegExp(`\\b${release.schema}\\b`, 'g'), schema)
    // psql's \restrict guard (pg_dump 17.6+) is for dumps from untrusted servers; older psql rejects it.
    .replace(/^\\(un)?restrict .*$/gm, '');
  const run = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', databaseUrl], { input: dump, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`restoring the ${release.release} dump failed: ${run.stderr || run.error?.message}`);
}

describe(`upgrade from release ${release.release}`, () => {
  const config = isolatedConfig();
  const schema = config.database.schema;
  let anvil: PrivateAnvil;
  let provider: JsonRpcProvider;
  let pool: Pool;
  let before: { decisions: string; batches: string; cases: string; audit_log: string; migrations: string[]; seals: SealRow[] };

  const count = async (table: string, where = 'true') => (await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)).rows[0]!.n;

  beforeAll(async () => {
    restoreDump(config.database.url, schema);
    pool = createPool(config.database.url, schema, 2);
    const seals = await pool.query<SealRow>(
      `SELECT batch_id, first_offset::text AS first, last_offset::text AS last, leaf_count, root, status, tx_hash, block_number::text, block_hash
         FROM batches WHERE ${AUDIT_PSEUDO_TOPIC} ORDER BY first_offset`,
    );
    before = {
      decisions: await count('decisions'),
      batches: await count('batches'),
      cases: await count('cases'),
      audit_log: await count('audit_log'),
      migrations: (await pool.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY id')).rows.map((r) => r.name),
      seals: seals.rows,
    };
    anvil = await startPrivateAnvil({ loadState: `${FIXTURES}anvil-state.json` });
    provider = await connectProvider(anvil.rpcUrl, 100);
  });

  afterAll(async () => {
    provider?.destroy();
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
    await anvil?.stop();
  });

  it('has the release\'s data to upgrade', () => {
    expect(release.release).toBe('d11ac8c');
    expect(readdirSync(`${FIXTURES}bundles`).sort()).toEqual(['approve.json', 'flag.json', 'review.json']);
  });

  it('migrates to the newest migration without losing a row; audit seals move to audit_seals', async () => {
    const released = migrationNames().filter((m) => m <= '1732900000000_phi-encryption');
    expect(before.migrations).toEqual(released);
    expect(before.seals.map((s) => s.status)).toEqual(['anchored', 'pending']);
    expect(Number(before.decisions)).toBe(200);

    const applied = await migrate(config.database.url, schema, testLog);
    expect(applied).toEqual(migrationNames().slice(released.length));
    expect(applied).toContain('1733100000000_audit-seals-table');

    expect(await count('decisions')).toBe(before.decisions);
    expect(await count('cases')).toBe(before.cases);
    expect(await count('audit_log')).toBe(before.audit_log);
    expect(await count('batches', AUDIT_PSEUDO_TOPIC)).toBe('0');
    expect(Number(await count('batches'))).toBe(Number(before.batches) - before.seals.length);
    const moved = await pool.query<SealRow>(
      `SELECT batch_id, first_audit_id::text AS first, last_audit_id::text AS last, leaf_count, root, status, tx_hash, block_number::text, block_hash
         FROM audit_seals ORDER BY first_audit_id`,
    );
    expect(moved.rows).toEqual(before.seals);
    // Every decision still sits in a stored decision batch.
    expect(await count('decisions d', 'NOT EXISTS (SELECT 1 FROM batches b WHERE b.batch_id = d.batch_id)')).toBe('0');
  });

  it('keeps the consumer-group, topic and anchor-queue names', () => {
    const now = loadConfig({});
    expect({ topics: { claims: now.kafka.topics.claims, dlq: now.kafka.topics.dlq, decisions: now.kafka.topics.decisions, shadow: now.kafka.topics.shadow }, scoringGroupId: now.kafka.scoringGroupId, batchingGroupId: now.kafka.batchingGroupId, anchorQueue: now.anchor.queue }).toEqual(release.defaultNames);
  });

  it('verifies every proof bundle the release exported, against the release\'s contract', async () => {
    // Trust anchor from the release's deployment record, not from the bundles.
    const reader = createAnchorReader(provider, release.contract);
    expect((await provider.getNetwork()).chainId).toBe(BigInt(release.chainId));
    for (const file of readdirSync(`${FIXTURES}bundles`)) {
      const bundle = assertProofBundle(JSON.parse(readFileSync(`${FIXTURES}bundles/${file}`, 'utf8')));
      expect(bundle.anchor?.contract, file).toBe(release.contract);
      expect(verifyProofBundle(bundle), file).toMatchObject({ ok: true });
      expect(await verifyAgainstChain(bundle, () => reader, { minConfirmations: 1, trust: pinnedTrust({ contract: release.contract, chainId: release.chainId }) }), file).toMatchObject({ ok: true });
      // The upgraded index still holds the decision and batch the bundle names.
      const index = new DecisionIndexRepository(pool);
      expect((await index.getDecision(bundle.decision.decisionId))?.batchId, file).toBe(bundle.batch.batchId);
      expect((await index.getBatch(bundle.batch.batchId))?.root, file).toBe(bundle.batch.root);
    }
    expect(JSON.parse(readFileSync(`${FIXTURES}bundles/flag.json`, 'utf8')).decision.outcome).toBe('flag');
  });

  it('verifies the anchored audit seal, and anchors the pending one with the current anchor worker code', async () => {
    const [anchored, pending] = before.seals;
    const cora = (await pool.query<{ user_id: string }>(`SELECT user_id::text FROM review_users WHERE name = 'cora'`)).rows[0]!;
    const enqueued: string[] = [];
    const seals = new AuditSealService({
      pool,
      seals: new AuditSealRepository(pool),
      audit: new AuditRepository(pool),
      jobs: { enqueueBatch: async (id) => void enqueued.push(id) },
      // The release's contract, as the configured deployment (never the seal row's).
      rootOnChain: async (batchId) => (await new DecisionAnchorClient({ provider, address: release.contract }).batchOf(batchId))?.root ?? null,
      log: testLog,
    });
    const actor = { userId: cora.user_id, name: 'cora', role: 'supervisor' as const, ip: null };
    expect(await seals.verify(actor, anchored!.batch_id)).toEqual({ ok: true, batchId: anchored!.batch_id, leafCount: anchored!.leaf_count, root: anchored!.root, anchored: true });

    const client = new DecisionAnchorClient({ provider, address: release.contract });
    const tx = new AnchorTxManager({ provider, signerKey: anvil.signerKey, repo: new AnchorTxRepository(pool), log: testLog }, { maxFeeCapWei: 500_000_000_000n, pollMs: 100 });
    const anchorer = new BatchAnchorer({ roots: new AnchorRootRepository(pool), chain: client, tx, log: testLog });
    expect(await anchorer.reorged()).toEqual([]);
    expect(await anchorer.anchor(pending!.batch_id)).toMatchObject({ alreadyAnchored: false, batchesInTx: 1 });
    expect((await client.batchOf(pending!.batch_id))?.root).toBe(pending!.root);
    expect(await seals.verify(actor, pending!.batch_id)).toMatchObject({ ok: true, anchored: true });
    // New seals continue after the moved ones, with this database's pseudo-topic in their ids.
    const next = await seals.seal(0);
    expect(BigInt(next!.first)).toBe(BigInt(pending!.last) + 1n);
    expect(enqueued).toEqual([next!.batchId]);
  });

  it('moves the seals back into batches when the migration is undone', async () => {
    const names = migrationNames();
    const undo = names.length - names.indexOf('1733100000000_audit-seals-table');
    const seals = await pool.query<SealRow>(`SELECT batch_id, first_audit_id::text AS first, last_audit_id::text AS last, leaf_count, root, status, tx_hash, block_number::text, block_hash FROM audit_seals ORDER BY first_audit_id`);
    await runner({ databaseUrl: config.database.url, dir: MIGRATIONS, direction: 'down', count: undo, migrationsTable: 'pgmigrations', schema, checkOrder: true, log: () => undefined });
    const back = await pool.query<SealRow>(
      `SELECT batch_id, first_offset::text AS first, last_offset::text AS last, leaf_count, root, status, tx_hash, block_number::text, block_hash
         FROM batches WHERE ${AUDIT_PSEUDO_TOPIC} ORDER BY first_offset`,
    );
    expect(back.rows).toEqual(seals.rows);
    expect((await pool.query(`SELECT to_regclass('audit_seals') AS t`)).rows[0].t).toBeNull();
    await migrate(config.database.url, schema, testLog);
    expect(await count('batches', AUDIT_PSEUDO_TOPIC)).toBe('0');
    expect(await count('audit_seals')).toBe(String(seals.rows.length));
  });
});
