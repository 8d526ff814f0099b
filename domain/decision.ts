/**
 * The decision claimtrail makes about one claim, as produced to the `decisions` topic.
 * It carries no claim field except the claim id; `claimCommitment` binds the full claim
 * (see anchoring/core/commitment.ts) and `salt` keeps that commitment from being guessed.
 */

export type Outcome = 'approve' | 'review' | 'flag';
export const OUTCOMES: readonly Outcome[] = ['approve', 'review', 'flag'];

/** One reason behind a score: a feature (or rule) and how much it pushed the score. */
export interface Reason {
  /** Stable reason code, e.g. `F_CHARGE_PER_UNIT` or `R_EXCLUDED_PROVIDER`. */
  code: string;
  /** Signed contribution to the score in score units (probability points); rules use 1. */
  contribution: number;
  /** Human text for investigators, built from ids and numbers only, never PHI. */
  text: string;
}

/** Where a record sits in Kafka. */
export interface LogPosition {
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string (int64). */
  offset: string;
}

export interface Decision {
  /** Deterministic id: sha256 over (input topic, partition, offset), hex, 32 bytes. */
  decisionId: string;
  claimId: string;
  /** Final score in [0, 1]: estimated probability that the claim is fraudulent. */
  score: number;
  /** Per-model scores in [0, 1] before the ensemble combines them. */
  components: { rf: number; nn: number };
  outcome: Outcome;
  reasons: Reason[];
  /** sha256 (hex, 0x-prefixed) of the model bundle manifest: the model version. */
  modelHash: string;
  /** ISO-8601 UTC time the decision was made. */
  decidedAt: string;
  /** Position of the claim this decision is about, in the `claims` topic. */
  input: LogPosition;
  /** keccak256 commitment to the claim bytes and salt (0x-prefixed, 32 bytes). */
  claimCommitment: string;
  /** Random 32-byte salt (0x-prefixed); private, stored off chain only. */
  salt: string;
  /** Correlation id carried from the claim message header, if any. */
  correlationId?: string;
}
