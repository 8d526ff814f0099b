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

// Proof format v2 (docs/proof-format-v2.md): ids, leaf, batch / epoch / flagged trees, bundle, verifier.
export {
  BATCH_ID_V2_DOMAIN,
  BATCH_ID_V2_TYPES,
  DECISION_ID_V2_DOMAIN,
  EPOCH_ID_DOMAIN,
  EPOCH_ID_TYPES,
  batchIdV2,
  decisionIdV2,
  epochId,
  runIdOf,
} from './ids-v2.ts';
export {
  LEAF_ENCODING_V2,
  LEAF_TYPES_V2,
  LEAF_V2_DOMAIN,
  contributionMicros,
  decisionLeafV2,
  encodeLeafValuesV2,
  leafHashV2,
  leafValuesV2,
  reasonsHashV2,
  type DecisionLeafInputV2,
  type LeafValuesV2,
  type ReasonV2,
} from './leaf-v2.ts';
export { assertBatchLeavesV2, batchIdOfRange, buildBatchTreeV2, type BuildTreeV2Options } from './batch-v2.ts';
export { buildStandardTree, type StandardTree, type TreeBuilder, type TupleKind } from './standard-tree.ts';
export {
  ENTRY_TYPES,
  EPOCH_ENTRY_DOMAIN,
  batchEntryLeaf,
  buildEpochTree,
  encodeEntryValues,
  entryHash,
  entryValues,
  type EntryValues,
  type EpochBatch,
  type EpochTree,
} from './epoch.ts';
export { buildFlaggedTree, type FlaggedTree } from './flagged-tree.ts';
export {
  PROOF_BUNDLE_V2_FORMAT,
  PROOF_BUNDLE_V2_SCHEMA_ID,
  loadProofBundleV2,
  makeProofBundleV2,
  proofBundleV2JsonSchema,
  type MakeProofBundleV2Input,
  type ProofBundleV2,
  type ProofBundleV2Anchor,
  type ProofBundleV2Batch,
  type ProofBundleV2Decision,
  type ProofBundleV2Epoch,
  type ProofBundleV2Flagged,
} from './proof-bundle-v2.ts';
export {
  assertProofBundleV2,
  validatePinnedDeployment,
  verifyAgainstChainV2,
  verifyProofBundleV2,
  type AnchorReaderV2,
  type ChainVerifyResultV2,
  type PinnedDeployment,
  type VerifyAgainstChainV2Options,
  type VerifyProofBundleV2Options,
} from './verify-proof-v2.ts';
export { PROOF_BUNDLE_FORMATS, loadAnyProofBundle, type AnyProofBundle } from './proof-bundle-any.ts';
export { verifyAnyProofBundle } from './verify-any.ts';
