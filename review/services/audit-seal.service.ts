import type { Pool } from 'pg';
import { batchId as rangeBatchId } from '../../anchoring/core/batch.ts';
import { makeTree } from '../../anchoring/core/merkle-core.ts';
import type { Logger } from '../../core/logger.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { AuditSealAnchoring } from './audit-seal.anchoring.ts';
import { auditLeaf } from '../audit/audit-leaf.ts';
import type { Actor } from '../auth/roles.ts';
import { NotFoundError } from '../errors.ts';
import type { AuditRepository } from '../repositories/audit.repository.ts';
import type { AuditSealRepository } from '../repositories/audit-seal.repository.ts';
import { withTransaction } from '../repositories/db.ts';

export interface AuditSealOptions {
  pool: Pool;
  seals: AuditSealRepository;
  audit: AuditRepository;
  /** The anchor queue: the pipeline's anchor worker anchors audit batches with the one signer. */
  jobs: AuditSealAnchoring;
  /**
   * Root the CONFIGURED DecisionAnchor (DECISION_ANCHOR_ADDRESS or the stack's recorded
   * deployment, proofs/configured-trust.ts) stores under a batch id, or null when none. Bound to
   * that contract by the composition root: a seal row's own `contract` never chooses where the
   * chain is read (a row altered in PostgreSQL would otherwise name a contract of its choosing).
   */
  rootOnChain: (batchId: string) => Promise<string | null>;
  log: Logger;
  /** Entries younger than this are left for the next seal (seconds, default 30): see seal(). */
  minAgeSeconds?: number;
  /** Most entries in one batch (default 5000). */
  maxLeaves?: number;
}

/**
 * Outcome of {@link AuditSealService.verify}. Discrepancies: `ROOT_MISMATCH` (the rows no longer
 * hash to the sealed root), `CHAIN_ROOT_MISMATCH` (the configured contract holds another root),
 * `CHAIN_STATUS_MISMATCH` (the row says pending and the chain holds the root, or the row says
 * anchored and the configured contract holds nothing; `expected` is the chain's side, '' for none).
 */
export type AuditBatchCheck =
  | { ok: true; batchId: string; leafCount: number; root: string; anchored: boolean }
  | { ok: false; batchId: string; code: 'ROOT_MISMATCH' | 'CHAIN_ROOT_MISMATCH' | 'CHAIN_STATUS_MISMATCH'; message: string; expected: string; computed: string };

/**
 * Seals the audit log into Merkle batches and hands them to the anchor queue, and checks a
 * sealed batch against the rows and the chain.
 *
 * WARNING: audit ids come from a sequence, so an entry may commit after a higher id is already
 * visible. Only entries at least `minAgeSeconds` old are sealed (audit writes are short
 * transactions); an entry committed later below a sealed range would show up in `verify` as a
 * ROOT_MISMATCH of that batch, never silently.
 */
export class AuditSealService {
  readonly #o: Required<AuditSealOptions>;
  constructor(options: AuditSealOptions) {
    const o = { minAgeSeconds: 30, maxLeaves: 5000, ...options };
    if (!(o.minAgeSeconds >= 0)) throw new InvalidArgumentError(`minAgeSeconds must be >= 0, got ${o.minAgeSeconds}`);
    if (!Number.isInteger(o.maxLeaves) || o.maxLeaves < 1) throw new InvalidArgumentError(`maxLeaves must be a whole number >= 1, got ${o.maxLeaves}`);
    this.#o = o;
  }

  /**
   * Seals the next batch of audit entries (if any are old enough) and enqueues its anchoring.
   * @param minAgeSeconds overrides the option (tests seal at once with 0).
   * @returns the new batch, or null when there was nothing to seal.
   */
  async seal(minAgeSeconds = this.#o.minAgeSeconds): Promise<{ batchId: string; first: string; last: string; leafCount: number; root: string } | null> {
    const batch = await withTransaction(this.#o.pool, async (db) => {
      await this.#o.seals.lock(db);
      const after = await this.#o.seals.lastSealedId(db);
      const entries = await this.#o.seals.sealable(after, minAgeSeconds, this.#o.maxLeaves, db);
      if (entries.length === 0) return null;
      const first = entries[0]!.auditId;
      const last = entries.at(-1)!.auditId;
      const root = makeTree(entries.map(auditLeaf))[0]!;
      const topic = await this.#o.seals.topic();
      const sealed = { batchId: rangeBatchId({ topic, partition: 0, firstOffset: first, lastOffset: last }), first, last, leafCount: entries.length, root };
      await this.#o.seals.insertSeal(sealed, db);
      return sealed;
    });
    if (batch) {
      // Enqueued after the commit; a batch left pending (crash in between) is re-enqueued by
      // the anchor worker's startup sweep of pending roots.
      await this.#o.jobs.enqueueBatch(batch.batchId);
      this.#o.log.info({ batchId: batch.batchId, leafCount: batch.leafCount }, 'audit batch sealed');
    }
    return batch;
  }

  /** Recomputes a sealed batch's root from the audit rows and compares it with the stored and on-chain roots. */
  async verify(actor: Actor, batchId: string): Promise<AuditBatchCheck> {
    const seal = await this.#o.seals.get(batchId);
    if (!seal) throw new NotFoundError(`no audit batch ${batchId}`);
    const entries = await this.#o.seals.range(seal.first, seal.last);
    const computed = entries.length > 0 ? makeTree(entries.map(auditLeaf))[0]! : '';
    let result: AuditBatchCheck;
    if (computed !== seal.root || entries.length !== seal.leafCount) {
      result = { ok: false, batchId, code: 'ROOT_MISMATCH', message: `audit rows ${seal.first}-${seal.last} no longer hash to the sealed root (${entries.length} rows, ${seal.leafCount} sealed)`, expected: seal.root, computed };
    } else {
      // Always the chain, at the configured contract: the row's status and contract are claims to check, not facts.
      const onChain = await this.#o.rootOnChain(batchId);
      if (onChain !== null && onChain !== seal.root) {
        result = { ok: false, batchId, code: 'CHAIN_ROOT_MISMATCH', message: 'the configured contract holds a different root for this batch', expected: onChain, computed: seal.root };
      } else if ((onChain !== null) !== (seal.status === 'anchored')) {
        const message = onChain === null
          ? 'the row says anchored but the configured contract holds no root for this batch'
          : 'the row says pending but the configured contract holds its root (an anchoring in flight right now reads the same: check again)';
        result = { ok: false, batchId, code: 'CHAIN_STATUS_MISMATCH', message, expected: onChain ?? '', computed: seal.root };
      } else {
        result = { ok: true, batchId, leafCount: seal.leafCount, root: seal.root, anchored: onChain !== null };
      }
    }
    await this.#o.audit.append(actor, 'audit.batch.verify', { type: 'audit-batch', id: batchId }, { ok: result.ok });
    return result;
  }

  /** Audit seals, newest first, as the supervisor audit view lists them. */
  async list(limit = 50): Promise<Array<{ batchId: string; first: string; last: string; leafCount: number; root: string; status: string; txHash: string | null; blockNumber: string | null; createdAt: string }>> {
    return (await this.#o.seals.list(limit)).map((s) => ({ batchId: s.batchId, first: s.first, last: s.last, leafCount: s.leafCount, root: s.root, status: s.status, txHash: s.anchor?.txHash ?? null, blockNumber: s.anchor?.blockNumber ?? null, createdAt: s.createdAt }));
  }

  /** One audit seal by batch id, or null. */
  get(batchId: string) {
    return this.#o.seals.get(batchId);
  }
}
