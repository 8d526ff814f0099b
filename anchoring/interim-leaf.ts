import { type DecisionLeafInput, type LeafReason, type LeafValues, leafValues } from './core/leaf.ts';
import { bytes32 } from './core/validate.ts';
import type { LogPosition, Reason, ReasonV1 } from '../domain/decision.ts';

/**
 * Interim path: v2 decision records into `claimtrail-leaf-v1` leaves until batching switches to leaf v2 (docs/proof-format-v2.md).
 *
 * A v1 leaf hashes reasons with their texts. A v2 record has none, so its reasons go in with
 * text '' (the leaf never needed the salt: it binds the commitment). A v1 row whose texts were
 * moved into the sealed store (pipeline/legacy-decisions.ts) goes in with the reasons hash its
 * leaf was built with (`reasonsV1Hash`), so it recomputes to the same leaf without the texts.
 * The batching stage, the audit and the proof service all compute leaves through here.
 */

/** What a v1 leaf is computed from, of any decision version as the log or the index holds it. */
export interface InterimLeafSource {
  decisionId: string;
  claimCommitment: string;
  score: number;
  outcome: DecisionLeafInput['outcome'];
  modelHash: string;
  reasons: ReadonlyArray<Reason | ReasonV1>;
  decidedAt: string;
  /** The v1 reasons hash, for a v1 row stripped of its texts. */
  reasonsV1Hash?: string;
}

/** The reasons as the v1 leaf hashes them: a missing text is ''. */
export function leafReasonsOf(reasons: ReadonlyArray<Reason | ReasonV1>): LeafReason[] {
  return reasons.map((r) => ({ code: r.code, contribution: r.contribution, text: 'text' in r ? r.text : '' }));
}

/** The v1 leaf input of a decision at `log`; its reasons as {@link leafReasonsOf} gives them. */
export function interimLeafInput(decision: InterimLeafSource, log: LogPosition): DecisionLeafInput {
  const { decisionId, claimCommitment, score, outcome, modelHash, decidedAt } = decision;
  return { decisionId, claimCommitment, score, outcome, modelHash, decidedAt, reasons: leafReasonsOf(decision.reasons), log };
}

/**
 * The v1 leaf tuple of a decision at `log`.
 * @throws InvalidArgumentError (anchoring core) naming the first bad field.
 */
export function interimLeafValues(decision: InterimLeafSource, log: LogPosition): LeafValues {
  const values = leafValues(interimLeafInput(decision, log));
  if (decision.reasonsV1Hash === undefined) return values;
  const withHash = [...values] as unknown as [string, string, number, number, string, string, string, string, number, string];
  withHash[5] = bytes32(decision.reasonsV1Hash, 'reasonsV1Hash');
  return Object.freeze(withHash) as unknown as LeafValues;
}
