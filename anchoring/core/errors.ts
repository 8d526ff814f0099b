/**
 * Errors of the anchoring code (canonical JSON, leaves, Merkle trees, proof bundles, verifier).
 *
 * Why not `core/errors.ts`? The anchoring code is pure and standalone on purpose: it imports
 * nothing else from this repo, so the same files can back `claimtrail verify`, a browser review
 * page or a third party's own checker without dragging the app in. `AnchoringError` therefore
 * mirrors `ClaimtrailError`'s shape (`code`, `retriable`, `cause`) instead of extending it, so
 * the edge (CLI exit code, HTTP status, BullMQ `UnrecoverableError`) translates both the same way.
 * Match on the class or on `code`, never on the message.
 */

/** Base of every error the anchoring code throws on purpose. */
export class AnchoringError extends Error {
  /** Stable, machine-readable identifier such as `INVALID_ARGUMENT` or `PROOF_INVALID`. */
  readonly code: AnchoringErrorCode;
  /**
   * Always false: anchoring code is pure, so the same input fails the same way every time.
   * Kept so these errors have the same shape as the app's `ClaimtrailError`.
   */
  readonly retriable: boolean = false;

  constructor(code: AnchoringErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** The caller passed something we cannot use (bad hex, out-of-range number, ...). Caller's fault. */
export class InvalidArgumentError extends AnchoringError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** Something we guarantee did not hold (e.g. a proof we just made does not verify): our bug. */
export class InvariantError extends AnchoringError {
  constructor(message: string) {
    super('INVARIANT_VIOLATED', message);
  }
}

/** Throws {@link InvariantError} when `condition` is false. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

/** Why a proof bundle did not verify. Each code is also the `code` of the matching error. */
export const VERIFICATION_CODES = [
  // Pure checks (verify-proof.ts `verifyProofBundle`).
  'FORMAT_INVALID',
  'LEAF_MISMATCH',
  'PROOF_INVALID',
  'BATCH_ID_MISMATCH',
  'POSITION_OUTSIDE_BATCH',
  // Pure checks added by claimtrail-proof-v2 (verify-proof-v2.ts `verifyProofBundleV2`).
  'DECISION_ID_MISMATCH',
  'EPOCH_PROOF_INVALID',
  'EPOCH_ID_MISMATCH',
  'FLAGGED_PROOF_INVALID',
  // Chain checks (verify-proof.ts `verifyAgainstChain`).
  'NOT_ANCHORED',
  'CHAIN_ID_MISMATCH',
  'ROOT_NOT_ON_CHAIN',
  'ROOT_DIFFERS_ON_CHAIN',
  'BLOCK_HASH_MISMATCH',
  'NOT_CONFIRMED',
  // Claim holder's check (verify-proof.ts `verifyClaimBytes`).
  'SALT_MISSING',
  'COMMITMENT_MISMATCH',
  // Trust (trust.ts `checkTrust`, verify-proof.ts `verifyAgainstChain`): the bundle names a
  // deployment the verifier does not trust; or the verifier gave no trust anchor at all, so only
  // the bundle's internal consistency was checked (never a PASS).
  'CONTRACT_NOT_TRUSTED',
  'UNPINNED',
] as const;
export type VerificationCode = (typeof VERIFICATION_CODES)[number];

/**
 * Every code this core throws. It mirrors part of the app's registry (core/error-codes.ts)
 * without importing it; a unit test checks that each code here is registered there.
 */
export const ANCHORING_ERROR_CODES = ['INVALID_ARGUMENT', 'INVARIANT_VIOLATED', ...VERIFICATION_CODES] as const;
export type AnchoringErrorCode = (typeof ANCHORING_ERROR_CODES)[number];

/**
 * A proof bundle (or part of it) does not prove what it claims. `expected` is the value the
 * bundle (or the chain) states, `computed` the value we recomputed, when a single pair applies.
 */
export class VerificationError extends AnchoringError {
  declare readonly code: VerificationCode;
  readonly expected: string | undefined;
  readonly computed: string | undefined;

  constructor(
    code: VerificationCode,
    message: string,
    options: { expected?: string; computed?: string; cause?: unknown } = {},
  ) {
    super(code, message, options);
    this.expected = options.expected;
    this.computed = options.computed;
  }
}

/** The bundle's `leaf` is not the leaf its decision fields encode to. */
export class LeafMismatchError extends VerificationError {
  readonly expectedLeaf: string;
  readonly computedLeaf: string;
  constructor(message: string, expectedLeaf: string, computedLeaf: string) {
    super('LEAF_MISMATCH', message, { expected: expectedLeaf, computed: computedLeaf });
    this.expectedLeaf = expectedLeaf;
    this.computedLeaf = computedLeaf;
  }
}

/** Walking the proof from the leaf does not arrive at the stated root. */
export class ProofMismatchError extends VerificationError {
  readonly expectedRoot: string;
  readonly computedRoot: string;
  constructor(expectedRoot: string, computedRoot: string) {
    super('PROOF_INVALID', `proof leads to root ${computedRoot}, expected ${expectedRoot}`, {
      expected: expectedRoot,
      computed: computedRoot,
    });
    this.expectedRoot = expectedRoot;
    this.computedRoot = computedRoot;
  }
}

/** A proof bundle is not valid `claimtrail-proof-v1` JSON; `issues` lists every problem found. */
export class BundleFormatError extends VerificationError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], options: { cause?: unknown } = {}) {
    super('FORMAT_INVALID', `invalid proof bundle:\n  - ${issues.join('\n  - ')}`, options);
    this.issues = issues;
  }
}
