import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { Contract, ContractFactory, JsonRpcProvider, Wallet, id, getAddress, keccak256, toBeHex, toUtf8Bytes } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionAnchorClient } from '../../anchoring/chain/decision-anchor.client.ts';
import { loadDecisionAnchorArtifact } from '../../contracts/artifacts.ts';
import { leafHash } from '../../anchoring/core/leaf.ts';
import { interimLeafValues } from '../../anchoring/interim-leaf.ts';
import { makeTree } from '../../anchoring/core/merkle-core.ts';
import { verifyProofBundle } from '../../anchoring/core/verify-proof.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
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
import { stopAndDeleteTopics, waitUntilSettled } from '../support/pipeline.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * The trust hole, reproduced on the real stack: a forger takes a real bundle, flips the outcome,
 * recomputes the leaf and a one-leaf root, deploys their own DecisionAnchor on the same chain,
 * anchors the forged root there under the REAL batch id and points the bundle's anchor at it.
 * Every pure check passes and the forger's contract confirms the root. Only a verifier that asks
 * the contract it trusts (not the one the bundle names) rejects it: the CLI, the documented
 * OpenZeppelin and `cast` recipes and the review app's compliance verify must all do so.
 */
const run = promisify(execFile);
const CLAIMS = 120;
const CAST = 'node_modules/.bin/cast';

interface Bundle {
  leafTypes: string[];
  leaf: string;
  proof: string[];
  decision: {
    decisionId: string;
    claimId: string;
    claimCommitment: string;
    score: number;
    outcome: 'approve' | 'review' | 'flag';
    modelHash: string;
    reasons: Array<{ code: string; contribution: number; text: string }>;
    decidedAt: string;
    log: { topic: string; partition: number; offset: string };
  };
  batch: { batchId: string; root: string; leafCount: number };
  anchor: { chainId: number; contract: string; txHash: string; blockNumber: number; blockHash: string; confirmationsAtExport: number };
}

/** The leaf tuple from the bundle's fields, as docs/proof-bundle.md tells a third party to build it. */
function leafValues(b: Bundle): unknown[] {
  const d = b.decision;
  const h = (s: string) => keccak256(toUtf8Bytes(s));
  const reasonsHash = h(JSON.stringify(d.reasons.map(({ code, contribution, text }) => ({ code, contribution, text }))));
  return [d.decisionId, d.claimCommitment, Math.round(d.score * 1e6), ['approve', 'review', 'flag'].indexOf(d.outcome), d.modelHash, reasonsHash, String(Date.parse(d.decidedAt)), h(d.log.topic), d.log.partition, d.log.offset];
}

/**
 * The OpenZeppelin recipe of docs/proof-bundle.md ("Verifying with @openzeppelin/merkle-tree
 * alone" + "Trust"), as a third party runs it: only the bundle, the insurer's trust file, an RPC
 * URL, OpenZeppelin's library and ethers. True when the bundle proves its decision.
 */
async function openZeppelinRecipe(b: Bundle, trust: { deployments: Array<{ chainId: number; contract: string }> }, rpcUrl: string): Promise<boolean> {
  const provider = new JsonRpcProvider(rpcUrl);
  try {
    // 0. The trust anchor: the contract the insurer published, never the bundle's own.
    const pinned = trust.deployments.find((t) => t.chainId === b.anchor.chainId && t.contract.toLowerCase() === b.anchor.contract.toLowerCase());
    if (!pinned) return false;
    if ((await provider.getNetwork()).chainId !== BigInt(pinned.chainId)) return false;
    // 1. The decision is a leaf of the stated root.
    const values = leafValues(b);
    if (!StandardMerkleTree.verify(b.batch.root, b.leafTypes, values, b.proof)) return false;
    // 2. The PINNED contract holds that root under the batch id, recorded in the stated block.
    const anchor = new Contract(pinned.contract, ['function batchOf(bytes32) view returns (bytes32 root, uint32 leafCount, uint64 anchoredAt, uint64 anchoredBlock)'], provider);
    const [root, leafCount, , anchoredBlock] = (await anchor.getFunction('batchOf').staticCall(b.batch.batchId)) as [string, bigint, bigint, bigint];
    if (root.toLowerCase() !== b.batch.root.toLowerCase() || Number(leafCount) !== b.batch.leafCount) return false;
    const block = await provider.getBlock(Number(anchoredBlock));
    return anchoredBlock === BigInt(b.anchor.blockNumber) && block?.hash === b.anchor.blockHash;
  } finally {
    provider.destroy();
  }
}

/** The forger's own DecisionAnchor, deployed and written with their key through plain ethers. */
interface Forger {
  address: string;
  reader: DecisionAnchorClient;
  anchorBatch(batchId: string, root: string, leafCount: number): Promise<{ txHash: string; blockNumber: bigint; blockHash: string }>;
}

async function deployForger(provider: JsonRpcProvider, key: string): Promise<Forger> {
  const wallet = new Wallet(key, provider);
  const artifact = loadDecisionAnchorArtifact();
  const deployed = await new ContractFactory(artifact.abi, artifact.bytecode, wallet).deploy(wallet.address);
  await deployed.waitForDeployment();
  const address = await deployed.getAddress();
  const contract = new Contract(address, artifact.abi, wallet);
  await (await contract.getFunction('grantRole')(id('ANCHORER_ROLE'), wallet.address)).wait();
  return {
    address,
    reader: new DecisionAnchorClient({ provider, address }),
    async anchorBatch(batchId, root, leafCount) {
      const receipt = await (await contract.getFunction('anchorBatch')(batchId, root, leafCount)).wait();
      return { txHash: receipt.hash, blockNumber: BigInt(receipt.blockNumber), blockHash: receipt.blockHash };
    },
  };
}

describe('a forged bundle anchored on a foreign DecisionAnchor is rejected by every documented verifier', () => {
  let config: Readonly<Config>;
  let pipeline: RunningPipeline;
  let dropSchema: () => Promise<void>;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const bare = { PATH: process.env.PATH ?? '' }; // a regulator's machine: no claimtrail config
  let real: string;
  let chainId: number;
  let realFile: string;
  let forgedFile: string;
  let trustFile: string;
  let realBundle: Bundle;
  let forged: Bundle;
  let forger: Forger;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'claimtrail-forged-'));
    const training = generateClaims({ count: 1500, seed: 31 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: join(dir, 'model'), seed: 31, log: testLog });
    config = isolatedConfig({ MODEL_DIR: join(dir, 'model'), BATCH_MAX_SIZE: '20', BATCH_MAX_AGE_MS: '800' });
    env = { ...process.env, CLAIMS_TOPIC: config.kafka.topics.claims, DECISIONS_TOPIC: config.kafka.topics.decisions, DATABASE_SCHEMA: config.database.schema, LOG_LEVEL: 'warn' };
    dropSchema = await migratedSchema(config);
    pipeline = await startPipeline(config, testLog, devKeySources(config));
    const producer = new ClaimsProducer(pipeline.kafka);
    await producer.connect();
    await producer.produce(generatedMessages(CLAIMS, 3131, 0), { topic: config.kafka.topics.claims });
    await producer.disconnect();
    await waitUntilSettled(pipeline, CLAIMS, 180_000);

    const provider = pipeline.anchor!.v2.provider;
    real = pipeline.anchor!.client!.address;
    chainId = Number((await provider.getNetwork()).chainId);

    // A real bundle, exported with the CLI like an insurer hands it out.
    const { rows } = await pipeline.pool.query<{ claim_id: string }>(`SELECT claim_id FROM decisions WHERE outcome IN ('approve', 'flag') ORDER BY log_partition, log_offset LIMIT 1`);
    const { stdout } = await run(process.execPath, ['cli/main.ts', 'proof', rows[0]!.claim_id], { env });
    realBundle = JSON.parse(stdout) as Bundle;
    realFile = join(dir, 'real.json');
    writeFileSync(realFile, stdout);

    // The forger: a fresh key funded on the dev chain, their own DecisionAnchor.
    const attacker = Wallet.createRandom();
    await provider.send('anvil_setBalance', [attacker.address, toBeHex(10n ** 20n)]);
    forger = await deployForger(provider, attacker.privateKey);
    const address = forger.address;

    // Outcome flipped, leaf recomputed, a one-leaf tree (its root is the leaf, the proof empty).
    const flipped: Bundle = structuredClone(realBundle);
    flipped.decision.outcome = realBundle.decision.outcome === 'approve' ? 'flag' : 'approve';
    const values = leafValues(flipped);
    const root = StandardMerkleTree.of([values], flipped.leafTypes).root;
    const receipt = await forger.anchorBatch(realBundle.batch.batchId, root, realBundle.batch.leafCount);
    forged = {
      ...flipped,
      leaf: root,
      proof: [],
      batch: { ...flipped.batch, root },
      anchor: { ...flipped.anchor, contract: address, txHash: receipt.txHash, blockNumber: Number(receipt.blockNumber), blockHash: receipt.blockHash },
    };
    forgedFile = join(dir, 'forged.json');
    writeFileSync(forgedFile, JSON.stringify(forged, null, 2));

    // The insurer's published trust file.
    trustFile = join(dir, 'trust.json');
    writeFileSync(trustFile, JSON.stringify({ format: 'claimtrail-trust-v1', issuer: 'claimtrail e2e', deployments: [{ chainId, contract: real, version: 'v1', deploymentBlock: 0 }] }));
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

  it('the forgery is otherwise perfect: every pure check passes and the forger\'s contract confirms it', async () => {
    expect(forged.decision.outcome).not.toBe(realBundle.decision.outcome);
    expect(verifyProofBundle(forged)).toEqual({ ok: true });
    expect(await forger.reader.verifyDecision(forged.batch.batchId, forged.leaf, [])).toBe(true);
    // Pinning the forger's own contract passes: the pin is the whole defence, so it must come
    // from the verifier, never from the bundle.
    expect(await verify(forgedFile, ['--contract', forged.anchor.contract])).toMatchObject({ exitCode: 0 });
  });

  it('--contract <real>: FAIL CONTRACT_NOT_TRUSTED, exit 23', async () => {
    const r = await verify(forgedFile, ['--contract', real, '--chain-id', String(chainId)]);
    expect(r.exitCode).toBe(23);
    expect(JSON.parse(r.stdout)).toMatchObject({ result: 'FAIL', ok: false, code: 'CONTRACT_NOT_TRUSTED', computed: `${chainId}:${forged.anchor.contract.toLowerCase()}` });
  });

  it('--trust <insurer trust file>: FAIL CONTRACT_NOT_TRUSTED, exit 23', async () => {
    const r = await verify(forgedFile, ['--trust', trustFile]);
    expect(r.exitCode).toBe(23);
    expect(JSON.parse(r.stdout)).toMatchObject({ result: 'FAIL', code: 'CONTRACT_NOT_TRUSTED' });
    // TRUST_FILE in the environment works the same.
    const viaEnv = await run(process.execPath, ['cli/main.ts', 'verify', '--bundle', forgedFile, '--rpc', config.chain.rpcUrl], { env: { ...bare, TRUST_FILE: trustFile } }).catch((e: { code: number; stdout: string }) => e);
    expect((viaEnv as { code: number }).code).toBe(23);
  });

  it('without a trust anchor: UNPINNED, exit 24, never PASS', async () => {
    const r = await verify(forgedFile, [], false);
    expect(r.exitCode).toBe(24);
    expect(r.stdout).toMatch(/^UNPINNED/);
    expect(r.stdout).not.toMatch(/PASS/);
  });

  it('the real bundle with the real contract: PASS, printing the chain id and the contract asked', async () => {
    const r = await verify(realFile, ['--contract', real, '--chain-id', String(chainId)], false);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^PASS/);
    expect(r.stdout).toContain(`chain ${chainId}`);
    expect(r.stdout).toContain(real);
    expect(await verify(realFile, ['--trust', trustFile])).toMatchObject({ exitCode: 0 });
  });

  it('the documented OpenZeppelin recipe, pinned to the trust file, rejects the forgery and accepts the real bundle', async () => {
    const trust = { deployments: [{ chainId, contract: real }] };
    expect(await openZeppelinRecipe(forged, trust, config.chain.rpcUrl)).toBe(false);
    // Even with the anchor.contract check skipped, the pinned contract's batchOf gives it away.
    expect(await openZeppelinRecipe({ ...forged, anchor: { ...forged.anchor, contract: real } }, trust, config.chain.rpcUrl)).toBe(false);
    expect(await openZeppelinRecipe(realBundle, trust, config.chain.rpcUrl)).toBe(true);
  });

  it('the documented `cast call` recipe against the pinned contract rejects the forgery', async () => {
    const castCall = async (...args: string[]) => (await run(CAST, ['call', real, ...args, '--rpc-url', config.chain.rpcUrl])).stdout.trim();
    // Step 1 of the recipe: the bundle must name the trusted contract.
    expect(getAddress(forged.anchor.contract)).not.toBe(getAddress(real));
    // Step 2: the pinned contract's root for the batch id is not the forged root...
    const [root] = (await castCall('batchOf(bytes32)(bytes32,uint32,uint64,uint64)', forged.batch.batchId)).split('\n');
    expect(root).toBe(realBundle.batch.root);
    expect(root).not.toBe(forged.batch.root);
    // ...and verifyDecision with the recomputed forged leaf says false; the real leaf says true.
    expect(await castCall('verifyDecision(bytes32,bytes32,bytes32[])(bool)', forged.batch.batchId, forged.leaf, '[]')).toBe('false');
    expect(await castCall('verifyDecision(bytes32,bytes32,bytes32[])(bool)', realBundle.batch.batchId, realBundle.leaf, `[${realBundle.proof.join(',')}]`)).toBe('true');
  });

  it("the review app's compliance verify checks the configured contract, not the one PostgreSQL names", async () => {
    const { pool, index } = pipeline;
    const provider = pipeline.anchor!.v2.provider;
    const trust = await configuredTrustAnchor(config, provider);
    const compliance = new ComplianceService({ index, proofs: new ProofService({ index, provider }), audit: new AuditRepository(pool), minConfirmations: 1, trust });
    const user = (await new UserRepository(pool).create('compliance-e2e', 'compliance', null))!;
    const actor = { userId: user.userId, name: user.name, role: 'compliance' as const, ip: null };

    // An untouched decision: PASS, reporting the configured deployment.
    const { rows: batches } = await pool.query<{ batch_id: string }>(`SELECT batch_id FROM batches WHERE batch_id <> $1 ORDER BY first_offset LIMIT 2`, [realBundle.batch.batchId]);
    const clean = (await index.sampleDecision(batches[0]!.batch_id, 'flag'))!;
    expect(await compliance.verify(actor, clean.decisionId)).toMatchObject({ ok: true, chainId: String(chainId), contract: real });

    // The same forgery made inside PostgreSQL: outcome flipped, leaf and root recomputed, the
    // forged root anchored on the forger's contract under the real batch id, the batch row
    // pointed at that contract and transaction.
    const victim = (await index.sampleDecision(batches[1]!.batch_id, 'approve'))!;
    await pool.query(`UPDATE decisions SET outcome = $2 WHERE decision_id = $1`, [victim.decisionId, victim.outcome === 'flag' ? 'approve' : 'flag']);
    const altered = (await index.getDecision(victim.decisionId))!;
    const leaf = leafHash(interimLeafValues(altered, altered.log));
    await pool.query(`UPDATE decisions SET leaf = $2 WHERE decision_id = $1`, [victim.decisionId, leaf]);
    const leaves = await index.batchLeaves(victim.batchId);
    const forgedRoot = makeTree(leaves)[0]!;
    const receipt = await forger.anchorBatch(victim.batchId, forgedRoot, leaves.length);
    await pool.query(`UPDATE batches SET root = $2, contract = $3, tx_hash = $4, block_number = $5, block_hash = $6 WHERE batch_id = $1`, [victim.batchId, forgedRoot, forger.address, receipt.txHash, receipt.blockNumber.toString(), receipt.blockHash]);
    // The proof service's own bundle of the forged row is internally consistent...
    expect(verifyProofBundle(await new ProofService({ index, provider }).bundle((await index.getDecision(victim.decisionId))!))).toEqual({ ok: true });
    // ...and compliance refuses it: the row names a contract that is not the configured one.
    expect(await compliance.verify(actor, victim.decisionId)).toMatchObject({ ok: false, code: 'CONTRACT_NOT_TRUSTED' });
  });
});
