import type { PoolClient } from 'pg';
import type { DecisionsRecordedHook } from '../../anchoring/decision-index.repository.ts';
import type { Decision } from '../../domain/decision.ts';
import { CaseOpeningRepository, type NewCase, type PayloadRoutingRow } from '../repositories/case-opening.repository.ts';
import type { Queryable } from '../repositories/db.ts';
import { casePriority, opensCase, routeCase, ruleCodesOf } from './queue-routing.ts';

/** The parts of a decision case opening reads. */
export type DecisionForCase = Pick<Decision, 'decisionId' | 'claimId' | 'outcome' | 'score' | 'reasons'>;

export interface CaseOpeningServiceDeps {
  /** Defaults to a {@link CaseOpeningRepository}. */
  repository?: CaseOpeningRepository;
}

/** Line of business and amount of one decision's claim, as routing and priority use them. */
export interface PayloadFields {
  lineOfBusiness: string | null;
  /** USD as exact numeric text, or null when unknown. */
  amount: string | null;
}

/** A decimal number as PostgreSQL's numeric input takes it (surrounding blanks allowed). */
const NUMERIC_TEXT = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

/**
 * Line of business and amount from a payload row: its clear `claim_type` / `total_charged`
 * columns; for a row still holding the claim in clear without `claim_type`, the claim JSON's
 * `claimType` and `totalCharged` instead. A payload that cannot be read (not UTF-8, not JSON, a
 * non-numeric total) leaves both unknown, and so does a missing row.
 */
export function payloadFields(row: PayloadRoutingRow | undefined): PayloadFields {
  if (!row) return { lineOfBusiness: null, amount: null };
  if (row.claimType !== null || row.claimBytes === null) return { lineOfBusiness: row.claimType, amount: row.totalCharged };
  try {
    const payload: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(row.claimBytes));
    const field = (name: string): string | null => {
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
      const value = (payload as Record<string, unknown>)[name];
      if (value === undefined || value === null) return null;
      return typeof value === 'string' ? value : JSON.stringify(value);
    };
    const total = field('totalCharged');
    if (total !== null && !NUMERIC_TEXT.test(total)) return { lineOfBusiness: null, amount: null };
    return { lineOfBusiness: field('claimType'), amount: total?.trim() ?? null };
  } catch {
    // Unreadable legacy payload: the case opens without line of business and amount.
    return { lineOfBusiness: null, amount: null };
  }
}

/**
 * Opens a review case for every `review` / `flag` decision as the batching stage records it,
 * inside the same transaction, so a decision and its case commit (or roll back) together.
 * Queue: the first matching `review_queue_rules` row ({@link routeCase}); priority: score x
 * (amount band + 1) ({@link casePriority}); SLA deadline: the transaction's time + the queue's
 * `sla_hours`; status `open`. Idempotent: a decision that already has a case keeps it.
 *
 * Routing reads the clear `claim_type` / `total_charged` columns of `claim_payloads` (moving them into the encrypted payload is a separate change).
 * No claim field is copied into `cases`: `member_id`, `provider_npi` and `amount` stay NULL (the
 * case list and view read them from `claim_payloads` for entitled viewers; search goes through
 * the keyed hashes `member_hmac` / `provider_hmac`, review/services/case-identifier-index.ts), and
 * the priority carries only the amount's band, never the amount.
 */
export class CaseOpeningService implements DecisionsRecordedHook {
  readonly #repository: CaseOpeningRepository;

  constructor(deps: CaseOpeningServiceDeps = {}) {
    this.#repository = deps.repository ?? new CaseOpeningRepository();
  }

  /** {@link DecisionsRecordedHook}: opens the cases of a batch's newly recorded decisions. */
  async decisionsRecorded(tx: PoolClient, decisions: readonly DecisionForCase[]): Promise<void> {
    await this.openCases(tx, decisions);
  }

  /**
   * Opens the cases of `decisions` (in their order) on `db`; pass the transaction that records
   * the decisions. Returns the number of cases opened (decisions already with a case excluded).
   */
  async openCases(db: Queryable, decisions: readonly DecisionForCase[]): Promise<number> {
    const candidates = decisions.filter((d) => opensCase(d.outcome));
    if (candidates.length === 0) return 0;
    const rules = await this.#repository.queueRules(db);
    const payloads = await this.#repository.payloadRoutingRows(db, candidates.map((d) => d.decisionId));
    const cases: NewCase[] = candidates.map((d) => {
      const outcome = d.outcome as NewCase['outcome'];
      const payload = payloads.get(d.decisionId);
      const { lineOfBusiness, amount } = payloadFields(payload);
      const ruleCodes = ruleCodesOf(d.reasons);
      return {
        decisionId: d.decisionId,
        claimId: d.claimId,
        queue: routeCase(rules, { outcome, score: d.score, lineOfBusiness, ruleCodes }),
        outcome,
        score: d.score,
        priority: casePriority(d.score, amount === null ? null : Number(amount)),
        lineOfBusiness,
        ruleCodes,
      };
    });
    return this.#repository.insertCases(db, cases);
  }
}
