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

/** Reads audit entries for sealing and writes audit batches into `batches` (pseudo-topic). */
export class AuditSealRepository {
  readonly #pool: Pool;
  #topic: Promise<string> | null = null;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** This database's audit pseudo-topic (read once). */
  topic(): Promise<string> {
    this.#topic ??= this.#pool.query<{ id: string }>('SELECT instance_id::text AS id FROM review_instance').then(({ rows }) => auditLogTopic(rows[0]!.id));
    return this.#topic;
  }

  /**
   * Serialises sealers for the rest of the transaction (same advisory lock key as the decision
   * batcher uses for a topic partition).
   */
  async lock(db: Queryable): Promise<void> {
    await db.query('SELECT pg_advisory_xact_lock(hashtext($1), 0)', [await this.topic()]);
  }

  /** Highest audit id already in a batch, or '0'. */
  async lastSealedId(db: Queryable = this.#pool): Promise<string> {
    const { rows } = await db.query<{ last: string | null }>('SELECT max(last_offset)::text AS last FROM batches WHERE topic = $1 AND partition = 0', [await this.topic()]);
    return rows[0]?.last ?? '0';
  }

  /** Entries after `afterId` written at least `minAgeSeconds` ago, oldest first. */
  async sealable(afterId: string, minAgeSeconds: number, limit: number, db: Queryable = this.#pool): Promise<SealedAuditEntry[]> {
    const { rows } = await db.query<SealRow>(
      `SELECT ${COLUMNS} FROM audit_log WHERE audit_id > $1 AND at <= now() - make_interval(secs => $2) ORDER BY audit_log.audit_id LIMIT $3`,
      [afterId, minAgeSeconds, limit],
    );
    return rows.map(toEntry);
  }

  /** Every entry whose id lies in [first, last], in id order. */
  async range(first: string, last: string): Promise<SealedAuditEntry[]> {
    const { rows } = await this.#pool.query<SealRow>(`SELECT ${COLUMNS} FROM audit_log WHERE audit_id BETWEEN $1 AND $2 ORDER BY audit_log.audit_id`, [first, last]);
    return rows.map(toEntry);
  }

  async insertBatch(batch: { batchId: string; first: string; last: string; leafCount: number; root: string }, db: Queryable): Promise<void> {
    await db.query(
      `INSERT INTO batches (batch_id, topic, partition, first_offset, last_offset, leaf_count, root) VALUES ($1, $2, 0, $3, $4, $5, $6)`,
      [batch.batchId, await this.topic(), batch.first, batch.last, batch.leafCount, batch.root],
    );
  }

  /** Audit batches, newest first. */
  async list(limit: number): Promise<Array<{ batchId: string; first: string; last: string; leafCount: number; root: string; status: string; txHash: string | null; blockNumber: string | null; createdAt: string }>> {
    const { rows } = await this.#pool.query<{ batch_id: string; first_offset: string; last_offset: string; leaf_count: number; root: string; status: string; tx_hash: string | null; block_number: string | null; created_at: Date }>(
      `SELECT batch_id, first_offset::text, last_offset::text, leaf_count, root, status, tx_hash, block_number::text, created_at
       FROM batches WHERE topic = $1 ORDER BY batches.first_offset DESC LIMIT $2`,
      [await this.topic(), limit],
    );
    return rows.map((r) => ({ batchId: r.batch_id, first: r.first_offset, last: r.last_offset, leafCount: r.leaf_count, root: r.root, status: r.status, txHash: r.tx_hash, blockNumber: r.block_number, createdAt: r.created_at.toISOString() }));
  }
}
