import { DecisionFormatError, decodeDecision } from '../domain/decision-codec.ts';
import { InvalidArgumentError as AnchoringArgumentError } from '../anchoring/core/errors.ts';
import { leafHash } from '../anchoring/core/leaf.ts';
import { interimLeafValues } from '../anchoring/interim-leaf.ts';
import { makeTree } from '../anchoring/core/merkle-core.ts';
import type { AnchorReader } from '../anchoring/core/verify-proof.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import type { DecisionIndexRepository, IndexedDecision, StoredBatch } from '../anchoring/decision-index.repository.ts';
import type { Decision } from '../domain/decision.ts';
import type { DecisionLogRange, DecisionLogRecord } from './decision-log.reader.ts';

/**
 * What can be wrong, each kind about one decision or one batch:
 * - `missing`: a decision is in the log (inside a batch's range) but has no PostgreSQL row.
 * - `extra`: a PostgreSQL row claims a log position the log does not hold, or names a batch
 *   whose range does not contain it.
 * - `altered`: a PostgreSQL row no longer encodes to the leaf its log record encodes to.
 * - `root-mismatch`: the root (or leaf count) recomputed from the log differs from the one
 *   stored in PostgreSQL or recorded on chain.
 * - `unanchored`: the contract holds no root for the batch.
 * - `reorged`: the anchor recorded in PostgreSQL is not where the canonical chain has it.
 * - `unbatched`: a decision in the log lies in no batch's range.
 * - `unreadable`: a log record is not a decision we can encode.
 */
export type AuditFindingKind = 'missing' | 'extra' | 'altered' | 'root-mismatch' | 'unanchored' | 'reorged' | 'unbatched' | 'unreadable';

export interface AuditFinding {
  kind: AuditFindingKind;
  message: string;
  partition: number;
  batchId?: string;
  /** Log offset of the decision concerned, when one is. */
  offset?: string;
  decisionId?: string;
  /** The value the log (the reference) gives, when one value is at stake. */
  expected?: string;
  /** The value found in PostgreSQL or on chain. */
  computed?: string;
}

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
  /** Root the contract records, or null when it has none. */
  chainRoot: string | null;
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
  /** Read access to the DecisionAnchor the batches are anchored on. */
  chain: Pick<AnchorReader, 'batchOf' | 'blockHash'>;
}

/**
 * The batch audit: the `decisions` log is the reference. For each batch it re-reads the batch's
 * offset range (read_committed), recomputes every leaf and the root, and compares them with the
 * PostgreSQL index (rows and stored root) and with the chain (`batchOf`). With `auditAll` it
 * also reads every partition to the end and reports decisions that lie in no batch.
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
    return report(log.topic, audits, records.length, unbatched);
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
    const onChain = await chain.batchOf(batch.batchId);
    if (!onChain) {
      findings.push({ kind: 'unanchored', ...at, message: `the contract holds no root for batch ${batch.batchId}${batch.status === 'anchored' ? ' although PostgreSQL marks it anchored' : ''}` });
    } else {
      const chainRoot = onChain.root.toLowerCase();
      if (chainRoot !== logRoot || onChain.leafCount !== leaves.length) {
        findings.push({ kind: 'root-mismatch', ...at, message: `the contract records root ${chainRoot} over ${onChain.leafCount} decision(s); the log recomputes to ${logRoot ?? 'none'} over ${leaves.length}`, expected: logRoot ?? 'none', computed: chainRoot });
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
    }
    return {
      batchId: batch.batchId,
      partition: batch.partition,
      firstOffset: batch.firstOffset,
      lastOffset: batch.lastOffset,
      logDecisions: leaves.length,
      logRoot,
      storedRoot: batch.root,
      chainRoot: onChain?.root.toLowerCase() ?? null,
      findings,
    };
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
    const leaf = leafHash(interimLeafValues(decision, { topic: batch.topic, partition: batch.partition, offset: record.offset }));
    return { leaf, decisionId: decision.decisionId };
  } catch (error) {
    if (error instanceof AnchoringArgumentError) return error.message;
    throw error;
  }
}

/** The leaf a PostgreSQL row encodes to now; a row that no longer encodes gets a marker value. */
function rowLeafOf(row: IndexedDecision): string {
  try {
    return leafHash(interimLeafValues(row, row.log));
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
