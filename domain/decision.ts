/**
 * The decision claimtrail makes about one claim, as produced to the `decisions` topic.
 *
 * Two versions share the topic, forever: records written before decision record v2
 * ({@link DecisionV1}: no `format`, reasons with texts, the salt in clear) stay readable, and
 * every new record is a {@link DecisionV2} (docs/proof-format-v2.md): reasons as codes and
 * contributions only, no salt (it is sealed under the member's data key in the payload store),
 * and an id bound to the installation, the scoring run and the model. Neither carries a claim
 * field except the claim id; `claimCommitment` binds the full claim (anchoring/core/commitment.ts).
 */

export type Outcome = 'approve' | 'review' | 'flag';
export const OUTCOMES: readonly Outcome[] = ['approve', 'review', 'flag'];

/** The `format` of a v2 decision record. v1 records have no `format`. */
export const DECISION_FORMAT_V2 = 'claimtrail-decision-v2';

/**
 * One reason behind a score, as it is stored and travels: a code and how much it pushed the
 * score. The sentence an investigator reads is rendered at view time from the decrypted claim
 * (scoring/reason-text.ts), never stored.
 */
export interface Reason {
  /** Stable reason code, e.g. `F_CHARGE_PER_UNIT` or `R_EXCLUDED_PROVIDER`. */
  code: string;
  /** Signed contribution to the score in score units (probability points); rules use 1. */
  contribution: number;
}

/** A reason of a v1 record: with the text the scorer wrote then (it may name codes, amounts, days). */
export interface ReasonV1 extends Reason {
  text: string;
}

/** A reason with its sentence, rendered for an entitled viewer (the review app's case view). */
export interface RenderedReason extends Reason {
  text: string;
}

/** Where a record sits in Kafka. */
export interface LogPosition {
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string (int64). */
  offset: string;
}

/** What both versions say about the decision. */
interface DecisionFields {
  claimId: string;
  /** Final score in [0, 1]: estimated probability that the claim is fraudulent. */
  score: number;
  /** Per-model scores in [0, 1] before the ensemble combines them. */
  components: { rf: number; nn: number };
  outcome: Outcome;
  /** sha256 (hex, 0x-prefixed) of the model bundle manifest: the model version. */
  modelHash: string;
  /** ISO-8601 UTC time the decision was made. */
  decidedAt: string;
  /** Position of the claim this decision is about, in the `claims` topic. */
  input: LogPosition;
  /** keccak256 commitment to the claim bytes and salt (0x-prefixed, 32 bytes). */
  claimCommitment: string;
  /** Correlation id carried from the claim message header, if any. */
  correlationId?: string;
}

/** A decision record written before v2. Read, never written. */
export interface DecisionV1 extends DecisionFields {
  /** `decisionIdFor`: sha256 over (input topic, partition, offset). */
  decisionId: string;
  reasons: ReasonV1[];
  /** Random 32-byte salt (0x-prefixed), in clear. */
  salt: string;
}

/** A decision record v2: what the scoring stage writes. */
export interface DecisionV2 extends DecisionFields {
  format: typeof DECISION_FORMAT_V2;
  /** This installation's id (`claimtrail_instance`), 0x + 64 lowercase hex. */
  instanceId: string;
  /** Scoring run, `[a-z0-9._-]{1,64}` (`live` for the streaming pipeline). */
  runId: string;
  /** `decisionIdV2` over (instance, run, model, input position). */
  decisionId: string;
  /** Codes and contributions only, rules first. */
  reasons: Reason[];
}

export type Decision = DecisionV1 | DecisionV2;

/** True for a v2 record (it names its format); v1 records have none. */
export function isDecisionV2<T extends object>(decision: T): decision is Extract<T, { format: typeof DECISION_FORMAT_V2 }> {
  return (decision as { format?: unknown }).format === DECISION_FORMAT_V2;
}
