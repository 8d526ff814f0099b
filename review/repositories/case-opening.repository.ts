import type { CaseOutcome, QueueRule } from '../services/queue-routing.ts';
import type { Queryable } from './db.ts';

/** The clear, non-identifying columns of one `claim_payloads` row that case opening reads. */
export interface PayloadRoutingRow {
  decisionId: string;
  claimType: string | null;
  /** `total_charged` as PostgreSQL's numeric text (exact), or null. */
  totalCharged: string | null;
  /**
   * The claim in clear, only on rows written before payloads were encrypted (or by an older
   * scoring process during a rolling upgrade); null otherwise.
   */
  claimBytes: Buffer | null;
}

/** One case to open; `created_at` is the transaction's time and `due_at` adds the queue's SLA. */
export interface NewCase {
  decisionId: string;
  claimId: string;
  queue: string;
  outcome: CaseOutcome;
  score: number;
  /** score x (amount band + 1): never the amount itself (queue-routing.ts casePriority). */
  priority: number;
  lineOfBusiness: string | null;
  ruleCodes: readonly string[];
}

/** SQL of case opening. Every method runs on the caller's transaction (or the pool). */
export class CaseOpeningRepository {
  /** Every routing rule, in ascending position. */
  async queueRules(db: Queryable): Promise<QueueRule[]> {
    const { rows } = await db.query<{ position: number; queue: string; line_of_business: string | null; min_score: number | null; max_score: number | null; outcome: CaseOutcome | null; rule_code: string | null }>(
      'SELECT position, queue, line_of_business, min_score, max_score, outcome, rule_code FROM review_queue_rules ORDER BY position',
    );
    return rows.map((r) => ({ position: r.position, queue: r.queue, lineOfBusiness: r.line_of_business, minScore: r.min_score, maxScore: r.max_score, outcome: r.outcome, ruleCode: r.rule_code }));
  }

  /**
   * Routing columns of the payload rows of these decisions, keyed by decision id (a decision
   * without a payload row is absent). The clear legacy bytes are read only where `claim_type` is
   * missing.
   */
  async payloadRoutingRows(db: Queryable, decisionIds: readonly string[]): Promise<Map<string, PayloadRoutingRow>> {
    if (decisionIds.length === 0) return new Map();
    const { rows } = await db.query<{ decision_id: string; claim_type: string | null; total_charged: string | null; claim_bytes: Buffer | null }>(
      `SELECT decision_id, claim_type, total_charged::text,
              CASE WHEN claim_type IS NULL THEN claim_bytes END AS claim_bytes
         FROM claim_payloads WHERE decision_id = ANY ($1::text[])`,
      [decisionIds],
    );
    return new Map(
      rows.map((r) => [r.decision_id, { decisionId: r.decision_id, claimType: r.claim_type, totalCharged: r.total_charged, claimBytes: r.claim_bytes }]),
    );
  }

  /**
   * Inserts the cases in the given order; a decision that already has a case keeps it, and a case
   * whose queue is not in `review_queues` is not opened. SLA deadline = the transaction's now() +
   * the queue's `sla_hours`. `member_id`, `provider_npi` and `amount` are left NULL: no claim
   * field is copied out of the payload store. Returns the number of cases opened.
   */
  async insertCases(db: Queryable, cases: readonly NewCase[]): Promise<number> {
    if (cases.length === 0) return 0;
    const result = await db.query(
      `INSERT INTO cases (decision_id, claim_id, queue, outcome, score, priority, line_of_business, rule_codes, created_at, due_at)
       SELECT u.d, u.c, u.q, u.o, u.s, u.p, u.lob, u.rules::text[], now(), now() + make_interval(hours => rq.sla_hours)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::text[])
              WITH ORDINALITY AS u(d, c, q, o, s, p, lob, rules, n)
         JOIN review_queues rq ON rq.name = u.q
        ORDER BY u.n
       ON CONFLICT (decision_id) DO NOTHING`,
      [
        cases.map((c) => c.decisionId),
        cases.map((c) => c.claimId),
        cases.map((c) => c.queue),
        cases.map((c) => c.outcome),
        cases.map((c) => c.score),
        cases.map((c) => c.priority),
        cases.map((c) => c.lineOfBusiness),
        // text[] of text[] literals: unnest cannot take a ragged 2-D array.
        cases.map((c) => toArrayLiteral(c.ruleCodes)),
      ],
    );
    return result.rowCount ?? 0;
  }
}

/** A PostgreSQL array literal of text values (`{"a","b"}`), quoting every element. */
function toArrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}
