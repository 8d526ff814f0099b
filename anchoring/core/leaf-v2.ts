/**
 * The leaf encoding `claimtrail-leaf-v2`, specified in docs/leaf-encoding.md#v2 (the why in
 * docs/proof-format-v2.md). An OpenZeppelin StandardMerkleTree leaf over a 12-word static tuple:
 *
 *   leaf = keccak256(bytes.concat(keccak256(abi.encode(LEAF_TYPES_V2, values))))
 *
 * What changed from v1 (leaf.ts): a domain word first (keccak256("claimtrail-leaf-v2")), so a v2
 * preimage (12 words) cannot be confused with a v1 leaf (10), an epoch entry (9, epoch.ts) or an
 * inner node (64 bytes); the installation's `instanceId`; and reasons bound as codes and
 * micro-unit contributions only, never text. Everything else (commitment, score, outcome, model,
 * time, log position) is bound exactly as in v1, through v1's validators.
 *
 * Changing anything here (types, order, units, rounding) is a new encoding: keep v2 verifiable.
 */
import { doubleKeccak256, keccakUtf8 } from './hashes.ts';
import { WORD, writeBytes32Word, writeUintWord } from './abi-words.ts';
import { InvalidArgumentError } from './errors.ts';
import { OUTCOME_CODES, scoreMicros, topicHash, type LeafLogPosition, type Outcome } from './leaf.ts';
import { bytes32, decimalUint64, isoInstantMs, show, smallUint, UINT32_MAX } from './validate.ts';

/** Name and version of this encoding; v2 proof bundles carry it. */
export const LEAF_ENCODING_V2 = 'claimtrail-leaf-v2';

/** keccak256("claimtrail-leaf-v2"): word 0 of every v2 leaf. */
export const LEAF_V2_DOMAIN = keccakUtf8(LEAF_ENCODING_V2);

/** ABI types of the v2 leaf tuple, in order. See {@link LeafValuesV2} for what each one holds. */
export const LEAF_TYPES_V2 = Object.freeze([
  'bytes32', // domain
  'bytes32', // instanceId
  'bytes32', // decisionId
  'bytes32', // claimCommitment
  'uint32', // scoreMicros
  'uint8', // outcome
  'bytes32', // modelHash
  'bytes32', // reasonsHash (v2)
  'uint64', // decidedAtMs
  'bytes32', // logTopicHash
  'uint32', // logPartition
  'uint64', // logOffset
] as const);

/**
 * The v2 leaf tuple in the JSON form `@openzeppelin/merkle-tree` and ethers accept: bytes32 as
 * lowercase `0x` hex, uint8/uint32 as numbers, uint64 as decimal strings.
 */
export type LeafValuesV2 = readonly [
  /** Always {@link LEAF_V2_DOMAIN}. */
  domain: string,
  instanceId: string,
  decisionId: string,
  claimCommitment: string,
  /** round(score × 1e6), 0..1_000_000. */
  scoreMicros: number,
  /** 0 approve, 1 review, 2 flag (v1's codes). */
  outcome: number,
  modelHash: string,
  /** {@link reasonsHashV2}. */
  reasonsHash: string,
  /** Decision time, unix milliseconds, decimal. */
  decidedAtMs: string,
  /** keccak256 of the UTF-8 `decisions` topic name. */
  logTopicHash: string,
  logPartition: number,
  /** Offset of the decision record in the `decisions` topic, decimal. */
  logOffset: string,
];

/** One reason as v2 binds it: a code and a contribution, no text (texts are rendered at view time). */
export interface ReasonV2 {
  /** `[A-Z][A-Z0-9_]{0,63}`, e.g. `F_CHARGE_PER_UNIT`. */
  code: string;
  /** Signed contribution to the score, in score units; bound as round(contribution × 1e6), |…| ≤ 2^31-1. */
  contribution: number;
}

/** Everything a v2 leaf is computed from (the bundle's decision carries these plus runId, claimId, input). */
export interface DecisionLeafInputV2 {
  /** `0x` + 64 hex: the installation's id. */
  instanceId: string;
  /** `0x` + 64 hex: ids-v2.ts `decisionIdV2`. */
  decisionId: string;
  /** `0x` + 64 hex: commitment.ts `claimCommitment` of the claim bytes and salt. */
  claimCommitment: string;
  /** Fraud score in [0, 1]; the leaf keeps it to 1e-6. */
  score: number;
  outcome: Outcome;
  /** `0x` + 64 hex: hash of the model bundle manifest. */
  modelHash: string;
  /** Reasons in the scorer's order (order is part of the hash). */
  reasons: readonly ReasonV2[];
  /** Exactly as `Date.toISOString()` prints it. */
  decidedAt: string;
  /** The decision record's position in the `decisions` topic. */
  log: LeafLogPosition;
}

const REASON_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const INT32_MAX = 2 ** 31 - 1;

/**
 * A contribution in signed micro-units as the v2 reasons hash binds it: `Math.round(contribution * 1e6)`
 * (JavaScript doubles, half rounds up; `-0` counts as 0).
 * @throws InvalidArgumentError when not finite or when |result| > 2^31-1; `field` names it.
 */
export function contributionMicros(contribution: number, field = 'contribution'): number {
  if (typeof contribution !== 'number' || !Number.isFinite(contribution)) {
    throw new InvalidArgumentError(`${field} must be a finite number, got ${show(contribution)}`);
  }
  const micros = Math.round(contribution * 1e6);
  if (Math.abs(micros) > INT32_MAX) {
    throw new InvalidArgumentError(`${field} must be within ±${INT32_MAX / 1e6} (|micro-units| ≤ 2^31-1), got ${contribution}`);
  }
  return micros === 0 ? 0 : micros; // -0 -> 0, so it cannot print differently anywhere
}

/**
 * keccak256 over `JSON.stringify(reasons.map(({code, contribution}) => ({ code, contributionMicros })))`
 * in UTF-8: codes and signed micro-unit contributions, in order, no text. Members other than
 * `code` and `contribution` are refused, so a v1 reason (with `text`) is never hashed by mistake.
 * @throws InvalidArgumentError naming the bad reason field.
 */
export function reasonsHashV2(reasons: readonly ReasonV2[]): string {
  if (!Array.isArray(reasons)) throw new InvalidArgumentError(`reasons must be an array, got ${show(reasons)}`);
  const projected = reasons.map((r: unknown, i) => {
    const field = `reasons[${i}]`;
    if (typeof r !== 'object' || r === null) throw new InvalidArgumentError(`${field} must be an object, got ${show(r)}`);
    const extra = Object.keys(r).filter((k) => k !== 'code' && k !== 'contribution');
    if (extra.length > 0) throw new InvalidArgumentError(`${field} has members v2 does not bind: ${extra.join(', ')} (only code and contribution)`);
    const { code, contribution } = r as Record<string, unknown>;
    if (typeof code !== 'string' || !REASON_CODE.test(code)) {
      throw new InvalidArgumentError(`${field}.code must match [A-Z][A-Z0-9_]{0,63}, got ${show(code)}`);
    }
    return { code, contributionMicros: contributionMicros(contribution as number, `${field}.contribution`) };
  });
  // Keys `code` < `contributionMicros` are in sorted order and values are strings and safe
  // integers, so JSON.stringify is already the canonical JSON (canonical-json.ts) of this value.
  return keccakUtf8(JSON.stringify(projected));
}

/**
 * The v2 leaf tuple for a decision, every field validated.
 * @returns a frozen {@link LeafValuesV2}.
 * @throws InvalidArgumentError naming the first bad field.
 */
export function leafValuesV2(input: DecisionLeafInputV2): LeafValuesV2 {
  if (typeof input !== 'object' || input === null) throw new InvalidArgumentError('decision must be an object');
  if (!Object.hasOwn(OUTCOME_CODES, input.outcome)) {
    throw new InvalidArgumentError(`outcome must be one of approve, review, flag, got ${show(input.outcome)}`);
  }
  const log: unknown = input.log;
  if (typeof log !== 'object' || log === null) throw new InvalidArgumentError(`log must be an object, got ${show(log)}`);
  const { topic, partition, offset } = log as Record<string, unknown>;
  return Object.freeze([
    LEAF_V2_DOMAIN,
    bytes32(input.instanceId, 'instanceId'),
    bytes32(input.decisionId, 'decisionId'),
    bytes32(input.claimCommitment, 'claimCommitment'),
    scoreMicros(input.score),
    OUTCOME_CODES[input.outcome],
    bytes32(input.modelHash, 'modelHash'),
    reasonsHashV2(input.reasons),
    String(isoInstantMs(input.decidedAt, 'decidedAt')),
    topicHash(topic as string),
    smallUint(partition, UINT32_MAX, 'log.partition'),
    decimalUint64(offset, 'log.offset').toString(),
  ] as const);
}

/**
 * `abi.encode(LEAF_TYPES_V2, values)` written by hand: twelve 32-byte words (abi-words.ts).
 * @throws InvalidArgumentError naming the bad value (including a domain word other than {@link LEAF_V2_DOMAIN}).
 */
export function encodeLeafValuesV2(values: LeafValuesV2): Uint8Array {
  if (!Array.isArray(values) || values.length !== LEAF_TYPES_V2.length) {
    throw new InvalidArgumentError(`v2 leaf values must be an array of ${LEAF_TYPES_V2.length} items, got ${show(values)}`);
  }
  if (bytes32(values[0], 'values[0] (domain)') !== LEAF_V2_DOMAIN) {
    throw new InvalidArgumentError(`values[0] (domain) must be keccak256("${LEAF_ENCODING_V2}") = ${LEAF_V2_DOMAIN}, got ${show(values[0])}`);
  }
  const out = new Uint8Array(WORD * LEAF_TYPES_V2.length);
  writeBytes32Word(out, 0, LEAF_V2_DOMAIN);
  writeBytes32Word(out, 1, bytes32(values[1], 'values[1] (instanceId)'));
  writeBytes32Word(out, 2, bytes32(values[2], 'values[2] (decisionId)'));
  writeBytes32Word(out, 3, bytes32(values[3], 'values[3] (claimCommitment)'));
  writeUintWord(out, 4, BigInt(smallUint(values[4], 1_000_000, 'values[4] (scoreMicros)')));
  writeUintWord(out, 5, BigInt(smallUint(values[5], 2, 'values[5] (outcome)')));
  writeBytes32Word(out, 6, bytes32(values[6], 'values[6] (modelHash)'));
  writeBytes32Word(out, 7, bytes32(values[7], 'values[7] (reasonsHash)'));
  writeUintWord(out, 8, decimalUint64(values[8], 'values[8] (decidedAtMs)'));
  writeBytes32Word(out, 9, bytes32(values[9], 'values[9] (logTopicHash)'));
  writeUintWord(out, 10, BigInt(smallUint(values[10], UINT32_MAX, 'values[10] (logPartition)')));
  writeUintWord(out, 11, decimalUint64(values[11], 'values[11] (logOffset)'));
  return out;
}

/**
 * The v2 leaf hash: `keccak256(keccak256(abi.encode(LEAF_TYPES_V2, values)))`, equal to
 * `StandardMerkleTree.of([values], LEAF_TYPES_V2).leafHash(values)`.
 * @returns `0x` + 64 lowercase hex digits.
 * @throws InvalidArgumentError when `values` is not a valid {@link LeafValuesV2}.
 */
export function leafHashV2(values: LeafValuesV2): string {
  return doubleKeccak256(encodeLeafValuesV2(values));
}

/** `leafHashV2(leafValuesV2(input))`: the v2 leaf of one decision. */
export function decisionLeafV2(input: DecisionLeafInputV2): string {
  return leafHashV2(leafValuesV2(input));
}
