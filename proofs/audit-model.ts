/**
 * The audit's vocabulary, shared by the batch audit (audit.service.ts) and its v2 chain half
 * (audit-v2.ts): finding kinds, and the leaf of a decision in its batch's encoding.
 */
import { InvalidArgumentError as AnchoringArgumentError } from '../anchoring/core/errors.ts';
import { leafHash } from '../anchoring/core/leaf.ts';
import { leafHashV2 } from '../anchoring/core/leaf-v2.ts';
import type { IndexedDecision } from '../anchoring/decision-index.repository.ts';
import { decisionLeafValuesV2 } from '../anchoring/decision-leaf.ts';
import { interimLeafValues } from '../anchoring/interim-leaf.ts';
import { isDecisionV2, type Decision } from '../domain/decision.ts';

/**
 * What can be wrong, each kind about one decision or one batch:
 * - `missing`: a decision is in the log (inside a batch's range) but has no PostgreSQL row.
 * - `extra`: a PostgreSQL row claims a log position the log does not hold, or names a batch
 *   whose range does not contain it.
 * - `altered`: a PostgreSQL row no longer encodes to the leaf its log record encodes to.
 * - `root-mismatch`: the root (or leaf count) recomputed from the log differs from the one
 *   stored in PostgreSQL or recorded on chain.
 * - `unanchored`: the contract holds no root for the batch.
 * - `reorged`: the anchor recorded in PostgreSQL is not where the canonical chain has it.
 * - `unbatched`: a decision in the log lies in no batch's range.
 * - `unreadable`: a log record is not a decision we can encode.
 */
export type AuditFindingKind = 'missing' | 'extra' | 'altered' | 'root-mismatch' | 'unanchored' | 'reorged' | 'unbatched' | 'unreadable';

export interface AuditFinding {
  kind: AuditFindingKind;
  message: string;
  partition: number;
  batchId?: string;
  /** Log offset of the decision concerned, when one is. */
  offset?: string;
  decisionId?: string;
  /** The value the log (the reference) gives, when one value is at stake. */
  expected?: string;
  /** The value found in PostgreSQL or on chain. */
  computed?: string;
}

/**
 * A decision's leaf in the encoding its batch was built with: v2 leaves for v2 records in v2-leaf
 * batches, the (interim) v1 leaf otherwise.
 * @throws InvalidArgumentError (anchoring) when the decision cannot be encoded so.
 */
export function leafOf(encoding: 'claimtrail-leaf-v1' | 'claimtrail-leaf-v2', decision: Decision | IndexedDecision, log: { topic: string; partition: number; offset: string }): string {
  if (encoding === 'claimtrail-leaf-v2') {
    if (!isDecisionV2(decision)) throw new AnchoringArgumentError(`decision ${decision.decisionId} is a v1 record in a v2-leaf batch`);
    return leafHashV2(decisionLeafValuesV2(decision, log));
  }
  return leafHash(interimLeafValues(decision, log));
}

