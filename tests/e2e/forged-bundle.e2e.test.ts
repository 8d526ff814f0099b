import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { Contract, JsonRpcProvider, getAddress, keccak256, toUtf8Bytes } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryHash, entryValues } from '../../anchoring/core/epoch.ts';
import { leafHashV2, leafValuesV2 } from '../../anchoring/core/leaf-v2.ts';
import { makeTree } from '../../anchoring/core/merkle-core.ts';
import type { ProofBundleV2 } from '../../anchoring/core/proof-bundle-v2.ts';
import { verifyProofBundleV2 } from '../../anchoring/core/verify-proof-v2.ts';
import { decisionLeafValuesV2 } from '../../anchoring/decision-leaf.ts';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import type { DecisionV2 } from '../../domain/decision.ts';
import { FlaggedRootRepository } from '../../anchoring/flagged-root.repository.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { loadDecisionAnchorV2Artifact } from '../../contracts/artifacts.ts';
import type { Config } from '../../core/config.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { devKeySources } from '../../cli/dev-sources.ts';
import { startPipeline, type RunningPipeline } from '../../pipeline/runtime.ts';
import { configuredTrustAnchor } from '../../proofs/configured-trust.ts';
import { ProofService } from '../../proofs/proof.service.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import { ComplianceService } from '../../review/services/compliance.service.ts';
import { trainModel } from '../../training/train.ts';
import { deployTestAnchorV2, type TestAnchorer, type TestDeploymentV2 } from '../support/decision-anchor-v2.ts';
import { stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * The trust hole of a self-named contract, reproduced for proof format v2 on the real stack: a
 * forger takes a real v2 bundle, flips the outcome, recomputes the leaf, makes it a one-leaf batch
 * under the REAL batch range (so the batch id is the real one) in a one-batch epoch under the REAL
 * epoch id, deploys their own DecisionAnchorV2 on the same chain, anchors the forged epoch root
 * there with their own anchorer key, and points the bundle's anchor at contract and anchorer.
 * Every pure check passes and the forger's contract confirms it. Only a verifier pinned to the
 * insurer's deployment (DecisionAnchorV2 AND anchorer) rejects it: the CLI (--contract/--anchorer
 * or --trust), the documented OpenZeppelin and `cast` recipes, and the review app's compliance
 * verify. Unpinned, the CLI prints UNPINNED and never PASS.
 */
const run = promisify(execFile);
const CLAIMS = 120;
const CAST = 'node_modules/.bin/cast';
const h = (s: string) => keccak256(toUtf8Bytes(s));
const LEAF_TYPES = ['bytes32', 'bytes32', 'bytes32', 'bytes32', 'uint32', 'uint8', 'bytes32', 'bytes32', 'uint64', 'bytes32', 'uint32', 'uint64'];
const ENTRY_TYPES = ['bytes32', 'bytes32', 'bytes32', 'bytes32', 'uint32', 'bytes32', 'uint32', 'uint64', 'uint64'];

/** The v2 leaf tuple from the bundle's fields, as docs/proof-bundle.md tells a third party to build it. */
function leafTuple(b: ProofBundleV2): unknown[] {
  const d = b.decision;
  const reasonsHash = h(JSON.stringify(d.reasons.map(({ code, contribution }) => ({ code, contributionMicros: Math.round(contribution * 1e6) }))));
  return [h('claimtrail-leaf-v2'), d.instanceId, d.decisionId, d.claimCommitment, Math.round(d.score * 1e6), ['approve', 'review', 'flag'].indexOf(d.outcome), d.modelHash, reasonsHash, String(Date.parse(d.decidedAt)), h(d.log.topic), d.log.partition, d.log.offset];
}

/** The batch entry tuple, as the recipe builds it. */
function entryTuple(b: ProofBundleV2): unknown[] {
  return [h('claimtrail-epoch-entry-v2'), b.decision.instanceId, b.batch.batchId, b.batch.root, b.batch.leafCount, h(b.batch.topic), b.batch.partition, b.batch.firstOffset, b.batch.lastOffset];
}

/**
 * The documented v2 OpenZeppelin recipe (docs/proof-bundle.md, "Verifying v2 with
 * @openzeppelin/merkle-tree alone" + "Trust"): only the bundle, the insurer's trust file, an RPC
 * URL, OpenZeppelin's library and ethers. True when the bundle proves its decision.
 */
async function openZeppelinRecipeV2(b: ProofBundleV2, trust: { deployments: Array<{ chainId: number; contract: string; anchorers: string[] }> }, rpcUrl: string): Promise<boolean> {
  const provider = new JsonRpcProvider(rpcUrl);
  try {
    // 0. The trust anchor: contract AND anchorer the insurer published, never the bundle's own.
    const pinned = trust.deployments.find((t) => t.chainId === b.anchor.chainId && t.contract.toLowerCase() === b.anchor.contract.toLowerCase());
    if (!pinned || !pinned.anchorers.some((a) => a.toLowerCase() === b.anchor.anchorer.toLowerCase())) return false;
    if ((await provider.getNetwork()).chainId !== BigInt(pinned.chainId)) return false;
    // 1. Both paths: leaf -> batch root, entry -> epoch root.
    if (!StandardMerkleTree.verify(b.batch.root, LEAF_TYPES, leafTuple(b), b.proof)) return false;
    if (!StandardMerkleTree.verify(b.epoch.root, ENTRY_TYPES, entryTuple(b), b.epoch.proof)) return false;
    // 2. The PINNED contract holds that epoch root under the PINNED anchorer, in the stated block.
    const anchor = new Contract(pinned.contract, ['function epochOf(address,bytes32) view returns (bytes32 root, uint32 batchCount, uint64 leafCount, uint64 anchoredAt, uint64 anchoredBlock)'], provider);
    const [root, , , , anchoredBlock] = (await anchor.getFunction('epochOf').staticCall(b.anchor.anchorer, b.epoch.epochId)) as [string, bigint, bigint, bigint, bigint];
    if (root.toLowerCase() !== b.epoch.root.toLowerCase()) return false;
    const block = await provider.getBlock(Number(anchoredBlock));
    return anchoredBlock === BigInt(b.anchor.blockNumber) && block?.hash === b.anchor.blockHash;
  } finally {
    provider.destroy();
  }
}

/** `verifyDecisionValues` arguments as `cast call` takes them (structs as tuples). */
function castArgs(b: ProofBundleV2, anchorer: string): string[] {
  const [, ...values] = leafTuple(b);
  const [, , ...entry] = entryTuple(b);
  return [anchorer, b.epoch.epochId, `(${values.join(',')})`, `[${b.proof.join(',')}]`, `(${entry.join(',')})`, `[${b.epoch.proof.join(',')}]`];
}
const VERIFY_SIG = 'verifyDecisionValues(address,bytes32,(bytes32,bytes32,bytes32,uint32,uint8,bytes32,bytes32,uint64,bytes32,uint32,uint64),bytes32[],(bytes32,bytes32,uint32,bytes32,uint32,uint64,uint64),bytes32[])(bool)';

/** A one-leaf batch over the (altered) decision, in a one-batch epoch, under the real ids. */
function forge(real: ProofBundleV2): Omit<ProofBundleV2, 'anchor'> {
  const flipped: ProofBundleV2 = structuredClone(real);
  (flipped.decision as { outcome: string }).outcome = real.decision.outcome === 'approve' ? 'flag' : 'approve';
  const leaf = leafHashV2(leafValuesV2(flipped.decision));
  const batch = { ...flipped.batch, leafCount: 1, root: leaf };
  const entry = entryHash(entryValues(flipped.decision.instanceId, batch));
  const { flagged: _flagged, salt: _salt, ...rest } = flipped;
  return { ...rest, leaf, proof: [], batch, epoch: { ...flipped.epoch, root: entry, batchCount: 1, leafCount: '1', proof: [] } };
}

describe('a forged v2 bundle anchored on a foreign DecisionAnchorV2 is rejected by every documented verifier', () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let dropSchema: () => Promise<void>;
  let dir: string;
  const bare = { PATH: process.env.PATH ?? '' }; // a regulator's machine: no claimtrail config
  let real: string;
  let ours: string;
  let chainId: number;
  let realFile: string;
  let forgedFile: string;
  let trustFile: string;
  let realBundle: ProofBundleV2;
  let forged: ProofBundleV2;
  let forger: TestDeploymentV2;
  let forgerKey: TestAnchorer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'claimtrail-forged-'));
    const training = generateClaims({ count: 1500, seed: 31 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: join(dir, 'model'), seed: 31, log: testLog });
    config = isolatedConfig({ MODEL_DIR: join(dir, 'model'), BATCH_MAX_SIZE: '20', BATCH_MAX_AGE_MS: '800' });
    const env = { ...process.env, CLAIMS_TOPIC: config.kafka.topics.claims, DECISIONS_TOPIC: config.kafka.topics.decisions, DATABASE_SCHEMA: config.database.schema, LOG_LEVEL: 'warn' };
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, 3131, 0), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await waitUntilSettled(pipeline, CLAIMS, 180_000);

    const provider = pipeline.anchor!.v2.provider;
    real = pipeline.anchor!.v2.address;
    ours = pipeline.anchor!.tx.address.toLowerCase();
    chainId = Number((await provider.getNetwork()).chainId);

    // A real bundle, exported with the CLI like an insurer hands it out.
    const { rows } = await pipeline.pool.query<{ claim_id: string }>(`SELECT claim_id FROM decisions WHERE outcome = 'approve' ORDER BY log_partition, log_offset LIMIT 1`);
    const { stdout } = await run(process.execPath, ['cli/main.ts', 'proof', rows[0]!.claim_id], { env });
    realBundle = JSON.parse(stdout) as ProofBundleV2;
    expect(realBundle.format).toBe('claimtrail-proof-v2');
    realFile = join(dir, 'real.json');
    writeFileSync(realFile, stdout);

    // The forger: their own DecisionAnchorV2 and anchorer key on the same chain.
    forger = await deployTestAnchorV2(provider);
    forgerKey = forger.anchorer;
    const body = forge(realBundle);
    const landed = await forgerKey.anchorEpoch(body.epoch.epochId, body.epoch.root, 1, 1n);
    forged = { ...body, anchor: { ...realBundle.anchor, contract: forger.address, anchorer: forgerKey.address, ...landed } };
    forgedFile = join(dir, 'forged.json');
    writeFileSync(forgedFile, JSON.stringify(forged, null, 2));

    // The insurer's published trust file: DecisionAnchorV2 and its anchorer.
    trustFile = join(dir, 'trust.json');
    writeFileSync(trustFile, JSON.stringify({ format: 'claimtrail-trust-v1', issuer: 'claimtrail e2e', deployments: [{ chainId, contract: real, version: 'v2', deploymentBlock: 0, anchorers: [ours] }] }));
  }, 600_000);

  afterAll(async () => {
    await stopAndDeleteTopics(pipeline, config);
    await dropSchema?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function verify(file: string, flags: string[], json = true): Promise<{ exitCode: number; stdout: string }> {
    const args = ['cli/main.ts', 'verify', '--bundle', file, '--rpc', config.chain.rpcUrl, ...(json ? ['--json'] : []), ...flags];
    return run(process.execPath, args, { env: bare }).then(
      ({ stdout }) => ({ exitCode: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ exitCode: error.code, stdout: error.stdout }),
    );
  }
  const pin = () => ['--contract', real, '--chain-id', String(chainId), '--anchorer', ours];

  it("the forgery is otherwise perfect: every pure check passes and the forger's contract confirms it", async () => {
    expect(forged.decision.outcome).not.toBe(realBundle.decision.outcome);
    expect(forged.batch.batchId).toBe(realBundle.batch.batchId);
    expect(forged.epoch.epochId).toBe(realBundle.epoch.epochId);
    expect(verifyProofBundleV2(forged)).toEqual({ ok: true });
    const contract = new Contract(forger.address, loadDecisionAnchorV2Artifact().abi, pipeline.anchor!.v2.provider);
    const [, ...values] = leafTuple(forged);
    const [, , ...entry] = entryTuple(forged);
    expect(await contract.getFunction('verifyDecisionValues').staticCall(forgerKey.address, forged.epoch.epochId, values, forged.proof, entry, forged.epoch.proof)).toBe(true);
    // Pinning the forger's own deployment passes: the pin is the whole defence, so it must come
    // from the verifier, never from the bundle.
    expect(await verify(forgedFile, ['--contract', forger.address, '--anchorer', forgerKey.address])).toMatchObject({ exitCode: 0 });
  });

  it('--contract <real> --anchorer <ours>: FAIL CONTRACT_NOT_TRUSTED, exit 23', async () => {
    const r = await verify(forgedFile, pin());
    expect(r.exitCode).toBe(23);
    expect(JSON.parse(r.stdout)).toMatchObject({ result: 'FAIL', code: 'CONTRACT_NOT_TRUSTED' });
  });

  it('the forger names the REAL contract but its own anchorer, or ours: still FAIL (23, then 18: our epoch id holds the real root)', async () => {
    const asForgerOnReal = join(dir, 'forged-real-contract.json');
    writeFileSync(asForgerOnReal, JSON.stringify({ ...forged, anchor: { ...forged.anchor, contract: real } }));
    expect((await verify(asForgerOnReal, pin())).exitCode).toBe(23);
    const asUs = join(dir, 'forged-as-us.json');
    writeFileSync(asUs, JSON.stringify({ ...forged, anchor: { ...realBundle.anchor } }));
    const r = await verify(asUs, pin());
    expect(r.exitCode).toBe(18);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 'ROOT_DIFFERS_ON_CHAIN', expected: forged.epoch.root, computed: realBundle.epoch.root });
  });

  it('--trust <insurer trust file>: FAIL CONTRACT_NOT_TRUSTED, exit 23; TRUST_FILE likewise', async () => {
    const r = await verify(forgedFile, ['--trust', trustFile]);
    expect(r.exitCode).toBe(23);
    const viaEnv = await run(process.execPath, ['cli/main.ts', 'verify', '--bundle', forgedFile, '--rpc', config.chain.rpcUrl], { env: { ...bare, TRUST_FILE: trustFile } }).catch((e: { code: number }) => e);
    expect((viaEnv as { code: number }).code).toBe(23);
  });

  it('without a trust anchor: UNPINNED, exit 24, never PASS; a pin without an anchorer: UNPINNED for the real bundle, CONTRACT_NOT_TRUSTED for the forgery', async () => {
    const runs = [
      [forgedFile, [], 24],
      [realFile, [], 24],
      [realFile, ['--contract', real, '--chain-id', String(chainId)], 24],
      [forgedFile, ['--contract', real, '--chain-id', String(chainId)], 23],
    ] as const;
    for (const [file, flags, code] of runs) {
      const r = await verify(file, [...flags], false);
      expect(r.exitCode, `${file} ${flags.join(' ')}`).toBe(code);
      expect(r.stdout).toMatch(code === 24 ? /^UNPINNED/ : /^FAIL/);
      expect(r.stdout).not.toMatch(/PASS/);
    }
  });

  it('the real bundle, pinned: PASS, printing chain id, contract and anchorer', async () => {
    const r = await verify(realFile, pin(), false);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^PASS/);
    expect(r.stdout).toContain(`chain ${chainId}`);
    expect(r.stdout).toContain(real);
    expect(r.stdout).toContain(`anchorer ${ours}`);
    expect(await verify(realFile, ['--trust', trustFile])).toMatchObject({ exitCode: 0 });
  });

  it('the documented v2 OpenZeppelin recipe, pinned to the trust file, rejects the forgery and accepts the real bundle', async () => {
    const trust = { deployments: [{ chainId, contract: real, anchorers: [ours] }] };
    expect(await openZeppelinRecipeV2(forged, trust, config.chain.rpcUrl)).toBe(false);
    // Even with the anchor's contract and anchorer relabelled, the pinned epochOf gives it away.
    expect(await openZeppelinRecipeV2({ ...forged, anchor: { ...realBundle.anchor } }, trust, config.chain.rpcUrl)).toBe(false);
    expect(await openZeppelinRecipeV2(realBundle, trust, config.chain.rpcUrl)).toBe(true);
  });

  it('the documented `cast call` recipe against the pinned contract and anchorer rejects the forgery', async () => {
    const castCall = async (...args: string[]) => (await run(CAST, ['call', real, ...args, '--rpc-url', config.chain.rpcUrl])).stdout.trim();
    // Step 1 of the recipe: the bundle must name the trusted contract and anchorer.
    expect(getAddress(forged.anchor.contract)).not.toBe(getAddress(real));
    // Step 2: the pinned anchorer's root for the epoch id is not the forged root...
    const [root] = (await castCall('epochOf(address,bytes32)(bytes32,uint32,uint64,uint64,uint64)', ours, forged.epoch.epochId)).split('\n');
    expect(root).toBe(realBundle.epoch.root);
    expect(root).not.toBe(forged.epoch.root);
    // ...and verifyDecisionValues with the forged values says false; the real ones say true.
    expect(await castCall(VERIFY_SIG, ...castArgs(forged, ours))).toBe('false');
    expect(await castCall(VERIFY_SIG, ...castArgs(realBundle, ours))).toBe('true');
  });

  it("the review app's compliance verify checks the configured deployment, not the contract and anchorer PostgreSQL names", async () => {
    const { pool, index } = pipeline;
    const provider = pipeline.anchor!.v2.provider;
    const trust = await configuredTrustAnchor(config, provider);
    const epochs = new EpochRepository(pool);
    const proofs = new ProofService({ index, provider, v2: { epochs, flaggedRoots: new FlaggedRootRepository(pool) } });
    const compliance = new ComplianceService({ index, proofs, audit: new AuditRepository(pool), minConfirmations: 1, trust });
    const user = (await new UserRepository(pool).create('compliance-e2e', 'compliance', null))!;
    const actor = { userId: user.userId, name: user.name, role: 'compliance' as const, ip: null };

    // An untouched decision: PASS, reporting the configured deployment and anchorer.
    const { rows: batches } = await pool.query<{ batch_id: string }>(`SELECT batch_id FROM batches WHERE batch_id <> $1 ORDER BY first_offset LIMIT 2`, [realBundle.batch.batchId]);
    const clean = (await index.sampleDecision(batches[0]!.batch_id, 'flag'))!;
    expect(await compliance.verify(actor, clean.decisionId)).toMatchObject({ ok: true, chainId: String(chainId), contract: real, anchorer: ours });

    // The same forgery made inside PostgreSQL: outcome flipped, leaf, batch root, epoch entry and
    // epoch root recomputed, the forged epoch anchored on the forger's contract by the forger's
    // key, and the epoch row pointed at that contract, anchorer and transaction.
    const victim = (await index.sampleDecision(batches[1]!.batch_id, 'approve'))!;
    const victimBundle = (await proofs.bundle(victim)) as ProofBundleV2;
    await pool.query(`UPDATE decisions SET outcome = 'flag' WHERE decision_id = $1`, [victim.decisionId]);
    const altered = (await index.getDecision(victim.decisionId))! as DecisionV2 & typeof victim;
    const leaf = leafHashV2(decisionLeafValuesV2(altered, altered.log));
    await pool.query(`UPDATE decisions SET leaf = $2 WHERE decision_id = $1`, [victim.decisionId, leaf]);
    const batchRoot = makeTree(await index.batchLeaves(victim.batchId))[0]!;
    await pool.query(`UPDATE batches SET root = $2 WHERE batch_id = $1`, [victim.batchId, batchRoot]);
    await pool.query(`UPDATE epoch_batches SET root = $2 WHERE batch_id = $1`, [victim.batchId, batchRoot]);
    const placement = (await epochs.placementOfBatch(victim.batchId))!;
    const forgedEpochRoot = makeTree(placement.entries.map((e) => entryHash(entryValues(placement.epoch.instanceId, e))))[0]!;
    // A contract of its own: the first forgery may already hold this epoch id on the other one (the victim's batch can share the real bundle's epoch).
    const insider = await deployTestAnchorV2(provider);
    const landed = await insider.anchorer.anchorEpoch(victimBundle.epoch.epochId, forgedEpochRoot, placement.epoch.batchCount, BigInt(placement.epoch.leafCount));
    await pool.query(`UPDATE epochs SET root = $2, contract = $3, anchorer = $4, tx_hash = $5, block_number = $6, block_hash = $7 WHERE epoch_id = $1`, [
      placement.epoch.epochId, forgedEpochRoot, insider.address, insider.anchorer.address, landed.txHash, landed.blockNumber, landed.blockHash,
    ]);
    // The proof service's own bundle of the forged rows is internally consistent...
    expect(verifyProofBundleV2(await proofs.bundle((await index.getDecision(victim.decisionId))!))).toEqual({ ok: true });
    // ...and compliance refuses it: the rows name a deployment that is not the configured one.
    expect(await compliance.verify(actor, victim.decisionId)).toMatchObject({ ok: false, code: 'CONTRACT_NOT_TRUSTED' });
  });
});
