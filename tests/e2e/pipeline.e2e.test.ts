import { decodeDecision } from '../../domain/decision-codec.ts';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../core/config.ts';
import { generateClaims, generateMalformed } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { DLQ_HEADERS, headerString } from '../../ingest/claim-decoder.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { buildEpochTree } from '../../anchoring/core/epoch.ts';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import { FlaggedRootRepository } from '../../anchoring/flagged-root.repository.ts';
import { InstanceRepository } from '../../anchoring/instance.repository.ts';
import { trainModel } from '../../training/train.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { runtimeProofs, runtimeTrust, stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

const run = promisify(execFile);
const CLAIMS = 10_000;
const MALFORMED = 100;
const SEED = 424242;

/** Reads a whole topic (read_committed) from the beginning. */
async function readTopic(pipeline: RunningPipeline, topic: string, expected: number, timeoutMs = 60_000): Promise<KafkaMessage[]> {
  const consumer = pipeline.kafka.consumer({ groupId: `${topic}-reader-${Date.now()}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const messages: KafkaMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${topic}: ${messages.length} of ${expected} messages`)), timeoutMs);
    void consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(message);
        if (messages.length >= expected) {
          clearTimeout(timer);
          // Give a moment for any unexpected extra message to show up.
          setTimeout(resolve, 1000);
        }
      },
    });
  });
  await consumer.disconnect();
  return messages;
}

describe(`end to end: ${CLAIMS} claims + ${MALFORMED} malformed through the real stack`, () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let dropSchema: () => Promise<void>;
  let modelDir: string;
  let env: NodeJS.ProcessEnv;
  const { claims } = generateClaims({ count: CLAIMS, seed: SEED });

  beforeAll(async () => {
    modelDir = mkdtempSync(join(tmpdir(), 'claimtrail-model-'));
    const training = generateClaims({ count: 3000, seed: 11 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 11, log: testLog });
    config = isolatedConfig({ MODEL_DIR: modelDir, BATCH_MAX_SIZE: '700', BATCH_MAX_AGE_MS: '1500' });
    env = { ...process.env, CLAIMS_TOPIC: config.kafka.topics.claims, DECISIONS_TOPIC: config.kafka.topics.decisions, DATABASE_SCHEMA: config.database.schema, LOG_LEVEL: 'warn' };
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, SEED, MALFORMED), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    // Wait until every decision is indexed and every batch and flagged leaf is anchored.
    await waitUntilSettled(pipeline, CLAIMS, 240_000);
  }, 600_000);

  afterAll(async () => {
    await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  });

  it('gives every valid claim exactly one decision, in the log and in the index', async () => {
    const decisions = await readTopic(pipeline, config.kafka.topics.decisions, CLAIMS);
    expect(decisions).toHaveLength(CLAIMS);
    const claimIds = decisions.map((m) => decodeDecision(m.value!).claimId);
    expect(new Set(claimIds).size).toBe(CLAIMS);
    expect(new Set(claimIds)).toEqual(new Set(claims.map((c) => c.claimId)));
    const { rows } = await pipeline.pool.query<{ n: string; distinct_claims: string }>('SELECT count(*) AS n, count(DISTINCT claim_id) AS distinct_claims FROM decisions');
    expect(rows[0]).toEqual({ n: String(CLAIMS), distinct_claims: String(CLAIMS) });
  });

  it('puts every malformed message in the DLQ with its reason and its original bytes', async () => {
    const dlq = await readTopic(pipeline, config.kafka.topics.dlq, MALFORMED);
    expect(dlq).toHaveLength(MALFORMED);
    const originals = new Set(generateMalformed(MALFORMED, SEED).map((m) => (typeof m === 'string' ? m : JSON.stringify(m))));
    for (const message of dlq) {
      expect(headerString(message.headers, DLQ_HEADERS.reason)).toMatch(/^(EMPTY_MESSAGE|TOO_LARGE|NOT_UTF8|NOT_JSON|SCHEMA_INVALID)$/);
      const errors = JSON.parse(headerString(message.headers, DLQ_HEADERS.errors)!) as Array<{ path: string; message: string }>;
      expect(errors.length).toBeGreaterThan(0);
      expect(originals.has(message.value!.toString())).toBe(true);
    }
  });

  it('puts every decision in exactly one batch, each batch anchored with the same root on chain', async () => {
    const batches = await pipeline.index.listBatches();
    expect(batches.every((b) => b.status === 'anchored')).toBe(true);
    expect(batches.reduce((n, b) => n + b.leafCount, 0)).toBe(CLAIMS);
    const byPartition = Map.groupBy(batches, (b) => b.partition);
    for (const list of byPartition.values()) {
      for (let i = 1; i < list.length; i++) expect(BigInt(list[i]!.firstOffset)).toBeGreaterThan(BigInt(list[i - 1]!.lastOffset));
    }
    const { rows } = await pipeline.pool.query<{ n: string }>('SELECT count(*) AS n FROM decisions d JOIN batches b USING (batch_id) WHERE d.log_offset BETWEEN b.first_offset AND b.last_offset AND d.log_partition = b.partition');
    expect(rows[0]!.n).toBe(String(CLAIMS));
    // Proof format v2: every batch is v2 leaves, committed in epochs on DecisionAnchorV2 whose
    // stored entries rebuild the anchored root; every flagged decision is in an anchored flagged root.
    expect(batches.every((b) => b.leafEncoding === 'claimtrail-leaf-v2')).toBe(true);
    const { v2, tx } = pipeline.anchor!;
    const epochs = new EpochRepository(pipeline.pool);
    const instanceId = await new InstanceRepository(pipeline.pool).instanceId();
    const seen = new Set<string>();
    for (const batch of batches) {
      const placed = (await epochs.placementOfBatch(batch.batchId))!;
      expect(placed.epoch.status).toBe('anchored');
      expect(batch.anchor?.txHash).toBe(placed.epoch.anchor!.txHash);
      if (seen.has(placed.epoch.epochId)) continue;
      seen.add(placed.epoch.epochId);
      expect(buildEpochTree(instanceId, placed.entries).root).toBe(placed.epoch.root);
      expect((await v2.epochOf(tx.address, placed.epoch.epochId))?.root).toBe(placed.epoch.root);
    }
    expect(seen.size).toBeLessThan(batches.length);
    const flagged = await pipeline.pool.query<{ decision_id: string }>(`SELECT decision_id FROM decisions WHERE outcome = 'flag'`);
    expect(flagged.rows.length).toBeGreaterThan(0);
    const flaggedRoots = new FlaggedRootRepository(pipeline.pool);
    for (const { decision_id } of flagged.rows) {
      const membership = (await flaggedRoots.membershipOf(decision_id))!;
      expect(membership.status).toBe('anchored');
      expect((await v2.flaggedRootOf(tx.address, membership.root))?.count).toBe(membership.count);
    }
  });

  it('verifies 100 random decisions PASS against the chain', async () => {
    const proofs = runtimeProofs(pipeline);
    const { rows } = await pipeline.pool.query<{ decision_id: string }>('SELECT decision_id FROM decisions ORDER BY random() LIMIT 100');
    for (const { decision_id } of rows) {
      const decision = (await pipeline.index.getDecision(decision_id))!;
      const result = await proofs.verify(decision, { minConfirmations: 1, trust: runtimeTrust(pipeline) });
      expect(result, `decision ${decision_id}`).toMatchObject({ ok: true });
    }
  });

  it('says FAIL for a decision altered in PostgreSQL', async () => {
    const proofs = runtimeProofs(pipeline);
    const { rows } = await pipeline.pool.query<{ decision_id: string }>(`SELECT decision_id FROM decisions WHERE outcome = 'flag' LIMIT 1`);
    const id = rows[0]!.decision_id;
    await pipeline.pool.query(`UPDATE decisions SET outcome = 'approve', score = 0.01 WHERE decision_id = $1`, [id]);
    const result = await proofs.verify((await pipeline.index.getDecision(id))!, { minConfirmations: 1, trust: runtimeTrust(pipeline) });
    // The v2 leaf binds outcome and score: the recomputed leaf no longer leads to the batch root.
    expect(result).toMatchObject({ ok: false, code: 'PROOF_INVALID' });
  });

  it('exports a v2 bundle with `claimtrail proof` that the CLI verifies with an RPC URL and the pinned contract and anchorer, and rejects a one-byte edit', async () => {
    const { rows } = await pipeline.pool.query<{ claim_id: string }>(`SELECT claim_id FROM decisions WHERE outcome <> 'flag' LIMIT 1`);
    const claimId = rows[0]!.claim_id;
    const { stdout } = await run(process.execPath, ['cli/main.ts', 'proof', claimId], { env });
    const dir = mkdtempSync(join(tmpdir(), 'claimtrail-bundle-'));
    const file = join(dir, 'proof.json');
    writeFileSync(file, stdout);
    const bare = { PATH: process.env.PATH ?? '' };
    const pass = await run(process.execPath, ['cli/main.ts', 'verify', '--bundle', file, '--rpc', config.chain.rpcUrl, '--contract', pipeline.anchor!.v2.address, '--anchorer', pipeline.anchor!.tx.address, '--json'], { env: bare });
    expect(JSON.parse(pass.stdout)).toMatchObject({ result: 'PASS', ok: true, claimId, format: 'claimtrail-proof-v2', anchorer: pipeline.anchor!.tx.address.toLowerCase() });

    const bundle = JSON.parse(stdout) as { decision: { score: number } };
    const edited = stdout.replace(`"score": ${bundle.decision.score}`, `"score": ${bundle.decision.score === 0.5 ? 0.6 : 0.5}`);
    expect(edited).not.toBe(stdout);
    writeFileSync(file, edited);
    const fail = await run(process.execPath, ['cli/main.ts', 'verify', '--bundle', file, '--rpc', config.chain.rpcUrl, '--contract', pipeline.anchor!.v2.address, '--anchorer', pipeline.anchor!.tx.address, '--json'], { env: bare }).catch((error: { code: number; stdout: string }) => error);
    expect((fail as { code: number }).code).toBe(11); // LEAF_MISMATCH: the score is bound by the leaf
    expect(JSON.parse((fail as { stdout: string }).stdout)).toMatchObject({ result: 'FAIL', ok: false });
    rmSync(dir, { recursive: true, force: true });
    expect(readFileSync).toBeDefined();
  });
});
