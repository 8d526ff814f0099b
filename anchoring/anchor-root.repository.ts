import type { Pool } from 'pg';
import type { AnchorRecord } from './decision-index.repository.ts';

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
}

interface RootRow {
  batch_id: string;
  source: AnchorRootSource;
  leaf_count: number;
  root: string;
  status: 'pending' | 'anchored';
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
  anchor:
    r.tx_hash && r.chain_id && r.contract && r.block_number && r.block_hash
      ? { chainId: BigInt(r.chain_id), contract: r.contract, txHash: r.tx_hash, blockNumber: BigInt(r.block_number), blockHash: r.block_hash }
      : null,
});

const ANCHOR_COLUMNS = 'leaf_count, root, status, chain_id::text, contract, tx_hash, block_number::text, block_hash';

/**
 * Every root one signer anchors, read from both tables that hold them: decision batches and
 * audit seals, in the order they are sent (audit seals first, then decision batches by topic,
 * partition and first offset). Batch ids are unique across the two tables: both derive from
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
    return `SELECT batch_id, source, ${ANCHOR_COLUMNS} FROM (
        SELECT batch_id, 'audit' AS source, 0 AS rank, '' AS topic, 0 AS partition, first_audit_id AS first, ${ANCHOR_COLUMNS} FROM audit_seals
        UNION ALL
        SELECT batch_id, 'decisions', 1, topic, partition, first_offset, ${ANCHOR_COLUMNS} FROM batches
      ) AS roots WHERE ${where}`;
  }

  async get(batchId: string): Promise<AnchorRoot | null> {
    const { rows } = await this.#pool.query<RootRow>(this.#select('batch_id = $1'), [batchId]);
    return rows[0] ? toRoot(rows[0]) : null;
  }

  /** Roots not anchored yet, in sending order. */
  async pending(): Promise<AnchorRoot[]> {
    const { rows } = await this.#pool.query<RootRow>(`${this.#select(`status = 'pending'`)} ORDER BY rank, topic, partition, first`);
    return rows.map(toRoot);
  }

  /** Anchored roots whose anchoring block is at or above `blockNumber` (the reorg window). */
  async anchoredSinceBlock(blockNumber: bigint): Promise<AnchorRoot[]> {
    const { rows } = await this.#pool.query<RootRow>(`${this.#select(`status = 'anchored' AND block_number >= $1`)} ORDER BY block_number`, [blockNumber.toString()]);
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
