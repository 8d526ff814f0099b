import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationCode } from '../../anchoring/core/errors.ts';
import type { ProofBundle } from '../../anchoring/core/proof-bundle.ts';
import { AnchorTxManager } from '../../anchoring/chain/anchor-tx.manager.ts';
import { AnchorTxRepository } from '../../anchoring/chain/anchor-tx.repository.ts';
import { DecisionAnchorClient } from '../../anchoring/chain/decision-anchor.client.ts';
import { deployDecisionAnchor } from '../../anchoring/chain/deployment.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { createPool } from '../../infra/db/pool.ts';
import { VERIFY_EXIT_CODES } from '../../cli/commands/verify.command.ts';
import { DEV_SIGNER_KEY_FILE } from '../../stack/chain.ts';
import { DEV_CHAIN_ID, ensureDevSigner } from '../../stack/dev-signer.ts';
import { VECTORS_FILE, type Vector, type VectorFile } from '../vectors/generate.ts';
import { applyPatch } from '../vectors/patch.ts';
import { isolatedConfig, migratedSchema, testLog } from '../support/env.ts';

/**
 * `claimtrail verify --bundle F --rpc URL` on the verifier test vectors, against the real chain:
 * the vectors' 8-leaf batch is anchored on a freshly deployed DecisionAnchor, the bases get that
 * real anchor, then the CLI (a child process, no config but the RPC URL) must exit 0 for every
 * happy path and with the failure's own exit code for a sample of each mutation category, plus
 * the chain-side failures (not anchored, unknown batch, wrong block hash, not confirmed). Every run
 * is pinned to that contract (`--contract`/`--chain-id` or `--trust`) unless it tests the unpinned
 * mode, which must never print PASS.
 */
const run = promisify(execFile);
const file = JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as VectorFile;
const config = isolatedConfig();

interface CliResult {
  exitCode: number;
  out: { result: string; code?: string };
}

describe('claimtrail verify --bundle on the verifier test vectors', () => {
  let dir: string;
  let anchored: (bundle: ProofBundle) => ProofBundle;
  let provider: Awaited<ReturnType<typeof connectProvider>>;
  let pool: ReturnType<typeof createPool> | undefined;
  let dropSchema: (() => Promise<void>) | undefined;
  let address: string;
  let chainId: number;
  /** The verifier's trust anchor as flags: the freshly deployed contract on the stack's chain. */
  let pin: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'claimtrail-vectors-'));
    provider = await connectProvider(config.chain.rpcUrl);
    const dev = await ensureDevSigner(join(config.stateDir, DEV_SIGNER_KEY_FILE), config.chain.rpcUrl, DEV_CHAIN_ID, testLog);
    const key = config.chain.signerKey ?? readFileSync(dev.keyFile, 'utf8').trim();
    // Sent through the signer's transaction manager (its attempts in this test's schema).
    dropSchema = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 2);
    const tx = new AnchorTxManager({ provider, signerKey: key, repo: new AnchorTxRepository(pool), log: testLog }, { maxFeeCapWei: 500_000_000_000n, pollMs: 100 });
    // A fresh contract: the vectors' batch ids are fixed, and anvil keeps its state across runs.
    ({ address } = await deployDecisionAnchor(tx, provider));
    chainId = Number((await provider.getNetwork()).chainId);
    pin = ['--contract', address, '--chain-id', String(chainId)];
    const client = new DecisionAnchorClient({ provider, address });
    const main = file.bases.find((b) => b.name === '8-leaf batch, leaf 0')!.bundle;
    const { batchId, root, leafCount } = main.batch;
    const receipt = await tx.send({ to: address, data: client.calldata('anchorBatch', [batchId, root, leafCount]), method: 'anchorBatch', batchIds: [batchId] });
    const anchor = {
      chainId,
      contract: address,
      txHash: receipt.txHash,
      blockNumber: Number(receipt.blockNumber),
      blockHash: receipt.blockHash,
      confirmationsAtExport: 1,
    };
    anchored = (bundle) => ({ ...bundle, anchor });
  });

  afterAll(async () => {
    provider?.destroy();
    await pool?.end();
    await dropSchema?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  async function verify(bundle: unknown, extra: string[] = [], trust: string[] = pin): Promise<CliResult> {
    const path = join(dir, `bundle-${n++}.json`);
    writeFileSync(path, JSON.stringify(bundle));
    const bare = { PATH: process.env.PATH ?? '' }; // nothing but the file, the RPC URL and the trust anchor
    const args = ['cli/main.ts', 'verify', '--bundle', path, '--rpc', config.chain.rpcUrl, '--json', ...trust, ...extra];
    const result = await run(process.execPath, args, { env: bare }).then(
      ({ stdout }) => ({ exitCode: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ exitCode: error.code, stdout: error.stdout }),
    );
    return { exitCode: result.exitCode, out: JSON.parse(result.stdout) as CliResult['out'] };
  }

  function vectorBundle(v: Vector): unknown {
    return applyPatch(anchored(file.bases[v.base]!.bundle), v.patch);
  }

  // Each CLI run is a Node process start (~1-3 s on these machines): the TypeScript walk
  // (tests/unit/anchoring/verifier-vectors.test.ts) covers every vector, this one a sample.
  it('PASS, exit 0, for the happy vectors of the anchored batch (first and last leaf)', async () => {
    const happy = file.vectors.filter((v) => v.category === 'happy' && file.bases[v.base]!.name.startsWith('8-leaf batch'));
    expect(happy).toHaveLength(8);
    const results = await Promise.all([happy[0]!, happy[7]!].map((v) => verify(vectorBundle(v))));
    for (const r of results) expect(r).toEqual({ exitCode: 0, out: expect.objectContaining({ result: 'PASS', chainId: String(chainId), contract: address }) });
  }, 300_000);

  it('PASS with a claimtrail-trust-v1 file (--trust) listing the contract', async () => {
    const trustFile = join(dir, 'trust.json');
    writeFileSync(trustFile, JSON.stringify({ ...file.trust, deployments: [{ ...file.trust.deployments[0]!, chainId, contract: address.toLowerCase() }] }));
    const happy = file.vectors.find((v) => v.category === 'happy' && file.bases[v.base]!.name.startsWith('8-leaf batch'))!;
    expect(await verify(vectorBundle(happy), [], ['--trust', trustFile])).toEqual({ exitCode: 0, out: expect.objectContaining({ result: 'PASS', chainId: String(chainId), contract: address.toLowerCase() }) });
    const foreign = file.vectors.find((v) => v.category === 'foreign-contract')!;
    expect(await verify(vectorBundle(foreign), [], ['--trust', trustFile])).toEqual({ exitCode: VERIFY_EXIT_CODES.CONTRACT_NOT_TRUSTED, out: expect.objectContaining({ result: 'FAIL', code: 'CONTRACT_NOT_TRUSTED' }) });
  }, 300_000);

  it('UNPINNED (exit 24), never PASS, without a trust anchor; a tampered bundle still FAILs with its code', async () => {
    const happy = file.vectors.find((v) => v.category === 'happy' && file.bases[v.base]!.name.startsWith('8-leaf batch'))!;
    const tampered = file.vectors.find((v) => v.category === 'leaf-bitflip')!;
    const [unpinned, failed] = await Promise.all([verify(vectorBundle(happy), [], []), verify(vectorBundle(tampered), [], [])]);
    expect(unpinned).toEqual({ exitCode: 24, out: expect.objectContaining({ result: 'UNPINNED', code: 'UNPINNED' }) });
    expect(failed).toEqual({ exitCode: VERIFY_EXIT_CODES.LEAF_MISMATCH, out: expect.objectContaining({ result: 'FAIL', code: 'LEAF_MISMATCH' }) });
  }, 300_000);

  it("FAIL with the failure's own exit code for a sample of every mutation category", async () => {
    const categories = [...new Set(file.vectors.filter((v) => !v.expected.ok).map((v) => v.category))];
    // The middle vector of each category (bit 128 for the bit flips).
    const sample = categories.map((c) => {
      const all = file.vectors.filter((v) => v.category === c && !v.expected.ok && file.bases[v.base]!.name.startsWith('8-leaf batch'));
      return all[Math.floor(all.length / 2)]!;
    });
    expect(sample).toHaveLength(categories.length);
    expect(new Set(sample.map((v) => (v.expected as { code: string }).code)).size).toBe(6); // every pure failure code and CONTRACT_NOT_TRUSTED
    for (let i = 0; i < sample.length; i += 3) {
      const chunk = sample.slice(i, i + 3);
      const results = await Promise.all(chunk.map((v) => verify(vectorBundle(v))));
      chunk.forEach((v, k) => {
        const code = (v.expected as { code: VerificationCode }).code;
        expect(results[k], v.id).toEqual({ exitCode: VERIFY_EXIT_CODES[code], out: expect.objectContaining({ result: 'FAIL', code }) });
      });
    }
  }, 300_000);

  it('chain-side failures each have their own exit code too', async () => {
    const main = anchored(file.bases.find((b) => b.name === '8-leaf batch, leaf 3')!.bundle);
    const uneven = anchored(file.bases.find((b) => b.name === '5-leaf batch, leaf 1')!.bundle);
    // The chain-id case pins the contract only: the node (31337) is then checked against the bundle (1).
    const cases: Array<[string, unknown, string[], VerificationCode, string[]?]> = [
      ['no anchor in the bundle', { ...main, anchor: null }, [], 'NOT_ANCHORED'],
      ['batch never anchored on this contract', uneven, [], 'ROOT_NOT_ON_CHAIN'],
      ['anchoring block hash is not canonical', { ...main, anchor: { ...main.anchor!, blockHash: `0x${'ab'.repeat(32)}` } }, [], 'BLOCK_HASH_MISMATCH'],
      ['another chain id', { ...main, anchor: { ...main.anchor!, chainId: 1 } }, [], 'CHAIN_ID_MISMATCH', ['--contract', address]],
      ['not enough confirmations', main, ['--confirmations', '1000000'], 'NOT_CONFIRMED'],
    ];
    const results = await Promise.all(cases.map(([, bundle, extra, , trust]) => verify(bundle, extra, trust)));
    cases.forEach(([what, , , code], k) => {
      expect(results[k], what).toEqual({ exitCode: VERIFY_EXIT_CODES[code], out: expect.objectContaining({ result: 'FAIL', code }) });
    });
  }, 300_000);

  it('every verify failure code has its own exit code, clear of the general ones', () => {
    const codes = Object.values(VERIFY_EXIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const general of [0, 1, 2, 3, 70]) expect(codes).not.toContain(general);
    expect(VERIFY_EXIT_CODES).toMatchObject({ CONTRACT_NOT_TRUSTED: 23, UNPINNED: 24 });
  });

  it('refuses two trust anchors at once, or a chain id without a contract (exit 2)', async () => {
    const happy = file.vectors.find((v) => v.category === 'happy')!;
    const path = join(dir, 'flags.json');
    writeFileSync(path, JSON.stringify(vectorBundle(happy)));
    const bare = { PATH: process.env.PATH ?? '' };
    for (const flags of [['--contract', address, '--trust', path], ['--chain-id', '31337']]) {
      const code = await run(process.execPath, ['cli/main.ts', 'verify', '--bundle', path, '--rpc', config.chain.rpcUrl, ...flags], { env: bare }).then(() => 0, (e: { code: number }) => e.code);
      expect(code, flags.join(' ')).toBe(2);
    }
  });
});
