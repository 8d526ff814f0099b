/**
 * Proof bundles, format `claimtrail-proof-v1` (docs/proof-bundle.md): one JSON document with
 * everything needed to prove one decision without trusting our servers: the decision's leaf
 * fields, the Merkle proof, the batch (range, id, root) and where the root was anchored.
 *
 * Bundles are read ONLY through {@link loadProofBundle}, which validates the whole document and
 * reports every problem at once. They are made ONLY through {@link makeProofBundle}, which
 * re-verifies the bundle before returning it. `anchoring/core/proof-bundle.schema.json` is the same
 * schema as JSON Schema (draft 2020-12), generated from the one below by a test.
 */
import { z } from 'zod';
import { batchId, validateBatchRange, type BatchRange } from './batch.ts';
import { BundleFormatError, InvalidArgumentError } from './errors.ts';
import { LEAF_ENCODING, LEAF_TYPES, decisionLeaf, leafValues, scoreMicros, type DecisionLeafInput } from './leaf.ts';
import { checkBundle } from './proof-checks.ts';
import { bytes32, UINT32_MAX, UINT64_MAX } from './validate.ts';

/** Name and version of this bundle format. */
export const PROOF_BUNDLE_FORMAT = 'claimtrail-proof-v1';

/** `$id` of the JSON Schema file. */
export const PROOF_BUNDLE_SCHEMA_ID = 'https://claimtrail.dev/schemas/claimtrail-proof-v1.schema.json';

/** Longest proof accepted: a uint32 leaf count never needs more than 32 levels; keeps hostile input cheap. */
const MAX_PROOF_LENGTH = 64;

const bytes32Hex = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 0x followed by 64 hex digits');
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be 0x followed by 40 hex digits');
const uint64Decimal = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,19})$/, 'must be a decimal string without sign or leading zeros')
  .refine((s) => BigInt(s) <= UINT64_MAX, 'must be at most 2^64-1')
  .meta({ description: 'Unsigned 64-bit integer as a decimal string (JSON numbers cannot hold 64 bits exactly).' });
const uint32 = z.number().int().min(0).max(UINT32_MAX);
const topicName = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a Kafka topic name (1-249 of [a-zA-Z0-9._-])');
const isoInstant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'must look like 2024-05-01T12:00:00.000Z')
  .meta({ description: 'UTC time exactly as JavaScript Date.toISOString() prints it.' });

const reasonSchema = z.strictObject({
  code: z.string().min(1),
  contribution: z.number(),
  text: z.string(),
});

const decisionSchema = z
  .strictObject({
    decisionId: bytes32Hex,
    claimId: z.string().min(1).meta({ description: 'Insurer claim id. Not in the leaf: bound only through claimCommitment.' }),
    claimCommitment: bytes32Hex,
    score: z.number().min(0).max(1).meta({ description: 'Fraud score in [0, 1], at most 6 decimals (the leaf binds round(score * 1e6)).' }),
    outcome: z.enum(['approve', 'review', 'flag']),
    modelHash: bytes32Hex,
    reasons: z.array(reasonSchema),
    decidedAt: isoInstant,
    log: z.strictObject({ topic: topicName, partition: uint32, offset: uint64Decimal }),
  })
  .meta({ description: 'The decision, as the leaf (claimtrail-leaf-v1) encodes it, plus the claim id.' });

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
  .meta({ description: 'The batch: a contiguous offset range of one decisions partition, its id and Merkle root.' });

const anchorSchema = z
  .strictObject({
    chainId: z.number().int().min(1),
    contract: address,
    txHash: bytes32Hex,
    blockNumber: z.number().int().min(0),
    blockHash: bytes32Hex,
    confirmationsAtExport: z.number().int().min(0),
  })
  .meta({ description: 'Where the batch root was anchored. Null when the batch was not anchored yet.' });

const proofBundleSchema = z
  .strictObject({
    format: z.literal(PROOF_BUNDLE_FORMAT),
    leafEncoding: z.literal(LEAF_ENCODING),
    leafTypes: z.tuple(
      LEAF_TYPES.map((t) => z.literal(t)) as unknown as [z.ZodLiteral<(typeof LEAF_TYPES)[number]>],
    ),
    decision: decisionSchema,
    salt: bytes32Hex
      .optional()
      .meta({ description: 'Salt of claimCommitment, for whoever holds the claim bytes. Omit when the bundle goes to someone not entitled to the claim.' }),
    leaf: bytes32Hex,
    proof: z.array(bytes32Hex).max(MAX_PROOF_LENGTH),
    batch: batchSchema,
    anchor: anchorSchema.nullable(),
  })
  .superRefine((bundle, ctx) => {
    // Cross-field rules JSON Schema cannot say; leafValues is the single source of what a decision may hold.
    try {
      leafValues(bundle.decision);
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
  })
  .meta({
    title: 'claimtrail proof bundle v1',
    description: 'Everything needed to prove one claimtrail decision: leaf fields, Merkle proof, batch and anchor. See docs/proof-bundle.md.',
  });

/** A validated `claimtrail-proof-v1` bundle. */
export type ProofBundle = z.output<typeof proofBundleSchema>;
export type ProofBundleDecision = ProofBundle['decision'];
export type ProofBundleBatch = ProofBundle['batch'];
export type ProofBundleAnchor = NonNullable<ProofBundle['anchor']>;

/**
 * Reads a proof bundle. The only way in: anything else that claims to be a bundle is untrusted.
 * @param json the parsed JSON value, or the JSON text itself.
 * @returns the bundle, deeply frozen. Well-formed only: whether it proves anything is for
 *   verify-proof.ts.
 * @throws BundleFormatError listing every problem (path: message).
 */
export function loadProofBundle(json: unknown): ProofBundle {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new BundleFormatError([`not JSON: ${(error as Error).message}`], { cause: error });
    }
  }
  const parsed = proofBundleSchema.safeParse(value);
  if (!parsed.success) {
    throw new BundleFormatError(
      parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`),
      { cause: parsed.error },
    );
  }
  return deepFreeze(parsed.data);
}

/** What {@link makeProofBundle} needs. */
export interface MakeProofBundleInput {
  /** The decision (only the leaf fields and `claimId` are kept; extra members are ignored). */
  decision: DecisionLeafInput & { claimId: string };
  /** The commitment's salt; omit for bundles that go to someone not entitled to the claim. */
  salt?: string;
  /** The leaf's proof, e.g. `tree.proofFor(leafIndex)` (merkle.ts). */
  proof: readonly string[];
  /** The batch range with its leaf count and root; the batch id is computed here. */
  batch: BatchRange & { leafCount: number; root: string };
  /** Where the root was anchored, or null if it was not yet. */
  anchor: ProofBundleAnchor | null;
}

/**
 * Makes a bundle and verifies it (leaf, proof, batch id, position) before returning it. The score
 * is written at the leaf's precision (6 decimals), so the bundle shows exactly what is proven.
 * @throws InvalidArgumentError when an input is malformed, or when the inputs do not prove the
 *   decision (then `cause` is the VerificationError saying why, e.g. ProofMismatchError).
 */
export function makeProofBundle(input: MakeProofBundleInput): ProofBundle {
  const { decision, batch } = input;
  validateBatchRange(batch);
  const leaf = decisionLeaf(decision);
  const candidate = {
    format: PROOF_BUNDLE_FORMAT,
    leafEncoding: LEAF_ENCODING,
    leafTypes: [...LEAF_TYPES],
    decision: {
      decisionId: decision.decisionId.toLowerCase(),
      claimId: decision.claimId,
      claimCommitment: decision.claimCommitment.toLowerCase(),
      score: scoreMicros(decision.score) / 1e6,
      outcome: decision.outcome,
      modelHash: decision.modelHash.toLowerCase(),
      reasons: decision.reasons.map(({ code, contribution, text }) => ({ code, contribution, text })),
      decidedAt: decision.decidedAt,
      log: { topic: decision.log.topic, partition: decision.log.partition, offset: decision.log.offset },
    },
    ...(input.salt === undefined ? {} : { salt: bytes32(input.salt, 'salt') }),
    leaf,
    proof: input.proof.map((p, i) => bytes32(p, `proof[${i}]`)),
    batch: {
      batchId: batchId(batch),
      topic: batch.topic,
      partition: batch.partition,
      firstOffset: batch.firstOffset,
      lastOffset: batch.lastOffset,
      leafCount: batch.leafCount,
      root: bytes32(batch.root, 'batch.root'),
    },
    anchor: input.anchor === null ? null : { ...input.anchor },
  };

  let bundle: ProofBundle;
  try {
    bundle = loadProofBundle(candidate);
  } catch (error) {
    if (!(error instanceof BundleFormatError)) throw error;
    throw new InvalidArgumentError(`cannot make a proof bundle:\n  - ${error.issues.join('\n  - ')}`, { cause: error });
  }
  const failure = checkBundle(bundle);
  if (failure) throw new InvalidArgumentError(`inputs do not prove the decision: ${failure.message}`, { cause: failure });
  return bundle;
}

/**
 * The JSON Schema (draft 2020-12) of a bundle, generated from the zod schema `loadProofBundle`
 * uses. Cross-field rules (offset order, leaf count, canonical time, uint64 bounds) are enforced
 * by the loader only.
 */
export function proofBundleJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(proofBundleSchema, { target: 'draft-2020-12', io: 'input' });
  return { $schema, $id: PROOF_BUNDLE_SCHEMA_ID, ...rest };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
