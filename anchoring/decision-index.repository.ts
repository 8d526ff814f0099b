import type { Pool, PoolClient } from 'pg';
import { ClaimtrailError } from '../core/errors.ts';
import { copyRows } from '../infra/db/copy.ts';
import { withTransaction } from '../infra/db/transaction.ts';
import { DECISION_FORMAT_V2, type DecisionV1, type DecisionV2, type LogPosition, type Outcome, type Reason, type ReasonV1 } from '../domain/decision.ts';

/**
 * The leaf encoding of a batch and of each of its decisions: `claimtrail-leaf-v1` (v1 records, and
 * v2 records batched before leaf v2 through anchoring/interim-leaf.ts) or `claimtrail-leaf-v2`
 * (anchoring/core/leaf-v2.ts). A batch never mixes the two.
 */
export type LeafEncoding = 'claimtrail-leaf-v1' | 'claimtrail-leaf-v2';
/** The v1 leaf encoding (anchoring/core/leaf.ts `LEAF_ENCODING`). */
export const LEAF_V1: LeafEncoding = 'claimtrail-leaf-v1';
/** The v2 leaf encoding (anchoring/core/leaf-v2.ts `LEAF_ENCODING_V2`). */
export const LEAF_V2: LeafEncoding = 'claimtrail-leaf-v2';

/** A new batch's offset range overlaps a stored one of the same partition. */
export class BatchOverlapError extends ClaimtrailError {
  constructor(batchId: string, storedBatchId: string) {
    super('BATCH_OVERLAP', `batch ${batchId} overlaps stored batch ${storedBatchId}`, { retriable: true });
  }
}

/**
 * A v1 decision as the index holds it: as its record was until the scoring role's legacy step
 * (pipeline/legacy-decisions.ts) moves its salt and reason texts into the sealed payload store;
 * afterwards `salt` is null, the reasons are codes and contributions, and `reasonsV1Hash` keeps
 * the reasons hash its v1 leaf bound (so the row still recomputes to its leaf).
 */
export type IndexedDecisionV1 = Omit<DecisionV1, 'salt' | 'reasons'> & {
  salt: string | null;
  reasons: Array<Reason | ReasonV1>;
  /** keccak256 of the v1 reasons with their texts (leaf-encoding.md); set once the texts are sealed away. */
  reasonsV1Hash?: string;
};

/** Where a decision sits in the log and in its batch. */
export interface BatchPlacement {
  /** Position of this decision in the `decisions` topic (bound into the leaf). */
  log: LogPosition;
  leaf: string;
  batchId: string;
  leafIndex: number;
  /** The encoding of `leaf` (its batch's); absent on write means v1. Always set when read. */
  leafEncoding?: LeafEncoding;
  /** Transaction that anchored this (flagged) v1 decision's leaf individually, if it was (v2: flagged-root.repository.ts). */
  flaggedTxHash?: string;
}

/** A decision (v1 or v2) as it sits in the log and in its batch. */
export type IndexedDecision = (IndexedDecisionV1 | DecisionV2) & BatchPlacement;

export interface BatchRecord {
  batchId: string;
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  leafCount: number;
  root: string;
  /** Encoding of every leaf in the batch; default v1. */
  leafEncoding?: LeafEncoding;
}

export interface AnchorRecord {
  chainId: bigint;
  contract: string;
  txHash: string;
  blockNumber: bigint;
  blockHash: string;
}

export interface StoredBatch extends BatchRecord {
  leafEncoding: LeafEncoding;
  /**
   * `anchored` once on chain: a v1 batch by its own `anchorBatch(es)` call on the v1 contract, a v2
   * batch when its epoch is (then `anchor` is the epoch's transaction; epoch.repository.ts has the rest).
   */
  status: 'pending' | 'anchored';
  anchor: AnchorRecord | null;
  createdAt: Date;
  anchoredAt: Date | null;
}

/**
 * Work that must commit together with a batch's decisions (the review app opens cases with it).
 * {@link DecisionIndexRepository.recordBatch} calls it inside its transaction, right after it
 * inserts the decisions of a batch not stored before; never for a batch already stored.
 */
export interface DecisionsRecordedHook {
  /**
   * @param tx the batch's transaction: write only through it; throwing rolls the batch back.
   * @param decisions the batch's decisions, in leaf order.
   */
  decisionsRecorded(tx: PoolClient, decisions: readonly IndexedDecision[]): Promise<void>;
}

export interface RecordBatchOptions {
  /** Runs in the batch's transaction after its decisions are inserted. */
  hook?: DecisionsRecordedHook;
}

interface DecisionRow {
  decision_id: string;
  claim_id: string;
  score: number;
  rf_score: number;
  nn_score: number;
  outcome: Outcome;
  reasons: Array<Reason | ReasonV1>;
  model_hash: string;
  decided_at_text: string;
  input_topic: string;
  input_partition: number;
  input_offset: string;
  claim_commitment: string;
  salt: string | null;
  format: typeof DECISION_FORMAT_V2 | null;
  instance_id: string | null;
  run_id: string | null;
  reasons_v1_hash: string | null;
  correlation_id: string | null;
  log_topic: string;
  log_partition: number;
  log_offset: string;
  leaf: string;
  batch_id: string;
  leaf_index: number;
  leaf_encoding: LeafEncoding;
  flagged_tx_hash: string | null;
}

interface BatchRow {
  batch_id: string;
  topic: string;
  partition: number;
  first_offset: string;
  last_offset: string;
  leaf_count: number;
  root: string;
  leaf_encoding: LeafEncoding;
  status: 'pending' | 'anchored';
  chain_id: string | null;
  contract: string | null;
  tx_hash: string | null;
  block_number: string | null;
  block_hash: string | null;
  created_at: Date;
  anchored_at: Date | null;
}

function toDecision(r: DecisionRow): IndexedDecision {
  const common = {
    decisionId: r.decision_id,
    claimId: r.claim_id,
    score: r.score,
    components: { rf: r.rf_score, nn: r.nn_score },
    outcome: r.outcome,
    modelHash: r.model_hash,
    decidedAt: r.decided_at_text,
    input: { topic: r.input_topic, partition: r.input_partition, offset: r.input_offset },
    claimCommitment: r.claim_commitment,
    ...(r.correlation_id ? { correlationId: r.correlation_id } : {}),
  };
  const placement: BatchPlacement = {
    log: { topic: r.log_topic, partition: r.log_partition, offset: r.log_offset },
    leaf: r.leaf,
    batchId: r.batch_id,
    leafIndex: r.leaf_index,
    leafEncoding: r.leaf_encoding,
    ...(r.flagged_tx_hash ? { flaggedTxHash: r.flagged_tx_hash } : {}),
  };
  if (r.format === DECISION_FORMAT_V2 && r.instance_id && r.run_id) {
    return { format: DECISION_FORMAT_V2, instanceId: r.instance_id, runId: r.run_id, ...common, reasons: r.reasons.map(({ code, contribution }) => ({ code, contribution })), ...placement };
  }
  return { ...common, reasons: r.reasons, salt: r.salt, ...(r.reasons_v1_hash ? { reasonsV1Hash: r.reasons_v1_hash } : {}), ...placement };
}

function toBatch(r: BatchRow): StoredBatch {
  return {
    batchId: r.batch_id,
    topic: r.topic,
    partition: r.partition,
    firstOffset: r.first_offset,
    lastOffset: r.last_offset,
    leafCount: r.leaf_count,
    root: r.root,
    leafEncoding: r.leaf_encoding,
    status: r.status,
    anchor:
      r.tx_hash && r.chain_id && r.contract && r.block_number && r.block_hash
        ? { chainId: BigInt(r.chain_id), contract: r.contract, txHash: r.tx_hash, blockNumber: BigInt(r.block_number), blockHash: r.block_hash }
        : null,
    createdAt: r.created_at,
    anchoredAt: r.anchored_at,
  };
}

const DECISION_COLUMNS = `decision_id, claim_id, score, rf_score, nn_score, outcome, reasons, model_hash, decided_at_text,
  input_topic, input_partition, input_offset::text, claim_commitment, salt, format, instance_id, run_id, reasons_v1_hash, correlation_id, log_topic, log_partition,
  log_offset::text, leaf, batch_id, leaf_index, leaf_encoding, flagged_tx_hash`;
const BATCH_COLUMNS = `batch_id, topic, partition, first_offset::text, last_offset::text, leaf_count, root, leaf_encoding, status,
  chain_id::text, contract, tx_hash, block_number::text, block_hash, created_at, anchored_at`;

/** Columns of `decisions` that recordBatch copies, in the order of its rows. */
const COPIED_DECISION_COLUMNS = Object.freeze([
  'decision_id', 'claim_id', 'score', 'rf_score', 'nn_score', 'outcome', 'reasons', 'model_hash',
  'decided_at', 'decided_at_text', 'input_topic', 'input_partition', 'input_offset', 'claim_commitment', 'salt',
  'correlation_id', 'log_topic', 'log_partition', 'log_offset', 'leaf', 'batch_id', 'leaf_index', 'format', 'instance_id', 'run_id', 'reasons_v1_hash', 'leaf_encoding',
]);

/**
 * The decision index and its batches in PostgreSQL. A batch and all its decisions are written
 * in one transaction, so the index never holds a decision outside a batch. Batches' anchor
 * columns are written by the anchor worker (anchor-root.repository.ts).
 */
export class DecisionIndexRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /**
   * Writes a closed batch with its decisions, then runs `options.hook` in the same transaction.
   * Idempotent: a batch already stored is left as is (and the hook is not called).
   * @throws BatchOverlapError when another stored batch of the partition overlaps this range (a
   *   second batcher, or a stale view of the log): the caller must resync from the index.
   */
  async recordBatch(batch: BatchRecord, decisions: readonly IndexedDecision[], options: RecordBatchOptions = {}): Promise<void> {
    await withTransaction(this.#pool, async (client) => {
      // Serialise writers of one partition, then refuse overlapping ranges: two batches must
      // never share a log position (PostgreSQL has no portable range-exclusion without btree_gist).
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1), $2)', [batch.topic, batch.partition]);
      const overlap = await client.query<{ batch_id: string }>(
        `SELECT batch_id FROM batches WHERE topic = $1 AND partition = $2 AND first_offset <= $4 AND last_offset >= $3 AND batch_id <> $5 LIMIT 1`,
        [batch.topic, batch.partition, batch.firstOffset, batch.lastOffset, batch.batchId],
      );
      if (overlap.rows[0]) throw new BatchOverlapError(batch.batchId, overlap.rows[0].batch_id);
      const inserted = await client.query(
        `INSERT INTO batches (batch_id, topic, partition, first_offset, last_offset, leaf_count, root, leaf_encoding)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (batch_id) DO NOTHING`,
        [batch.batchId, batch.topic, batch.partition, batch.firstOffset, batch.lastOffset, batch.leafCount, batch.root, batch.leafEncoding ?? LEAF_V1],
      );
      if (inserted.rowCount === 1) {
        const v2 = (d: IndexedDecision): DecisionV2 | null => ('format' in d && d.format === DECISION_FORMAT_V2 ? d : null);
        // The batch's encoding, for every decision of it: a batch never mixes encodings.
        const encoding = batch.leafEncoding ?? LEAF_V1;
        await copyRows(client, 'decisions', COPIED_DECISION_COLUMNS, decisions.map((d) => {
          const isV2 = v2(d);
          return [
            d.decisionId, d.claimId, d.score, d.components.rf, d.components.nn, d.outcome,
            // v2: codes and contributions only, whatever else an in-memory object carries.
            JSON.stringify(isV2 ? isV2.reasons.map(({ code, contribution }) => ({ code, contribution })) : d.reasons),
            d.modelHash, d.decidedAt, d.decidedAt, d.input.topic, d.input.partition, d.input.offset, d.claimCommitment,
            isV2 ? null : (d as IndexedDecisionV1).salt,
            d.correlationId ?? null, d.log.topic, d.log.partition, d.log.offset, d.leaf, d.batchId, d.leafIndex,
            isV2?.format ?? null, isV2?.instanceId ?? null, isV2?.runId ?? null,
            isV2 ? null : ((d as IndexedDecisionV1).reasonsV1Hash ?? null),
            encoding,
          ];
        }));
        await options.hook?.decisionsRecorded(client, decisions);
      }
    });
  }

  /** Highest decisions-topic offset already in a batch for this partition, or null. */
  async lastBatchedOffset(topic: string, partition: number): Promise<bigint | null> {
    const { rows } = await this.#pool.query<{ last: string | null }>(
      'SELECT max(last_offset)::text AS last FROM batches WHERE topic = $1 AND partition = $2',
      [topic, partition],
    );
    return rows[0]?.last ? BigInt(rows[0].last) : null;
  }

  async getBatch(batchId: string): Promise<StoredBatch | null> {
    const { rows } = await this.#pool.query<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM batches WHERE batch_id = $1`, [batchId]);
    return rows[0] ? toBatch(rows[0]) : null;
  }

  async listBatches(filter: { status?: 'pending' | 'anchored' } = {}): Promise<StoredBatch[]> {
    const { rows } = await this.#pool.query<BatchRow>(
      `SELECT ${BATCH_COLUMNS} FROM batches WHERE ($1::text IS NULL OR status = $1) ORDER BY batches.topic, batches.partition, batches.first_offset`,
      [filter.status ?? null],
    );
    return rows.map(toBatch);
  }

  /**
   * Every decision row that claims a position in `batchId`'s log range (same topic and
   * partition, offset inside the range), whatever batch id the row names, in log order. The
   * audit compares these with the log.
   */
  async decisionsInRange(batch: Pick<StoredBatch, 'topic' | 'partition' | 'firstOffset' | 'lastOffset'>): Promise<IndexedDecision[]> {
    const { rows } = await this.#pool.query<DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM decisions
       WHERE log_topic = $1 AND log_partition = $2 AND log_offset BETWEEN $3 AND $4 ORDER BY decisions.log_offset`,
      [batch.topic, batch.partition, batch.firstOffset, batch.lastOffset],
    );
    return rows.map(toDecision);
  }

  /** Decision rows naming `batchId`, in leaf order. */
  async decisionsOfBatch(batchId: string): Promise<IndexedDecision[]> {
    const { rows } = await this.#pool.query<DecisionRow>(`SELECT ${DECISION_COLUMNS} FROM decisions WHERE batch_id = $1 ORDER BY leaf_index`, [batchId]);
    return rows.map(toDecision);
  }

  /** Leaf hashes of a batch in leaf order, as stored when the batch closed. */
  async batchLeaves(batchId: string): Promise<string[]> {
    const { rows } = await this.#pool.query<{ leaf: string }>('SELECT leaf FROM decisions WHERE batch_id = $1 ORDER BY leaf_index', [batchId]);
    return rows.map((r) => r.leaf);
  }

  async getDecision(decisionId: string): Promise<IndexedDecision | null> {
    const { rows } = await this.#pool.query<DecisionRow>(`SELECT ${DECISION_COLUMNS} FROM decisions WHERE decision_id = $1`, [decisionId]);
    return rows[0] ? toDecision(rows[0]) : null;
  }

  /** Decisions about a claim id, newest first (an insurer may resubmit a claim). */
  async findByClaimId(claimId: string): Promise<IndexedDecision[]> {
    const { rows } = await this.#pool.query<DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM decisions WHERE claim_id = $1 ORDER BY decisions.decided_at DESC, decisions.log_offset DESC`,
      [claimId],
    );
    return rows.map(toDecision);
  }

  /** One decision of a batch, preferring the given outcome (for demos and spot checks). */
  async sampleDecision(batchId: string, prefer: Outcome = 'flag'): Promise<IndexedDecision | null> {
    const { rows } = await this.#pool.query<DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM decisions WHERE batch_id = $1 ORDER BY (outcome = $2) DESC, leaf_index LIMIT 1`,
      [batchId, prefer],
    );
    return rows[0] ? toDecision(rows[0]) : null;
  }

  /**
   * Flagged v1-leaf decisions whose individual anchor (v1 `anchorFlagged`) is not recorded yet.
   * v2-leaf decisions go into flagged trees instead ({@link pendingFlaggedV2}).
   */
  async pendingFlagged(limit = 1000): Promise<Array<{ decisionId: string; batchId: string; leaf: string }>> {
    const { rows } = await this.#pool.query<{ decision_id: string; batch_id: string; leaf: string }>(
      `SELECT decision_id, batch_id, leaf FROM decisions
        WHERE outcome = 'flag' AND leaf_encoding = 'claimtrail-leaf-v1' AND flagged_tx_hash IS NULL ORDER BY batch_id, leaf_index LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ decisionId: r.decision_id, batchId: r.batch_id, leaf: r.leaf }));
  }

  /**
   * Flagged v2-leaf decisions in no flagged tree yet (flagged_members), in decision-id order, at
   * most `limit`: what the next flagged tree takes.
   */
  async pendingFlaggedV2(limit = 10_000): Promise<IndexedDecision[]> {
    const { rows } = await this.#pool.query<DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM decisions
        WHERE outcome = 'flag' AND leaf_encoding = 'claimtrail-leaf-v2'
          AND NOT EXISTS (SELECT 1 FROM flagged_members m WHERE m.decision_id = decisions.decision_id)
        ORDER BY decisions.decision_id LIMIT $1`,
      [limit],
    );
    return rows.map(toDecision);
  }

  async markFlaggedAnchored(decisionId: string, txHash: string, blockNumber: bigint): Promise<void> {
    await this.#pool.query('UPDATE decisions SET flagged_tx_hash = $2, flagged_block = $3 WHERE decision_id = $1', [decisionId, txHash, blockNumber.toString()]);
  }

  /**
   * Up to `limit` v1 rows still holding their salt (and reason texts) in clear, after
   * `afterDecisionId`, in decision id order: the legacy step's work list.
   */
  async legacyV1Rows(limit: number, afterDecisionId = ''): Promise<Array<{ decisionId: string; salt: string; reasons: ReasonV1[] }>> {
    const { rows } = await this.#pool.query<{ decision_id: string; salt: string; reasons: ReasonV1[] }>(
      `SELECT decision_id, salt, reasons FROM decisions
        WHERE format IS NULL AND salt IS NOT NULL AND decision_id > $1 ORDER BY decision_id LIMIT $2`,
      [afterDecisionId, limit],
    );
    return rows.map((r) => ({ decisionId: r.decision_id, salt: r.salt, reasons: r.reasons }));
  }

  /**
   * Rewrites v1 rows without their secrets: reasons to codes and contributions, salt to NULL, and
   * the v1 reasons hash (`reasonsV1Hash`, what the leaf bound) kept beside them. Only rows still
   * holding a salt are touched (idempotent). Returns the number rewritten.
   */
  async stripLegacyV1(rows: ReadonlyArray<{ decisionId: string; reasons: readonly Reason[]; reasonsV1Hash: string }>): Promise<number> {
    if (rows.length === 0) return 0;
    const result = await this.#pool.query(
      `UPDATE decisions d SET reasons = u.reasons::jsonb, salt = NULL, reasons_v1_hash = u.hash
         FROM unnest($1::text[], $2::text[], $3::text[]) AS u (decision_id, reasons, hash)
        WHERE d.decision_id = u.decision_id AND d.format IS NULL AND d.salt IS NOT NULL`,
      [rows.map((r) => r.decisionId), rows.map((r) => JSON.stringify(r.reasons.map(({ code, contribution }) => ({ code, contribution })))), rows.map((r) => r.reasonsV1Hash)],
    );
    return result.rowCount ?? 0;
  }

  /** Counts for summaries and tests. */
  async counts(): Promise<{ decisions: number; flagged: number; review: number; batches: number; anchored: number }> {
    const { rows } = await this.#pool.query<{ decisions: string; flagged: string; review: string; batches: string; anchored: string }>(
      `SELECT (SELECT count(*) FROM decisions) AS decisions,
              (SELECT count(*) FROM decisions WHERE outcome = 'flag') AS flagged,
              (SELECT count(*) FROM decisions WHERE outcome = 'review') AS review,
              (SELECT count(*) FROM batches) AS batches,
              (SELECT count(*) FROM batches WHERE status = 'anchored') AS anchored`,
    );
    const r = rows[0]!;
    return { decisions: Number(r.decisions), flagged: Number(r.flagged), review: Number(r.review), batches: Number(r.batches), anchored: Number(r.anchored) };
  }
}
