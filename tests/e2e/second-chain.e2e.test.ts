import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { createAnchorReader } from '../../proofs/anchor-reader.ts';
import { AuditService } from '../../proofs/audit.service.ts';
import { KafkaDecisionLog } from '../../proofs/decision-log.reader.ts';
import { createAnchorReaderV2 } from '../../proofs/anchor-reader-v2.ts';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import { FlaggedRootRepository } from '../../anchoring/flagged-root.repository.ts';
import { trainModel } from '../../training/train.ts';
import { runtimeProofs, runtimeTrust, stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';
import { startPrivateHardhatNode, type PrivateHardhatNode } from '../support/private-hardhat-node.ts';

/**
 * The anchoring path on a second, independent EVM implementation: Hardhat's EDR node instead of
 * anvil. Same pipeline, same contract, same verifier; only CHAIN_RPC_URL changes.
 */
const run = promisify(execFile);
const CLAIMS = 300;

describe(`second chain: ${CLAIMS} claims anchored on Hardhat's EDR node`, () => {
  let node: PrivateHardhatNode;
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let dropSchema: () => Promise<void>;
  let tempDir: string;

  beforeAll(async () => {
    tempDir = mkdtempSync(join(tmpdir(), 'claimtrail-edr-'));
    node = await startPrivateHardhatNode();
    const training = generateClaims({ count: 1500, seed: 21 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: join(tempDir, 'model'), seed: 21, log: testLog });
    config = isolatedConfig({ CHAIN_RPC_URL: node.rpcUrl, STATE_DIR: join(tempDir, 'state'), MODEL_DIR: join(tempDir, 'model'), BATCH_MAX_SIZE: '80', BATCH_MAX_AGE_MS: '800' });
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, 2121, 0), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await waitUntilSettled(pipeline, CLAIMS, 180_000);
  }, 400_000);

  afterAll(async () => {
    await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    await node?.stop();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  });

  it('anchors every batch on EDR (in epochs on DecisionAnchorV2) and its decisions verify PASS there', async () => {
    const { v2, tx } = pipeline.anchor!;
    expect(await v2.chainId()).toBe(31337n);
    const epochs = new EpochRepository(pipeline.pool);
    for (const batch of await pipeline.index.listBatches()) {
      expect(batch.status).toBe('anchored');
      const { epoch } = (await epochs.placementOfBatch(batch.batchId))!;
      expect((await v2.epochOf(tx.address, epoch.epochId))?.root).toBe(epoch.root);
    }
    const proofs = runtimeProofs(pipeline);
    const { rows } = await pipeline.pool.query<{ decision_id: string }>('SELECT decision_id FROM decisions ORDER BY random() LIMIT 20');
    for (const { decision_id } of rows) {
      expect(await proofs.verify((await pipeline.index.getDecision(decision_id))!, { minConfirmations: 1, trust: runtimeTrust(pipeline) }), decision_id).toMatchObject({ ok: true });
    }
  });

  it('audits clean against EDR', async () => {
    const client = pipeline.anchor!.client!;
    const { v2, tx } = pipeline.anchor!;
    const audit = new AuditService({
      index: pipeline.index,
      log: new KafkaDecisionLog(pipeline.kafka, config.kafka.topics.decisions),
      chain: createAnchorReader(client.provider, client.address),
      v2: { epochs: new EpochRepository(pipeline.pool), flaggedRoots: new FlaggedRootRepository(pipeline.pool), chain: createAnchorReaderV2(v2.provider, v2.address), anchorer: tx.address },
    });
    const report = await audit.auditAll();
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.logDecisions).toBe(CLAIMS);
  });

  it('exports a v2 bundle that the CLI verifies against EDR with its RPC URL and the pinned contract and anchorer', async () => {
    const decision = (await pipeline.index.sampleDecision((await pipeline.index.listBatches())[0]!.batchId, 'flag'))!;
    const proofs = runtimeProofs(pipeline);
    const file = join(tempDir, 'proof.json');
    writeFileSync(file, JSON.stringify(await proofs.bundle(decision)));
    const { stdout } = await run(process.execPath, ['cli/main.ts', 'verify', '--bundle', file, '--rpc', node.rpcUrl, '--contract', pipeline.anchor!.v2.address, '--anchorer', pipeline.anchor!.tx.address, '--json'], { env: { PATH: process.env.PATH ?? '' } });
    expect(JSON.parse(stdout)).toMatchObject({ result: 'PASS', decisionId: decision.decisionId, chainId: '31337', contract: pipeline.anchor!.v2.address, anchorer: pipeline.anchor!.tx.address.toLowerCase() });
  });
});
