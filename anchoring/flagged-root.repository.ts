import type { Pool } from 'pg';
import { withTransaction } from '../infra/db/transaction.ts';
import type { AnchorRecordV2 } from './epoch.repository.ts';

/** A flagged tree's root as stored. */
export interface StoredFlaggedRoot {
  root: string;
  /** Decisions in the tree (what `anchorFlaggedRoot` records as `count`). */
  count: number;
  status: 'pending' | 'anchored';
  /** Where it landed; null while pending. */
  anchor: AnchorRecordV2 | null;
  createdAt: Date;
  anchoredAt: Date | null;
}

/** A flagged decision's place in its flagged tree. */
export interface FlaggedMembership extends StoredFlaggedRoot {
  decisionId: string;
  /** 0-based index of the decision's leaf in the tree (decision-id order). */
  position: number;
}

interface RootRow {
  root: string;
  leaf_count: number;
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

const ROOT_COLUMNS = `r.root, r.leaf_count, r.status, r.chain_id::text, r.contract, r.anchorer, r.tx_hash, r.block_number::text, r.block_hash,
  r.created_at, r.anchored_at`;

const toRoot = (r: RootRow): StoredFlaggedRoot => ({
  root: r.root,
  count: r.leaf_count,
  status: r.status,
  anchor:
    r.status === 'anchored' && r.chain_id && r.contract && r.anchorer && r.tx_hash && r.block_number && r.block_hash
      ? { chainId: BigInt(r.chain_id), contract: r.contract, anchorer: r.anchorer, txHash: r.tx_hash, blockNumber: BigInt(r.block_number), blockHash: r.block_hash }
      : null,
  createdAt: r.created_at,
  anchoredAt: r.anchored_at,
});

/**
 * Per-block flagged trees in PostgreSQL (`flagged_roots`, `flagged_members`; migration
 * 1733500000000_anchoring-v2.sql). Written by the anchor worker only
 * (anchoring/chain/flagged-root-anchorer.ts). No on-chain slot per decision: a flagged decision is
 * found through its membership here, and proven against the root's `FlaggedRootAnchored` record.
 *
 * Read API for the proof exporter (stable names):
 * - {@link membershipOf}`(decisionId)`: the flagged tree holding a flagged v2 decision (root,
 *   count, status, `anchor` once anchored: chain id, contract, anchorer, tx hash, block number and
 *   hash) and the decision's position in it; null when the decision is in none (not flagged, a v1
 *   leaf, or still waiting for a flagged job).
 * - {@link members}`(root)`: the tree's decision ids in position order. The exporter loads those
 *   decisions, recomputes their v2 leaves (anchoring/decision-leaf.ts `decisionLeafValuesV2`) and
 *   `buildFlaggedTree(values).proofFor(decisionId)` (anchoring/core/flagged-tree.ts) gives the
 *   bundle's `flagged.proof`, its root equal to the stored one.
 * - {@link get}`(root)`.
 * A `flagged` section should be exported only from a root whose `status` is `anchored`.
 */
export class FlaggedRootRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  // ---- read API (proof exporter) ----

  async get(root: string): Promise<StoredFlaggedRoot | null> {
    const { rows } = await this.#pool.query<RootRow>(`SELECT ${ROOT_COLUMNS} FROM flagged_roots r WHERE r.root = $1`, [root]);
    return rows[0] ? toRoot(rows[0]) : null;
  }

  async membershipOf(decisionId: string): Promise<FlaggedMembership | null> {
    const { rows } = await this.#pool.query<RootRow & { position: number }>(
      `SELECT ${ROOT_COLUMNS}, m.position FROM flagged_members m JOIN flagged_roots r ON r.root = m.root WHERE m.decision_id = $1`,
      [decisionId],
    );
    return rows[0] ? { ...toRoot(rows[0]), decisionId, position: rows[0].position } : null;
  }

  /** Decision ids of the tree, in position (decision-id) order. */
  async members(root: string): Promise<string[]> {
    const { rows } = await this.#pool.query<{ decision_id: string }>('SELECT decision_id FROM flagged_members WHERE root = $1 ORDER BY position', [root]);
    return rows.map((r) => r.decision_id);
  }

  /** Flagged roots, newest first. */
  async list(limit = 100): Promise<StoredFlaggedRoot[]> {
    const { rows } = await this.#pool.query<RootRow>(`SELECT ${ROOT_COLUMNS} FROM flagged_roots r ORDER BY r.created_at DESC, r.root LIMIT $1`, [limit]);
    return rows.map(toRoot);
  }

  // ---- write API (the anchor worker only) ----

  /**
   * Stores a flagged tree `pending` with its members (decision ids in tree order), in one
   * transaction, before anything is signed.
   * @throws the database error when a member is already in another tree (a second writer: the
   *   job fails and its retry starts over from what is stored).
   */
  async create(root: string, decisionIds: readonly string[]): Promise<void> {
    await withTransaction(this.#pool, async (db) => {
      await db.query('INSERT INTO flagged_roots (root, leaf_count) VALUES ($1, $2)', [root, decisionIds.length]);
      await db.query(
        `INSERT INTO flagged_members (decision_id, root, position)
         SELECT u.decision_id, $1, u.position - 1 FROM unnest($2::text[]) WITH ORDINALITY AS u(decision_id, position)`,
        [root, decisionIds],
      );
    });
  }

  /** Roots not anchored yet, oldest first. */
  async pending(): Promise<StoredFlaggedRoot[]> {
    const { rows } = await this.#pool.query<RootRow>(`SELECT ${ROOT_COLUMNS} FROM flagged_roots r WHERE r.status = 'pending' ORDER BY r.created_at, r.root`);
    return rows.map(toRoot);
  }

  /** Anchored roots whose block is at or above `blockNumber` (the reorg window). */
  async anchoredSinceBlock(blockNumber: bigint): Promise<StoredFlaggedRoot[]> {
    const { rows } = await this.#pool.query<RootRow>(`SELECT ${ROOT_COLUMNS} FROM flagged_roots r WHERE r.status = 'anchored' AND r.block_number >= $1 ORDER BY r.block_number`, [
      blockNumber.toString(),
    ]);
    return rows.map(toRoot);
  }

  /** Deletes a pending root and its memberships (its decisions wait for the next tree). Only for a root never signed for. */
  async dissolve(root: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(`DELETE FROM flagged_roots WHERE root = $1 AND status = 'pending'`, [root]);
    return rowCount === 1;
  }

  async markAnchored(root: string, anchor: AnchorRecordV2): Promise<void> {
    await this.#pool.query(
      `UPDATE flagged_roots SET status = 'anchored', chain_id = $2, contract = $3, anchorer = $4, tx_hash = $5, block_number = $6, block_hash = $7,
         anchored_at = now() WHERE root = $1`,
      [root, anchor.chainId.toString(), anchor.contract, anchor.anchorer, anchor.txHash, anchor.blockNumber.toString(), anchor.blockHash],
    );
  }

  /** Back to `pending` after a reorg; the same root and members are sent again. */
  async markPending(root: string): Promise<void> {
    await this.#pool.query(
      `UPDATE flagged_roots SET status = 'pending', chain_id = NULL, contract = NULL, anchorer = NULL, tx_hash = NULL, block_number = NULL,
         block_hash = NULL, anchored_at = NULL WHERE root = $1`,
      [root],
    );
  }
}
