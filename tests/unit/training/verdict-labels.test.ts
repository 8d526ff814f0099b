import { describe, expect, it } from 'vitest';
import { labelsFromVerdicts } from '../../../training/labels/verdict-labels.ts';

const verdict = (dispositionId: string, claimId: string, disposition: string, label: 0 | 1 | null, decidedAt: string) => ({
  value: JSON.stringify({
    format: 'claimtrail-verdict-v1',
    dispositionId,
    caseId: `case-${claimId}`,
    decisionId: `d-${claimId}`,
    claimId,
    disposition,
    label,
    investigator: 'alice',
    decidedAt,
  }),
});

describe('labelsFromVerdicts', () => {
  it('turns confirmed fraud into 1 and false positive into 0, one label per claim, sorted', () => {
    const { labels, stats } = labelsFromVerdicts([verdict('2', 'C-b', 'false_positive', 0, '2026-11-24T01:00:00Z'), verdict('1', 'C-a', 'confirmed_fraud', 1, '2026-11-24T01:00:00Z')]);
    expect(labels).toEqual([
      { claimId: 'C-a', decisionId: 'd-C-a', dispositionId: '1', label: 1, decidedAt: '2026-11-24T01:00:00Z' },
      { claimId: 'C-b', decisionId: 'd-C-b', dispositionId: '2', label: 0, decidedAt: '2026-11-24T01:00:00Z' },
    ]);
    expect(stats).toEqual({ records: 2, invalid: 0, duplicates: 0, unsettled: 0 });
  });

  it('drops redelivered dispositions (same dispositionId) and counts them', () => {
    const v = verdict('7', 'C-a', 'confirmed_fraud', 1, '2026-11-24T01:00:00Z');
    const { labels, stats } = labelsFromVerdicts([v, v, v]);
    expect(labels.map((l) => l.dispositionId)).toEqual(['7']);
    expect(stats.duplicates).toBe(2);
  });

  it('lets the latest disposition of a claim win, by decidedAt and then by log order', () => {
    const { labels } = labelsFromVerdicts([
      verdict('3', 'C-a', 'false_positive', 0, '2026-11-24T03:00:00Z'),
      // Older, arriving later (another partition's order): must not override.
      verdict('1', 'C-a', 'confirmed_fraud', 1, '2026-11-24T01:00:00Z'),
      verdict('4', 'C-b', 'false_positive', 0, '2026-11-24T01:00:00Z'),
      // Same instant, later in the log: wins.
      verdict('5', 'C-b', 'confirmed_fraud', 1, '2026-11-24T01:00:00Z'),
    ]);
    expect(labels.map((l) => [l.claimId, l.label, l.dispositionId])).toEqual([
      ['C-a', 0, '3'],
      ['C-b', 1, '5'],
    ]);
  });

  it('leaves a claim unlabelled when its latest disposition settles nothing', () => {
    const { labels, stats } = labelsFromVerdicts([
      verdict('1', 'C-a', 'confirmed_fraud', 1, '2026-11-24T01:00:00Z'),
      verdict('2', 'C-a', 'needs_information', null, '2026-11-24T02:00:00Z'),
      verdict('3', 'C-b', 'escalated', null, '2026-11-24T02:00:00Z'),
    ]);
    expect(labels).toEqual([]);
    expect(stats.unsettled).toBe(2);
  });

  it('skips records that are not verdicts (tombstones, bad JSON, other formats, bad labels)', () => {
    const { labels, stats } = labelsFromVerdicts([
      { value: null },
      { value: '{not json' },
      { value: JSON.stringify({ format: 'other', claimId: 'C-x' }) },
      { value: JSON.stringify({ ...JSON.parse(verdict('9', 'C-y', 'confirmed_fraud', 1, '2026-11-24T01:00:00Z').value), label: 2 }) },
      { value: Buffer.from(verdict('8', 'C-z', 'false_positive', 0, '2026-11-24T01:00:00Z').value) },
    ]);
    expect(labels.map((l) => l.claimId)).toEqual(['C-z']);
    expect(stats).toEqual({ records: 5, invalid: 4, duplicates: 0, unsettled: 0 });
  });
});
