import type { Pool } from 'pg';
import { auditLogTopic, type SealedAuditEntry } from '../audit/audit-leaf.ts';
import type { Queryable } from './db.ts';

interface SealRow {
  audit_id: string;
  at_text: string;
  user_id: string | null;
  user_name: string;
  role: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

const COLUMNS = `audit_id::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at_text, user_id::text,
  user_name, role, action, target_type, target_id, ip, details`;

const toEntry = (r: SealRow): SealedAuditEntry => ({ auditId: r.audit_id, at: r.at_text, userId: r.user_id, userName: r.user_name, role: r.role, action: r.action, targetType: r.target_type, targetId: r.target_id, ip: r.ip, details: r.details });

/** A sealed audit batch as stored in `audit_seals`. */
export interface AuditSeal {
  batchId: string;
  /** First and last audit id covered (every entry in between is a leaf). */
  first: string;
  last: string;
  leafCount: number;
  root: string;
  status: 'pending' | 'anchored';
  /** Where the root was anchored; null while pending. */
  anchor: { contract: string; txHash: string; blockNumber: string } | null;
  createdAt: string;
}

interface AuditSealRow {
  batch_id: string;
  first_audit_id: string;
  last_audit_id: string;
  leaf_count: number;
  root: string;
  status: 'pending' | 'anchored';
  contract: string | null;
  tx_hash: string | null;
  block_number: string | null;
  created_at: Date;
}

const SEAL_COLUMNS = 'batch_id, first_audit_id::text, last_audit_id::text, leaf_count, root, status, contract, tx_hash, block_number::text, created_at';

const toSeal = (r: AuditSealRow): AuditSeal => ({
  batchId: r.batch_id,
  first: r.first_audit_id,
  last: r.last_audit_id,
  leafCount: r.leaf_count,
  root: r.root,
  status: r.status,
  anchor: r.status === 'anchored' && r.contract && r.tx_hash && r.block_number ? { contract: r.contract, txHash: r.tx_hash, blockNumber: r.block_number } : null,
  createdAt: r.created_at.toISOString(),
});

/**
 * Reads audit entries for sealing and writes audit seals into `audit_seals`; the anchor worker
 * fills in their anchor columns (anchoring/anchor-root.repository.ts).
 */
export class AuditSealRepository {
  readonly #pool: Pool;
  #topic: Promise<string> | null = null;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** This database's audit pseudo-topic (read once): part of every seal's batch id. */
  topic(): Promise<string> {
    this.#topic ??= this.#pool.query<{ id: string }>('SELECT instance_id::text AS id FROM review_instance').then(({ rows }) => auditLogTopic(rows[0]!.id));
    return this.#topic;
  }

  /**
   * Serialises sealers for the rest of the transaction (advisory lock keyed on the pseudo-topic,
   * partition 0, the shape of the decision batcher's per-partition lock).
   */
  async lock(db: Queryable): Promise<void> {
    await db.query('SELECT pg_advisory_xact_lock(hashtext($1), 0)', [await this.topic()]);
  }

  /** Highest audit id already in a batch, or '0'. */
  async lastSealedId(db: Queryable = this.#pool): Promise<string> {
    const { rows } = await db.query<{ last: string | null }>('SELECT max(last_audit_id)::text AS last FROM audit_seals');
    return rows[0]?.last ?? '0';
  }

  /**
   * Entries after `afterId`, oldest first, up to (not including) the first one the database wrote
   * less than `minAgeSeconds` ago (`written_at`, the database's insertion time, never the app's
   * `at`): the sealed range is a prefix in audit id order, so a younger entry below an older one
   * holds the seal back rather than being skipped.
   */
  async sealable(afterId: string, minAgeSeconds: number, limit: number, db: Queryable = this.#pool): Promise<SealedAuditEntry[]> {
    const { rows } = await db.query<SealRow>(
      `SELECT ${COLUMNS} FROM audit_log
        WHERE audit_id > $1
          AND audit_id < coalesce((SELECT min(y.audit_id) FROM audit_log y WHERE y.audit_id > $1 AND y.written_at > now() - make_interval(secs => $2)), 9223372036854775807)
        ORDER BY audit_log.audit_id LIMIT $3`,
      [afterId, minAgeSeconds, limit],
    );
    return rows.map(toEntry);
  }

  /** Every entry whose id lies in [first, last], in id order. */
  async range(first: string, last: string): Promise<SealedAuditEntry[]> {
    const { rows } = await this.#pool.query<SealRow>(`SELECT ${COLUMNS} FROM audit_log WHERE audit_id BETWEEN $1 AND $2 ORDER BY audit_log.audit_id`, [first, last]);
    return rows.map(toEntry);
  }

  async insertSeal(seal: { batchId: string; first: string; last: string; leafCount: number; root: string }, db: Queryable): Promise<void> {
    await db.query(
      `INSERT INTO audit_seals (batch_id, first_audit_id, last_audit_id, leaf_count, root) VALUES ($1, $2, $3, $4, $5)`,
      [seal.batchId, seal.first, seal.last, seal.leafCount, seal.root],
    );
  }

  async get(batchId: string): Promise<AuditSeal | null> {
    const { rows } = await this.#pool.query<AuditSealRow>(`SELECT ${SEAL_COLUMNS} FROM audit_seals WHERE batch_id = $1`, [batchId]);
    return rows[0] ? toSeal(rows[0]) : null;
  }

  /** Audit seals, newest first. */
  async list(limit: number): Promise<AuditSeal[]> {
    const { rows } = await this.#pool.query<AuditSealRow>(`SELECT ${SEAL_COLUMNS} FROM audit_seals ORDER BY audit_seals.first_audit_id DESC LIMIT $1`, [limit]);
    return rows.map(toSeal);
  }
}
