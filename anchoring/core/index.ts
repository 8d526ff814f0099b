/**
 * The anchoring package's public API: leaf encoding, batches, Merkle trees, proof bundles, trust
 * anchors and verification. Pure: no I/O, nothing imported from the rest of the repo (see errors.ts).
 */
export * from './errors.ts';
export { canonicalBytes, canonicalJson } from './canonical-json.ts';
export { claimCommitment, newSalt } from './commitment.ts';
export {
  LEAF_ENCODING,
  LEAF_TYPES,
  OUTCOME_CODES,
  decisionLeaf,
  encodeLeafValues,
  leafHash,
  leafValues,
  reasonsHash,
  scoreMicros,
  topicHash,
  type DecisionLeafInput,
  type LeafLogPosition,
  type LeafReason,
  type LeafValues,
  type Outcome,
} from './leaf.ts';
export { BATCH_ID_TYPES, assertBatchLeaves, batchContains, batchId, offsetSpan, validateBatchRange, type BatchRange } from './batch.ts';
export { buildBatchTree, type BatchTree, type BuildBatchTreeOptions } from './merkle.ts';
export { nodeHash, processProof } from './merkle-core.ts';
export {
  PROOF_BUNDLE_FORMAT,
  PROOF_BUNDLE_SCHEMA_ID,
  loadProofBundle,
  makeProofBundle,
  proofBundleJsonSchema,
  type MakeProofBundleInput,
  type ProofBundle,
  type ProofBundleAnchor,
  type ProofBundleBatch,
  type ProofBundleDecision,
} from './proof-bundle.ts';
export {
  TRUST_FILE_FORMAT,
  TrustFileError,
  checkTrust,
  loadTrustFile,
  pinnedTrust,
  type BundleAnchorRef,
  type TrustAnchor,
  type TrustFile,
  type TrustFileDeployment,
  type TrustedDeployment,
} from './trust.ts';
export {
  assertProofBundle,
  verifyAgainstChain,
  verifyClaimBytes,
  verifyProofBundle,
  type AnchorReader,
  type ChainVerifyResult,
  type VerifyAgainstChainOptions,
  type VerifyFailure,
  type VerifyResult,
} from './verify-proof.ts';
