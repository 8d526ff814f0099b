import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrate, fitPlatt } from '../../../scoring/calibration.ts';
import { prAuc, precisionAtTop, rocAuc, statsAt, topShareThreshold } from '../../../training/evaluation/metrics.ts';
import { Rng } from '../../../core/random.ts';
import { chooseFlagThreshold, stratifiedSplit } from '../../../training/train.ts';

/** Naive references: all pairs for ROC-AUC, precision at each positive's own score for AP. */
function naiveRoc(s: number[], y: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    for (let j = 0; j < s.length; j++) {
      if (y[i] !== 1 || y[j] !== 0) continue;
      pairs++;
      wins += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

function naiveAp(s: number[], y: number[]): number {
  const positives = s.flatMap((v, i) => (y[i] === 1 ? [v] : []));
  return positives.reduce((sum, t) => {
    const above = s.flatMap((v, i) => (v >= t ? [y[i]!] : []));
    return sum + above.filter((l) => l === 1).length / above.length;
  }, 0) / positives.length;
}

const data = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 20 }).map((v) => v / 20), fc.constantFrom(0, 1)), { minLength: 2, maxLength: 60 })
  .filter((rows) => rows.some((r) => r[1] === 1) && rows.some((r) => r[1] === 0));

describe('rocAuc / prAuc', () => {
  it('match the naive definitions, ties included', () => {
    fc.assert(
      fc.property(data, (rows) => {
        const s = rows.map((r) => r[0]);
        const y = rows.map((r) => r[1]);
        expect(rocAuc(s, y)).toBeCloseTo(naiveRoc(s, y), 12);
        expect(prAuc(s, y)).toBeCloseTo(naiveAp(s, y), 12);
      }),
      { numRuns: 300 },
    );
  });

  it('are 1 for a perfect ranking, 0.5 / the positive rate for a constant score, NaN without a class', () => {
    expect(rocAuc([0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1])).toBe(1);
    expect(prAuc([0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 0])).toBe(0.5);
    expect(prAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 0])).toBe(0.25);
    expect(rocAuc([0.1, 0.2], [0, 0])).toBeNaN();
  });
});

describe('thresholds', () => {
  it('statsAt and topShareThreshold agree', () => {
    const s = Array.from({ length: 100 }, (_, i) => i / 100);
    const y = s.map((v) => (v >= 0.9 ? 1 : 0));
    const t = topShareThreshold(s, 0.05);
    expect(t).toBe(0.95);
    expect(statsAt(s, y, t)).toEqual({ threshold: 0.95, share: 0.05, precision: 1, recall: 0.5 });
  });

  it('chooseFlagThreshold takes the lowest score keeping the precision within the share cap', () => {
    const s = [0.99, 0.98, 0.97, 0.96, 0.95, 0.5, 0.4, 0.3, 0.2, 0.1];
    const y = [1, 1, 1, 0, 1, 0, 1, 0, 0, 0];
    expect(chooseFlagThreshold(s, y, 0.8, 0.5)).toBe(0.95);
    expect(chooseFlagThreshold(s, y, 0.8, 0.3)).toBe(0.97);
    expect(chooseFlagThreshold(s, y, 1, 1)).toBe(0.97);
    expect(chooseFlagThreshold([0.9, 0.1], [0, 1], 0.5, 1)).toBe(0.1);
    expect(chooseFlagThreshold([0.9, 0.1], [0, 1], 0.6, 1)).toBeUndefined();
  });

  it('stratifiedSplit keeps the class balance and is seeded', () => {
    const y = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 1 : 0));
    const a = stratifiedSplit(y, 0.2, new Rng(1));
    expect(a.validation).toHaveLength(200);
    expect(a.validation.filter((i) => y[i] === 1)).toHaveLength(20);
    expect(new Set([...a.train, ...a.validation]).size).toBe(1000);
    expect(stratifiedSplit(y, 0.2, new Rng(1))).toEqual(a);
    expect(stratifiedSplit(y, 0.2, new Rng(2)).validation).not.toEqual(a.validation);
    expect(() => stratifiedSplit([1, 0, 0], 0.2, new Rng(1))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('Platt calibration', () => {
  it('recovers a known logistic link and is strictly increasing', () => {
    const rng = new Rng(5);
    const raw: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const x = rng.float(-4, 4);
      raw.push(1 / (1 + Math.exp(-x)));
      y.push(rng.chance(1 / (1 + Math.exp(-(2 * x - 1)))) ? 1 : 0);
    }
    const c = fitPlatt(raw, y);
    expect(c.a).toBeCloseTo(2, 0);
    expect(c.b).toBeCloseTo(-1, 0);
    let previous = -1;
    for (let p = 0; p <= 1; p += 0.01) {
      const q = calibrate(c, p);
      expect(q).toBeGreaterThan(previous);
      expect(q).toBeGreaterThan(0);
      expect(q).toBeLessThan(1);
      previous = q;
    }
  });
});

describe('precisionAtTop', () => {
  it('is the fraud share of the top ceil(share x n) rows, ties at the cut at their mean rate', () => {
    const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0];
    const labels = [1, 0, 1, 1, 0, 0, 0, 0, 0, 1];
    expect(precisionAtTop(scores, labels, 0.1)).toBe(1);
    expect(precisionAtTop(scores, labels, 0.2)).toBe(0.5);
    expect(precisionAtTop(scores, labels, 0.4)).toBe(0.75);
    expect(precisionAtTop(scores, labels, 0.01)).toBe(1);
    // Four rows tied at the top, two of them frauds: a queue of two finds one.
    expect(precisionAtTop([1, 1, 1, 1, 0], [1, 0, 1, 0, 0], 0.4)).toBe(0.5);
    expect(precisionAtTop([], [], 0.1)).toBeNaN();
  });
});
