import type { Pool } from 'pg';

export interface ClaimPayloadRow {
  decisionId: string;
  claimId: string;
  memberId: string;
  providerNpi: string;
  claimBytes: Buffer;
}

/** Claim payloads (PHI) as received, keyed by decision id. */
export class ClaimPayloadRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Inserts rows; an existing row for the same decision id (a re-run after a crash) is kept. */
  async insertMany(rows: readonly ClaimPayloadRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#pool.query(
      `INSERT INTO claim_payloads (decision_id, claim_id, member_id, provider_npi, claim_bytes)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[])
       ON CONFLICT (decision_id) DO NOTHING`,
      [rows.map((r) => r.decisionId), rows.map((r) => r.claimId), rows.map((r) => r.memberId), rows.map((r) => r.providerNpi), rows.map((r) => r.claimBytes)],
    );
  }

  async get(decisionId: string): Promise<Buffer | null> {
    const { rows } = await this.#pool.query<{ claim_bytes: Buffer }>('SELECT claim_bytes FROM claim_payloads WHERE decision_id = $1', [decisionId]);
    return rows[0]?.claim_bytes ?? null;
  }
}
