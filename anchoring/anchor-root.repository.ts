import type { Pool } from 'pg';
import type { AnchorRecord, LeafEncoding } from './decision-index.repository.ts';

/** Where a root waiting for (or holding) an anchor is stored. */
export type AnchorRootSource = 'decisions' | 'audit';

/** A Merkle root the anchor worker commits with `anchorBatch` / `anchorBatches`. */
export interface AnchorRoot {
  batchId: string;
  /** `decisions`: a decision batch (`batches`); `audit`: a seal of the review audit log (`audit_seals`). */
  source: AnchorRootSource;
  leafCount: number;
  root: string;
  status: 'pending' | 'anchored';
  anchor: AnchorRecord | null;
  /** A decision batch's leaf encoding; null for an audit seal. Only v1 decision batches go through the v1 path. */
  leafEncoding: LeafEncoding | null;
  /** True when an epoch (v2) holds it: anchored through epoch-anchorer.ts, never through the v1 path. */
  inEpoch: boolean;
}

interface RootRow {
  batch_id: string;
  source: AnchorRootSource;
  leaf_count: number;
  root: string;
  status: 'pending' | 'anchored';
  leaf_encoding: LeafEncoding | null;
  in_epoch: boolean;
  chain_id: string | null;
  contract: string | null;
  tx_hash: string | null;
  block_number: string | null;
  block_hash: string | null;
}

const toRoot = (r: RootRow): AnchorRoot => ({
  batchId: r.batch_id,
  source: r.source,
  leafCount: r.leaf_count,
  root: r.root,
  status: r.status,
  leafEncoding: r.leaf_encoding,
  inEpoch: r.in_epoch,
  anchor:
    r.tx_hash && r.chain_id && r.contract && r.block_number && r.block_hash
      ? { chainId: BigInt(r.chain_id), contract: r.contract, txHash: r.tx_hash, blockNumber: BigInt(r.block_number), blockHash: r.block_hash }
      : null,
});

const ANCHOR_COLUMNS = 'leaf_count, root, status, chain_id::text, contract, tx_hash, block_number::text, block_hash';

/** What the v1 path still anchors: v1-leaf decision batches (audit seals and v2 batches go into epochs). */
const V1_ONLY = `source = 'decisions' AND leaf_encoding = 'claimtrail-leaf-v1'`;

/**
 * The v1 anchoring path's view of the roots one signer anchors (`anchorBatch` / `anchorBatches` on
 * the v1 contract), read from both tables that hold roots: decision batches and audit seals.
 * Since proof format v2 only v1-leaf decision batches are still sent this way ({@link pending});
 * v2 batches and audit seals are committed in epochs (anchoring/chain/epoch-anchorer.ts). Batch ids are unique across the two tables: both derive from
 * keccak256(abi.encode(topic, partition, first, last)) and no decisions topic is an audit
 * pseudo-topic. Each table's other columns belong to its writer (the batcher, the audit sealer);
 * this repository only reads roots and writes the anchor columns.
 */
export class AnchorRootRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  #select(where: string): string {
    return `SELECT batch_id, source, leaf_encoding, in_epoch, ${ANCHOR_COLUMNS} FROM (
        SELECT batch_id, 'audit' AS source, 0 AS rank, '' AS topic, 0 AS partition, first_audit_id AS first, NULL AS leaf_encoding,
               EXISTS (SELECT 1 FROM epoch_batches e WHERE e.seal_id = audit_seals.batch_id) AS in_epoch, ${ANCHOR_COLUMNS} FROM audit_seals
        UNION ALL
        SELECT batch_id, 'decisions', 1, topic, partition, first_offset, leaf_encoding,
               EXISTS (SELECT 1 FROM epoch_batches e WHERE e.batch_id = batches.batch_id), ${ANCHOR_COLUMNS} FROM batches
      ) AS roots WHERE ${where}`;
  }

  async get(batchId: string): Promise<AnchorRoot | null> {
    const { rows } = await this.#pool.query<RootRow>(this.#select('batch_id = $1'), [batchId]);
    return rows[0] ? toRoot(rows[0]) : null;
  }

  /**
   * v1 roots not anchored yet, in sending order: v1-leaf decision batches only. Since proof
   * format v2, v2 batches and every pending audit seal go into epochs (epoch.repository.ts).
   */
  async pending(): Promise<AnchorRoot[]> {
    const { rows } = await this.#pool.query<RootRow>(`${this.#select(`status = 'pending' AND ${V1_ONLY}`)} ORDER BY rank, topic, partition, first`);
    return rows.map(toRoot);
  }

  /** Roots the v1 path anchored whose anchoring block is at or above `blockNumber` (the reorg window). */
  async anchoredSinceBlock(blockNumber: bigint): Promise<AnchorRoot[]> {
    const { rows } = await this.#pool.query<RootRow>(`${this.#select(`status = 'anchored' AND NOT in_epoch AND leaf_encoding IS DISTINCT FROM 'claimtrail-leaf-v2' AND block_number >= $1`)} ORDER BY block_number`, [blockNumber.toString()]);
    return rows.map(toRoot);
  }

  async markAnchored(batchId: string, anchor: AnchorRecord): Promise<void> {
    const values = [batchId, anchor.chainId.toString(), anchor.contract, anchor.txHash, anchor.blockNumber.toString(), anchor.blockHash];
    for (const table of ['batches', 'audit_seals']) {
      await this.#pool.query(
        `UPDATE ${table} SET status = 'anchored', chain_id = $2, contract = $3, tx_hash = $4, block_number = $5, block_hash = $6,
           anchored_at = now() WHERE batch_id = $1`,
        values,
      );
    }
  }

  /**
   * Returns an anchored root to `pending` and forgets its anchor (a reorg took the anchoring
   * block out of the canonical chain); the anchor worker anchors it again.
   */
  async markPending(batchId: string): Promise<void> {
    for (const table of ['batches', 'audit_seals']) {
      await this.#pool.query(
        `UPDATE ${table} SET status = 'pending', chain_id = NULL, contract = NULL, tx_hash = NULL, block_number = NULL,
           block_hash = NULL, anchored_at = NULL WHERE batch_id = $1`,
        [batchId],
      );
    }
  }
}
