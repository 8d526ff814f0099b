import type { Pool } from 'pg';

/** A case's clear identifiers, read only to compute its keyed hashes. */
export interface UnindexedCase {
  caseId: string;
  memberId: string | null;
  providerNpi: string | null;
}

/** The keyed hashes of one case's identifiers (null where the identifier is missing). */
export interface CaseHashes {
  caseId: string;
  memberHmac: string | null;
  providerHmac: string | null;
}

/** The keyed-hash search columns of `cases` (migration 1733310000000_case-identifier-hmac.sql). */
export class CaseIndexRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /**
   * Up to `limit` cases not hashed yet (`index_key_id IS NULL`, through a partial index) or, with
   * `stale`, hashed under another key than `keyId`; oldest first.
   */
  async unindexed(keyId: string, limit: number, stale: boolean): Promise<UnindexedCase[]> {
    const { rows } = await this.#pool.query<{ case_id: string; member_id: string | null; provider_npi: string | null }>(
      `SELECT case_id::text, member_id, provider_npi FROM cases
       WHERE index_key_id IS NULL OR ($2 AND index_key_id <> $1) ORDER BY case_id LIMIT $3`,
      [keyId, stale, limit],
    );
    return rows.map((r) => ({ caseId: r.case_id, memberId: r.member_id, providerNpi: r.provider_npi }));
  }

  /** Stores the hashes of `rows`, marking them as hashed under `keyId`. */
  async setHashes(rows: readonly CaseHashes[], keyId: string): Promise<void> {
    if (rows.length === 0) return;
    await this.#pool.query(
      `UPDATE cases c SET member_hmac = v.member_hmac, provider_hmac = v.provider_hmac, index_key_id = $4
       FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v (case_id, member_hmac, provider_hmac)
       WHERE c.case_id = v.case_id`,
      [rows.map((r) => r.caseId), rows.map((r) => r.memberHmac), rows.map((r) => r.providerHmac), keyId],
    );
  }
}
