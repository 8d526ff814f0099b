import type { Pool } from 'pg';

/**
 * A case to (re)hash: its identifiers as its `claim_payloads` row holds them (the lookup columns,
 * joined by decision id; null without a row or once the member is erased), and, for a case opened
 * before claim fields left `cases`, the clear amount it still holds (to re-derive its priority).
 */
export interface UnindexedCase {
  caseId: string;
  memberId: string | null;
  providerNpi: string | null;
  score: number;
  /** `cases.amount` as numeric text: non-null only on cases opened by an older release. */
  legacyAmount: string | null;
}

/** The keyed hashes of one case's identifiers (null where the identifier is missing). */
export interface CaseHashes {
  caseId: string;
  memberHmac: string | null;
  providerHmac: string | null;
  /** A new priority (score x amount band) for a case whose priority was score x amount; null keeps it. */
  priority: number | null;
}

/** The keyed-hash search columns of `cases` (migrations 1733310000000_case-identifier-hmac.sql, 1733800000000_case-clear-columns.sql). */
export class CaseIndexRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /**
   * Up to `limit` cases not hashed yet (`index_key_id IS NULL`), still holding a clear member id,
   * NPI or amount (opened by an older release), or, with `stale`, hashed under another key than
   * `keyId`; oldest first. Identifiers come from `claim_payloads`, never from `cases`.
   */
  async unindexed(keyId: string, limit: number, stale: boolean): Promise<UnindexedCase[]> {
    const { rows } = await this.#pool.query<{ case_id: string; member_id: string | null; provider_npi: string | null; score: number; amount: string | null }>(
      `SELECT c.case_id::text, p.member_id, p.provider_npi, c.score, c.amount::text AS amount
         FROM cases c LEFT JOIN claim_payloads p ON p.decision_id = c.decision_id
        WHERE c.index_key_id IS NULL OR ($2 AND c.index_key_id <> $1)
           OR c.member_id IS NOT NULL OR c.provider_npi IS NOT NULL OR c.amount IS NOT NULL
        ORDER BY c.case_id LIMIT $3`,
      [keyId, stale, limit],
    );
    return rows.map((r) => ({ caseId: r.case_id, memberId: r.member_id, providerNpi: r.provider_npi, score: r.score, legacyAmount: r.amount }));
  }

  /**
   * Stores the hashes of `rows`, marking them as hashed under `keyId`, and clears the clear
   * `member_id`, `provider_npi` and `amount` columns of those cases (a new priority replaces a
   * score x amount one).
   */
  async setHashes(rows: readonly CaseHashes[], keyId: string): Promise<void> {
    if (rows.length === 0) return;
    await this.#pool.query(
      `UPDATE cases c SET member_hmac = v.member_hmac, provider_hmac = v.provider_hmac, index_key_id = $5,
              member_id = NULL, provider_npi = NULL, amount = NULL, priority = coalesce(v.priority, c.priority)
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::float8[]) AS v (case_id, member_hmac, provider_hmac, priority)
       WHERE c.case_id = v.case_id`,
      [rows.map((r) => r.caseId), rows.map((r) => r.memberHmac), rows.map((r) => r.providerHmac), rows.map((r) => r.priority), keyId],
    );
  }
}
