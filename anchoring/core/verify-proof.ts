/**
 * Verifying a proof bundle.
 *
 * {@link verifyProofBundle} is pure: it proves the decision is a leaf of the batch root the
 * bundle states, and that the batch is the log range it claims. {@link verifyAgainstChain} adds
 * the chain: the bundle names a deployment the caller trusts (trust.ts), and the root is the one
 * that TRUSTED DecisionAnchor recorded for the batch id, in the block the bundle names, with
 * enough confirmations. The chain is reached only through the {@link AnchorReader} the caller's
 * `connect` returns for the trusted address; this file does no I/O of its own.
 *
 * Results are values, not exceptions: a bundle that does not verify is an answer, not a failure.
 * {@link assertProofBundle} is the throwing form for code that wants typed errors instead.
 */
import { BundleFormatError, InvalidArgumentError, VerificationError, type VerificationCode } from './errors.ts';
import { claimCommitment } from './commitment.ts';
import { loadProofBundle, type ProofBundle } from './proof-bundle.ts';
import { loadAnyProofBundle, type AnyProofBundle } from './proof-bundle-any.ts';
import { checkBundle } from './proof-checks.ts';
import { checkTrust, type TrustAnchor } from './trust.ts';
import { bytes32 } from './validate.ts';

/** Why a bundle did not verify. */
export interface VerifyFailure {
  ok: false;
  code: VerificationCode;
  message: string;
  /** What the bundle (or the chain) states, when one value is at stake. */
  expected?: string;
  /** What we recomputed (or read from the chain). */
  computed?: string;
}

/** Outcome of {@link verifyProofBundle}. */
export type VerifyResult = { ok: true } | VerifyFailure;

/**
 * Outcome of {@link verifyAgainstChain}. On PASS: `confirmations` counts the anchoring block
 * itself; `chainId` and `contract` are the trusted deployment that was asked (print them: a PASS
 * means "anchored on THIS contract").
 */
export type ChainVerifyResult = { ok: true; confirmations: bigint; chainId: bigint; contract: string } | VerifyFailure;

/**
 * Read access to the chain, bound to ONE DecisionAnchor contract: the trusted one
 * {@link verifyAgainstChain} passes to the caller's `connect`.
 */
export interface AnchorReader {
  /** `DecisionAnchor.batchOf(batchId)`, or null when the contract has no such batch. */
  batchOf(batchId: string): Promise<{ root: string; leafCount: number; anchoredBlock: bigint } | null>;
  /** Current head block number. */
  blockNumber(): Promise<bigint>;
  /** Hash of the canonical block at height `n`, or null when there is none. */
  blockHash(n: bigint): Promise<string | null>;
  /** The chain's EIP-155 chain id. */
  chainId(): Promise<bigint>;
}

/** Options for {@link verifyAgainstChain}. */
export interface VerifyAgainstChainOptions {
  /**
   * Blocks, counting the anchoring block, that must be on the canonical chain before the anchor
   * is trusted (1 = included). Integer >= 1. Pick it for the chain's reorg depth.
   */
  minConfirmations: number;
  /**
   * The deployments the caller trusts (a pin, a trust file, the configured deployment). Never
   * derive it from the bundle. `null`: no trust anchor, so the chain is not asked and the result
   * is at best UNPINNED (the bundle is internally consistent), never a PASS.
   */
  trust: TrustAnchor | null;
}

/**
 * Verifies a bundle up to (not including) the chain: format, leaf, proof, batch id, position.
 * @param input a bundle as parsed JSON (or JSON text); it is loaded through `loadProofBundle`.
 * @returns `{ ok: true }`, or the first failure: FORMAT_INVALID, LEAF_MISMATCH, PROOF_INVALID,
 *   BATCH_ID_MISMATCH or POSITION_OUTSIDE_BATCH.
 */
export function verifyProofBundle(input: unknown): VerifyResult {
  const loaded = load(input);
  if (loaded instanceof VerificationError) return failure(loaded);
  const error = checkBundle(loaded);
  return error ? failure(error) : { ok: true };
}

/**
 * The throwing form of {@link verifyProofBundle}.
 * @returns the loaded bundle, verified.
 * @throws BundleFormatError, LeafMismatchError, ProofMismatchError, or VerificationError with
 *   code BATCH_ID_MISMATCH / POSITION_OUTSIDE_BATCH.
 */
export function assertProofBundle(input: unknown): ProofBundle {
  const bundle = loadProofBundle(input);
  const error = checkBundle(bundle);
  if (error) throw error;
  return bundle;
}

/**
 * Verifies a bundle, then its anchor on the chain:
 *
 * 1. everything {@link verifyProofBundle} checks;
 * 2. NOT_ANCHORED: the bundle has an anchor;
 * 3. UNPINNED when `opts.trust` is null (nothing below runs); CONTRACT_NOT_TRUSTED when the
 *    bundle's chain id / contract / anchorer is not a trusted deployment (`checkTrust`);
 *    then `connect(trusted.contract)` gives the reader: the bundle's own address is never asked;
 * 4. CHAIN_ID_MISMATCH: the reader's chain is the bundle's chain;
 * 5. ROOT_NOT_ON_CHAIN: the trusted contract has the batch id;
 * 6. ROOT_DIFFERS_ON_CHAIN: it recorded the bundle's root and leaf count for it;
 * 7. BLOCK_HASH_MISMATCH: the bundle's (blockNumber, blockHash) is the canonical block in which
 *    the contract recorded the batch (fails after a reorg moved or dropped the anchoring tx);
 * 8. NOT_CONFIRMED: head - anchoredBlock + 1 >= minConfirmations. This one may pass later.
 *
 * WARNING: `connect` must return a reader bound to the address it is given, on a node you trust
 * to follow the canonical chain; this function cannot check either. `txHash` is informational and
 * not checked: the contract's state and the block hash are what prove the anchor.
 * @param connect builds the reader for the trusted contract address (called at most once).
 * @throws InvalidArgumentError when `minConfirmations` is not an integer >= 1 or the reader
 *   returns a malformed root; reader errors (RPC failures) propagate unchanged.
 */
export async function verifyAgainstChain(
  input: unknown,
  connect: (contract: string) => AnchorReader,
  opts: VerifyAgainstChainOptions,
): Promise<ChainVerifyResult> {
  const min = opts?.minConfirmations;
  if (!Number.isInteger(min) || min < 1) {
    throw new InvalidArgumentError(`minConfirmations must be an integer >= 1, got ${String(min)}`);
  }
  const loaded = load(input);
  if (loaded instanceof VerificationError) return failure(loaded);
  const offChain = checkBundle(loaded);
  if (offChain) return failure(offChain);

  const { anchor, batch } = loaded;
  if (anchor === null) {
    return fail('NOT_ANCHORED', `batch ${batch.batchId} has no anchor in this bundle (exported before anchoring)`);
  }

  if (opts.trust === null) {
    return fail('UNPINNED', `bundle is internally consistent, but no trusted contract was given: it says ${anchor.contract} on chain ${anchor.chainId}, which anyone can deploy; the chain was not asked`);
  }
  let trusted: { contract: string };
  try {
    trusted = checkTrust(anchor, opts.trust);
  } catch (error) {
    if (error instanceof VerificationError) return failure(error);
    throw error;
  }
  const reader = connect(trusted.contract);

  const chainId = await reader.chainId();
  if (chainId !== BigInt(anchor.chainId)) {
    return fail('CHAIN_ID_MISMATCH', `reader is on chain ${chainId}, bundle was anchored on chain ${anchor.chainId}`, {
      expected: String(anchor.chainId),
      computed: String(chainId),
    });
  }

  const onChain = await reader.batchOf(batch.batchId);
  if (onChain === null) {
    return fail('ROOT_NOT_ON_CHAIN', `contract ${trusted.contract} has no batch ${batch.batchId}`, { expected: batch.root });
  }
  const chainRoot = bytes32(onChain.root, 'reader.batchOf().root');
  if (chainRoot !== batch.root.toLowerCase()) {
    return fail('ROOT_DIFFERS_ON_CHAIN', `contract records root ${chainRoot} for batch ${batch.batchId}, bundle says ${batch.root}`, {
      expected: batch.root.toLowerCase(),
      computed: chainRoot,
    });
  }
  if (onChain.leafCount !== batch.leafCount) {
    return fail(
      'ROOT_DIFFERS_ON_CHAIN',
      `contract records ${onChain.leafCount} leaves for batch ${batch.batchId}, bundle says ${batch.leafCount}`,
      { expected: String(batch.leafCount), computed: String(onChain.leafCount) },
    );
  }

  const stated = BigInt(anchor.blockNumber);
  if (onChain.anchoredBlock !== stated) {
    return fail(
      'BLOCK_HASH_MISMATCH',
      `contract recorded batch ${batch.batchId} in block ${onChain.anchoredBlock}, bundle says block ${stated}`,
      { expected: String(stated), computed: String(onChain.anchoredBlock) },
    );
  }
  const canonicalHash = await reader.blockHash(stated);
  if (canonicalHash === null || canonicalHash.toLowerCase() !== anchor.blockHash.toLowerCase()) {
    return fail(
      'BLOCK_HASH_MISMATCH',
      `block ${stated} is ${canonicalHash ?? 'missing'} on the canonical chain, bundle says ${anchor.blockHash} (reorg?)`,
      { expected: anchor.blockHash.toLowerCase(), computed: canonicalHash?.toLowerCase() ?? 'none' },
    );
  }

  const head = await reader.blockNumber();
  const confirmations = head - onChain.anchoredBlock + 1n;
  if (confirmations < BigInt(min)) {
    return fail('NOT_CONFIRMED', `anchor has ${confirmations} confirmation(s), ${min} required; try again later`, {
      expected: String(min),
      computed: String(confirmations),
    });
  }
  return { ok: true, confirmations, chainId, contract: trusted.contract };
}

/**
 * For whoever holds the claim: checks that `claimBytes` and the bundle's salt (v1 or v2) recompute the
 * decision's claim commitment. Run {@link verifyProofBundle} too: this only ties the claim to the
 * decision, not the decision to the root.
 * @returns `{ ok: true }`, or FORMAT_INVALID, SALT_MISSING (bundle made without the salt) or
 *   COMMITMENT_MISMATCH (these are not the claim's bytes, or not its salt).
 * @throws InvalidArgumentError when `claimBytes` is empty or not a Uint8Array.
 */
export function verifyClaimBytes(input: unknown, claimBytes: Uint8Array): VerifyResult {
  // Any format: v1 and v2 bundles carry the commitment and the optional salt the same way.
  let loaded: AnyProofBundle | BundleFormatError;
  try {
    loaded = loadAnyProofBundle(input);
  } catch (error) {
    if (!(error instanceof BundleFormatError)) throw error;
    loaded = error;
  }
  if (loaded instanceof VerificationError) return failure(loaded);
  if (loaded.salt === undefined) return fail('SALT_MISSING', 'bundle carries no salt: ask its issuer for a bundle with the salt');
  const computed = claimCommitment(claimBytes, loaded.salt);
  const expected = loaded.decision.claimCommitment.toLowerCase();
  if (computed !== expected) {
    return fail('COMMITMENT_MISMATCH', `claim bytes and salt commit to ${computed}, decision says ${expected}`, { expected, computed });
  }
  return { ok: true };
}

/** Loads a bundle, returning the format error instead of throwing it. */
function load(input: unknown): ProofBundle | BundleFormatError {
  try {
    return loadProofBundle(input);
  } catch (error) {
    if (error instanceof BundleFormatError) return error;
    throw error;
  }
}

function failure(error: VerificationError): VerifyFailure {
  return fail(error.code, error.message, { expected: error.expected, computed: error.computed });
}

function fail(
  code: VerificationCode,
  message: string,
  extra: { expected?: string | undefined; computed?: string | undefined } = {},
): VerifyFailure {
  return {
    ok: false,
    code,
    message,
    ...(extra.expected === undefined ? {} : { expected: extra.expected }),
    ...(extra.computed === undefined ? {} : { computed: extra.computed }),
  };
}
