/**
 * The chain half of the batch audit for v2-leaf batches (proofs/audit.service.ts): epochs and
 * per-block flagged trees. The decisions log stays the reference: a batch's entry is recomputed
 * from the root the log gives, the epoch root from the stored entries with that entry in place,
 * and each flagged root from its members' log records. Both are compared with PostgreSQL and with
 * the TRUSTED DecisionAnchorV2 in OUR anchorer's namespace (configuration, never the rows).
 */
import { InvalidArgumentError as AnchoringArgumentError } from '../anchoring/core/errors.ts';
import { buildEpochTree } from '../anchoring/core/epoch.ts';
import { makeTree } from '../anchoring/core/merkle-core.ts';
import type { AnchorReaderV2 } from '../anchoring/core/verify-proof-v2.ts';
import type { StoredBatch } from '../anchoring/decision-index.repository.ts';
import type { EpochRepository } from '../anchoring/epoch.repository.ts';
import type { FlaggedRootRepository } from '../anchoring/flagged-root.repository.ts';
import { decodeDecision, DecisionFormatError } from '../domain/decision-codec.ts';
import { isDecisionV2 } from '../domain/decision.ts';
import { leafOf, type AuditFinding } from './audit-model.ts';
import type { DecisionLogRecord } from './decision-log.reader.ts';

/** What the v2 audit reads. */
export interface AuditV2Deps {
  epochs: Pick<EpochRepository, 'placementOfBatch'>;
  flaggedRoots: Pick<FlaggedRootRepository, 'list' | 'members'>;
  /** Bound to the trusted DecisionAnchorV2 (configuration), never to a contract a row names. */
  chain: Pick<AnchorReaderV2, 'contract' | 'epochOf' | 'flaggedRootOf' | 'blockHash'>;
  /** Our anchorer (configuration): the namespace every epoch and flagged root must be in. */
  anchorer: string;
}

/**
 * Audits the epoch holding a v2-leaf batch, appending findings: `unanchored` (in no epoch, or the
 * chain has no such epoch by our anchorer), `root-mismatch` (the epoch root recomputed with the
 * log's batch root differs from PostgreSQL's or the chain's), `altered` (the epoch row names
 * another contract or anchorer), `reorged` (not in the stored block on the canonical chain).
 * @returns the chain's epoch root (null when none) and the epoch id.
 */
export async function auditEpochOf(deps: AuditV2Deps, batch: StoredBatch, logRoot: string | null, logLeafCount: number, findings: AuditFinding[]): Promise<{ chainRoot: string | null; epochId?: string }> {
  const at = { partition: batch.partition, batchId: batch.batchId };
  const placement = await deps.epochs.placementOfBatch(batch.batchId);
  if (!placement) {
    findings.push({ kind: 'unanchored', ...at, message: `v2 batch ${batch.batchId} is in no epoch${batch.status === 'anchored' ? ' although PostgreSQL marks it anchored' : ''}` });
    return { chainRoot: null };
  }
  const { epoch, position, entries } = placement;
  const epochAt = { ...at, message: '' };
  // The epoch as the log makes it: this batch's entry from the log's root and count.
  let logEpochRoot: string | null = null;
  if (logRoot !== null) {
    try {
      logEpochRoot = buildEpochTree(epoch.instanceId, entries.map((e, i) => (i === position ? { ...e, root: logRoot, leafCount: logLeafCount } : e))).root;
    } catch (error) {
      if (!(error instanceof AnchoringArgumentError)) throw error;
      findings.push({ ...epochAt, kind: 'root-mismatch', message: `epoch ${epoch.sequence} (${epoch.epochId}) cannot be rebuilt from its stored entries: ${error.message}` });
    }
  }
  if (logEpochRoot !== epoch.root) {
    findings.push({ ...epochAt, kind: 'root-mismatch', message: `epoch ${epoch.sequence} (${epoch.epochId}) recomputes to root ${logEpochRoot ?? 'none'} with this batch's entry from the log; PostgreSQL stores ${epoch.root}`, expected: logEpochRoot ?? 'none', computed: epoch.root });
  }
  if (epoch.anchor && (epoch.anchor.anchorer.toLowerCase() !== deps.anchorer.toLowerCase() || epoch.anchor.contract.toLowerCase() !== deps.chain.contract.toLowerCase())) {
    findings.push({ ...epochAt, kind: 'altered', message: `epoch ${epoch.epochId} is recorded in PostgreSQL as anchored on ${epoch.anchor.contract} by ${epoch.anchor.anchorer}; the configured deployment is ${deps.chain.contract} with anchorer ${deps.anchorer}`, expected: `${deps.chain.contract.toLowerCase()}:${deps.anchorer.toLowerCase()}`, computed: `${epoch.anchor.contract.toLowerCase()}:${epoch.anchor.anchorer.toLowerCase()}` });
  }
  const onChain = await deps.chain.epochOf(deps.anchorer, epoch.epochId);
  if (!onChain) {
    findings.push({ ...epochAt, kind: 'unanchored', message: `the configured DecisionAnchorV2 holds no epoch ${epoch.epochId} by ${deps.anchorer}${epoch.status === 'anchored' ? ' although PostgreSQL marks it anchored' : ''}` });
    return { chainRoot: null, epochId: epoch.epochId };
  }
  const chainRoot = onChain.root.toLowerCase();
  if (chainRoot !== logEpochRoot) {
    findings.push({ ...epochAt, kind: 'root-mismatch', message: `the contract records root ${chainRoot} for epoch ${epoch.epochId}; the log recomputes to ${logEpochRoot ?? 'none'}`, expected: logEpochRoot ?? 'none', computed: chainRoot });
  }
  if (epoch.anchor) {
    const canonical = await deps.chain.blockHash(epoch.anchor.blockNumber);
    if (onChain.blockNumber !== epoch.anchor.blockNumber || canonical?.toLowerCase() !== epoch.anchor.blockHash.toLowerCase()) {
      findings.push({
        ...epochAt,
        kind: 'reorged',
        message: `PostgreSQL records epoch ${epoch.epochId} in block ${epoch.anchor.blockNumber} (${epoch.anchor.blockHash}); the chain has it in block ${onChain.blockNumber} and block ${epoch.anchor.blockNumber} is ${canonical ?? 'missing'}`,
        expected: `${onChain.blockNumber}`,
        computed: `${epoch.anchor.blockNumber}`,
      });
    }
  }
  return { chainRoot, epochId: epoch.epochId };
}

/**
 * Every stored flagged root recomputed from its members' v2 leaves as the log gives them (each at
 * its own log position), against PostgreSQL's root and `flaggedRootOf(our anchorer, root)`.
 * Findings: `missing` (a member not in the log), `root-mismatch`, `unanchored`, `reorged`.
 */
export async function auditFlaggedRoots(deps: AuditV2Deps, records: readonly DecisionLogRecord[], topic: string): Promise<AuditFinding[]> {
  const findings: AuditFinding[] = [];
  const leaves = new Map<string, { leaf: string; partition: number; offset: string }>();
  for (const record of records) {
    if (!record.value) continue;
    try {
      const decision = decodeDecision(record.value);
      if (!isDecisionV2(decision) || decision.outcome !== 'flag') continue;
      leaves.set(decision.decisionId, { leaf: leafOf('claimtrail-leaf-v2', decision, { topic, partition: record.partition, offset: record.offset }), partition: record.partition, offset: record.offset });
    } catch (error) {
      // An unreadable record is reported by the batch audit of its range.
      if (error instanceof DecisionFormatError || error instanceof AnchoringArgumentError) continue;
      throw error;
    }
  }
  for (const root of await deps.flaggedRoots.list(1_000_000)) {
    const members = await deps.flaggedRoots.members(root.root);
    const fromLog = members.map((id) => leaves.get(id));
    const absent = members.filter((_, i) => fromLog[i] === undefined);
    for (const id of absent) findings.push({ kind: 'missing', partition: -1, decisionId: id, message: `flagged root ${root.root} names decision ${id}, which the log does not hold as a flagged v2 decision` });
    const logRoot = absent.length === 0 && members.length > 0 ? makeTree(fromLog.map((l) => l!.leaf))[0]! : null;
    const partition = fromLog[0]?.partition ?? -1;
    if (logRoot !== root.root || members.length !== root.count) {
      findings.push({ kind: 'root-mismatch', partition, message: `flagged root ${root.root} (${root.count} decisions) recomputes from the log to ${logRoot ?? 'none'} over ${members.length}`, expected: logRoot ?? 'none', computed: root.root });
    }
    const onChain = await deps.chain.flaggedRootOf(deps.anchorer, root.root);
    if (!onChain) {
      if (root.status === 'anchored') findings.push({ kind: 'unanchored', partition, message: `the configured DecisionAnchorV2 holds no flagged root ${root.root} by ${deps.anchorer}, although PostgreSQL marks it anchored` });
      continue;
    }
    if (onChain.count !== members.length) {
      findings.push({ kind: 'root-mismatch', partition, message: `the contract records ${onChain.count} decisions under flagged root ${root.root}; the log gives ${members.length}`, expected: String(members.length), computed: String(onChain.count) });
    }
    if (root.anchor) {
      const canonical = await deps.chain.blockHash(root.anchor.blockNumber);
      if (onChain.blockNumber !== root.anchor.blockNumber || canonical?.toLowerCase() !== root.anchor.blockHash.toLowerCase()) {
        findings.push({ kind: 'reorged', partition, message: `PostgreSQL records flagged root ${root.root} in block ${root.anchor.blockNumber}; the chain has it in block ${onChain.blockNumber} and block ${root.anchor.blockNumber} is ${canonical ?? 'missing'}` });
      }
    }
  }
  return findings;
}
