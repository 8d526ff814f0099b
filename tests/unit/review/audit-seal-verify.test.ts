import type { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { makeTree } from '../../../anchoring/core/merkle-core.ts';
import { createLogger } from '../../../core/logger.ts';
import { auditLeaf, type SealedAuditEntry } from '../../../review/audit/audit-leaf.ts';
import type { Actor } from '../../../review/auth/roles.ts';
import type { AuditRepository } from '../../../review/repositories/audit.repository.ts';
import type { AuditSeal, AuditSealRepository } from '../../../review/repositories/audit-seal.repository.ts';
import type { AuditSealAnchoring } from '../../../review/services/audit-seal.anchoring.ts';
import { AuditSealService } from '../../../review/services/audit-seal.service.ts';

const entries: SealedAuditEntry[] = [1, 2, 3].map((i) => ({
  auditId: String(i), at: `2026-11-24T00:00:0${i}.000000Z`, userId: '7', userName: 'ivy', role: 'investigator', action: 'case.view', targetType: 'case', targetId: String(i), ip: null, details: {},
}));
const root = makeTree(entries.map(auditLeaf))[0]!;
const BATCH = `0x${'11'.repeat(32)}`;
const OTHER_ROOT = `0x${'22'.repeat(32)}`;
const ROW_CONTRACT = `0x${'ee'.repeat(20)}`;
const actor = { userId: '1', userName: 'cora', role: 'compliance' } as unknown as Actor;

/** The service over fakes: one stored seal, a chain that answers `chainRoot` at the configured contract. */
function service(status: AuditSeal['status'], chainRoot: string | null) {
  const seal: AuditSeal = {
    batchId: BATCH, first: '1', last: '3', leafCount: 3, root, status, createdAt: '2026-11-24T00:00:00.000Z',
    anchor: status === 'anchored' ? { contract: ROW_CONTRACT, txHash: `0x${'33'.repeat(32)}`, blockNumber: '9' } : null,
  };
  const chainCalls: unknown[][] = [];
  const seals = { get: async () => seal, range: async () => entries } as unknown as AuditSealRepository;
  const audit = { append: async () => '1' } as unknown as AuditRepository;
  const svc = new AuditSealService({
    pool: {} as Pool, seals, audit, jobs: {} as AuditSealAnchoring, log: createLogger('silent'),
    rootOnChain: async (...args: unknown[]) => {
      chainCalls.push(args);
      return chainRoot;
    },
  });
  return { svc, chainCalls };
}

/**
 * Audit-seal verification reads the chain for every seal, at the configured contract (the
 * service is handed a reader bound to it), whatever the row's `status` and `contract` say, and
 * reports a row / chain disagreement about whether the seal is anchored as a discrepancy.
 */
describe('audit seal verification reads the chain at the configured contract, whatever the row says', () => {
  it('reports a seal the row calls pending but the chain holds as CHAIN_STATUS_MISMATCH', async () => {
    const { svc, chainCalls } = service('pending', root);
    expect(await svc.verify(actor, BATCH)).toMatchObject({ ok: false, batchId: BATCH, code: 'CHAIN_STATUS_MISMATCH' });
    expect(chainCalls).toEqual([[BATCH]]);
  });

  it('reports a seal the row calls anchored but the configured contract does not hold as CHAIN_STATUS_MISMATCH', async () => {
    const { svc, chainCalls } = service('anchored', null);
    expect(await svc.verify(actor, BATCH)).toMatchObject({ ok: false, code: 'CHAIN_STATUS_MISMATCH' });
    // Only the batch id: the row's contract never chooses where the chain is read.
    expect(chainCalls).toEqual([[BATCH]]);
    expect(JSON.stringify(chainCalls)).not.toContain(ROW_CONTRACT);
  });

  it('reports another root on chain as CHAIN_ROOT_MISMATCH, pending row or anchored', async () => {
    expect(await service('anchored', OTHER_ROOT).svc.verify(actor, BATCH)).toMatchObject({ ok: false, code: 'CHAIN_ROOT_MISMATCH', expected: OTHER_ROOT, computed: root });
    expect(await service('pending', OTHER_ROOT).svc.verify(actor, BATCH)).toMatchObject({ ok: false, code: 'CHAIN_ROOT_MISMATCH' });
  });

  it('passes when row and chain agree (anchored with the same root, or pending and absent)', async () => {
    expect(await service('anchored', root).svc.verify(actor, BATCH)).toEqual({ ok: true, batchId: BATCH, leafCount: 3, root, anchored: true });
    const pending = service('pending', null);
    expect(await pending.svc.verify(actor, BATCH)).toEqual({ ok: true, batchId: BATCH, leafCount: 3, root, anchored: false });
    expect(pending.chainCalls).toEqual([[BATCH]]);
  });
});
