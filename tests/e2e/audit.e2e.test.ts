import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAuditCommand } from '../../cli/commands/audit.command.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { ClaimtrailError } from '../../core/errors.ts';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { createAnchorReader } from '../../proofs/anchor-reader.ts';
import { createAnchorReaderV2 } from '../../proofs/anchor-reader-v2.ts';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import { FlaggedRootRepository } from '../../anchoring/flagged-root.repository.ts';
import { AuditService } from '../../proofs/audit.service.ts';
import { KafkaDecisionLog } from '../../proofs/decision-log.reader.ts';
import { trainModel } from '../../training/train.ts';
import { stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * `claimtrail audit` after a small pipeline run on the real stack: clean first, then one
 * decision row altered, then one deleted, each caught (service and CLI, exit code 1).
 */
const CLAIMS = 300;
const SEED = 5150;

describe(`audit: ${CLAIMS} claims through the real stack, then the index tampered with`, () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let dropSchema: () => Promise<void>;
  let modelDir: string;
  let audit: AuditService;
  let env: Record<string, string>;

  beforeAll(async () => {
    modelDir = mkdtempSync(join(tmpdir(), 'claimtrail-model-'));
    const training = generateClaims({ count: 1500, seed: 12 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 12, log: testLog });
    config = isolatedConfig({ MODEL_DIR: modelDir, BATCH_MAX_SIZE: '70', BATCH_MAX_AGE_MS: '1000' });
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, SEED, 3), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await waitUntilSettled(pipeline, CLAIMS, 180_000);
    const client = pipeline.anchor!.client!;
    const { v2, tx } = pipeline.anchor!;
    audit = new AuditService({
      index: pipeline.index,
      log: new KafkaDecisionLog(pipeline.kafka, config.kafka.topics.decisions),
      chain: createAnchorReader(client.provider, client.address),
      // The configured DecisionAnchorV2 and our anchorer (what DECISION_ANCHOR_V2_* give the CLI below).
      v2: { epochs: new EpochRepository(pipeline.pool), flaggedRoots: new FlaggedRootRepository(pipeline.pool), chain: createAnchorReaderV2(v2.provider, v2.address), anchorer: tx.address },
    });
    env = {
      CLAIMS_TOPIC: config.kafka.topics.claims,
      DLQ_TOPIC: config.kafka.topics.dlq,
      DECISIONS_TOPIC: config.kafka.topics.decisions,
      DATABASE_SCHEMA: config.database.schema,
      DECISION_ANCHOR_ADDRESS: client.address,
      DECISION_ANCHOR_V2_ADDRESS: v2.address,
      DECISION_ANCHOR_V2_ANCHORER: tx.address,
      LOG_LEVEL: 'warn',
    };
  }, 600_000);

  afterAll(async () => {
    await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  });

  /**
   * Runs `claimtrail audit ... --json` through its commander registration, in this process (the
   * command is not in cli/commands/index.ts yet), with the test's config in the environment.
   * Returns the exit code cli/main.ts gives the outcome (0, or 1 for CHECK_FAILED) and the JSON.
   */
  async function cli(...args: string[]): Promise<{ exitCode: number; out: { result: string; findings: Array<{ kind: string; decisionId?: string }> } }> {
    const program = new Command('claimtrail').exitOverride();
    registerAuditCommand(program);
    const saved = { ...process.env };
    let stdout = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
    Object.assign(process.env, env);
    let exitCode = 0;
    try {
      await program.parseAsync(['node', 'claimtrail', 'audit', ...args, '--json']);
    } catch (error) {
      if (!(error instanceof ClaimtrailError) || error.code !== 'CHECK_FAILED') throw error;
      exitCode = 1; // cli/main.ts exitCodeFor: CHECK_FAILED -> 1
    } finally {
      process.stdout.write = write;
      for (const key of Object.keys(env)) delete process.env[key];
      Object.assign(process.env, saved);
    }
    return { exitCode, out: JSON.parse(stdout) as { result: string; findings: Array<{ kind: string; decisionId?: string }> } };
  }

  it('is clean after the run: every batch recomputes from the log to its stored and on-chain root', async () => {
    const report = await audit.auditAll();
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    const counts = await pipeline.index.counts();
    expect(report.batches).toHaveLength(counts.batches);
    expect(counts.batches).toBeGreaterThan(1);
    expect(report.logDecisions).toBe(CLAIMS);
    // v2 batches: the log's root is the stored one, and the chain holds the root of their epoch.
    for (const b of report.batches) {
      expect(b.logRoot).toBe(b.storedRoot);
      const epoch = (await new EpochRepository(pipeline.pool).placementOfBatch(b.batchId))!.epoch;
      expect([b.epochId, b.chainRoot]).toEqual([epoch.epochId, epoch.root]);
    }
    const { rows: flagged } = await pipeline.pool.query<{ n: string }>(`SELECT count(*) AS n FROM flagged_roots WHERE status = 'anchored'`);
    expect(Number(flagged[0]!.n)).toBeGreaterThan(0);
    expect(await cli('--all')).toMatchObject({ exitCode: 0, out: { result: 'CLEAN', findings: [] } });
  }, 300_000);

  it('reports an altered decision row, and exits 1', async () => {
    const { rows } = await pipeline.pool.query<{ decision_id: string; batch_id: string }>(`SELECT decision_id, batch_id FROM decisions WHERE outcome = 'flag' ORDER BY log_offset LIMIT 1`);
    const { decision_id: id, batch_id: batchId } = rows[0]!;
    await pipeline.pool.query(`UPDATE decisions SET outcome = 'approve' WHERE decision_id = $1`, [id]);
    const report = await audit.auditBatch(batchId);
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual([expect.objectContaining({ kind: 'altered', decisionId: id, batchId })]);
    const all = await cli('--all');
    expect(all.exitCode).toBe(1);
    expect(all.out.result).toBe('DISCREPANCIES');
    expect(all.out.findings).toEqual([expect.objectContaining({ kind: 'altered', decisionId: id })]);
  }, 300_000);

  it('reports an epoch root altered in PostgreSQL, and an epoch row naming another anchorer', async () => {
    // A batch that audits clean before the tamper: the test before altered one decision row,
    // and the epoch findings must not mix with that one.
    const { rows: candidates } = await pipeline.pool.query<{ epoch_id: string; root: string; anchorer: string; batch_id: string }>(
      `SELECT e.epoch_id, e.root, e.anchorer, eb.batch_id FROM epochs e JOIN epoch_batches eb USING (epoch_id)
        WHERE e.status = 'anchored' AND eb.batch_id IS NOT NULL ORDER BY e.sequence, eb.position`,
    );
    let chosen: (typeof candidates)[number] | undefined;
    for (const c of candidates) {
      if ((await audit.auditBatch(c.batch_id)).ok) {
        chosen = c;
        break;
      }
    }
    const { epoch_id: epochId, root, anchorer, batch_id: batchId } = chosen!;
    await pipeline.pool.query('UPDATE epochs SET root = $2, anchorer = $3 WHERE epoch_id = $1', [epochId, `0x${'ee'.repeat(32)}`, `0x${'11'.repeat(20)}`]);
    try {
      const report = await audit.auditBatch(batchId);
      expect(report.findings.map((f) => f.kind).sort()).toEqual(['altered', 'root-mismatch']);
      expect(report.findings.find((f) => f.kind === 'root-mismatch')).toMatchObject({ expected: root, computed: `0x${'ee'.repeat(32)}` });
    } finally {
      await pipeline.pool.query('UPDATE epochs SET root = $2, anchorer = $3 WHERE epoch_id = $1', [epochId, root, anchorer]);
    }
  }, 300_000);

  it('reports a deleted decision row as missing, and exits 1', async () => {
    const { rows } = await pipeline.pool.query<{ decision_id: string; batch_id: string }>(`SELECT decision_id, batch_id FROM decisions WHERE outcome <> 'flag' ORDER BY log_offset DESC LIMIT 1`);
    const { decision_id: id, batch_id: batchId } = rows[0]!;
    await pipeline.pool.query('DELETE FROM decisions WHERE decision_id = $1', [id]);
    const report = await audit.auditAll();
    expect(report.findings.map((f) => f.kind).sort()).toEqual(['altered', 'missing']);
    expect(report.findings.find((f) => f.kind === 'missing')).toMatchObject({ decisionId: id, batchId });
    const one = await cli('--batch', batchId);
    expect(one.exitCode).toBe(1);
    expect(one.out.findings).toEqual([expect.objectContaining({ kind: 'missing', decisionId: id })]);
  }, 300_000);
});
