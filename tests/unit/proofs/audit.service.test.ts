import { describe, expect, it } from 'vitest';
import { batchId as computeBatchId } from '../../../anchoring/core/batch.ts';
import { leafHash, leafValues } from '../../../anchoring/core/leaf.ts';
import { makeTree } from '../../../anchoring/core/merkle-core.ts';
import type { AnchorReader } from '../../../anchoring/core/verify-proof.ts';
import type { IndexedDecision, StoredBatch } from '../../../anchoring/decision-index.repository.ts';
import type { DecisionV1 } from '../../../domain/decision.ts';
import { AuditService, type AuditServiceDeps, type DecisionLogSource } from '../../../proofs/audit.service.ts';
import type { DecisionLogRange, DecisionLogRecord } from '../../../proofs/decision-log.reader.ts';
import { batchOfDecisions } from '../anchoring/fixtures.ts';

/**
 * The audit's comparison logic on in-memory fakes of its three sources (log, index, chain), for
 * the kinds the end-to-end test (tests/e2e/audit.e2e.test.ts: clean, altered, missing) does not
 * reach: extra rows, root mismatches, unanchored and reorged batches, unbatched log records,
 * unreadable records.
 */
const TOPIC = 'decisions';

/** A consistent world: one batch of `n` decisions at offsets 10.., in log, index and chain. */
function world(n = 5) {
  const decisions = batchOfDecisions(10n, n).map((d): DecisionV1 => ({ ...d, reasons: d.reasons.map((r) => ({ ...r })), components: { rf: d.score, nn: d.score }, input: { topic: 'claims', partition: 0, offset: d.log.offset }, salt: `0x${'5a'.repeat(32)}` }));
  const range = { topic: TOPIC, partition: 3, firstOffset: '10', lastOffset: String(10 + n - 1) };
  const batchId = computeBatchId(range);
  const leaves = decisions.map((d, i) => leafHash(leafValues({ ...d, log: { topic: TOPIC, partition: 3, offset: String(10 + i) } })));
  const root = makeTree(leaves)[0]!;
  const log: DecisionLogRecord[] = decisions.map((d, i) => ({ partition: 3, offset: String(10 + i), value: Buffer.from(JSON.stringify(d)) }));
  const rows: IndexedDecision[] = decisions.map((d, i) => ({ ...d, log: { topic: TOPIC, partition: 3, offset: String(10 + i) }, leaf: leaves[i]!, batchId, leafIndex: i }));
  const anchor = { chainId: 31337n, contract: '0x5fbdb2315678afecb367f032d93f642f64180aa3', txHash: `0x${'ab'.repeat(32)}`, blockNumber: 7n, blockHash: `0x${'cd'.repeat(32)}` };
  const batch: StoredBatch = { batchId, ...range, leafCount: n, root, leafEncoding: 'claimtrail-leaf-v1', status: 'anchored', anchor, createdAt: new Date(0), anchoredAt: new Date(0) };
  const chain = new Map([[batchId, { root, leafCount: n, anchoredBlock: 7n }]]);
  const blocks = new Map([[7n, anchor.blockHash]]);
  return { decisions, batch, log, rows, chain, blocks };
}

function service(w: ReturnType<typeof world>): AuditService {
  const log: DecisionLogSource = {
    topic: TOPIC,
    async partitions() {
      const offsets = w.log.map((r) => BigInt(r.offset));
      return [{ partition: 3, low: '0', high: String(offsets.length ? offsets.reduce((a, b) => (a > b ? a : b)) + 1n : 0n) }];
    },
    async read(ranges: readonly DecisionLogRange[]) {
      return w.log.filter((r) => ranges.some((g) => g.partition === r.partition && BigInt(r.offset) >= BigInt(g.from) && BigInt(r.offset) <= BigInt(g.to)));
    },
  };
  const index: AuditServiceDeps['index'] = {
    async getBatch(id: string) {
      return id === w.batch.batchId ? w.batch : null;
    },
    async listBatches() {
      return [w.batch];
    },
    async decisionsInRange(b) {
      return w.rows.filter((r) => r.log.partition === b.partition && BigInt(r.log.offset) >= BigInt(b.firstOffset) && BigInt(r.log.offset) <= BigInt(b.lastOffset));
    },
    async decisionsOfBatch(id: string) {
      return w.rows.filter((r) => r.batchId === id);
    },
  };
  const chain: Pick<AnchorReader, 'batchOf' | 'blockHash'> = {
    async batchOf(id: string) {
      return w.chain.get(id) ?? null;
    },
    async blockHash(n: bigint) {
      return w.blocks.get(n) ?? null;
    },
  };
  return new AuditService({ index, log, chain });
}

const kinds = (r: { findings: Array<{ kind: string }> }) => r.findings.map((f) => f.kind).sort();

describe('AuditService', () => {
  it('is clean when log, index and chain agree', async () => {
    const w = world();
    const report = await service(w).auditAll();
    expect(report).toMatchObject({ ok: true, findings: [], logDecisions: 5 });
    expect(report.batches[0]).toMatchObject({ logRoot: w.batch.root, chainRoot: w.batch.root, storedRoot: w.batch.root });
  });

  it('reports a row at a position the log does not hold as extra', async () => {
    const w = world();
    w.log.splice(2, 1); // the log (the reference) lacks offset 12; PostgreSQL still has it
    const report = await service(w).auditBatch(w.batch.batchId);
    expect(kinds(report)).toEqual(['extra', 'root-mismatch', 'root-mismatch']);
    expect(report.findings.find((f) => f.kind === 'extra')).toMatchObject({ offset: '12', decisionId: w.rows[2]!.decisionId });
  });

  it('reports a stored root that differs from the log as root-mismatch', async () => {
    const w = world();
    w.batch = { ...w.batch, root: `0x${'ee'.repeat(32)}` };
    expect(kinds(await service(w).auditAll())).toEqual(['root-mismatch']);
  });

  it('reports a batch the contract does not hold as unanchored, and a moved anchor as reorged', async () => {
    const w = world();
    w.chain.clear();
    expect(await service(w).auditAll()).toMatchObject({ ok: false, findings: [expect.objectContaining({ kind: 'unanchored', batchId: w.batch.batchId })] });
    const v = world();
    v.blocks.set(7n, `0x${'99'.repeat(32)}`);
    expect(kinds(await service(v).auditAll())).toEqual(['reorged']);
  });

  it('reports log decisions in no batch as unbatched, and undecodable records as unreadable', async () => {
    const w = world();
    w.log.push({ partition: 3, offset: '15', value: Buffer.from(JSON.stringify(w.decisions[0])) });
    const report = await service(w).auditAll();
    expect(report.findings).toEqual([expect.objectContaining({ kind: 'unbatched', offset: '15', decisionId: w.decisions[0]!.decisionId })]);
    const v = world();
    v.log[1] = { partition: 3, offset: '11', value: Buffer.from('not json') };
    expect(kinds(await service(v).auditBatch(v.batch.batchId))).toEqual(['extra', 'root-mismatch', 'root-mismatch', 'unreadable']);
  });
});
