import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationCode } from '../../anchoring/core/errors.ts';
import type { ProofBundle } from '../../anchoring/core/proof-bundle.ts';
import type { ProofBundleV2 } from '../../anchoring/core/proof-bundle-v2.ts';
import { getAddress } from 'ethers';
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
import { VECTORS_V2_FILE, type VectorFileV2, type VectorV2 } from '../vectors/generate-v2.ts';
import { deployTestAnchorV2, type Landed, type TestAnchorer, type TestDeploymentV2 } from '../support/decision-anchor-v2.ts';
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

/**
 * The v2 vectors (tests/vectors/verifier-vectors-v2.json) through `claimtrail verify --bundle`
 * against anvil. The file's chain state is set up on a freshly deployed DecisionAnchorV2: our
 * anchorer records epochs 12 and 13 and the flagged root, a second anchorer on the same contract
 * records our epoch 12 id with another root (the file's foreign anchorer). The vector file's fixed
 * addresses are mapped, case kept, onto the real contract and keys, and every base gets the real
 * anchoring transactions. Then the CLI must PASS the happy paths (printing chain, contract and
 * anchorer), exit with each failure's own code for a sample of every category (all of
 * `internal-node-onchain`, `root-empty-proof` and the foreign-contract / foreign-anchorer
 * vectors), never PASS unpinned, and report the chain-side failures of v2.
 */
describe('claimtrail verify --bundle on the v2 verifier test vectors', () => {
  const v2 = JSON.parse(readFileSync(VECTORS_V2_FILE, 'utf8')) as VectorFileV2;
  let dir: string;
  let provider: Awaited<ReturnType<typeof connectProvider>>;
  let deployment: TestDeploymentV2;
  let ours: TestAnchorer;
  let foreign: TestAnchorer;
  /** Vector-file address (lowercase) -> real address (lowercase). */
  let addresses: Map<string, string>;
  let epochTx: Map<string, Landed>;
  let flaggedTx: Map<string, Landed>;
  let pin: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'claimtrail-vectors-v2-'));
    provider = await connectProvider(config.chain.rpcUrl);
    deployment = await deployTestAnchorV2(provider);
    ours = deployment.anchorer;
    foreign = await deployment.addAnchorer();
    const vectorForeign = v2.chain.epochs.find((e) => e.anchorer !== v2.trustAnchor.anchorer)!.anchorer;
    addresses = new Map([[v2.chain.contract, deployment.address.toLowerCase()], [v2.trustAnchor.anchorer, ours.address], [vectorForeign, foreign.address]]);
    epochTx = new Map();
    for (const e of v2.chain.epochs) {
      const who = e.anchorer === v2.trustAnchor.anchorer ? ours : foreign;
      const landed = await who.anchorEpoch(e.epochId, e.root, e.batchCount, e.leafCount);
      if (who === ours) epochTx.set(e.epochId, landed);
    }
    flaggedTx = new Map();
    for (const f of v2.chain.flaggedRoots) flaggedTx.set(f.root, await ours.anchorFlaggedRoot(f.root, f.count));
    pin = ['--contract', deployment.address, '--chain-id', String(deployment.chainId), '--anchorer', ours.address];
  }, 120_000);

  afterAll(() => {
    provider?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The vector file's addresses replaced by the real ones, keeping each occurrence's case form. */
  function mapAddresses<T>(value: T): T {
    const text = JSON.stringify(value).replace(/0x[0-9a-fA-F]{40}/g, (found) => {
      const real = addresses.get(found.toLowerCase());
      if (real === undefined) return found;
      if (found === found.toLowerCase()) return real;
      if (found === getAddress(found)) return getAddress(real);
      return `0x${real.slice(2).toUpperCase()}`;
    });
    return JSON.parse(text) as T;
  }

  /** A base as exported from the real chain: real contract, anchorer and anchoring transactions. */
  function anchoredBase(base: number): ProofBundleV2 {
    const bundle = mapAddresses(v2.bases[base]!.bundle);
    const epoch = epochTx.get(bundle.epoch.epochId.toLowerCase())!;
    return {
      ...bundle,
      ...(bundle.flagged ? { flagged: { ...bundle.flagged, ...flaggedTx.get(bundle.flagged.root.toLowerCase())! } } : {}),
      anchor: { ...bundle.anchor, ...epoch },
    };
  }

  function vectorBundle(v: VectorV2): unknown {
    return applyPatch(anchoredBase(v.base), mapAddresses(v.patch));
  }

  let n = 0;
  async function verify(bundle: unknown, flags: string[] = pin): Promise<CliResult & { stdout: string }> {
    const path = join(dir, `bundle-${n++}.json`);
    writeFileSync(path, JSON.stringify(bundle));
    const args = ['cli/main.ts', 'verify', '--bundle', path, '--rpc', config.chain.rpcUrl, ...flags];
    const result = await run(process.execPath, args, { env: { PATH: process.env.PATH ?? '' } }).then(
      ({ stdout }) => ({ exitCode: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ exitCode: error.code, stdout: error.stdout }),
    );
    const json = flags.includes('--json');
    return { exitCode: result.exitCode, stdout: result.stdout, out: json ? (JSON.parse(result.stdout) as CliResult['out']) : { result: result.stdout.split(/\s/)[0]! } };
  }

  async function inChunks<T, R>(items: readonly T[], f: (item: T) => Promise<R>): Promise<R[]> {
    const out: R[] = [];
    for (let i = 0; i < items.length; i += 3) out.push(...(await Promise.all(items.slice(i, i + 3).map(f))));
    return out;
  }

  it('PASS, exit 0, for happy paths of both epochs, flagged or not, printing chain id, contract and anchorer', async () => {
    const bases = [0, 2, 22].map((b) => v2.vectors.find((v) => v.category === 'happy' && v.base === b)!);
    const results = await inChunks(bases, (v) => verify(vectorBundle(v), [...pin, '--json']));
    for (const r of results) {
      expect(r).toMatchObject({ exitCode: 0, out: { result: 'PASS', chainId: String(deployment.chainId), contract: deployment.address, anchorer: ours.address } });
    }
    expect(results[1]!.out).toHaveProperty('flaggedConfirmations');
    const text = await verify(vectorBundle(bases[0]!));
    expect(text.stdout).toMatch(new RegExp(`^PASS .* on chain ${deployment.chainId} at contract ${deployment.address} by anchorer ${ours.address} `));
  }, 300_000);

  it("every v2 category, sampled, exits with its expected result's code; all internal-node, empty-proof and foreign-anchor vectors are rejected", async () => {
    const categories = [...new Set(v2.vectors.map((v) => v.category))];
    const sample = categories.map((c) => {
      const all = v2.vectors.filter((v) => v.category === c);
      const failing = all.filter((v) => !v.expected.ok);
      // Categories whose vectors all verify (labels) are sampled by their first vector, a claimId edit.
      return failing.length > 0 ? failing[Math.floor(failing.length / 2)]! : all[0]!;
    });
    const attacks = v2.vectors.filter((v) => v.category === 'internal-node-onchain' || v.category === 'root-empty-proof' || (v.category === 'untrusted-anchor' && !v.expected.ok));
    const runs = [...new Set([...sample, ...attacks])];
    const results = await inChunks(runs, (v) => verify(vectorBundle(v), [...pin, '--json']));
    const wrong: string[] = [];
    runs.forEach((v, k) => {
      const want = v.expected.ok ? { exitCode: 0, result: 'PASS' } : { exitCode: VERIFY_EXIT_CODES[v.expected.code], result: 'FAIL', code: v.expected.code };
      const got = results[k]!;
      if (got.exitCode !== want.exitCode || got.out.result !== want.result || ('code' in want && got.out.code !== want.code)) wrong.push(`${v.id} (${v.description}): exit ${got.exitCode} ${JSON.stringify(got.out)}`);
    });
    expect(wrong).toEqual([]);
    expect(attacks.every((v) => !v.expected.ok)).toBe(true);
    // One sample per category, and every attack vector (the samples of the three attack categories among them).
    expect(runs.length).toBe(categories.length + attacks.length - 3);
    console.log(`v2 CLI walk: ${runs.length} vectors over ${categories.length} categories`);
  }, 600_000);

  it('UNPINNED (exit 24), never PASS: no trust anchor, or --contract without --anchorer', async () => {
    const happy = vectorBundle(v2.vectors.find((v) => v.category === 'happy')!);
    const [none, noAnchorer, tampered] = await Promise.all([
      verify(happy, []),
      verify(happy, ['--contract', deployment.address, '--chain-id', String(deployment.chainId)]),
      verify(vectorBundle(v2.vectors.find((v) => v.category === 'leaf-bitflip')!), ['--json']),
    ]);
    for (const r of [none, noAnchorer]) {
      expect(r.exitCode).toBe(24);
      expect(r.stdout).toMatch(/^UNPINNED /);
      expect(r.stdout).not.toMatch(/PASS/);
    }
    expect(noAnchorer.stdout).toContain('names no anchorer');
    expect(tampered).toMatchObject({ exitCode: VERIFY_EXIT_CODES.LEAF_MISMATCH, out: { result: 'FAIL', code: 'LEAF_MISMATCH' } });
  }, 300_000);

  it('--trust: a v2 deployment listing the anchorer PASSes; without anchorers UNPINNED; listed as v1 CONTRACT_NOT_TRUSTED', async () => {
    const happy = vectorBundle(v2.vectors.find((v) => v.category === 'happy')!);
    const trustFile = (deployment_: Record<string, unknown>) => {
      const path = join(dir, `trust-${n++}.json`);
      writeFileSync(path, JSON.stringify({ format: 'claimtrail-trust-v1', issuer: 'vectors', deployments: [{ chainId: deployment.chainId, contract: deployment.address, deploymentBlock: 0, ...deployment_ }] }));
      return ['--trust', path, '--json'];
    };
    const [listed, unlisted, v1, other] = await Promise.all([
      verify(happy, trustFile({ version: 'v2', anchorers: [foreign.address, ours.address] })),
      verify(happy, trustFile({ version: 'v2' })),
      verify(happy, trustFile({ version: 'v1' })),
      verify(happy, trustFile({ version: 'v2', anchorers: [foreign.address] })),
    ]);
    expect(listed).toMatchObject({ exitCode: 0, out: { result: 'PASS', anchorer: ours.address } });
    expect(unlisted).toMatchObject({ exitCode: 24, out: { result: 'UNPINNED' } });
    expect(v1).toMatchObject({ exitCode: 23, out: { code: 'CONTRACT_NOT_TRUSTED' } });
    expect(other).toMatchObject({ exitCode: 23, out: { code: 'CONTRACT_NOT_TRUSTED' } });
  }, 300_000);

  it('chain-side failures of v2 each have their own exit code', async () => {
    const plain = anchoredBase(3);
    const flagged = anchoredBase(2);
    const stranger = await deployment.addAnchorer();
    const asForeign = { ...plain, anchor: { ...plain.anchor, anchorer: foreign.address } };
    const asStranger = { ...plain, anchor: { ...plain.anchor, anchorer: stranger.address } };
    const json = (flags: string[]) => [...flags, '--json'];
    const withAnchorer = (a: string) => json(['--contract', deployment.address, '--chain-id', String(deployment.chainId), '--anchorer', a]);
    const cases: Array<[string, unknown, string[], VerificationCode]> = [
      ['the foreign anchorer recorded our epoch id with another root', asForeign, withAnchorer(foreign.address), 'ROOT_DIFFERS_ON_CHAIN'],
      ['an anchorer that recorded nothing', asStranger, withAnchorer(stranger.address), 'ROOT_NOT_ON_CHAIN'],
      ['epoch batch count differs from the chain', { ...plain, epoch: { ...plain.epoch, batchCount: plain.epoch.batchCount + 1 } }, json(pin), 'ROOT_DIFFERS_ON_CHAIN'],
      ['flagged count differs from the chain', { ...flagged, flagged: { ...flagged.flagged!, count: flagged.flagged!.count + 1 } }, json(pin), 'ROOT_DIFFERS_ON_CHAIN'],
      ['anchoring block hash is not canonical', { ...plain, anchor: { ...plain.anchor, blockHash: `0x${'ab'.repeat(32)}` } }, json(pin), 'BLOCK_HASH_MISMATCH'],
      ['flagged block is not the recorded one', { ...flagged, flagged: { ...flagged.flagged!, blockNumber: 1 } }, json(pin), 'BLOCK_HASH_MISMATCH'],
      ['another chain id, contract pinned without --chain-id', { ...plain, anchor: { ...plain.anchor, chainId: 1 } }, json(['--contract', deployment.address, '--anchorer', ours.address]), 'CHAIN_ID_MISMATCH'],
      ['not enough confirmations', plain, json([...pin, '--confirmations', '1000000']), 'NOT_CONFIRMED'],
    ];
    const results = await inChunks(cases, ([, bundle, flags]) => verify(bundle, flags));
    cases.forEach(([what, , , code], k) => {
      expect(results[k], what).toMatchObject({ exitCode: VERIFY_EXIT_CODES[code], out: { result: 'FAIL', code } });
    });
  }, 300_000);

  it('--anchorer without --contract is bad input (exit 2)', async () => {
    const r = await verify(vectorBundle(v2.vectors.find((v) => v.category === 'happy')!), ['--anchorer', ours.address]);
    expect(r.exitCode).toBe(2);
  });
});
