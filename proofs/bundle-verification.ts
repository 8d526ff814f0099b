/**
 * Verifying a proof bundle of either format against a caller's trust anchor, for the CLI
 * (`claimtrail verify --bundle`) and the server side (`verify <claim-id>`, compliance verify).
 *
 * v1 bundles go through `verifyAgainstChain` (DecisionAnchor, `batchOf`). v2 bundles need a trust
 * anchor that names the ANCHORER as well as the contract (docs/proof-format-v2.md#trust-anchor):
 * on a DecisionAnchorV2 every record is keyed by its anchorer, and any holder of the anchoring
 * role could record our epoch id with another root. A v2 trust anchor without an anchorer is
 * therefore not a pin: the result is UNPINNED, never PASS.
 */
import type { JsonRpcProvider } from 'ethers';
import { VerificationError } from '../anchoring/core/errors.ts';
import type { ProofBundle } from '../anchoring/core/proof-bundle.ts';
import type { ProofBundleV2 } from '../anchoring/core/proof-bundle-v2.ts';
import { checkTrust, type TrustAnchor, type TrustedDeployment } from '../anchoring/core/trust.ts';
import { verifyAgainstChain, type ChainVerifyResult, type VerifyFailure } from '../anchoring/core/verify-proof.ts';
import { verifyAgainstChainV2, verifyProofBundleV2, type PinnedDeployment } from '../anchoring/core/verify-proof-v2.ts';
import { createAnchorReader } from './anchor-reader.ts';
import { createAnchorReaderV2 } from './anchor-reader-v2.ts';

/** A failure as reported (no `ok` literal type games at the edges). */
export type FailureReport = Omit<VerifyFailure, 'ok'> & { ok: false };

/**
 * What a chain verification reports, bigints as decimal strings (JSON, HTTP and CLI output). On
 * PASS: the trusted chain id and contract that were asked and, for v2, the trusted anchorer whose
 * namespace held the epoch (print them: a PASS means "anchored on THIS contract by THIS key").
 */
export type BundleReport =
  | { ok: true; confirmations: string; flaggedConfirmations?: string; chainId: string; contract: string; anchorer?: string }
  | FailureReport;

/**
 * The deployments of `trust` a bundle of `version` may be pinned to: those of that version and
 * those whose version is not stated (a `--contract` pin). A v2 bundle naming a listed v1
 * contract is therefore CONTRACT_NOT_TRUSTED, not a question put to the wrong contract.
 */
export function deploymentsFor(trust: TrustAnchor, version: 'v1' | 'v2'): TrustAnchor {
  return { deployments: trust.deployments.filter((d: TrustedDeployment) => d.version === undefined || d.version === version) };
}

/**
 * The single deployment a v2 bundle is checked against, from the caller's trust anchor: the
 * deployment matching the bundle's chain id and contract, with the bundle's anchorer among its
 * listed anchorers. Pure: runs the offline checks first, so a tampered bundle fails with its own
 * code whatever the trust anchor.
 * @param trust the caller's trust anchor (flags, trust file, configured deployment); null: none.
 * @returns the pin, or the first failure: a pure check's code, CONTRACT_NOT_TRUSTED (chain id,
 *   contract or anchorer not trusted), or UNPINNED (no trust anchor, or a trusted deployment that
 *   names no anchorer).
 */
export function pinBundleV2(bundle: ProofBundleV2, trust: TrustAnchor | null): { ok: true; pin: PinnedDeployment } | FailureReport {
  const pure = verifyProofBundleV2(bundle);
  if (!pure.ok) return pure;
  const { anchor } = bundle;
  if (trust === null) {
    return unpinned(`bundle is internally consistent, but no trust anchor was given: it names contract ${anchor.contract} and anchorer ${anchor.anchorer} on chain ${anchor.chainId}, which anyone can deploy and write; the chain was not asked`);
  }
  let match: TrustedDeployment;
  try {
    match = checkTrust(anchor, deploymentsFor(trust, 'v2'));
  } catch (error) {
    if (error instanceof VerificationError) return { ok: false, code: error.code, message: error.message, ...extra(error) };
    throw error;
  }
  if (match.anchorers === undefined) {
    return unpinned(`the trusted deployment ${match.contract} names no anchorer: a v2 bundle needs one (--anchorer with --contract, or deployments[].anchorers in the trust file); any holder of ANCHORER_ROLE could have recorded epoch ${bundle.epoch.epochId}; the chain was not asked`);
  }
  // checkTrust found anchor.anchorer among match.anchorers; without a chain id in the pin, the
  // bundle's chain id is pinned and the reader's chain is then checked against it.
  return { ok: true, pin: { chainId: match.chainId ?? anchor.chainId, contract: match.contract, anchorer: anchor.anchorer.toLowerCase() } };
}

/**
 * Verifies a v2 bundle on the chain at the pinned deployment (never the bundle's contract).
 * @throws RPC errors unchanged (an unreachable node is a failure, not an answer).
 */
export async function verifyBundleV2OnChain(bundle: ProofBundleV2, provider: JsonRpcProvider, pin: PinnedDeployment, options: { minConfirmations: number }): Promise<BundleReport> {
  const result = await verifyAgainstChainV2(bundle, createAnchorReaderV2(provider, pin.contract), pin, options);
  if (!result.ok) return result;
  return {
    ok: true,
    confirmations: result.confirmations.toString(),
    ...(result.flaggedConfirmations === undefined ? {} : { flaggedConfirmations: result.flaggedConfirmations.toString() }),
    chainId: String(pin.chainId),
    contract: pin.contract,
    ...(pin.anchorer === undefined ? {} : { anchorer: pin.anchorer }),
  };
}

/**
 * Verifies a v1 bundle through `provider` against the v1 deployments of `trust` (never the
 * bundle's contract); `trust: null` checks the bundle alone and answers UNPINNED at best.
 */
export function verifyBundleOnChain(bundle: ProofBundle, provider: JsonRpcProvider, options: { minConfirmations: number; trust: TrustAnchor | null }): Promise<ChainVerifyResult> {
  const trust = options.trust === null ? null : deploymentsFor(options.trust, 'v1');
  return verifyAgainstChain(bundle, (contract) => createAnchorReader(provider, contract), { ...options, trust });
}

/** The v1 chain result with bigints as decimal strings. */
export function toReport(result: ChainVerifyResult): BundleReport {
  return result.ok ? { ok: true, confirmations: result.confirmations.toString(), chainId: result.chainId.toString(), contract: result.contract } : result;
}

function unpinned(message: string): FailureReport {
  return { ok: false, code: 'UNPINNED', message };
}

function extra(error: VerificationError): { expected?: string; computed?: string } {
  return { ...(error.expected === undefined ? {} : { expected: error.expected }), ...(error.computed === undefined ? {} : { computed: error.computed }) };
}
