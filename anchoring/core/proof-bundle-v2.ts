/**
 * Proof bundles, format `claimtrail-proof-v2` (docs/proof-bundle.md#v2, the why in
 * docs/proof-format-v2.md): one JSON document proving one decision through two paths, leaf ->
 * batch root (`proof`) and batch entry -> epoch root (`epoch.proof`), optionally a third to the
 * per-block flagged root, and naming the contract and the anchorer that recorded the epoch.
 *
 * Read ONLY through {@link loadProofBundleV2} (whole document validated, every problem listed,
 * unknown members rejected); made ONLY through {@link makeProofBundleV2}, which re-verifies the
 * bundle before returning it. `proof-bundle-v2.schema.json` is the same schema as JSON Schema
 * (draft 2020-12), generated from the one below by a test.
 */
import { z } from 'zod';
import { validateBatchRange, type BatchRange } from './batch.ts';
import { BundleFormatError, InvalidArgumentError } from './errors.ts';
import { batchIdV2, epochId, runIdOf } from './ids-v2.ts';
import { scoreMicros, type LeafLogPosition } from './leaf.ts';
import { LEAF_ENCODING_V2, contributionMicros, decisionLeafV2, leafValuesV2, type DecisionLeafInputV2 } from './leaf-v2.ts';
import { checkBundleV2 } from './proof-checks-v2.ts';
import { address, bytes32Hex, isoInstant, parseBundle, proofArray, topicName, uint32, uint64Decimal } from './schema-parts.ts';
import { bytes32, decimalUint64, UINT32_MAX } from './validate.ts';

/** Name and version of this bundle format. */
export const PROOF_BUNDLE_V2_FORMAT = 'claimtrail-proof-v2';

/** `$id` of the JSON Schema file. */
export const PROOF_BUNDLE_V2_SCHEMA_ID = 'https://claimtrail.dev/schemas/claimtrail-proof-v2.schema.json';

const logPosition = z.strictObject({ topic: topicName, partition: uint32, offset: uint64Decimal });

const reasonSchema = z.strictObject({
  code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must match [A-Z][A-Z0-9_]{0,63}'),
  contribution: z.number().meta({ description: 'Signed contribution in score units, at most 6 decimals (the leaf binds round(contribution * 1e6)).' }),
});

const decisionSchema = z
  .strictObject({
    instanceId: bytes32Hex.meta({ description: 'The claimtrail installation that decided (leaf field 1).' }),
    runId: z.string().regex(/^[a-z0-9._-]{1,64}$/, 'must be 1-64 of [a-z0-9._-]').meta({ description: 'Scoring run: "live" or a backfill\'s id. Bound through decisionId.' }),
    decisionId: bytes32Hex,
    claimId: z.string().min(1).meta({ description: 'Insurer claim id. Not in the leaf: bound only through claimCommitment.' }),
    claimCommitment: bytes32Hex,
    score: z.number().min(0).max(1).meta({ description: 'Fraud score in [0, 1], at most 6 decimals (the leaf binds round(score * 1e6)).' }),
    outcome: z.enum(['approve', 'review', 'flag']),
    modelHash: bytes32Hex,
    reasons: z.array(reasonSchema),
    decidedAt: isoInstant,
    input: logPosition.meta({ description: 'Position of the scored claim record (claims topic); with instanceId, runId and modelHash it derives decisionId.' }),
    log: logPosition.meta({ description: 'Position of the decision record in the decisions topic (leaf fields 9-11).' }),
  })
  .meta({ description: 'The decision, as the leaf (claimtrail-leaf-v2) encodes it, plus what derives its id and the claim id.' });

const batchSchema = z
  .strictObject({
    batchId: bytes32Hex,
    topic: topicName,
    partition: uint32,
    firstOffset: uint64Decimal,
    lastOffset: uint64Decimal,
    leafCount: z.number().int().min(1).max(UINT32_MAX),
    root: bytes32Hex,
  })
  .meta({ description: 'The batch: a contiguous offset range of one decisions partition, its v2 id and Merkle root.' });

const epochSchema = z
  .strictObject({
    epochId: bytes32Hex,
    sequence: uint64Decimal.meta({ description: "The installation's epoch number, from 0." }),
    root: bytes32Hex,
    batchCount: z.number().int().min(1).max(UINT32_MAX),
    leafCount: uint64Decimal.meta({ description: 'Decisions over all batches of the epoch.' }),
    proof: proofArray.meta({ description: 'Sibling hashes from the batch entry up to the epoch root.' }),
  })
  .meta({ description: 'The epoch whose root commits the batch root, and the batch entry\'s proof to it.' });

const flaggedSchema = z
  .strictObject({
    root: bytes32Hex,
    count: z.number().int().min(1).max(UINT32_MAX),
    proof: proofArray,
    txHash: bytes32Hex,
    blockNumber: z.number().int().min(0),
    blockHash: bytes32Hex,
  })
  .meta({ description: 'Early anchor of a flagged decision: the per-block flagged tree root, the leaf\'s proof to it and where it was anchored.' });

const anchorSchema = z
  .strictObject({
    chainId: z.number().int().min(1),
    contract: address,
    anchorer: address.meta({ description: 'The address that anchored the epoch: records on DecisionAnchorV2 are keyed by it.' }),
    txHash: bytes32Hex,
    blockNumber: z.number().int().min(0),
    blockHash: bytes32Hex,
    confirmationsAtExport: z.number().int().min(0),
  })
  .meta({ description: 'Where the epoch root was anchored. Verifiers compare chainId, contract and anchorer with their own trust anchor.' });

const proofBundleV2Schema = z
  .strictObject({
    format: z.literal(PROOF_BUNDLE_V2_FORMAT),
    leafEncoding: z.literal(LEAF_ENCODING_V2),
    decision: decisionSchema,
    leaf: bytes32Hex,
    proof: proofArray,
    batch: batchSchema,
    epoch: epochSchema,
    flagged: flaggedSchema.optional(),
    anchor: anchorSchema,
    salt: bytes32Hex
      .optional()
      .meta({ description: 'Salt of claimCommitment, only on an entitled request (compliance role, member key not erased).' }),
  })
  .superRefine((bundle, ctx) => {
    // Cross-field rules JSON Schema cannot say; leafValuesV2 is the single source of what a decision may hold.
    try {
      leafValuesV2(bundle.decision);
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
      ctx.addIssue({ code: 'custom', path: ['decision'], message: error.message });
    }
    const first = BigInt(bundle.batch.firstOffset);
    const last = BigInt(bundle.batch.lastOffset);
    if (first > last) {
      ctx.addIssue({ code: 'custom', path: ['batch', 'firstOffset'], message: 'must not be greater than lastOffset' });
    } else if (BigInt(bundle.batch.leafCount) > last - first + 1n) {
      ctx.addIssue({ code: 'custom', path: ['batch', 'leafCount'], message: 'must not exceed lastOffset - firstOffset + 1' });
    }
    if (BigInt(bundle.epoch.leafCount) < BigInt(bundle.batch.leafCount)) {
      ctx.addIssue({ code: 'custom', path: ['epoch', 'leafCount'], message: 'must not be less than batch.leafCount' });
    }
  })
  .meta({
    title: 'claimtrail proof bundle v2',
    description: 'Everything needed to prove one claimtrail decision: leaf fields, proofs to the batch, epoch and flagged roots, and the anchor. See docs/proof-bundle.md.',
  });

/** A validated `claimtrail-proof-v2` bundle. */
export type ProofBundleV2 = z.output<typeof proofBundleV2Schema>;
export type ProofBundleV2Decision = ProofBundleV2['decision'];
export type ProofBundleV2Batch = ProofBundleV2['batch'];
export type ProofBundleV2Epoch = ProofBundleV2['epoch'];
export type ProofBundleV2Flagged = NonNullable<ProofBundleV2['flagged']>;
export type ProofBundleV2Anchor = ProofBundleV2['anchor'];

/**
 * Reads a v2 proof bundle. The only way in: anything else that claims to be one is untrusted.
 * @param json the parsed JSON value, or the JSON text itself.
 * @returns the bundle, deeply frozen; well-formed only (whether it proves anything is for verify-proof-v2.ts).
 * @throws BundleFormatError listing every problem (path: message).
 */
export function loadProofBundleV2(json: unknown): ProofBundleV2 {
  return parseBundle(proofBundleV2Schema, json);
}

/** What {@link makeProofBundleV2} needs. */
export interface MakeProofBundleV2Input {
  /** The decision: its leaf fields plus runId, claimId and the input position (extra members are ignored). */
  decision: DecisionLeafInputV2 & { runId: string; claimId: string; input: LeafLogPosition };
  /** The commitment's salt, only for an entitled requester. */
  salt?: string;
  /** The leaf's proof to the batch root (batch-v2.ts `buildBatchTreeV2(...).proofFor(i)`). */
  proof: readonly string[];
  /** The batch range with its leaf count and root; the v2 batch id is computed here. */
  batch: BatchRange & { leafCount: number; root: string };
  /** The epoch (the id is computed here from the decision's instance and `sequence`). */
  epoch: { sequence: string; root: string; batchCount: number; leafCount: string; proof: readonly string[] };
  /** The early flagged anchor, for flagged decisions anchored through a flagged tree. */
  flagged?: ProofBundleV2Flagged;
  /** Where the epoch root was anchored, and by whom. */
  anchor: ProofBundleV2Anchor;
}

/**
 * Makes a v2 bundle and verifies it (checkBundleV2: leaf, decision id, proofs, ids, position)
 * before returning it. Score and contributions are written at the leaf's precision (6 decimals),
 * so the bundle shows exactly what is proven; hex is lowercased.
 * @throws InvalidArgumentError when an input is malformed, or when the inputs do not prove the
 *   decision (then `cause` is the VerificationError saying why).
 */
export function makeProofBundleV2(input: MakeProofBundleV2Input): ProofBundleV2 {
  const { decision, batch, epoch } = input;
  validateBatchRange(batch);
  runIdOf(decision.runId, 'decision.runId');
  decimalUint64(epoch.sequence, 'epoch.sequence');
  const leaf = decisionLeafV2(decision);
  const candidate = {
    format: PROOF_BUNDLE_V2_FORMAT,
    leafEncoding: LEAF_ENCODING_V2,
    decision: {
      instanceId: decision.instanceId.toLowerCase(),
      runId: decision.runId,
      decisionId: decision.decisionId.toLowerCase(),
      claimId: decision.claimId,
      claimCommitment: decision.claimCommitment.toLowerCase(),
      score: scoreMicros(decision.score) / 1e6,
      outcome: decision.outcome,
      modelHash: decision.modelHash.toLowerCase(),
      reasons: decision.reasons.map(({ code, contribution }, i) => ({ code, contribution: contributionMicros(contribution, `reasons[${i}].contribution`) / 1e6 })),
      decidedAt: decision.decidedAt,
      input: { topic: decision.input.topic, partition: decision.input.partition, offset: decision.input.offset },
      log: { topic: decision.log.topic, partition: decision.log.partition, offset: decision.log.offset },
    },
    leaf,
    proof: input.proof.map((p, i) => bytes32(p, `proof[${i}]`)),
    batch: {
      batchId: batchIdV2(decision.instanceId, batch.topic, batch.partition, batch.firstOffset, batch.lastOffset),
      topic: batch.topic,
      partition: batch.partition,
      firstOffset: batch.firstOffset,
      lastOffset: batch.lastOffset,
      leafCount: batch.leafCount,
      root: bytes32(batch.root, 'batch.root'),
    },
    epoch: {
      epochId: epochId(decision.instanceId, epoch.sequence),
      sequence: epoch.sequence,
      root: bytes32(epoch.root, 'epoch.root'),
      batchCount: epoch.batchCount,
      leafCount: epoch.leafCount,
      proof: epoch.proof.map((p, i) => bytes32(p, `epoch.proof[${i}]`)),
    },
    ...(input.flagged === undefined
      ? {}
      : {
          flagged: {
            root: bytes32(input.flagged.root, 'flagged.root'),
            count: input.flagged.count,
            proof: input.flagged.proof.map((p, i) => bytes32(p, `flagged.proof[${i}]`)),
            txHash: bytes32(input.flagged.txHash, 'flagged.txHash'),
            blockNumber: input.flagged.blockNumber,
            blockHash: bytes32(input.flagged.blockHash, 'flagged.blockHash'),
          },
        }),
    anchor: {
      chainId: input.anchor.chainId,
      contract: input.anchor.contract,
      anchorer: input.anchor.anchorer,
      txHash: bytes32(input.anchor.txHash, 'anchor.txHash'),
      blockNumber: input.anchor.blockNumber,
      blockHash: bytes32(input.anchor.blockHash, 'anchor.blockHash'),
      confirmationsAtExport: input.anchor.confirmationsAtExport,
    },
    ...(input.salt === undefined ? {} : { salt: bytes32(input.salt, 'salt') }),
  };

  let bundle: ProofBundleV2;
  try {
    bundle = loadProofBundleV2(candidate);
  } catch (error) {
    if (!(error instanceof BundleFormatError)) throw error;
    throw new InvalidArgumentError(`cannot make a v2 proof bundle:\n  - ${error.issues.join('\n  - ')}`, { cause: error });
  }
  const failure = checkBundleV2(bundle);
  if (failure) throw new InvalidArgumentError(`inputs do not prove the decision: ${failure.message}`, { cause: failure });
  return bundle;
}

/**
 * The JSON Schema (draft 2020-12) of a v2 bundle, generated from the zod schema the loader uses.
 * Cross-field rules (offset order, leaf counts, canonical time, uint64 bounds, leaf-encodable
 * decision) are enforced by the loader only.
 */
export function proofBundleV2JsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(proofBundleV2Schema, { target: 'draft-2020-12', io: 'input' });
  return { $schema, $id: PROOF_BUNDLE_V2_SCHEMA_ID, ...rest };
}
