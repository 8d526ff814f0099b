import { DecisionFormatError, decodeDecision } from '../domain/decision-codec.ts';
import { InvalidArgumentError as AnchoringArgumentError } from '../anchoring/core/errors.ts';
import { makeTree } from '../anchoring/core/merkle-core.ts';
import type { Decision } from '../domain/decision.ts';
import type { AnchorReader } from '../anchoring/core/verify-proof.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import type { DecisionIndexRepository, IndexedDecision, StoredBatch } from '../anchoring/decision-index.repository.ts';
import { auditEpochOf, auditFlaggedRoots, type AuditV2Deps } from './audit-v2.ts';
import { leafOf, type AuditFinding } from './audit-model.ts';
import type { DecisionLogRange, DecisionLogRecord } from './decision-log.reader.ts';

export type { AuditFinding, AuditFindingKind } from './audit-model.ts';

/** The audit of one batch. */
export interface BatchAudit {
  batchId: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  /** Decisions the log holds in the range. */
  logDecisions: number;
  /** Root recomputed from the log, or null when the range holds no decision. */
  logRoot: string | null;
  storedRoot: string;
  /** Root the contract records, or null when it has none (v2: the root of the batch's epoch). */
  chainRoot: string | null;
  /** v2-leaf batches: the epoch holding the batch, when it is in one. */
  epochId?: string;
  findings: AuditFinding[];
}

export interface AuditReport {
  ok: boolean;
  topic: string;
  batches: BatchAudit[];
  /** Decisions read from the log. */
  logDecisions: number;
  /** Every finding, the batches' and the unbatched ones. */
  findings: AuditFinding[];
}

/** Where the audit reads the decisions log (KafkaDecisionLog in production). */
export interface DecisionLogSource {
  readonly topic: string;
  partitions(): Promise<Array<{ partition: number; low: string; high: string }>>;
  read(ranges: readonly DecisionLogRange[]): Promise<DecisionLogRecord[]>;
}

export interface AuditServiceDeps {
  index: Pick<DecisionIndexRepository, 'getBatch' | 'listBatches' | 'decisionsInRange' | 'decisionsOfBatch'>;
  log: DecisionLogSource;
  /** Read access to the v1 DecisionAnchor v1-leaf batches are anchored on; absent when none is configured. */
  chain?: Pick<AnchorReader, 'batchOf' | 'blockHash'>;
  /** v2-leaf batches: epochs and flagged roots in PostgreSQL, the trusted DecisionAnchorV2 and our anchorer. */
  v2?: AuditV2Deps;
}

/**
 * The batch audit: the `decisions` log is the reference. For each batch it re-reads the batch's
 * offset range (read_committed), recomputes every leaf (v1 or v2, by the batch's leaf encoding)
 * and the root, and compares them with the PostgreSQL index (rows and stored root) and with the
 * chain: a v1 batch with `batchOf` on the v1 contract; a v2 batch through its epoch: the epoch root
 * recomputed from its stored entries with this batch's entry taken from the log, against the
 * stored epoch root and `epochOf(our anchorer, epochId)` on the trusted DecisionAnchorV2. With
 * `auditAll` it also reads every partition to the end, reports decisions that lie in no batch,
 * and recomputes every flagged root from its members' log records (against PostgreSQL and
 * `flaggedRootOf(our anchorer, root)`).
 */
export class AuditService {
  readonly #deps: AuditServiceDeps;
  constructor(deps: AuditServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Audits one batch.
   * @throws InvalidArgumentError when PostgreSQL has no batch with this id.
   */
  async auditBatch(batchId: string): Promise<AuditReport> {
    const batch = await this.#deps.index.getBatch(batchId);
    if (!batch) throw new InvalidArgumentError(`no batch ${batchId} in the decision index`);
    const records = await this.#deps.log.read([{ partition: batch.partition, from: batch.firstOffset, to: batch.lastOffset }]);
    const audit = await this.#audit(batch, records);
    return report(this.#deps.log.topic, [audit], records.length, []);
  }

  /** Audits every batch of the log's topic, and every decision of the log against the batches. */
  async auditAll(): Promise<AuditReport> {
    const { index, log } = this.#deps;
    const batches = (await index.listBatches()).filter((b) => b.topic === log.topic);
    const partitions = await log.partitions();
    const ranges = partitions.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => ({ partition: p.partition, from: p.low, to: (BigInt(p.high) - 1n).toString() }));
    const records = await log.read(ranges);
    const byPartition = Map.groupBy(records, (r) => r.partition);
    const audits: BatchAudit[] = [];
    const covered = new Set<DecisionLogRecord>();
    for (const batch of batches) {
      const first = BigInt(batch.firstOffset);
      const last = BigInt(batch.lastOffset);
      const inRange = (byPartition.get(batch.partition) ?? []).filter((r) => BigInt(r.offset) >= first && BigInt(r.offset) <= last);
      for (const r of inRange) covered.add(r);
      audits.push(await this.#audit(batch, inRange));
    }
    const unbatched: AuditFinding[] = records
      .filter((r) => !covered.has(r))
      .map((r) => ({
        kind: 'unbatched',
        partition: r.partition,
        offset: r.offset,
        ...decisionIdOf(r),
        message: `decision at ${log.topic}/${r.partition}@${r.offset} is in no batch`,
      }));
    const flagged = this.#deps.v2 ? await auditFlaggedRoots(this.#deps.v2, records, log.topic) : [];
    return report(log.topic, audits, records.length, [...unbatched, ...flagged]);
  }

  async #audit(batch: StoredBatch, records: readonly DecisionLogRecord[]): Promise<BatchAudit> {
    const { index, chain } = this.#deps;
    const findings: AuditFinding[] = [];
    const at = { partition: batch.partition, batchId: batch.batchId };

    // The log: the reference every other copy is compared with.
    const logLeaves = new Map<string, { leaf: string; decisionId: string }>();
    for (const record of records) {
      const leaf = logLeaf(batch, record);
      if (typeof leaf === 'string') {
        findings.push({ kind: 'unreadable', ...at, offset: record.offset, message: `log record ${batch.partition}@${record.offset}: ${leaf}` });
      } else {
        logLeaves.set(record.offset, leaf);
      }
    }
    const leaves = [...logLeaves.values()].map((l) => l.leaf);
    const logRoot = leaves.length > 0 ? makeTree(leaves)[0]! : null;
    if (logRoot !== batch.root || leaves.length !== batch.leafCount) {
      findings.push({
        kind: 'root-mismatch',
        ...at,
        message: `log range recomputes to root ${logRoot ?? 'none'} over ${leaves.length} decision(s); PostgreSQL stores ${batch.root} over ${batch.leafCount}`,
        expected: logRoot ?? 'none',
        computed: batch.root,
      });
    }

    // PostgreSQL: every row with a position in the range, and every row naming the batch.
    const rows = await index.decisionsInRange(batch);
    const rowsByOffset = new Map(rows.map((r) => [r.log.offset, r]));
    for (const [offset, fromLog] of logLeaves) {
      const row = rowsByOffset.get(offset);
      if (!row) {
        findings.push({ kind: 'missing', ...at, offset, decisionId: fromLog.decisionId, message: `decision ${fromLog.decisionId} at offset ${offset} is in the log but not in PostgreSQL` });
        continue;
      }
      const rowLeaf = rowLeafOf(row);
      const problem =
        rowLeaf !== fromLog.leaf ? `its fields encode to leaf ${rowLeaf}, the log's record to ${fromLog.leaf}`
        : row.leaf.toLowerCase() !== fromLog.leaf ? `its stored leaf ${row.leaf} is not the log's ${fromLog.leaf}`
        : row.batchId !== batch.batchId ? `it names batch ${row.batchId}`
        : null;
      if (problem) {
        findings.push({ kind: 'altered', ...at, offset, decisionId: row.decisionId, message: `PostgreSQL row of decision ${row.decisionId} at offset ${offset} differs from the log: ${problem}`, expected: fromLog.leaf, computed: rowLeaf });
      }
    }
    for (const row of rows) {
      if (!logLeaves.has(row.log.offset)) {
        findings.push({ kind: 'extra', ...at, offset: row.log.offset, decisionId: row.decisionId, message: `PostgreSQL holds decision ${row.decisionId} at offset ${row.log.offset}, which the log does not` });
      }
    }
    for (const row of await index.decisionsOfBatch(batch.batchId)) {
      if (!rowsByOffset.has(row.log.offset) || row.log.partition !== batch.partition || row.log.topic !== batch.topic) {
        findings.push({ kind: 'extra', ...at, offset: row.log.offset, decisionId: row.decisionId, message: `decision ${row.decisionId} names batch ${batch.batchId} but sits at ${row.log.topic}/${row.log.partition}@${row.log.offset}, outside its range` });
      }
    }

    // The chain.
    let chainRoot: string | null = null;
    let epochId: string | undefined;
    if (batch.leafEncoding === 'claimtrail-leaf-v2') {
      if (!this.#deps.v2) throw new InvalidArgumentError(`batch ${batch.batchId} holds v2 leaves: audit it with the epochs and the trusted DecisionAnchorV2 wired in`);
      const epoch = await auditEpochOf(this.#deps.v2, batch, logRoot, leaves.length, findings);
      chainRoot = epoch.chainRoot;
      epochId = epoch.epochId;
    } else if (!chain) {
      findings.push({ kind: 'unanchored', ...at, message: `batch ${batch.batchId} holds v1 leaves, but no v1 DecisionAnchor is configured to check it against` });
    } else {
      chainRoot = await this.#auditV1Chain(chain, batch, logRoot, leaves.length, findings);
    }
    return {
      batchId: batch.batchId,
      partition: batch.partition,
      firstOffset: batch.firstOffset,
      lastOffset: batch.lastOffset,
      logDecisions: leaves.length,
      logRoot,
      storedRoot: batch.root,
      chainRoot,
      ...(epochId === undefined ? {} : { epochId }),
      findings,
    };
  }

  /** A v1 batch against `batchOf` on the v1 contract; returns the chain's root or null. */
  async #auditV1Chain(chain: Pick<AnchorReader, 'batchOf' | 'blockHash'>, batch: StoredBatch, logRoot: string | null, leafCount: number, findings: AuditFinding[]): Promise<string | null> {
    const at = { partition: batch.partition, batchId: batch.batchId };
    const onChain = await chain.batchOf(batch.batchId);
    if (!onChain) {
      findings.push({ kind: 'unanchored', ...at, message: `the contract holds no root for batch ${batch.batchId}${batch.status === 'anchored' ? ' although PostgreSQL marks it anchored' : ''}` });
      return null;
    }
    const chainRoot = onChain.root.toLowerCase();
    if (chainRoot !== logRoot || onChain.leafCount !== leafCount) {
      findings.push({ kind: 'root-mismatch', ...at, message: `the contract records root ${chainRoot} over ${onChain.leafCount} decision(s); the log recomputes to ${logRoot ?? 'none'} over ${leafCount}`, expected: logRoot ?? 'none', computed: chainRoot });
    }
    if (batch.anchor) {
      const canonical = await chain.blockHash(batch.anchor.blockNumber);
      if (onChain.anchoredBlock !== batch.anchor.blockNumber || canonical?.toLowerCase() !== batch.anchor.blockHash.toLowerCase()) {
        findings.push({
          kind: 'reorged',
          ...at,
          message: `PostgreSQL records the anchor in block ${batch.anchor.blockNumber} (${batch.anchor.blockHash}); the chain has it in block ${onChain.anchoredBlock} and block ${batch.anchor.blockNumber} is ${canonical ?? 'missing'}`,
          expected: `${onChain.anchoredBlock}`,
          computed: `${batch.anchor.blockNumber}`,
        });
      }
    }
    return chainRoot;
  }
}

function report(topic: string, batches: BatchAudit[], logDecisions: number, unbatched: AuditFinding[]): AuditReport {
  const findings = [...batches.flatMap((b) => b.findings), ...unbatched];
  return { ok: findings.length === 0, topic, batches, logDecisions, findings };
}

/** The leaf a log record encodes to, as the batcher computed it; a string says why there is none. */
function logLeaf(batch: StoredBatch, record: DecisionLogRecord): { leaf: string; decisionId: string } | string {
  if (!record.value) return 'no value';
  let decision: Decision;
  try {
    decision = decodeDecision(record.value);
  } catch (error) {
    if (error instanceof DecisionFormatError) return error.message;
    throw error;
  }
  try {
    const log = { topic: batch.topic, partition: batch.partition, offset: record.offset };
    return { leaf: leafOf(batch.leafEncoding, decision, log), decisionId: decision.decisionId };
  } catch (error) {
    if (error instanceof AnchoringArgumentError) return error.message;
    throw error;
  }
}

/** The leaf a PostgreSQL row encodes to now; a row that no longer encodes gets a marker value. */
function rowLeafOf(row: IndexedDecision): string {
  try {
    return leafOf(row.leafEncoding ?? 'claimtrail-leaf-v1', row, row.log);
  } catch (error) {
    if (error instanceof AnchoringArgumentError) return `unencodable (${error.message})`;
    throw error;
  }
}

function decisionIdOf(record: DecisionLogRecord): { decisionId?: string } {
  try {
    const id = (JSON.parse(record.value?.toString('utf8') ?? 'null') as { decisionId?: unknown } | null)?.decisionId;
    return typeof id === 'string' ? { decisionId: id } : {};
  } catch {
    return {};
  }
}
