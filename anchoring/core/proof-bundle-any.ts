/**
 * One loader for every proof-bundle format: it reads `format` and hands the document to that
 * format's own validating loader (proof-bundle.ts for `claimtrail-proof-v1`, proof-bundle-v2.ts
 * for `claimtrail-proof-v2`). v1 bundles stay readable forever.
 */
import { BundleFormatError } from './errors.ts';
import { loadProofBundle, PROOF_BUNDLE_FORMAT, type ProofBundle } from './proof-bundle.ts';
import { loadProofBundleV2, PROOF_BUNDLE_V2_FORMAT, type ProofBundleV2 } from './proof-bundle-v2.ts';
import { parseText } from './schema-parts.ts';
import { show } from './validate.ts';

/** A loaded bundle of any known format; narrow on `format`. */
export type AnyProofBundle = ProofBundle | ProofBundleV2;

/** Every bundle format this core reads. */
export const PROOF_BUNDLE_FORMATS = Object.freeze([PROOF_BUNDLE_FORMAT, PROOF_BUNDLE_V2_FORMAT] as const);

/**
 * Reads a proof bundle of any known format.
 * @param json the parsed JSON value, or the JSON text itself.
 * @returns the bundle, deeply frozen, validated by its format's loader.
 * @throws BundleFormatError listing every problem, or naming the unknown `format`.
 */
export function loadAnyProofBundle(json: unknown): AnyProofBundle {
  const value = parseText(json);
  const format = bundleFormatOf(value);
  if (format === PROOF_BUNDLE_FORMAT) return loadProofBundle(value);
  if (format === PROOF_BUNDLE_V2_FORMAT) return loadProofBundleV2(value);
  throw unknownFormat(value);
}

/** The `format` member of a parsed document when it names a known format, else undefined. */
export function bundleFormatOf(value: unknown): (typeof PROOF_BUNDLE_FORMATS)[number] | undefined {
  const format = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>).format : undefined;
  return PROOF_BUNDLE_FORMATS.find((f) => f === format);
}

/** The FORMAT_INVALID error for a document whose `format` is missing or unknown. */
export function unknownFormat(value: unknown): BundleFormatError {
  const format = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).format : undefined;
  return new BundleFormatError([`format: must be one of ${PROOF_BUNDLE_FORMATS.join(', ')}, got ${show(format)}`]);
}
