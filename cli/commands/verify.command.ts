import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BundleFormatError, type VerificationCode } from '../../anchoring/core/errors.ts';
import { loadAnyProofBundle, type AnyProofBundle } from '../../anchoring/core/proof-bundle-any.ts';
import type { ProofBundle } from '../../anchoring/core/proof-bundle.ts';
import type { ProofBundleV2 } from '../../anchoring/core/proof-bundle-v2.ts';
import { loadTrustFile, pinnedTrust, type TrustAnchor } from '../../anchoring/core/trust.ts';
import { verifyAgainstChain, verifyProofBundle } from '../../anchoring/core/verify-proof.ts';
import { connectProvider } from '../../anchoring/chain/provider.ts';
import { InvalidArgumentError, InvariantError } from '../../core/errors.ts';
import { DecisionIndexRepository } from '../../anchoring/decision-index.repository.ts';
import { createPool } from '../../infra/db/pool.ts';
import type { Pool } from 'pg';
import { EpochRepository } from '../../anchoring/epoch.repository.ts';
import { FlaggedRootRepository } from '../../anchoring/flagged-root.repository.ts';
import { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import { openMemberKeys } from '../../privacy/master-key.ts';
import { devMasterKeySource } from '../dev-sources.ts';
import { configuredTrustAnchor } from '../../proofs/configured-trust.ts';
import { pinBundleV2, toReport, verifyBundleOnChain, verifyBundleV2OnChain } from '../../proofs/bundle-verification.ts';
import { ProofService, ProofUnavailableError } from '../../proofs/proof.service.ts';
import { commandContext, positiveInt } from '../context.ts';
import { verifyOriginalCommand } from './verify-original.ts';

/**
 * Exit code of `claimtrail verify` for each way a decision can fail to verify: one code per
 * failure, so a script can tell "tampered" (11-14) from "not on chain / wrong chain" (15-19)
 * from "try again later" (20) from "not the trusted contract" (23) from "nothing to pin to" (24)
 * without parsing text. The range 10-24 stays clear of the CLI's
 * general codes (0 ok, 1 check failed, 2 bad input, 3 service unavailable, 70 internal error).
 * Fixed once published: never renumber, only append.
 */
export const VERIFY_EXIT_CODES: Readonly<Record<VerificationCode, number>> = Object.freeze({
  FORMAT_INVALID: 10,
  LEAF_MISMATCH: 11,
  PROOF_INVALID: 12,
  BATCH_ID_MISMATCH: 13,
  POSITION_OUTSIDE_BATCH: 14,
  NOT_ANCHORED: 15,
  CHAIN_ID_MISMATCH: 16,
  ROOT_NOT_ON_CHAIN: 17,
  ROOT_DIFFERS_ON_CHAIN: 18,
  BLOCK_HASH_MISMATCH: 19,
  NOT_CONFIRMED: 20,
  SALT_MISSING: 21,
  COMMITMENT_MISMATCH: 22,
  CONTRACT_NOT_TRUSTED: 23,
  UNPINNED: 24,
  DECISION_ID_MISMATCH: 25,
  EPOCH_PROOF_INVALID: 26,
  EPOCH_ID_MISMATCH: 27,
  FLAGGED_PROOF_INVALID: 28,
});

/** One line per failure for `verify --help` (and the README): code, exit code, meaning. */
const FAILURE_MEANINGS: Readonly<Record<VerificationCode, string>> = {
  FORMAT_INVALID: 'not a valid claimtrail-proof-v1 or claimtrail-proof-v2 bundle',
  LEAF_MISMATCH: 'decision fields do not encode to the stated leaf (decision altered)',
  PROOF_INVALID: 'the Merkle proof does not lead from the leaf to the batch root',
  BATCH_ID_MISMATCH: 'batch id is not the id of the stated log range',
  POSITION_OUTSIDE_BATCH: "decision's log position lies outside the batch range",
  NOT_ANCHORED: 'bundle has no anchor (exported before the batch was anchored)',
  CHAIN_ID_MISMATCH: 'the RPC node is on another chain than the bundle',
  ROOT_NOT_ON_CHAIN: 'the contract has no batch with this id (v2: no epoch or flagged root by the trusted anchorer)',
  ROOT_DIFFERS_ON_CHAIN: 'the contract records another root or count for this batch (v2: epoch or flagged root)',
  BLOCK_HASH_MISMATCH: 'anchoring block is not the stated one on the canonical chain (reorg?)',
  NOT_CONFIRMED: 'fewer confirmations than required; may pass later',
  SALT_MISSING: 'bundle carries no salt (claim-bytes check only)',
  COMMITMENT_MISMATCH: 'claim bytes and salt do not match the commitment (claim-bytes check only)',
  CONTRACT_NOT_TRUSTED: 'bundle names a chain, contract or (v2) anchorer other than the trusted one (--contract/--anchorer/--trust)',
  UNPINNED: 'no trust anchor (v2: none naming the anchorer): bundle consistent, chain NOT checked (never PASS)',
  DECISION_ID_MISMATCH: 'decision id is not derived from its instance, run, model and input (v2)',
  EPOCH_PROOF_INVALID: 'the batch entry does not lead to the epoch root (v2)',
  EPOCH_ID_MISMATCH: 'epoch id is not derived from its instance and sequence (v2)',
  FLAGGED_PROOF_INVALID: 'the flagged proof does not lead from the leaf to the flagged root (v2)',
};

/** The exit-code table as `verify --help` prints it. */
export function verifyExitCodeTable(): string {
  const rows = (Object.keys(VERIFY_EXIT_CODES) as VerificationCode[]).map(
    (code) => `  ${String(VERIFY_EXIT_CODES[code]).padStart(2)}  ${code.padEnd(22)} ${FAILURE_MEANINGS[code]}`,
  );
  return ['Exit codes:', '   0  PASS (prints the chain id, the trusted contract asked and, for v2, the trusted anchorer)', ...rows, '   2  bad input (unreadable bundle or trust file, missing --rpc, conflicting flags)', '   3  RPC node or database unreachable', '  70  internal error'].join('\n');
}

interface VerifyOptions {
  bundle?: string;
  rpc?: string;
  contract?: string;
  chainId?: number;
  anchorer?: string;
  trust?: string;
  decisionId?: string;
  confirmations?: number;
  original?: string;
  json: boolean;
}

function readBundle(path: string): AnyProofBundle {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`cannot read bundle ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  // Text that is not JSON is a bundle that is not valid: FORMAT_INVALID, like any other defect.
  // The format member picks the loader (v1 or v2); an unknown format is FORMAT_INVALID too.
  return loadAnyProofBundle(text);
}

function report(result: { ok: boolean; code?: string; message?: string; [k: string]: unknown }, json: boolean): void {
  // UNPINNED is not a failure of the bundle but not a PASS either: it gets its own word.
  const word = result.ok ? 'PASS' : result.code === 'UNPINNED' ? 'UNPINNED' : 'FAIL';
  if (json) process.stdout.write(`${JSON.stringify({ result: word, ...result })}\n`);
  else if (result.ok) process.stdout.write(`PASS  ${passLine(result)}\n`);
  else process.stdout.write(`${word}  ${word === result.code ? '' : `${result.code}: `}${result.message}\n`);
  // The FAIL line is the message; the exit code says which check failed. Set here rather than
  // thrown: cli/main.ts maps errors to the general codes only (1 for any failed check).
  if (!result.ok) process.exitCode = VERIFY_EXIT_CODES[result.code as VerificationCode] ?? 1;
}

/** The PASS sentence: what was proven, and on which trusted chain, contract and (v2) anchorer. */
function passLine(r: Record<string, unknown>): string {
  const where = `chain ${String(r.chainId)} at contract ${String(r.contract)}`;
  if (r.epochId === undefined) return `decision ${String(r.decisionId)} of claim ${String(r.claimId)} is in batch ${String(r.batchId)}, anchored on ${where} in tx ${String(r.txHash)} (${String(r.confirmations)} confirmations)`;
  const flagged = r.flaggedConfirmations === undefined ? '' : `; flagged root anchored early (${String(r.flaggedConfirmations)} confirmations)`;
  return `decision ${String(r.decisionId)} of claim ${String(r.claimId)} is in batch ${String(r.batchId)} of epoch ${String(r.epochId)}, anchored on ${where} by anchorer ${String(r.anchorer)} in tx ${String(r.txHash)} (${String(r.confirmations)} confirmations${flagged})`;
}

/**
 * The trust anchor of `verify --bundle`: `--contract [--chain-id]`, else `--trust FILE`, else the
 * TRUST_FILE environment variable; null when none is given. Read from the caller only: the
 * bundle's own `anchor.contract` is what is being checked, so it can never be the anchor.
 * @throws InvalidArgumentError for conflicting flags or an unreadable / invalid trust file (exit 2).
 */
function trustAnchorOf(opts: VerifyOptions): TrustAnchor | null {
  if (opts.contract && opts.trust) throw new InvalidArgumentError('give --contract or --trust, not both');
  if (opts.chainId !== undefined && !opts.contract) throw new InvalidArgumentError('--chain-id pins the chain of --contract: give --contract too');
  if (opts.anchorer !== undefined && !opts.contract) throw new InvalidArgumentError('--anchorer pins the anchorer of --contract: give --contract too (a trust file lists anchorers itself)');
  if (opts.contract) return pinnedTrust({ contract: opts.contract, chainId: opts.chainId, anchorer: opts.anchorer });
  // Like CHAIN_RPC_URL, read straight from the environment: bundle mode runs on a third party's
  // machine without claimtrail's config (core/config.ts documents and validates TRUST_FILE).
  const file = opts.trust ?? process.env.TRUST_FILE;
  if (!file) return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`cannot read trust file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return loadTrustFile(text);
}

/** `connect` for an unpinned verification: verifyAgainstChain never asks the chain then. */
function noChain(): never {
  throw new InvariantError('an unpinned verification asked the chain');
}

/** The RPC URL of bundle mode: the flag or CHAIN_RPC_URL (no claimtrail config on a regulator's machine). */
function rpcOf(opts: VerifyOptions): string {
  const rpc = opts.rpc ?? process.env.CHAIN_RPC_URL;
  if (!rpc) throw new InvalidArgumentError('--rpc <url> is required with --bundle (or set CHAIN_RPC_URL)');
  return rpc;
}

/** `verify --bundle` of a v1 bundle: DecisionAnchor's `batchOf` on the trusted contract. */
async function verifyBundleFileV1(bundle: ProofBundle, trust: TrustAnchor | null, opts: VerifyOptions, confirmations: { minConfirmations: number }): Promise<void> {
  const ids = { claimId: bundle.decision.claimId, decisionId: bundle.decision.decisionId, batchId: bundle.batch.batchId, txHash: bundle.anchor?.txHash ?? null };
  if (trust === null) {
    // Nothing to pin to: the bundle alone, no chain (asking the bundle's contract proves nothing).
    return report({ ...ids, ...toReport(await verifyAgainstChain(bundle, noChain, { ...confirmations, trust: null })) }, opts.json);
  }
  const rpc = rpcOf(opts);
  const pure = verifyProofBundle(bundle);
  if (!pure.ok) return report({ ...ids, ...pure }, opts.json);
  const provider = await connectProvider(rpc);
  try {
    return report({ ...ids, ...toReport(await verifyBundleOnChain(bundle, provider, { ...confirmations, trust })) }, opts.json);
  } finally {
    provider.destroy();
  }
}

/**
 * `verify --bundle` of a v2 bundle: the pure checks, then the trusted deployment that matches the
 * bundle's chain, contract and anchorer (`pinBundleV2`: UNPINNED without one naming the anchorer),
 * then `epochOf(anchorer, epochId)` (and `flaggedRootOf`) on that contract only.
 */
async function verifyBundleFileV2(bundle: ProofBundleV2, trust: TrustAnchor | null, opts: VerifyOptions, confirmations: { minConfirmations: number }): Promise<void> {
  const ids = {
    format: bundle.format,
    claimId: bundle.decision.claimId,
    decisionId: bundle.decision.decisionId,
    batchId: bundle.batch.batchId,
    epochId: bundle.epoch.epochId,
    txHash: bundle.anchor.txHash,
  };
  const pinned = pinBundleV2(bundle, trust);
  if (!pinned.ok) return report({ ...ids, ...pinned }, opts.json);
  const rpc = rpcOf(opts);
  const provider = await connectProvider(rpc);
  try {
    return report({ ...ids, ...(await verifyBundleV2OnChain(bundle, provider, pinned.pin, confirmations)) }, opts.json);
  } finally {
    provider.destroy();
  }
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('Verify a decision: leaf recomputation, Merkle proof, root on the TRUSTED contract under its batch id, block inclusion and confirmations. A claim id is checked against the configured deployment; a bundle against --contract / --trust / TRUST_FILE, never against the contract it names. Prints PASS (with chain id and contract), FAIL with the reason, or UNPINNED; exit 0 on PASS, one distinct exit code per failure (table below).')
    .argument('[claim-id]', 'verify the newest decision about this claim, from PostgreSQL and the chain')
    .option('--decision-id <id>', 'verify this decision instead of the newest for the claim')
    .option('--bundle <file>', 'verify a proof bundle file (exported by `claimtrail proof`); needs --rpc and a trust anchor')
    .option('--rpc <url>', 'EVM JSON-RPC URL (default: CHAIN_RPC_URL)')
    .option('--contract <address>', 'with --bundle: the DecisionAnchor you trust; the chain is asked there, and a bundle naming another fails CONTRACT_NOT_TRUSTED')
    .option('--chain-id <n>', 'with --contract: the chain it is on (default: the RPC node\'s chain)', positiveInt)
    .option('--anchorer <address>', 'with --contract, for v2 bundles: the anchoring address you trust (v2 needs it: without it, or a trust file listing anchorers, a v2 bundle is UNPINNED)')
    .option('--trust <file>', 'with --bundle: the insurer\'s claimtrail-trust-v1 file (default: TRUST_FILE); see docs/proof-bundle.md#trust')
    .option('--confirmations <n>', 'confirmations required (default: CONFIRMATIONS)', positiveInt)
    .option('--original <file>', 'with a claim id: check that the insurer\'s original file (X12 or FHIR) holds this claim\'s committed bytes, with the sealed salt (exit 40-42: cli/commands/verify-original.ts)')
    .option('--json', 'print one JSON object', false)
    .addHelpText('after', `\n${verifyExitCodeTable()}\n\nExamples:\n  claimtrail verify CLM-000123\n  claimtrail proof CLM-000123 > proof.json && claimtrail verify --bundle proof.json --rpc http://127.0.0.1:8545 --contract 0x5FbDB2315678afecb367f032d93F642f64180aa3\n  claimtrail verify --bundle proof-v2.json --rpc http://127.0.0.1:8545 --contract <DecisionAnchorV2> --anchorer <insurer anchorer>\n  claimtrail verify --bundle proof.json --rpc https://rpc.example --trust insurer-trust.json\n\nBoth bundle formats are read (claimtrail-proof-v1, claimtrail-proof-v2, by their format member). Without --contract, --trust or TRUST_FILE, verify --bundle checks the bundle alone and prints UNPINNED (exit 24): a bundle names its own contract, and anyone can deploy one. A v2 bundle is UNPINNED too when the trust anchor names no anchorer.`)
    .action(async (claimId: string | undefined, opts: VerifyOptions) => {
      if (Boolean(claimId) === Boolean(opts.bundle) && !opts.decisionId) throw new InvalidArgumentError('give a claim id, --decision-id or --bundle (one of them)');
      if (opts.original && !opts.bundle) return verifyOriginalCommand(claimId, opts.decisionId, opts.original, opts.json);
      if (opts.bundle) {
        // Bundle mode: the file, an RPC URL and a trust anchor; no database, no claimtrail config.
        const trust = trustAnchorOf(opts);
        let bundle: AnyProofBundle;
        try {
          bundle = readBundle(opts.bundle);
        } catch (error) {
          if (error instanceof BundleFormatError) return report({ ok: false, code: 'FORMAT_INVALID', message: error.message }, opts.json);
          throw error;
        }
        const confirmations = { minConfirmations: opts.confirmations ?? 1 };
        if (bundle.format === 'claimtrail-proof-v2') return verifyBundleFileV2(bundle, trust, opts, confirmations);
        return verifyBundleFileV1(bundle, trust, opts, confirmations);
      }
      const { config } = commandContext();
      const pool = createPool(config.database.url, config.database.schema, 2);
      const provider = await connectProvider(opts.rpc ?? config.chain.rpcUrl);
      try {
        if (opts.contract || opts.trust) throw new InvalidArgumentError('--contract and --trust are for --bundle; a claim id is verified against the configured deployment (DECISION_ANCHOR_ADDRESS)');
        // Pinned to this installation's deployment, never to the contract a stored row names.
        const trust = await configuredTrustAnchor(config, provider);
        const service = new ProofService({ index: new DecisionIndexRepository(pool), provider, v2: v2Repositories(pool) });
        const decision = await findDecision(service, claimId, opts.decisionId);
        report(await service.verify(decision, { minConfirmations: opts.confirmations ?? config.chain.confirmations, trust }), opts.json);
      } finally {
        provider.destroy();
        await pool.end();
      }
    });
}

/** The v2 read side of the decision index: epochs and flagged trees. */
function v2Repositories(pool: Pool) {
  return { epochs: new EpochRepository(pool), flaggedRoots: new FlaggedRootRepository(pool) };
}

/**
 * The decision a claim id or decision id names. An unknown id is the caller's input, so it leaves
 * as InvalidArgumentError (exit 2 with the index's message), not as an internal error (70).
 */
async function findDecision(service: ProofService, claimId: string | undefined, decisionId: string | undefined) {
  try {
    return await service.findDecision({ ...(claimId ? { claimId } : {}), ...(decisionId ? { decisionId } : {}) });
  } catch (error) {
    if (error instanceof ProofUnavailableError) throw new InvalidArgumentError(error.message, { cause: error });
    throw error;
  }
}

export function registerProofCommand(program: Command): void {
  program
    .command('proof')
    .description('Export the proof bundle of a decision to stdout: claimtrail-proof-v2 for a decision batched as a v2 leaf (once its epoch is anchored), claimtrail-proof-v1 otherwise.')
    .argument('[claim-id]', 'the newest decision about this claim')
    .option('--decision-id <id>', 'this decision instead of the newest for the claim')
    .option('--include-salt', 'include the commitment salt, read from the sealed store with the PHI master key (only for someone entitled to the claim data; refused for an erased member)', false)
    .addHelpText('after', '\nExample: claimtrail proof CLM-000123 > proof.json')
    .action(async (claimId: string | undefined, opts: { decisionId?: string; includeSalt: boolean }) => {
      if (!claimId && !opts.decisionId) throw new InvalidArgumentError('give a claim id or --decision-id');
      const { config, log } = commandContext();
      const pool = createPool(config.database.url, config.database.schema, 2);
      const provider = await connectProvider(config.chain.rpcUrl);
      try {
        const index = new DecisionIndexRepository(pool);
        const decision = await findDecision(new ProofService({ index, provider }), claimId, opts.decisionId);
        // The sealed store (PHI master key) only when needed: for the salt on an explicit
        // --include-salt, or for a legacy v1 decision whose reason texts were sealed away.
        const needsSealed = opts.includeSalt || ('reasonsV1Hash' in decision && decision.reasonsV1Hash !== undefined);
        const sealed = needsSealed ? new ClaimPayloadRepository(pool, await openMemberKeys(pool, devMasterKeySource(config), log)) : undefined;
        const service = new ProofService({ index, provider, v2: v2Repositories(pool), ...(sealed ? { sealed } : {}) });
        const bundle = await service.bundle(decision, { includeSalt: opts.includeSalt });
        process.stdout.write(`${JSON.stringify(bundle, null, 2)}\n`);
      } finally {
        provider.destroy();
        await pool.end();
      }
    });
}
