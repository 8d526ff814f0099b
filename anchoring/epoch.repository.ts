import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '../infra/db/transaction.ts';
import type { EpochBatch } from './core/epoch.ts';
import { batchIdV2 } from './core/ids-v2.ts';
import type { AnchorRecord } from './decision-index.repository.ts';

/** Where a v2 record (epoch or flagged root) landed: the v1 anchor fields plus the anchoring account. */
export interface AnchorRecordV2 extends AnchorRecord {
  /** The account that sent the transaction: the namespace the contract keys the record by (`msg.sender`). */
  anchorer: string;
}

/** What an epoch entry commits: a v2 decision batch or an audit seal. */
export type EpochEntryKind = 'decisions' | 'audit';

/**
 * One entry of an epoch, with the fields its `claimtrail-epoch-entry-v2` leaf hashes
 * ({@link EpochBatch}: topic, partition, firstOffset, lastOffset, leafCount, root).
 */
export interface EpochEntry extends EpochBatch {
  /** 0-based place in the epoch tree. */
  position: number;
  kind: EpochEntryKind;
  /** `batches.batch_id` of a decision batch (equal to `entryBatchId`), or null for an audit seal. */
  batchId: string | null;
  /** `audit_seals.batch_id` of an audit seal, or null for a decision batch. */
  sealId: string | null;
  /** The entry's batch id v2 (ids-v2.ts `batchIdV2` of the entry's range under the installation). */
  entryBatchId: string;
}

/** Something pending that the next epoch may take (an entry without its position). */
export type EpochCandidate = Omit<EpochEntry, 'position'>;

/** An epoch as stored. */
export interface StoredEpoch {
  epochId: string;
  instanceId: string;
  /** The installation's epoch number, from 0, decimal. */
  sequence: string;
  root: string;
  batchCount: number;
  /** Decisions (and audit entries) over all entries, decimal. */
  leafCount: string;
  status: 'pending' | 'anchored';
  /** Where it landed; null while pending. */
  anchor: AnchorRecordV2 | null;
  createdAt: Date;
  anchoredAt: Date | null;
}

/** An epoch's tree as the anchorer built it, to store before anything is signed. */
export interface BuiltEpoch {
  epochId: string;
  root: string;
  /** Sum of the entries' leaf counts, decimal. */
  leafCount: string;
  /** The entries in tree order (their positions are their indexes). */
  entries: readonly EpochCandidate[];
}

interface EpochRow {
  epoch_id: string;
  instance_id: string;
  sequence: string;
  root: string;
  batch_count: number;
  leaf_count: string;
  status: 'pending' | 'anchored';
  chain_id: string | null;
  contract: string | null;
  anchorer: string | null;
  tx_hash: string | null;
  block_number: string | null;
  block_hash: string | null;
  created_at: Date;
  anchored_at: Date | null;
}

interface EntryRow {
  position: number;
  batch_id: string | null;
  seal_id: string | null;
  entry_batch_id: string;
  topic: string;
  partition: number;
  first_offset: string;
  last_offset: string;
  leaf_count: number;
  root: string;
}

const EPOCH_COLUMNS = `epoch_id, instance_id, sequence::text, root, batch_count, leaf_count::text, status, chain_id::text, contract,
  anchorer, tx_hash, block_number::text, block_hash, created_at, anchored_at`;
const ENTRY_COLUMNS = 'position, batch_id, seal_id, entry_batch_id, topic, partition, first_offset::text, last_offset::text, leaf_count, root';

const toEpoch = (r: EpochRow): StoredEpoch => ({
  epochId: r.epoch_id,
  instanceId: r.instance_id,
  sequence: r.sequence,
  root: r.root,
  batchCount: r.batch_count,
  leafCount: r.leaf_count,
  status: r.status,
  anchor:
    r.status === 'anchored' && r.chain_id && r.contract && r.anchorer && r.tx_hash && r.block_number && r.block_hash
      ? { chainId: BigInt(r.chain_id), contract: r.contract, anchorer: r.anchorer, txHash: r.tx_hash, blockNumber: BigInt(r.block_number), blockHash: r.block_hash }
      : null,
  createdAt: r.created_at,
  anchoredAt: r.anchored_at,
});

const toEntry = (r: EntryRow): EpochEntry => ({
  position: r.position,
  kind: r.batch_id ? 'decisions' : 'audit',
  batchId: r.batch_id,
  sealId: r.seal_id,
  entryBatchId: r.entry_batch_id,
  topic: r.topic,
  partition: r.partition,
  firstOffset: r.first_offset,
  lastOffset: r.last_offset,
  leafCount: r.leaf_count,
  root: r.root,
});

/**
 * The audit pseudo-topic of this database, as review/audit/audit-leaf.ts `auditLogTopic` names it
 * (`claimtrail.audit-log.` + review_instance.instance_id); the audit-seals migration derives it
 * the same way. An audit seal's epoch entry is (this topic, partition 0, first..last audit id).
 */
const AUDIT_TOPIC_SQL = `('claimtrail.audit-log.' || (SELECT instance_id::text FROM review_instance))`;

/** Advisory lock key serialising epoch creation (one sequence, one set of unassigned batches). */
const EPOCH_LOCK = 'claimtrail.epochs';

/**
 * Epochs in PostgreSQL (`epochs`, `epoch_batches`; migration 1733500000000_anchoring-v2.sql).
 * The anchor worker (anchoring/chain/epoch-anchorer.ts) is the only writer; the batch and seal
 * rows an epoch covers get their anchor columns from it too, so `batches.status` keeps meaning
 * "on chain" for v1 and v2 alike.
 *
 * Read API for the proof exporter (stable names):
 * - {@link placementOfBatch}`(batchId)`: the epoch holding a v2 decision batch, the batch's
 *   entry position and every entry of that epoch in tree order, or null while the batch is in no
 *   epoch yet. `buildEpochTree(epoch.instanceId, entries)` (anchoring/core/epoch.ts) over those
 *   entries gives `epoch.root`, and `proofFor(position)` the bundle's `epoch.proof`.
 * - {@link placementOfSeal}`(sealId)`: the same for an audit seal (`audit_seals.batch_id`).
 * - {@link get}`(epochId)`, {@link getBySequence}`(sequence)`: the epoch (root, counts, status, and
 *   once anchored `anchor`: chain id, contract, anchorer, tx hash, block number and hash).
 * - {@link entries}`(epochId)`: its entries in tree order.
 * A bundle should be exported only from an epoch whose `status` is `anchored`.
 */
export class EpochRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  // ---- read API (proof exporter, audit, status) ----

  async get(epochId: string): Promise<StoredEpoch | null> {
    const { rows } = await this.#pool.query<EpochRow>(`SELECT ${EPOCH_COLUMNS} FROM epochs WHERE epoch_id = $1`, [epochId]);
    return rows[0] ? toEpoch(rows[0]) : null;
  }

  /** The installation's epoch number `sequence` (decimal or bigint), or null. */
  async getBySequence(sequence: string | bigint): Promise<StoredEpoch | null> {
    const { rows } = await this.#pool.query<EpochRow>(`SELECT ${EPOCH_COLUMNS} FROM epochs WHERE sequence = $1`, [sequence.toString()]);
    return rows[0] ? toEpoch(rows[0]) : null;
  }

  /** The epoch's entries in tree order (position 0 first). */
  async entries(epochId: string, db: Pool | PoolClient = this.#pool): Promise<EpochEntry[]> {
    const { rows } = await db.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM epoch_batches WHERE epoch_id = $1 ORDER BY position`, [epochId]);
    return rows.map(toEntry);
  }

  /** The epoch holding decision batch `batchId`, its position and the epoch's entries; null when in none. */
  placementOfBatch(batchId: string): Promise<{ epoch: StoredEpoch; position: number; entries: EpochEntry[] } | null> {
    return this.#placement('batch_id', batchId);
  }

  /** The epoch holding audit seal `sealId` (`audit_seals.batch_id`), its position and the epoch's entries; null when in none. */
  placementOfSeal(sealId: string): Promise<{ epoch: StoredEpoch; position: number; entries: EpochEntry[] } | null> {
    return this.#placement('seal_id', sealId);
  }

  async #placement(column: 'batch_id' | 'seal_id', id: string): Promise<{ epoch: StoredEpoch; position: number; entries: EpochEntry[] } | null> {
    const { rows } = await this.#pool.query<{ epoch_id: string; position: number }>(`SELECT epoch_id, position FROM epoch_batches WHERE ${column} = $1`, [id]);
    if (!rows[0]) return null;
    const epoch = await this.get(rows[0].epoch_id);
    if (!epoch) return null;
    return { epoch, position: rows[0].position, entries: await this.entries(epoch.epochId) };
  }

  /** Epochs, newest first (status pages, tests). */
  async list(limit = 100): Promise<StoredEpoch[]> {
    const { rows } = await this.#pool.query<EpochRow>(`SELECT ${EPOCH_COLUMNS} FROM epochs ORDER BY sequence DESC LIMIT $1`, [limit]);
    return rows.map(toEpoch);
  }

  // ---- write API (the anchor worker only) ----

  /**
   * v2 decision batches and audit seals that are pending and in no epoch, in epoch order:
   * decision batches by topic, partition, first offset; then audit seals by first audit id.
   */
  async unassigned(instanceId: string, limit: number, db: Pool | PoolClient = this.#pool): Promise<EpochCandidate[]> {
    const { rows } = await db.query<EntryRow>(
      `(SELECT 0 AS position, b.batch_id, NULL::text AS seal_id, b.batch_id AS entry_batch_id, b.topic, b.partition,
               b.first_offset::text, b.last_offset::text, b.leaf_count, b.root, 0 AS rank, b.first_offset AS first
          FROM batches b
         WHERE b.status = 'pending' AND b.leaf_encoding = 'claimtrail-leaf-v2'
           AND NOT EXISTS (SELECT 1 FROM epoch_batches e WHERE e.batch_id = b.batch_id)
         ORDER BY b.topic, b.partition, b.first_offset LIMIT $1)
       UNION ALL
       (SELECT 0, NULL, s.batch_id, '', ${AUDIT_TOPIC_SQL}, 0, s.first_audit_id::text, s.last_audit_id::text, s.leaf_count, s.root, 1, s.first_audit_id
          FROM audit_seals s
         WHERE s.status = 'pending' AND NOT EXISTS (SELECT 1 FROM epoch_batches e WHERE e.seal_id = s.batch_id)
         ORDER BY s.first_audit_id LIMIT $1)
       ORDER BY rank, topic, partition, first`,
      [limit],
    );
    return rows.slice(0, limit).map((r) => {
      const { position: _position, ...candidate } = toEntry(r);
      // A seal's entry id is derived here; a v2 decision batch's id already is its batch id v2.
      if (candidate.sealId) candidate.entryBatchId = batchIdV2(instanceId, candidate.topic, 0, candidate.firstOffset, candidate.lastOffset);
      return candidate;
    });
  }

  /** True when a pending epoch exists or something is waiting for one (a job would have work). */
  async hasWork(instanceId: string): Promise<boolean> {
    if ((await this.pending()).length > 0) return true;
    return (await this.unassigned(instanceId, 1)).length > 0;
  }

  /**
   * Creates the next epoch in one transaction: takes the epoch lock, numbers it (the highest
   * stored sequence + 1, or 0), reads up to `maxEntries` unassigned candidates, lets `build` make
   * the tree (pure: no I/O), and stores the epoch `pending` with its entries.
   * @returns the stored epoch and its entries, or null when nothing was waiting.
   */
  async createNext(
    instanceId: string,
    maxEntries: number,
    build: (sequence: bigint, candidates: readonly EpochCandidate[]) => BuiltEpoch,
  ): Promise<{ epoch: StoredEpoch; entries: EpochEntry[] } | null> {
    return withTransaction(this.#pool, async (db) => {
      await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [EPOCH_LOCK]);
      const candidates = await this.unassigned(instanceId, maxEntries, db);
      if (candidates.length === 0) return null;
      const { rows } = await db.query<{ next: string }>('SELECT coalesce(max(sequence) + 1, 0)::text AS next FROM epochs WHERE instance_id = $1', [instanceId]);
      const sequence = BigInt(rows[0]!.next);
      const built = build(sequence, candidates);
      await db.query('INSERT INTO epochs (epoch_id, instance_id, sequence, root, batch_count, leaf_count) VALUES ($1, $2, $3, $4, $5, $6)', [
        built.epochId, instanceId, sequence.toString(), built.root, built.entries.length, built.leafCount,
      ]);
      const e = built.entries;
      await db.query(
        `INSERT INTO epoch_batches (epoch_id, position, batch_id, seal_id, entry_batch_id, topic, partition, first_offset, last_offset, leaf_count, root)
         SELECT $1, u.position - 1, u.batch_id, u.seal_id, u.entry_batch_id, u.topic, u.partition, u.first_offset, u.last_offset, u.leaf_count, u.root
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::bigint[], $9::int[], $10::text[])
                WITH ORDINALITY AS u(batch_id, seal_id, entry_batch_id, topic, partition, first_offset, last_offset, leaf_count, root, position)`,
        [
          built.epochId,
          e.map((x) => x.batchId), e.map((x) => x.sealId), e.map((x) => x.entryBatchId), e.map((x) => x.topic), e.map((x) => x.partition),
          e.map((x) => x.firstOffset), e.map((x) => x.lastOffset), e.map((x) => x.leafCount), e.map((x) => x.root),
        ],
      );
      const stored = await db.query<EpochRow>(`SELECT ${EPOCH_COLUMNS} FROM epochs WHERE epoch_id = $1`, [built.epochId]);
      return { epoch: toEpoch(stored.rows[0]!), entries: await this.entries(built.epochId, db) };
    });
  }

  /** Epochs not anchored yet, lowest sequence first. */
  async pending(): Promise<StoredEpoch[]> {
    const { rows } = await this.#pool.query<EpochRow>(`SELECT ${EPOCH_COLUMNS} FROM epochs WHERE status = 'pending' ORDER BY sequence`);
    return rows.map(toEpoch);
  }

  /** Anchored epochs whose block is at or above `blockNumber` (the reorg window), oldest first. */
  async anchoredSinceBlock(blockNumber: bigint): Promise<StoredEpoch[]> {
    const { rows } = await this.#pool.query<EpochRow>(`SELECT ${EPOCH_COLUMNS} FROM epochs WHERE status = 'anchored' AND block_number >= $1 ORDER BY sequence`, [blockNumber.toString()]);
    return rows.map(toEpoch);
  }

  /**
   * Deletes a pending epoch (and its entries, which frees its batches and seals for the next
   * epoch). Only for an epoch no transaction was ever signed for. Returns false when it was not pending.
   */
  async dissolve(epochId: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(`DELETE FROM epochs WHERE epoch_id = $1 AND status = 'pending'`, [epochId]);
    return rowCount === 1;
  }

  /** Records the epoch, and every batch and seal it covers, as anchored at `anchor` (one transaction). */
  async markAnchored(epochId: string, anchor: AnchorRecordV2): Promise<void> {
    await withTransaction(this.#pool, async (db) => {
      const at = [epochId, anchor.chainId.toString(), anchor.contract, anchor.txHash, anchor.blockNumber.toString(), anchor.blockHash];
      await db.query(
        `UPDATE epochs SET status = 'anchored', chain_id = $2, contract = $3, tx_hash = $4, block_number = $5, block_hash = $6,
           anchorer = $7, anchored_at = now() WHERE epoch_id = $1`,
        [...at, anchor.anchorer],
      );
      for (const [table, column] of [['batches', 'batch_id'], ['audit_seals', 'seal_id']] as const) {
        await db.query(
          `UPDATE ${table} SET status = 'anchored', chain_id = $2, contract = $3, tx_hash = $4, block_number = $5, block_hash = $6, anchored_at = now()
            WHERE batch_id IN (SELECT ${column} FROM epoch_batches WHERE epoch_id = $1 AND ${column} IS NOT NULL)`,
          at,
        );
      }
    });
  }

  /**
   * Returns an anchored epoch (and its batches and seals) to `pending` after a reorg took its
   * block out of the canonical chain. Its id, root and entries stay: it is sent again as it was.
   */
  async markPending(epochId: string): Promise<void> {
    await withTransaction(this.#pool, async (db) => {
      await db.query(
        `UPDATE epochs SET status = 'pending', chain_id = NULL, contract = NULL, anchorer = NULL, tx_hash = NULL, block_number = NULL,
           block_hash = NULL, anchored_at = NULL WHERE epoch_id = $1`,
        [epochId],
      );
      for (const [table, column] of [['batches', 'batch_id'], ['audit_seals', 'seal_id']] as const) {
        await db.query(
          `UPDATE ${table} SET status = 'pending', chain_id = NULL, contract = NULL, tx_hash = NULL, block_number = NULL, block_hash = NULL, anchored_at = NULL
            WHERE batch_id IN (SELECT ${column} FROM epoch_batches WHERE epoch_id = $1 AND ${column} IS NOT NULL)`,
          [epochId],
        );
      }
    });
  }
}
