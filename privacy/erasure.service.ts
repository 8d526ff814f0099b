import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '../infra/db/transaction.ts';
import type { KeyWrapper } from './key-wrapper.ts';

/** What one erasure did. Carries the keyed reference, never the member id. */
export interface ErasureResult {
  /** `hmac-sha256:<hex>` of the member id under the master key: the audit log's target id. */
  reference: string;
  /** Data keys deleted (0 or 1; 0 when erased before or never seen). */
  deletedKeys: number;
  /** Claim payload rows crypto-shredded and stripped of the member id. */
  payloads: number;
  /** Cases stripped of the member id. */
  cases: number;
  /** The audit log entry recording this erasure. */
  auditId: string;
}

export interface ErasureServiceDeps {
  pool: Pool;
  wrapper: KeyWrapper;
}

/** Purpose string of the erasure reference (a keyed hash; see docs/privacy.md). */
export const ERASURE_MAC_PURPOSE = 'member-erasure-ref';

/**
 * Crypto-shreds a member: in one transaction, clears the member id (and any legacy clear payload)
 * from `claim_payloads` and `cases`, deletes the member's data key (its ciphertexts can never be
 * opened again) and appends a `member.erase` entry to the append-only audit log under a keyed
 * hash of the member id. Decisions, leaves, batches and proofs are not touched: every proof still
 * verifies, the salted commitments stay valid, the link to the person is gone.
 * Idempotent: erasing again finds nothing and records the request again.
 */
export class ErasureService {
  readonly #d: ErasureServiceDeps;
  constructor(deps: ErasureServiceDeps) {
    this.#d = deps;
  }

  /** The keyed reference of a member id as the audit log records it. */
  async reference(memberId: string): Promise<string> {
    return `hmac-sha256:${(await this.#d.wrapper.mac(ERASURE_MAC_PURPOSE, Buffer.from(memberId, 'utf8'))).toString('hex')}`;
  }

  /** @param operator who asked (stored in the audit log as the user name). */
  async erase(memberId: string, operator: string): Promise<ErasureResult> {
    const reference = await this.reference(memberId);
    return withTransaction(this.#d.pool, (client) => eraseIn(client, memberId, reference, operator));
  }
}

async function eraseIn(db: PoolClient, memberId: string, reference: string, operator: string): Promise<ErasureResult> {
  // Lock the key first: a scoring process inserting a payload under it waits (foreign key check)
  // and, once this commits, retries under a fresh key (privacy/claim-payload.repository.ts).
  const keys = await db.query<{ key_id: string }>('SELECT key_id::text FROM member_data_keys WHERE member_id = $1 FOR UPDATE', [memberId]);
  const keyIds = keys.rows.map((r) => r.key_id);
  const payloads = await db.query<{ decision_id: string }>(
    `UPDATE claim_payloads SET member_id = NULL, claim_bytes = NULL, erased_at = coalesce(erased_at, now())
     WHERE member_id = $1 OR key_id = ANY($2::uuid[]) RETURNING decision_id`,
    [memberId, keyIds],
  );
  const decisionIds = payloads.rows.map((r) => r.decision_id);
  // The member's search hash goes too: an erased member's cases must not be found by member id.
  const cases = await db.query(
    'UPDATE cases SET member_id = NULL, member_hmac = NULL WHERE member_id = $1 OR (decision_id = ANY($2::text[]) AND (member_id IS NOT NULL OR member_hmac IS NOT NULL))',
    [memberId, decisionIds],
  );
  // ON DELETE SET NULL clears claim_payloads.key_id: the ciphertext stays, unreadable for good.
  const deleted = await db.query('DELETE FROM member_data_keys WHERE member_id = $1', [memberId]);
  const result = { deletedKeys: deleted.rowCount ?? 0, payloads: payloads.rowCount ?? 0, cases: cases.rowCount ?? 0 };
  const audit = await db.query<{ audit_id: string }>(
    // With its access-events outbox row, like every audit entry (review/repositories/audit.repository.ts).
    `WITH entry AS (
       INSERT INTO audit_log (user_id, user_name, role, action, target_type, target_id, ip, details)
       VALUES (NULL, $1, 'admin', 'member.erase', 'member', $2, NULL, $3) RETURNING audit_id
     ), outbox AS (INSERT INTO access_outbox (audit_id) SELECT audit_id FROM entry)
     SELECT audit_id::text FROM entry`,
    [operator, reference, JSON.stringify(result)],
  );
  return { reference, ...result, auditId: audit.rows[0]!.audit_id };
}
