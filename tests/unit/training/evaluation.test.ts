import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bestF1, brierScore, histogramByClass, prCurve, reliability, rocCurve, topK } from '../../../training/evaluation/evaluation.ts';
import { writeEvaluationReport } from '../../../training/evaluation/evaluation-report.ts';

const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
const labels = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0];

describe('evaluation metrics', () => {
  it('best F1 over thresholds', () => {
    // top 2: P 1, R 2/3 -> F1 0.8; top 4: P 3/4, R 1 -> F1 6/7
    const b = bestF1(scores, labels);
    expect(b.f1).toBeCloseTo(6 / 7, 12);
    expect(b.threshold).toBe(0.6);
    expect(b.recall).toBe(1);
  });

  it('precision and recall at the top k %', () => {
    expect(topK(scores, labels, 0.2)).toEqual({ share: 0.2, rows: 2, precision: 1, recall: 2 / 3 });
    expect(topK(scores, labels, 0.01).rows).toBe(1);
  });

  it('Brier score and reliability bins', () => {
    expect(brierScore([1, 0, 0.5], [1, 0, 1])).toBeCloseTo(0.25 / 3, 12);
    const bins = reliability([0.05, 0.15, 0.95, 1], [0, 1, 1, 1], 10);
    expect(bins).toHaveLength(10);
    expect(bins[0]).toMatchObject({ count: 1, fraudRate: 0 });
    expect(bins[9]).toMatchObject({ count: 2, fraudRate: 1, meanScore: 0.975 });
    expect(histogramByClass(scores, labels, 2)).toEqual({ fraud: [0, 3], legitimate: [5, 2] });
  });

  it('ROC and PR curves run from the first threshold to all rows', () => {
    const roc = rocCurve(scores, labels);
    expect(roc[0]).toEqual([0, 0]);
    expect(roc.at(-1)).toEqual([1, 1]);
    const pr = prCurve(scores, labels);
    expect(pr[0]).toEqual([1 / 3, 1]);
    expect(pr.at(-1)).toEqual([1, 0.3]);
  });
});

describe('writeEvaluationReport', () => {
  it('writes markdown, metrics and four SVG plots', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-report-'));
    try {
      const m = await writeEvaluationReport(dir, {
        title: 'test',
        notes: ['unit test'],
        labels,
        components: [{ name: 'ensemble', scores }],
        probabilities: scores,
        patterns: labels.map((l, i) => (l ? (i === 3 ? 'upcoding' : 'phantom') : null)),
        thresholds: { flag: 0.75 },
      });
      expect(m.components.ensemble?.rocAuc).toBeCloseTo(20 / 21, 12);
      expect(m.byPattern?.phantom).toEqual({ count: 2, recallAtTop: { '1.0%': 0.5, '5.0%': 0.5, '10.0%': 0.5, '20.0%': 1 } });
      expect(m.thresholds?.flag).toEqual({ threshold: 0.75, share: 0.2, precision: 1, recall: 2 / 3 });
      const md = await readFile(path.join(dir, 'report.md'), 'utf8');
      expect(md).toContain('| ensemble | 0.9524 |');
      expect(md).toContain('| upcoding | 1 |');
      for (const f of ['roc.svg', 'pr.svg', 'reliability.svg', 'histogram.svg']) expect(await readFile(path.join(dir, f), 'utf8')).toMatch(/^<svg [^]*<\/svg>\n$/);
      expect(JSON.parse(await readFile(path.join(dir, 'metrics.json'), 'utf8')).rows).toBe(10);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
