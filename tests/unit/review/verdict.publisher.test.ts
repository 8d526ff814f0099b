import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logger.ts';
import type { CaseRepository, DispositionRecord } from '../../../review/repositories/case.repository.ts';
import { toVerdict, VerdictPublisher, type Verdict, type VerdictSink } from '../../../review/services/verdict.publisher.ts';

const record = (id: number, disposition: DispositionRecord['disposition']): DispositionRecord => ({
  dispositionId: String(id),
  caseId: String(100 + id),
  decisionId: `0x${'ab'.repeat(32)}`,
  claimId: `C-${id}`,
  userName: 'alice',
  disposition,
  note: 'checked the records',
  createdAt: '2026-11-24T00:00:00.000Z',
});

/** An in-memory outbox standing in for the dispositions table. */
function fakeOutbox(rows: DispositionRecord[]) {
  const published = new Set<string>();
  const repo = {
    async unpublishedDispositions(limit: number) {
      return rows.filter((r) => !published.has(r.dispositionId)).slice(0, limit);
    },
    async markPublished(ids: readonly string[]) {
      for (const id of ids) published.add(id);
    },
  };
  return { repo: repo as unknown as CaseRepository, published };
}

const quiet = createLogger('silent');

describe('verdicts', () => {
  it('labels confirmed fraud 1, false positives 0, and the rest null; carries ids only', () => {
    expect(toVerdict(record(1, 'confirmed_fraud'))).toEqual({ format: 'claimtrail-verdict-v1', dispositionId: '1', caseId: '101', decisionId: `0x${'ab'.repeat(32)}`, claimId: 'C-1', disposition: 'confirmed_fraud', label: 1, investigator: 'alice', decidedAt: '2026-11-24T00:00:00.000Z' });
    expect(toVerdict(record(2, 'false_positive')).label).toBe(0);
    expect(toVerdict(record(3, 'needs_information')).label).toBeNull();
    expect(toVerdict(record(4, 'escalated')).label).toBeNull();
    expect(JSON.stringify(toVerdict(record(1, 'confirmed_fraud')))).not.toContain('checked the records');
  });

  it('sends every unpublished disposition once and marks it published', async () => {
    const { repo, published } = fakeOutbox([record(1, 'confirmed_fraud'), record(2, 'false_positive')]);
    const sent: Verdict[] = [];
    const sink: VerdictSink = { send: async (v) => void sent.push(...v) };
    const publisher = new VerdictPublisher(repo, sink, quiet);
    expect(await publisher.flush()).toBe(2);
    expect(await publisher.flush()).toBe(0);
    expect(sent.map((v) => v.dispositionId)).toEqual(['1', '2']);
    expect([...published]).toEqual(['1', '2']);
  });

  it('keeps dispositions in the outbox when the sink fails, and sends them on the next flush', async () => {
    const { repo, published } = fakeOutbox([record(1, 'confirmed_fraud')]);
    let fail = true;
    const sent: Verdict[] = [];
    const publisher = new VerdictPublisher(repo, { send: async (v) => { if (fail) throw new Error('broker down'); sent.push(...v); } }, quiet);
    await expect(publisher.flush()).rejects.toThrow('broker down');
    expect(published.size).toBe(0);
    fail = false;
    expect(await publisher.flush()).toBe(1);
    expect(sent).toHaveLength(1);
  });
});
