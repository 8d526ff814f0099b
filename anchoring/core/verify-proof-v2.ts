/**
 * Verifying a `claimtrail-proof-v2` bundle.
 *
 * {@link verifyProofBundleV2} is pure: the decision is a leaf of its batch root, the batch entry a
 * leaf of the epoch root, the flagged proof (if any) leads to the flagged root, and every id is
 * the one its inputs derive. Given a trust anchor it also checks that the bundle names the trusted
 * chain, contract and anchorer. {@link verifyAgainstChainV2} adds the chain, read through an
 * {@link AnchorReaderV2} bound to the TRUSTED contract: the epoch (and flagged root) were recorded
 * by that anchorer, in the blocks the bundle names, with enough confirmations.
 *
 * The trust anchor is always the caller's (a flag, a trust file), never the bundle's: a bundle can
 * name any contract, and a contract it names proves nothing (docs/proof-format-v2.md#trust-anchor).
 * Results are values, not exceptions: a bundle that does not verify is an answer, not a failure.
 */
import { BundleFormatError, InvalidArgumentError, VerificationError, type VerificationCode } from './errors.ts';
import { loadProofBundleV2, type ProofBundleV2 } from './proof-bundle-v2.ts';
import { checkBundleV2 } from './proof-checks-v2.ts';
import { bytes32, show } from './validate.ts';
import type { VerifyFailure, VerifyResult } from './verify-proof.ts';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * What the verifier trusts, from its caller (CLI flags, a `claimtrail-trust-v1` file), never from
 * the bundle. Addresses in either case.
 */
export interface PinnedDeployment {
  /** EIP-155 chain id of the trusted deployment. */
  chainId: number;
  /** Address of the trusted DecisionAnchorV2 contract. */
  contract: string;
  /**
   * The trusted anchorer (the insurer's anchoring address). WARNING: when omitted, an epoch
   * recorded by ANY address holding ANCHORER_ROLE on the trusted contract is accepted; pin it
   * whenever the contract may be shared.
   */
  anchorer?: string;
}

/** Options of {@link verifyProofBundleV2}. */
export interface VerifyProofBundleV2Options {
  /** When given, a bundle naming another chain id, contract or anchorer fails CONTRACT_NOT_TRUSTED. */
  trust?: PinnedDeployment;
}

/**
 * Read access to the chain, bound to ONE DecisionAnchorV2 contract: the trust anchor's (building it
 * is the caller's job, e.g. the CLI from an RPC URL and the trust anchor).
 */
export interface AnchorReaderV2 {
  /** Address of the contract this reader reads; must be the trust anchor's. */
  readonly contract: string;
  /**
   * `DecisionAnchorV2.epochOf(anchorer, epochId)`, or null when that anchorer recorded no such
   * epoch. `batchCount` / `leafCount`, when the reader reports them, are compared with the bundle's.
   */
  epochOf(anchorer: string, epochId: string): Promise<{ root: string; blockNumber: bigint; batchCount?: number; leafCount?: bigint } | null>;
  /** `DecisionAnchorV2.flaggedRootOf(anchorer, root)`, or null when that anchorer never anchored the root. */
  flaggedRootOf(anchorer: string, root: string): Promise<{ count: number; blockNumber: bigint } | null>;
  /** Current head block number. */
  blockNumber(): Promise<bigint>;
  /** Hash of the canonical block at height `n`, or null when there is none. */
  blockHash(n: bigint): Promise<string | null>;
  /** The chain's EIP-155 chain id. */
  chainId(): Promise<bigint>;
}

/** Options of {@link verifyAgainstChainV2}. */
export interface VerifyAgainstChainV2Options {
  /** Blocks, counting the anchoring block, that must be canonical before an anchor is trusted (1 = included). Integer >= 1. */
  minConfirmations: number;
}

/**
 * Outcome of {@link verifyAgainstChainV2}: confirmations of the epoch anchor, and of the flagged
 * anchor when the bundle has one (each counts its anchoring block).
 */
export type ChainVerifyResultV2 = { ok: true; confirmations: bigint; flaggedConfirmations?: bigint } | VerifyFailure;

/**
 * Verifies a v2 bundle without the chain: format, leaf, decision id, batch proof, batch id,
 * position, epoch proof, epoch id, flagged proof and, with `options.trust`, the trust anchor.
 * @param input a bundle as parsed JSON (or JSON text), loaded through `loadProofBundleV2`.
 * @returns `{ ok: true }` or the first failure: FORMAT_INVALID, LEAF_MISMATCH, DECISION_ID_MISMATCH,
 *   PROOF_INVALID, BATCH_ID_MISMATCH, POSITION_OUTSIDE_BATCH, EPOCH_PROOF_INVALID,
 *   EPOCH_ID_MISMATCH, FLAGGED_PROOF_INVALID, CONTRACT_NOT_TRUSTED.
 * @throws InvalidArgumentError when `options.trust` is malformed.
 */
export function verifyProofBundleV2(input: unknown, options: VerifyProofBundleV2Options = {}): VerifyResult {
  const trust = options.trust === undefined ? undefined : validatePinnedDeployment(options.trust);
  const loaded = load(input);
  if (loaded instanceof VerificationError) return failure(loaded);
  const error = checkBundleV2(loaded) ?? (trust === undefined ? undefined : checkTrust(loaded, trust));
  return error ? failure(error) : { ok: true };
}

/**
 * The throwing form of {@link verifyProofBundleV2}.
 * @returns the loaded bundle, verified.
 * @throws BundleFormatError, LeafMismatchError, ProofMismatchError, or VerificationError with its code.
 */
export function assertProofBundleV2(input: unknown, options: VerifyProofBundleV2Options = {}): ProofBundleV2 {
  const trust = options.trust === undefined ? undefined : validatePinnedDeployment(options.trust);
  const bundle = loadProofBundleV2(input);
  const error = checkBundleV2(bundle) ?? (trust === undefined ? undefined : checkTrust(bundle, trust));
  if (error) throw error;
  return bundle;
}

/**
 * Verifies a v2 bundle, then its anchor on the chain:
 *
 * 1. everything {@link verifyProofBundleV2} checks, the trust anchor included (CONTRACT_NOT_TRUSTED);
 * 2. CHAIN_ID_MISMATCH: the reader's chain is the trusted chain;
 * 3. ROOT_NOT_ON_CHAIN: the trusted contract holds `epochOf(anchorer, epochId)`;
 * 4. ROOT_DIFFERS_ON_CHAIN: it holds the bundle's epoch root (and batch / leaf counts when reported);
 * 5. BLOCK_HASH_MISMATCH: it recorded the epoch in `anchor.blockNumber`, whose canonical hash is `anchor.blockHash`;
 * 6. with a `flagged` section: ROOT_NOT_ON_CHAIN / ROOT_DIFFERS_ON_CHAIN (count) / BLOCK_HASH_MISMATCH
 *    for `flaggedRootOf(anchorer, flagged.root)` and the flagged block;
 * 7. NOT_CONFIRMED: each anchor has `minConfirmations` (may pass later).
 *
 * `anchorer` is the bundle's `anchor.anchorer`, which step 1 pinned to `trust.anchorer` when set.
 * WARNING: `reader` must read `trust.contract` (checked against `reader.contract`) on a node you
 * trust to follow the canonical chain. Transaction hashes are informational and not checked.
 * @throws InvalidArgumentError when `trust` or `minConfirmations` is malformed, the reader is bound
 *   to another contract, or it returns a malformed root; reader errors propagate unchanged.
 */
export async function verifyAgainstChainV2(
  input: unknown,
  reader: AnchorReaderV2,
  trust: PinnedDeployment,
  opts: VerifyAgainstChainV2Options,
): Promise<ChainVerifyResultV2> {
  const min = opts?.minConfirmations;
  if (!Number.isInteger(min) || min < 1) throw new InvalidArgumentError(`minConfirmations must be an integer >= 1, got ${String(min)}`);
  const pinned = validatePinnedDeployment(trust);
  if (typeof reader?.contract !== 'string' || reader.contract.toLowerCase() !== pinned.contract) {
    throw new InvalidArgumentError(`reader reads contract ${show(reader?.contract)}, but the trust anchor is ${pinned.contract}: bind the reader to the trusted contract`);
  }
  const loaded = load(input);
  if (loaded instanceof VerificationError) return failure(loaded);
  const offChain = checkBundleV2(loaded) ?? checkTrust(loaded, pinned);
  if (offChain) return failure(offChain);

  const { anchor, epoch, flagged } = loaded;
  const anchorer = anchor.anchorer.toLowerCase();
  const chainId = await reader.chainId();
  if (chainId !== BigInt(pinned.chainId)) {
    return fail('CHAIN_ID_MISMATCH', `reader is on chain ${chainId}, the trusted deployment is on chain ${pinned.chainId}`, {
      expected: String(pinned.chainId),
      computed: String(chainId),
    });
  }

  const onChain = await reader.epochOf(anchorer, epoch.epochId.toLowerCase());
  if (onChain === null) {
    return fail('ROOT_NOT_ON_CHAIN', `contract ${pinned.contract} has no epoch ${epoch.epochId} anchored by ${anchorer}`, { expected: epoch.root.toLowerCase() });
  }
  const chainRoot = bytes32(onChain.root, 'reader.epochOf().root');
  if (chainRoot !== epoch.root.toLowerCase()) {
    return fail('ROOT_DIFFERS_ON_CHAIN', `contract records root ${chainRoot} for epoch ${epoch.epochId}, bundle says ${epoch.root}`, {
      expected: epoch.root.toLowerCase(),
      computed: chainRoot,
    });
  }
  if (onChain.batchCount !== undefined && onChain.batchCount !== epoch.batchCount) {
    return fail('ROOT_DIFFERS_ON_CHAIN', `contract records ${onChain.batchCount} batches for epoch ${epoch.epochId}, bundle says ${epoch.batchCount}`, {
      expected: String(epoch.batchCount),
      computed: String(onChain.batchCount),
    });
  }
  if (onChain.leafCount !== undefined && onChain.leafCount !== BigInt(epoch.leafCount)) {
    return fail('ROOT_DIFFERS_ON_CHAIN', `contract records ${onChain.leafCount} decisions for epoch ${epoch.epochId}, bundle says ${epoch.leafCount}`, {
      expected: epoch.leafCount,
      computed: String(onChain.leafCount),
    });
  }
  const epochBlock = await checkBlock(reader, `epoch ${epoch.epochId}`, onChain.blockNumber, anchor.blockNumber, anchor.blockHash);
  if (epochBlock) return epochBlock;

  let flaggedBlock: bigint | undefined;
  if (flagged !== undefined) {
    const root = flagged.root.toLowerCase();
    const record = await reader.flaggedRootOf(anchorer, root);
    if (record === null) return fail('ROOT_NOT_ON_CHAIN', `contract ${pinned.contract} has no flagged root ${root} anchored by ${anchorer}`, { expected: root });
    if (record.count !== flagged.count) {
      return fail('ROOT_DIFFERS_ON_CHAIN', `contract records ${record.count} decisions under flagged root ${root}, bundle says ${flagged.count}`, {
        expected: String(flagged.count),
        computed: String(record.count),
      });
    }
    const mismatch = await checkBlock(reader, `flagged root ${root}`, record.blockNumber, flagged.blockNumber, flagged.blockHash);
    if (mismatch) return mismatch;
    flaggedBlock = record.blockNumber;
  }

  const head = await reader.blockNumber();
  const confirmations = head - onChain.blockNumber + 1n;
  const flaggedConfirmations = flaggedBlock === undefined ? undefined : head - flaggedBlock + 1n;
  for (const [what, n] of [['epoch', confirmations], ['flagged', flaggedConfirmations]] as const) {
    if (n !== undefined && n < BigInt(min)) {
      return fail('NOT_CONFIRMED', `${what} anchor has ${n} confirmation(s), ${min} required; try again later`, { expected: String(min), computed: String(n) });
    }
  }
  return flaggedConfirmations === undefined ? { ok: true, confirmations } : { ok: true, confirmations, flaggedConfirmations };
}

/**
 * Checks a trust anchor's shape and returns it normalised (addresses lowercased, frozen).
 * @throws InvalidArgumentError naming the bad field.
 */
export function validatePinnedDeployment(trust: PinnedDeployment): Readonly<PinnedDeployment> {
  if (typeof trust !== 'object' || trust === null) throw new InvalidArgumentError(`trust anchor must be an object, got ${show(trust)}`);
  if (!Number.isInteger(trust.chainId) || trust.chainId < 1) throw new InvalidArgumentError(`trust.chainId must be an integer >= 1, got ${show(trust.chainId)}`);
  if (typeof trust.contract !== 'string' || !ADDRESS.test(trust.contract)) {
    throw new InvalidArgumentError(`trust.contract must be 0x followed by 40 hex digits, got ${show(trust.contract)}`);
  }
  if (trust.anchorer !== undefined && (typeof trust.anchorer !== 'string' || !ADDRESS.test(trust.anchorer))) {
    throw new InvalidArgumentError(`trust.anchorer must be 0x followed by 40 hex digits, got ${show(trust.anchorer)}`);
  }
  return Object.freeze({
    chainId: trust.chainId,
    contract: trust.contract.toLowerCase(),
    ...(trust.anchorer === undefined ? {} : { anchorer: trust.anchorer.toLowerCase() }),
  });
}

/** CONTRACT_NOT_TRUSTED when the bundle's chain id, contract or anchorer is not the trust anchor's. */
function checkTrust(bundle: ProofBundleV2, trust: Readonly<PinnedDeployment>): VerificationError | undefined {
  const { anchor } = bundle;
  const pairs: Array<[string, string, string | undefined]> = [
    ['chain id', String(anchor.chainId), String(trust.chainId)],
    ['contract', anchor.contract.toLowerCase(), trust.contract],
    ['anchorer', anchor.anchorer.toLowerCase(), trust.anchorer],
  ];
  for (const [what, stated, trusted] of pairs) {
    if (trusted !== undefined && stated !== trusted) {
      return new VerificationError('CONTRACT_NOT_TRUSTED', `bundle names ${what} ${stated}, the trust anchor is ${trusted}`, { expected: trusted, computed: stated });
    }
  }
  return undefined;
}

/** BLOCK_HASH_MISMATCH unless the record's block is the stated one and canonical with the stated hash. */
async function checkBlock(reader: AnchorReaderV2, what: string, recorded: bigint, statedNumber: number, statedHash: string): Promise<VerifyFailure | undefined> {
  const stated = BigInt(statedNumber);
  if (recorded !== stated) {
    return fail('BLOCK_HASH_MISMATCH', `contract recorded ${what} in block ${recorded}, bundle says block ${stated}`, { expected: String(stated), computed: String(recorded) });
  }
  const canonical = await reader.blockHash(stated);
  if (canonical === null || canonical.toLowerCase() !== statedHash.toLowerCase()) {
    return fail('BLOCK_HASH_MISMATCH', `block ${stated} is ${canonical ?? 'missing'} on the canonical chain, bundle says ${statedHash} (reorg?)`, {
      expected: statedHash.toLowerCase(),
      computed: canonical?.toLowerCase() ?? 'none',
    });
  }
  return undefined;
}

/** Loads a v2 bundle, returning the format error instead of throwing it. */
function load(input: unknown): ProofBundleV2 | BundleFormatError {
  try {
    return loadProofBundleV2(input);
  } catch (error) {
    if (error instanceof BundleFormatError) return error;
    throw error;
  }
}

function failure(error: VerificationError): VerifyFailure {
  return fail(error.code, error.message, { expected: error.expected, computed: error.computed });
}

function fail(code: VerificationCode, message: string, extra: { expected?: string | undefined; computed?: string | undefined } = {}): VerifyFailure {
  return {
    ok: false,
    code,
    message,
    ...(extra.expected === undefined ? {} : { expected: extra.expected }),
    ...(extra.computed === undefined ? {} : { computed: extra.computed }),
  };
}
