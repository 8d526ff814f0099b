import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate, meanSd, writeEvaluationReport } from '../../../training/evaluation/evaluation-report.ts';

const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
const labels = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0];
const fold = (rocAuc: number, f1: number) => ({ rocAuc, prAuc: rocAuc - 0.2, f1, precision: 0.6, recall: 0.7 });

describe('meanSd', () => {
  it('gives the mean and the sample standard deviation, skipping NaN', () => {
    expect(meanSd([1, 2, 3, NaN])).toEqual({ mean: 2, sd: 1 });
    expect(meanSd([0.5])).toEqual({ mean: 0.5, sd: 0 });
    expect(meanSd([])).toEqual({ mean: NaN, sd: NaN });
  });
});

describe('per-fold figures in the report', () => {
  const input = {
    title: 'folds',
    notes: [],
    labels,
    components: [{ name: 'ensemble', scores }],
    probabilities: scores,
    perFold: { protocol: '2 outer folds x 1 seed', components: [{ name: 'ensemble', folds: [fold(0.9, 0.6), fold(0.94, 0.7)] }] },
  };

  it('summarises every figure as mean ± sd', () => {
    const m = evaluate(input);
    expect(m.perFold?.protocol).toBe('2 outer folds x 1 seed');
    const e = m.perFold?.components.ensemble;
    expect(e?.n).toBe(2);
    expect(e?.rocAuc.mean).toBeCloseTo(0.92, 12);
    expect(e?.rocAuc.sd).toBeCloseTo(Math.SQRT2 * 0.02, 12);
    expect(e?.f1.mean).toBeCloseTo(0.65, 12);
    expect(e?.precision).toEqual({ mean: 0.6, sd: 0 });
  });

  it('writes the table before the pooled figures', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-report-'));
    try {
      await writeEvaluationReport(dir, input);
      const md = await readFile(path.join(dir, 'report.md'), 'utf8');
      expect(md).toContain('## Per fold (mean ± sd over 2 outer folds x 1 seed)');
      expect(md).toContain('| ensemble | 2 | 0.9200 ± 0.0283 |');
      expect(md.indexOf('## Per fold')).toBeLessThan(md.indexOf('## Ranking'));
      expect(JSON.parse(await readFile(path.join(dir, 'metrics.json'), 'utf8')).perFold.components.ensemble.n).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
