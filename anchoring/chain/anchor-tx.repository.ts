import type { Pool } from 'pg';

/** States of one transaction attempt; see infra/db/migrations/1732700000000_anchor-transactions.sql. */
export type AnchorTxState = 'pending' | 'sent' | 'mined' | 'confirmed' | 'replaced' | 'failed';

/** One stored attempt. Wei amounts and gas are bigint. */
export interface AnchorTxAttempt {
  txHash: string;
  signer: string;
  nonce: bigint;
  attempt: number;
  method: string;
  batchIds: string[];
  rawTx: string;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  gasLimit: bigint;
  state: AnchorTxState;
  blockNumber: bigint | null;
  blockHash: string | null;
  gasUsed: bigint | null;
  error: string | null;
}

interface Row {
  tx_hash: string;
  signer: string;
  nonce: string;
  attempt: number;
  method: string;
  batch_ids: string[];
  raw_tx: string;
  max_fee_per_gas: string;
  max_priority_fee_per_gas: string;
  gas_limit: string;
  state: AnchorTxState;
  block_number: string | null;
  block_hash: string | null;
  gas_used: string | null;
  error: string | null;
}

const COLUMNS = `tx_hash, signer, nonce::text, attempt, method, batch_ids, raw_tx, max_fee_per_gas::text,
  max_priority_fee_per_gas::text, gas_limit::text, state, block_number::text, block_hash, gas_used::text, error`;

function toAttempt(r: Row): AnchorTxAttempt {
  return {
    txHash: r.tx_hash,
    signer: r.signer,
    nonce: BigInt(r.nonce),
    attempt: r.attempt,
    method: r.method,
    batchIds: r.batch_ids,
    rawTx: r.raw_tx,
    maxFeePerGas: BigInt(r.max_fee_per_gas),
    maxPriorityFeePerGas: BigInt(r.max_priority_fee_per_gas),
    gasLimit: BigInt(r.gas_limit),
    state: r.state,
    blockNumber: r.block_number === null ? null : BigInt(r.block_number),
    blockHash: r.block_hash,
    gasUsed: r.gas_used === null ? null : BigInt(r.gas_used),
    error: r.error,
  };
}

/** The anchor signer's transaction attempts in PostgreSQL (the transaction manager's memory). */
export class AnchorTxRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Stores a signed attempt in state `pending`, before it is broadcast. */
  async insert(a: Omit<AnchorTxAttempt, 'state' | 'blockNumber' | 'blockHash' | 'gasUsed' | 'error'>): Promise<void> {
    await this.#pool.query(
      `INSERT INTO anchor_transactions (tx_hash, signer, nonce, attempt, method, batch_ids, raw_tx, max_fee_per_gas,
         max_priority_fee_per_gas, gas_limit, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')`,
      [a.txHash, a.signer, a.nonce.toString(), a.attempt, a.method, a.batchIds, a.rawTx, a.maxFeePerGas.toString(), a.maxPriorityFeePerGas.toString(), a.gasLimit.toString()],
    );
  }

  /** Moves an attempt to `state`, recording where it landed (or why it failed) when given. */
  async setState(txHash: string, state: AnchorTxState, at: { blockNumber?: bigint | null; blockHash?: string | null; gasUsed?: bigint | null; error?: string } = {}): Promise<void> {
    await this.#pool.query(
      `UPDATE anchor_transactions SET state = $2, block_number = $3, block_hash = $4, gas_used = COALESCE($5, gas_used),
         error = COALESCE($6, error), updated_at = now() WHERE tx_hash = $1`,
      [txHash, state, at.blockNumber?.toString() ?? null, at.blockHash ?? null, at.gasUsed?.toString() ?? null, at.error ?? null],
    );
  }

  /** Every attempt for a nonce of a signer, oldest first. */
  async attempts(signer: string, nonce: bigint): Promise<AnchorTxAttempt[]> {
    const { rows } = await this.#pool.query<Row>(`SELECT ${COLUMNS} FROM anchor_transactions WHERE signer = $1 AND nonce = $2 ORDER BY attempt`, [signer, nonce.toString()]);
    return rows.map(toAttempt);
  }

  /** Nonces of the signer that still have an attempt pending, sent or mined (after a crash), lowest first. */
  async openNonces(signer: string): Promise<bigint[]> {
    const { rows } = await this.#pool.query<{ nonce: string }>(
      `SELECT DISTINCT nonce::text FROM anchor_transactions WHERE signer = $1 AND state IN ('pending', 'sent', 'mined') ORDER BY 1`,
      [signer],
    );
    return rows.map((r) => BigInt(r.nonce)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * True when some attempt of `signer` names `id` among its batch ids (an epoch id, a flagged
   * root): something carrying it was signed, so it may be on chain or in a mempool and must never
   * be rebuilt with other contents.
   */
  async hasAttemptNaming(signer: string, id: string): Promise<boolean> {
    const { rows } = await this.#pool.query('SELECT 1 FROM anchor_transactions WHERE signer = $1 AND $2 = ANY(batch_ids) LIMIT 1', [signer, id]);
    return rows.length > 0;
  }

  /** Highest nonce the signer has stored an attempt for, or null. */
  async maxNonce(signer: string): Promise<bigint | null> {
    const { rows } = await this.#pool.query<{ n: string | null }>('SELECT max(nonce)::text AS n FROM anchor_transactions WHERE signer = $1', [signer]);
    return rows[0]?.n ? BigInt(rows[0].n) : null;
  }
}
