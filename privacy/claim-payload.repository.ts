import type { Pool } from 'pg';
import type { ReasonV1 } from '../domain/decision.ts';
import { copyRows } from '../infra/db/copy.ts';
import { openEnvelope, payloadAad, sealEnvelope, sealedValueAad } from './envelope.ts';
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
  /**
   * The claim commitment's salt this attempt proposes (`0x` + 64 hex): stored only sealed under
   * the member's data key. A row already stored keeps its salt (see {@link ClaimPayloadRepository.insertMany}).
   */
  salt: string;
}

/** A value sealed beside a claim payload, as the reader sees it. */
export type SealedValue<T> =
  | { state: 'present'; value: T }
  /** The member was erased: the data key is gone, the value can never be opened again. */
  | { state: 'erased'; erasedAt: string | null };

/** A v1 decision's salt and reason texts, moved out of the decision index into the sealed store. */
export interface LegacyDecisionSecrets {
  decisionId: string;
  salt: string;
  reasons: readonly ReasonV1[];
}

/** What {@link ClaimPayloadRepository.sealLegacy} did with each decision. */
export interface LegacySealResult {
  /** Sealed under the member's data key now, or already before (a re-run). */
  sealed: string[];
  /** No key to seal under: the member was erased, or no payload was ever stored. Nothing is kept. */
  dropped: string[];
  /** The payload is still in clear (encryptLegacyRows has not reached it): left for the next run. */
  deferred: string[];
}

/** A stored payload as the reader sees it. */
export type StoredClaimPayload =
  | { state: 'present'; claimBytes: Buffer }
  /** The member was erased: the data key is gone, the ciphertext can never be opened again. */
  | { state: 'erased'; erasedAt: string | null };

/** PostgreSQL foreign_key_violation: a data key deleted by an erasure while cached here. */
const FOREIGN_KEY_VIOLATION = '23503';
const UNIQUE_VIOLATION = '23505';

/**
 * Claim payloads (PHI) keyed by decision id, encrypted at rest: AES-256-GCM under the member's
 * data key, AAD = decision id + key id (privacy/envelope.ts, docs/privacy.md). Only the claim
 * type and total charged stay in clear beside the ids (review case opening routes on them).
 * Reading decrypts: callers are the case view (role-restricted, audited) and the training join.
 */
/** Columns of a new payload row, in the order insertMany copies them. */
const PAYLOAD_COLUMNS = Object.freeze(['decision_id', 'claim_id', 'member_id', 'provider_npi', 'claim_type', 'total_charged', 'key_id', 'ciphertext', 'salt_sealed']);

export class ClaimPayloadRepository {
  readonly #pool: Pool;
  readonly #keys: MemberKeyService;
  constructor(pool: Pool, keys: MemberKeyService) {
    this.#pool = pool;
    this.#keys = keys;
  }

  /**
   * Encrypts and inserts rows: the claim bytes and the salt, each sealed under the member's data
   * key. An existing row for the same decision id (a re-run after a crash, or a fenced zombie
   * scoring the same batch) is kept, and so is its salt: the returned map gives, per decision id,
   * the salt the stored row holds, which is the one the decision's commitment must use (every
   * attempt commits with the same salt, whichever wrote first). A row of an erased member cannot
   * give its salt back: the proposed one is returned, and it is stored nowhere.
   * A member erased while its key sat in this process's cache is retried once with a fresh key
   * (the foreign key on `key_id` refuses the stale one).
   * @returns the salt to commit with, by decision id.
   */
  async insertMany(rows: readonly ClaimPayloadRow[]): Promise<Map<string, string>> {
    if (rows.length === 0) return new Map();
    try {
      return await this.#insert(rows);
    } catch (error) {
      if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
      this.#keys.forgetMembers(rows.map((r) => r.memberId));
      return await this.#insert(rows);
    }
  }

  async #insert(rows: readonly ClaimPayloadRow[]): Promise<Map<string, string>> {
    const keys = await this.#keys.keysForMembers(rows.map((r) => r.memberId));
    const keyOf = (r: ClaimPayloadRow): DataKey => keys.get(r.memberId)!;
    const sealedSalts = rows.map((r) => sealEnvelope(keyOf(r).key, saltBytes(r.salt), sealedValueAad('commitment-salt', r.decisionId, keyOf(r).keyId)));
    const sealedClaims = rows.map((r) => sealEnvelope(keyOf(r).key, r.claimBytes, payloadAad(r.decisionId, keyOf(r).keyId)));
    // The usual case, new decisions: one COPY, and every proposed salt stands. COPY is atomic, so
    // a decision already stored (a replay) fails it whole, and the upsert below sorts it out.
    const client = await this.#pool.connect();
    try {
      await copyRows(client, 'claim_payloads', PAYLOAD_COLUMNS, rows.map((r, i) => [r.decisionId, r.claimId, r.memberId, r.providerNpi, r.claimType, r.totalCharged, keyOf(r).keyId, sealedClaims[i]!, sealedSalts[i]!]));
      return new Map(rows.map((r) => [r.decisionId, r.salt]));
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
    } finally {
      client.release();
    }
    const sent = new Map(rows.map((r, i) => [r.decisionId, sealedSalts[i]!]));
    // DO UPDATE only to return the stored row (and to give a row stored before sealed salts
    // existed the proposed one); the claim and an existing salt are never replaced.
    const stored = await this.#pool.query<{ decision_id: string; key_id: string | null; salt_sealed: Buffer | null }>(
      `INSERT INTO claim_payloads AS p (decision_id, claim_id, member_id, provider_npi, claim_type, total_charged, key_id, ciphertext, salt_sealed)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::uuid[], $8::bytea[], $9::bytea[])
       ON CONFLICT (decision_id) DO UPDATE SET salt_sealed = CASE WHEN p.salt_sealed IS NULL AND p.key_id = EXCLUDED.key_id THEN EXCLUDED.salt_sealed ELSE p.salt_sealed END
       RETURNING decision_id, key_id::text, salt_sealed`,
      [
        rows.map((r) => r.decisionId),
        rows.map((r) => r.claimId),
        rows.map((r) => r.memberId),
        rows.map((r) => r.providerNpi),
        rows.map((r) => r.claimType),
        rows.map((r) => r.totalCharged),
        rows.map((r) => keyOf(r).keyId),
        sealedClaims,
        sealedSalts,
      ],
    );
    const salts = new Map(rows.map((r) => [r.decisionId, r.salt]));
    for (const row of stored.rows) {
      if (!row.key_id || !row.salt_sealed) continue;
      // The row this call wrote holds the sealed salt it sent: the proposed salt stands, no need to open it.
      if (sent.get(row.decision_id)?.equals(row.salt_sealed)) continue;
      const key = await this.#keys.keyById(row.key_id);
      if (key) salts.set(row.decision_id, saltHex(openEnvelope(key.key, row.salt_sealed, sealedValueAad('commitment-salt', row.decision_id, key.keyId))));
    }
    return salts;
  }

  /**
   * The claim commitment's salt of one decision, opened for an entitled proof exporter; null when
   * there is no payload row or nothing sealed for it (a v1 decision not moved yet keeps its salt
   * in the decision index).
   */
  async salt(decisionId: string): Promise<SealedValue<string> | null> {
    const sealed = await this.#sealed('salt_sealed', decisionId);
    if (!sealed || sealed.state === 'erased') return sealed;
    return { state: 'present', value: saltHex(sealed.open('commitment-salt')) };
  }

  /**
   * A v1 decision's reasons with their texts, as the v1 record carried them (moved here by
   * {@link sealLegacy}), so a v1 proof bundle can still be exported while the member's key exists.
   * Null when nothing is sealed for the decision (a v2 decision, or a v1 row not moved yet).
   */
  async reasonsV1(decisionId: string): Promise<SealedValue<ReasonV1[]> | null> {
    const sealed = await this.#sealed('reasons_v1_sealed', decisionId);
    if (!sealed || sealed.state === 'erased') return sealed;
    return { state: 'present', value: JSON.parse(sealed.open('reasons-v1').toString('utf8')) as ReasonV1[] };
  }

  async #sealed(column: 'salt_sealed' | 'reasons_v1_sealed', decisionId: string): Promise<{ state: 'present'; open(purpose: 'commitment-salt' | 'reasons-v1'): Buffer } | { state: 'erased'; erasedAt: string | null } | null> {
    const { rows } = await this.#pool.query<{ key_id: string | null; sealed: Buffer | null; erased_at: Date | null }>(
      `SELECT key_id::text, ${column} AS sealed, erased_at FROM claim_payloads WHERE decision_id = $1`,
      [decisionId],
    );
    const row = rows[0];
    if (!row?.sealed) return null;
    const key = row.key_id ? await this.#keys.keyById(row.key_id) : null;
    if (!key) return { state: 'erased', erasedAt: row.erased_at?.toISOString() ?? null };
    const sealed = row.sealed;
    return { state: 'present', open: (purpose) => openEnvelope(key.key, sealed, sealedValueAad(purpose, decisionId, key.keyId)) };
  }

  /**
   * Seals v1 decisions' salts and reason texts beside their payloads, under the key each payload
   * is sealed with (the member's). Idempotent: a decision sealed before keeps what it has. The
   * caller clears them from the decision index afterwards (pipeline/legacy-decisions.ts).
   */
  async sealLegacy(items: readonly LegacyDecisionSecrets[]): Promise<LegacySealResult> {
    const result: LegacySealResult = { sealed: [], dropped: [], deferred: [] };
    if (items.length === 0) return result;
    const { rows } = await this.#pool.query<{ decision_id: string; key_id: string | null; clear: boolean; done: boolean }>(
      `SELECT decision_id, key_id::text, claim_bytes IS NOT NULL AS clear, reasons_v1_sealed IS NOT NULL AS done
         FROM claim_payloads WHERE decision_id = ANY($1::text[])`,
      [items.map((i) => i.decisionId)],
    );
    const byId = new Map(rows.map((r) => [r.decision_id, r]));
    const updates: Array<{ decisionId: string; salt: Buffer; reasons: Buffer }> = [];
    for (const item of items) {
      const row = byId.get(item.decisionId);
      if (row?.done) {
        result.sealed.push(item.decisionId);
        continue;
      }
      if (row?.clear) {
        result.deferred.push(item.decisionId);
        continue;
      }
      const key = row?.key_id ? await this.#keys.keyById(row.key_id) : null;
      if (!key) {
        result.dropped.push(item.decisionId);
        continue;
      }
      const reasons = Buffer.from(JSON.stringify(item.reasons.map(({ code, contribution, text }) => ({ code, contribution, text }))), 'utf8');
      updates.push({
        decisionId: item.decisionId,
        salt: sealEnvelope(key.key, saltBytes(item.salt), sealedValueAad('commitment-salt', item.decisionId, key.keyId)),
        reasons: sealEnvelope(key.key, reasons, sealedValueAad('reasons-v1', item.decisionId, key.keyId)),
      });
    }
    if (updates.length > 0) {
      // key_id unchanged since the read: an erasure in between makes the row drop out here.
      const done = await this.#pool.query<{ decision_id: string }>(
        `UPDATE claim_payloads p SET salt_sealed = u.salt, reasons_v1_sealed = u.reasons
           FROM unnest($1::text[], $2::bytea[], $3::bytea[]) AS u (decision_id, salt, reasons)
          WHERE p.decision_id = u.decision_id AND p.reasons_v1_sealed IS NULL AND p.key_id IS NOT NULL
          RETURNING p.decision_id`,
        [updates.map((u) => u.decisionId), updates.map((u) => u.salt), updates.map((u) => u.reasons)],
      );
      const ok = new Set(done.rows.map((r) => r.decision_id));
      for (const u of updates) (ok.has(u.decisionId) ? result.sealed : result.dropped).push(u.decisionId);
    }
    return result;
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

function saltBytes(salt: string): Buffer {
  return Buffer.from(salt.slice(2), 'hex');
}

function saltHex(bytes: Buffer): string {
  return `0x${bytes.toString('hex')}`;
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
