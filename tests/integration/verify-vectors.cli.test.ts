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
 * the chain-side failures (not anchored, unknown batch, wrong block hash, not confirmed).
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
    const { address } = await deployDecisionAnchor(tx, provider);
    const client = new DecisionAnchorClient({ provider, address });
    const main = file.bases.find((b) => b.name === '8-leaf batch, leaf 0')!.bundle;
    const { batchId, root, leafCount } = main.batch;
    const receipt = await tx.send({ to: address, data: client.calldata('anchorBatch', [batchId, root, leafCount]), method: 'anchorBatch', batchIds: [batchId] });
    const anchor = {
      chainId: Number((await provider.getNetwork()).chainId),
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
  async function verify(bundle: unknown, extra: string[] = []): Promise<CliResult> {
    const path = join(dir, `bundle-${n++}.json`);
    writeFileSync(path, JSON.stringify(bundle));
    const bare = { PATH: process.env.PATH ?? '' }; // nothing but the file and the RPC URL
    const args = ['cli/main.ts', 'verify', '--bundle', path, '--rpc', config.chain.rpcUrl, '--json', ...extra];
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
    for (const r of results) expect(r).toEqual({ exitCode: 0, out: expect.objectContaining({ result: 'PASS' }) });
  }, 300_000);

  it("FAIL with the failure's own exit code for a sample of every mutation category", async () => {
    const categories = [...new Set(file.vectors.filter((v) => !v.expected.ok).map((v) => v.category))];
    // The middle vector of each category (bit 128 for the bit flips).
    const sample = categories.map((c) => {
      const all = file.vectors.filter((v) => v.category === c && !v.expected.ok && file.bases[v.base]!.name.startsWith('8-leaf batch'));
      return all[Math.floor(all.length / 2)]!;
    });
    expect(sample).toHaveLength(categories.length);
    expect(new Set(sample.map((v) => (v.expected as { code: string }).code)).size).toBe(5); // every pure failure code
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
    const cases: Array<[string, unknown, string[], VerificationCode]> = [
      ['no anchor in the bundle', { ...main, anchor: null }, [], 'NOT_ANCHORED'],
      ['batch never anchored on this contract', uneven, [], 'ROOT_NOT_ON_CHAIN'],
      ['anchoring block hash is not canonical', { ...main, anchor: { ...main.anchor!, blockHash: `0x${'ab'.repeat(32)}` } }, [], 'BLOCK_HASH_MISMATCH'],
      ['another chain id', { ...main, anchor: { ...main.anchor!, chainId: 1 } }, [], 'CHAIN_ID_MISMATCH'],
      ['not enough confirmations', main, ['--confirmations', '1000000'], 'NOT_CONFIRMED'],
    ];
    const results = await Promise.all(cases.map(([, bundle, extra]) => verify(bundle, extra)));
    cases.forEach(([what, , , code], k) => {
      expect(results[k], what).toEqual({ exitCode: VERIFY_EXIT_CODES[code], out: expect.objectContaining({ result: 'FAIL', code }) });
    });
  }, 300_000);

  it('every verify failure code has its own exit code, clear of the general ones', () => {
    const codes = Object.values(VERIFY_EXIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const general of [0, 1, 2, 3, 70]) expect(codes).not.toContain(general);
  });
});
