import { leafValuesV2, type LeafValuesV2 } from './core/leaf-v2.ts';
import type { DecisionV2, LogPosition } from '../domain/decision.ts';

/**
 * A v2 decision record as a `claimtrail-leaf-v2` leaf (docs/proof-format-v2.md#leaf-claimtrail-leaf-v2):
 * the record's own fields, its installation (`instanceId`) and the position of the record in the
 * `decisions` topic. The batching stage, the flagged-tree anchorer and the proof exporter compute
 * v2 leaves through here, so they cannot drift apart. v1-leaf rows (v1 records, and v2 records
 * batched before leaf v2) keep anchoring/interim-leaf.ts.
 */

/** The fields of a v2 record the leaf binds (an indexed row has more; they are ignored). */
export type LeafSourceV2 = Pick<DecisionV2, 'instanceId' | 'decisionId' | 'claimCommitment' | 'score' | 'outcome' | 'modelHash' | 'reasons' | 'decidedAt'>;

/**
 * The v2 leaf tuple of a v2 record at `log`. Reasons are bound as codes and contributions only
 * (any other member an in-memory object carries is dropped here, never hashed).
 * @throws InvalidArgumentError (anchoring core) naming the first bad field.
 */
export function decisionLeafValuesV2(decision: LeafSourceV2, log: LogPosition): LeafValuesV2 {
  const { instanceId, decisionId, claimCommitment, score, outcome, modelHash, decidedAt } = decision;
  const reasons = decision.reasons.map(({ code, contribution }) => ({ code, contribution }));
  return leafValuesV2({ instanceId, decisionId, claimCommitment, score, outcome, modelHash, reasons, decidedAt, log });
}
