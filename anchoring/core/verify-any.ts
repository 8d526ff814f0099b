/**
 * One entry point for verifying a proof bundle of any format without the chain: it reads
 * `format` and runs that format's verifier (verify-proof.ts for v1, verify-proof-v2.ts for v2).
 * The chain steps stay per format (`verifyAgainstChain`, `verifyAgainstChainV2`): they read
 * different contracts.
 */
import { BundleFormatError } from './errors.ts';
import { PROOF_BUNDLE_FORMAT } from './proof-bundle.ts';
import { PROOF_BUNDLE_V2_FORMAT } from './proof-bundle-v2.ts';
import { bundleFormatOf, unknownFormat } from './proof-bundle-any.ts';
import { parseText } from './schema-parts.ts';
import { verifyProofBundle, type VerifyResult } from './verify-proof.ts';
import { validatePinnedDeployment, verifyProofBundleV2, type VerifyProofBundleV2Options } from './verify-proof-v2.ts';

/**
 * Verifies a bundle of any known format offline.
 * @param input a bundle as parsed JSON, or JSON text.
 * @param options.trust the caller's trust anchor. v2: chain id, contract and (when set) anchorer
 *   must match, else CONTRACT_NOT_TRUSTED. v1: chain id and contract of its anchor must match (v1
 *   has no anchorer; an unanchored v1 bundle names nothing to pin and is judged on its proof alone).
 * @returns `{ ok: true }` or the first failure, as the format's verifier reports it; an unknown or
 *   missing `format` (or text that is not JSON) is FORMAT_INVALID.
 * @throws InvalidArgumentError when `options.trust` is malformed.
 */
export function verifyAnyProofBundle(input: unknown, options: VerifyProofBundleV2Options = {}): VerifyResult {
  let value: unknown;
  try {
    value = parseText(input);
  } catch (error) {
    if (error instanceof BundleFormatError) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
  const format = bundleFormatOf(value);
  if (format === PROOF_BUNDLE_V2_FORMAT) return verifyProofBundleV2(value, options);
  if (format === PROOF_BUNDLE_FORMAT) return verifyV1(value, options);
  const error = unknownFormat(value);
  return { ok: false, code: error.code, message: error.message };
}

function verifyV1(value: unknown, options: VerifyProofBundleV2Options): VerifyResult {
  const trust = options.trust === undefined ? undefined : validatePinnedDeployment(options.trust);
  const result = verifyProofBundle(value);
  if (!result.ok || trust === undefined) return result;
  // verifyProofBundle passed, so the document is a valid v1 bundle.
  const anchor = (value as { anchor: { chainId: number; contract: string } | null }).anchor;
  if (anchor === null) return result;
  if (anchor.chainId !== trust.chainId) {
    return notTrusted('chain id', String(anchor.chainId), String(trust.chainId));
  }
  if (anchor.contract.toLowerCase() !== trust.contract) return notTrusted('contract', anchor.contract.toLowerCase(), trust.contract);
  return result;
}

function notTrusted(what: string, stated: string, trusted: string): VerifyResult {
  return { ok: false, code: 'CONTRACT_NOT_TRUSTED', message: `bundle names ${what} ${stated}, the trust anchor is ${trusted}`, expected: trusted, computed: stated };
}
