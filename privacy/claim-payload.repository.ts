import type { Pool } from 'pg';
import { openEnvelope, payloadAad, sealEnvelope } from './envelope.ts';
import type { DataKey, MemberKeyService } from './member-key.service.ts';

export interface ClaimPayloadRow {
  decisionId: string;
  claimId: string;
  memberId: string;
  providerNpi: string;
  /** The claim as received (PHI): stored only encrypted under the member's data key. */
  claimBytes: Buffer;
  /** Line of business (`professional` / `institutional`); kept in clear for queue routing, not PHI. */
  claimType: string;
  /** Total charged, USD; kept in clear for case priority. */
  totalCharged: number;
}

/** A stored payload as the reader sees it. */
export type StoredClaimPayload =
  | { state: 'present'; claimBytes: Buffer }
  /** The member was erased: the data key is gone, the ciphertext can never be opened again. */
  | { state: 'erased'; erasedAt: string | null };

/** PostgreSQL foreign_key_violation: a data key deleted by an erasure while cached here. */
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * Claim payloads (PHI) keyed by decision id, encrypted at rest: AES-256-GCM under the member's
 * data key, AAD = decision id + key id (privacy/envelope.ts, docs/privacy.md). Only the claim
 * type and total charged stay in clear beside the ids (review case opening routes on them).
 * Reading decrypts: callers are the case view (role-restricted, audited) and the training join.
 */
export class ClaimPayloadRepository {
  readonly #pool: Pool;
  readonly #keys: MemberKeyService;
  constructor(pool: Pool, keys: MemberKeyService) {
    this.#pool = pool;
    this.#keys = keys;
  }

  /**
   * Encrypts and inserts rows; an existing row for the same decision id (a re-run after a crash)
   * is kept. A member erased while its key sat in this process's cache is retried once with a
   * fresh key (the foreign key on `key_id` refuses the stale one).
   */
  async insertMany(rows: readonly ClaimPayloadRow[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.#insert(rows);
    } catch (error) {
      if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
      this.#keys.forgetMembers(rows.map((r) => r.memberId));
      await this.#insert(rows);
    }
  }

  async #insert(rows: readonly ClaimPayloadRow[]): Promise<void> {
    const keys = await this.#keys.keysForMembers(rows.map((r) => r.memberId));
    const keyOf = (r: ClaimPayloadRow): DataKey => keys.get(r.memberId)!;
    await this.#pool.query(
      `INSERT INTO claim_payloads (decision_id, claim_id, member_id, provider_npi, claim_type, total_charged, key_id, ciphertext)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::uuid[], $8::bytea[])
       ON CONFLICT (decision_id) DO NOTHING`,
      [
        rows.map((r) => r.decisionId),
        rows.map((r) => r.claimId),
        rows.map((r) => r.memberId),
        rows.map((r) => r.providerNpi),
        rows.map((r) => r.claimType),
        rows.map((r) => r.totalCharged),
        rows.map((r) => keyOf(r).keyId),
        rows.map((r) => sealEnvelope(keyOf(r).key, r.claimBytes, payloadAad(r.decisionId, keyOf(r).keyId))),
      ],
    );
  }

  /** The decrypted payload of one decision; null when there is no row. */
  async get(decisionId: string): Promise<StoredClaimPayload | null> {
    return (await this.getMany([decisionId])).get(decisionId) ?? null;
  }

  /** Decrypted payloads by decision id (absent ids have no row). */
  async getMany(decisionIds: readonly string[]): Promise<Map<string, StoredClaimPayload>> {
    const { rows } = await this.#pool.query<PayloadRow>(`SELECT ${READ_COLUMNS} FROM claim_payloads WHERE decision_id = ANY($1::text[])`, [decisionIds]);
    return this.#open(rows, (r) => r.decision_id);
  }

  /** The most recently received payload of each claim id, decrypted, by claim id. */
  async latestByClaimIds(claimIds: readonly string[]): Promise<Map<string, StoredClaimPayload>> {
    if (claimIds.length === 0) return new Map();
    const { rows } = await this.#pool.query<PayloadRow>(
      `SELECT DISTINCT ON (claim_id) ${READ_COLUMNS} FROM claim_payloads WHERE claim_id = ANY($1::text[]) ORDER BY claim_id, received_at DESC, decision_id`,
      [claimIds],
    );
    return this.#open(rows, (r) => r.claim_id);
  }

  /**
   * Encrypts rows written in clear before encryption at rest existed (or by a scoring process of
   * an older version during a rolling upgrade), `batchSize` at a time, until none is left.
   * Safe to run from several processes at once. Returns the number of rows it encrypted.
   */
  async encryptLegacyRows(batchSize = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const { rows } = await this.#pool.query<{ decision_id: string; member_id: string; claim_bytes: Buffer }>(
        'SELECT decision_id, member_id, claim_bytes FROM claim_payloads WHERE claim_bytes IS NOT NULL AND member_id IS NOT NULL ORDER BY decision_id LIMIT $1',
        [batchSize],
      );
      if (rows.length === 0) return total;
      const keys = await this.#keys.keysForMembers(rows.map((r) => r.member_id));
      const sealed = rows.map((r) => {
        const k = keys.get(r.member_id)!;
        return { decisionId: r.decision_id, keyId: k.keyId, ciphertext: sealEnvelope(k.key, r.claim_bytes, payloadAad(r.decision_id, k.keyId)) };
      });
      const result = await this.#pool.query(
        `UPDATE claim_payloads p SET key_id = s.key_id, ciphertext = s.ciphertext, claim_bytes = NULL
         FROM unnest($1::text[], $2::uuid[], $3::bytea[]) AS s (decision_id, key_id, ciphertext)
         WHERE p.decision_id = s.decision_id AND p.claim_bytes IS NOT NULL`,
        [sealed.map((s) => s.decisionId), sealed.map((s) => s.keyId), sealed.map((s) => s.ciphertext)],
      );
      total += result.rowCount ?? 0;
    }
  }

  async #open(rows: readonly PayloadRow[], keyOf: (r: PayloadRow) => string): Promise<Map<string, StoredClaimPayload>> {
    const out = new Map<string, StoredClaimPayload>();
    for (const r of rows) {
      if (r.claim_bytes) {
        out.set(keyOf(r), { state: 'present', claimBytes: r.claim_bytes });
        continue;
      }
      const key = r.key_id && r.ciphertext ? await this.#keys.keyById(r.key_id) : null;
      if (!key || !r.ciphertext) {
        out.set(keyOf(r), { state: 'erased', erasedAt: r.erased_at?.toISOString() ?? null });
        continue;
      }
      out.set(keyOf(r), { state: 'present', claimBytes: openEnvelope(key.key, r.ciphertext, payloadAad(r.decision_id, key.keyId)) });
    }
    return out;
  }
}

const READ_COLUMNS = 'decision_id, claim_id, key_id::text, ciphertext, claim_bytes, erased_at';
interface PayloadRow {
  decision_id: string;
  claim_id: string;
  key_id: string | null;
  ciphertext: Buffer | null;
  claim_bytes: Buffer | null;
  erased_at: Date | null;
}
