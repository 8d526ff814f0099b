import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../core/random.ts';
import { rocAuc } from '../../../training/evaluation/metrics.ts';
import {
  binOf,
  binRows,
  buildHistogram,
  findBestSplit,
  logisticGradients,
  logisticLoss,
  quantileThresholds,
  splitGain,
  trainBooster,
  walkRaw,
  type SplitParams,
} from '../../../training/booster-trainer.ts';

/** Rows with a nonlinear fraud signal on the first two of `width` features. */
function data(n: number, width: number, seed: number): { rows: Float64Array[]; y: Uint8Array } {
  const rng = new Rng(seed);
  const rows: Float64Array[] = [];
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const row = Float64Array.from({ length: width }, () => rng.normal());
    row[width - 1] = rng.int(0, 3);
    const z = 1.5 * (row[0]! > 0.5 ? 1 : -1) + (row[1]! * row[1]!) - 2 + 0.5 * rng.normal();
    y[i] = z > 0 ? 1 : 0;
    rows.push(row);
  }
  return { rows, y };
}

describe('logistic gradients', () => {
  it('match finite differences of the loss (gradient and hessian)', () => {
    fc.assert(
      fc.property(fc.double({ min: -20, max: 20, noNaN: true }), fc.integer({ min: 0, max: 1 }), (z, y) => {
        const g = new Float64Array(1);
        const h = new Float64Array(1);
        logisticGradients([z], [y], g, h);
        const e = 1e-5;
        const dg = (logisticLoss(z + e, y) - logisticLoss(z - e, y)) / (2 * e);
        const gPlus = new Float64Array(1);
        const gMinus = new Float64Array(1);
        logisticGradients([z + e], [y], gPlus, new Float64Array(1));
        logisticGradients([z - e], [y], gMinus, new Float64Array(1));
        const dh = (gPlus[0]! - gMinus[0]!) / (2 * e);
        expect(g[0]!).toBeCloseTo(dg, 6);
        expect(h[0]!).toBeCloseTo(Math.max(dh, 1e-16), 6);
      }),
      { numRuns: 300 },
    );
  });
});

describe('binning', () => {
  it('bins so that bin <= b is exactly x < thresholds[b], NaN in the last bin', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 2, max: 16 }), (ints, maxBins) => {
        const values = Float64Array.from(ints, (v) => v / 4);
        const t = quantileThresholds(values, maxBins);
        expect(t.length).toBeLessThanOrEqual(maxBins - 1);
        for (let k = 1; k < t.length; k++) expect(t[k]!).toBeGreaterThan(t[k - 1]!);
        for (const x of values) for (let b = 0; b < t.length; b++) expect(binOf(t, x) <= b).toBe(x < t[b]!);
        expect(binOf(t, Number.NaN)).toBe(t.length);
        // Few distinct values: one bin each.
        const distinct = new Set(values).size;
        if (distinct <= maxBins) expect(t.length).toBe(distinct - 1);
      }),
      { numRuns: 200 },
    );
  });
});

/** Naive reference: every feature, every cut, rows partitioned on their raw values. */
function exhaustiveSplit(rows: Float64Array[], sample: Int32Array, features: number[], thresholds: Float64Array[], g: Float64Array, h: Float64Array, p: SplitParams) {
  let G = 0;
  let H = 0;
  for (const i of sample) {
    G += g[i]!;
    H += h[i]!;
  }
  let best: { feature: number; bin: number; gain: number } | null = null;
  for (const j of features) {
    thresholds[j]!.forEach((t, b) => {
      let GL = 0;
      let HL = 0;
      for (const i of sample) {
        if (rows[i]![j]! < t) {
          GL += g[i]!;
          HL += h[i]!;
        }
      }
      if (HL < p.minChildWeight || H - HL < p.minChildWeight) return;
      const gain = splitGain(G, H, GL, HL, p);
      if (gain > 0 && (best === null || gain > best.gain)) best = { feature: j, bin: b, gain };
    });
  }
  return best as { feature: number; bin: number; gain: number } | null;
}

describe('histogram split finding', () => {
  it('equals an exhaustive search on the raw values (small random data)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 5, max: 60 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 12 }), (seed, n, width, maxBins) => {
        const rng = new Rng(seed);
        const rows = Array.from({ length: n }, () => Float64Array.from({ length: width }, () => rng.int(0, 9) / 2));
        const g = Float64Array.from({ length: n }, () => rng.float(-1, 1));
        const h = Float64Array.from({ length: n }, () => rng.float(0.01, 0.25));
        const p: SplitParams = { lambda: rng.float(0, 2), minChildWeight: rng.float(0, 1), gamma: rng.float(0, 0.05) };
        const data = binRows(rows, width, maxBins);
        const sample = Int32Array.from({ length: n }, (_, i) => i).filter(() => rng.chance(0.8));
        const features = Array.from({ length: width }, (_, j) => j).filter((j) => j === 0 || rng.chance(0.7));
        const hist = new Float64Array(2 * data.totalBins);
        buildHistogram(data, features, sample, g, h, hist);
        let G = 0;
        let H = 0;
        for (const i of sample) {
          G += g[i]!;
          H += h[i]!;
        }
        const fast = findBestSplit(data, features, hist, G, H, p);
        const naive = exhaustiveSplit(rows, sample, features, data.thresholds, g, h, p);
        if (naive === null) expect(fast).toBeNull();
        else {
          expect(fast).not.toBeNull();
          expect(fast!.gain).toBeCloseTo(naive.gain, 9);
          // Same split up to ties in gain (float sums in another order).
          if (Math.abs(fast!.gain - naive.gain) > 1e-9 || fast!.feature !== naive.feature) return;
          expect(fast!.bin).toBe(naive.bin);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('trainBooster', () => {
  it('lowers the training loss every round and learns a nonlinear signal', () => {
    const { rows, y } = data(1500, 5, 1);
    const result = trainBooster(rows, y, { seed: 7, rounds: 60, learningRate: 0.1, subsample: 1, colsample: 1 });
    expect(result.model.trees).toHaveLength(60);
    for (let r = 1; r < result.trainLoss.length; r++) expect(result.trainLoss[r]!).toBeLessThanOrEqual(result.trainLoss[r - 1]! + 1e-12);
    const test = data(1000, 5, 2);
    const scores = test.rows.map((row) => result.model.baseMargin + result.model.trees.reduce((s, t) => s + walkRaw(t, row), 0));
    expect(rocAuc(scores, test.y)).toBeGreaterThan(0.9);
  });

  it('with subsampling the training loss still goes down overall, and a seed gives the same model', () => {
    const { rows, y } = data(800, 6, 3);
    const a = trainBooster(rows, y, { seed: 11, rounds: 40 });
    const b = trainBooster(rows, y, { seed: 11, rounds: 40 });
    const c = trainBooster(rows, y, { seed: 12, rounds: 40 });
    expect(JSON.stringify(a.model)).toBe(JSON.stringify(b.model));
    expect(JSON.stringify(a.model)).not.toBe(JSON.stringify(c.model));
    expect(a.trainLoss.at(-1)!).toBeLessThan(a.trainLoss[0]! * 0.8);
  });

  it('stops early on the validation loss and keeps the trees up to the best round', () => {
    const { rows, y } = data(600, 4, 5);
    const valid = data(400, 4, 6);
    const result = trainBooster(rows, y, { seed: 1, rounds: 500, learningRate: 0.5, maxDepth: 8, minChildWeight: 0.1, lambda: 0.1, earlyStoppingRounds: 10, validation: { rows: valid.rows, labels: valid.y } });
    expect(result.validLoss.length).toBeLessThan(500);
    const best = result.validLoss.indexOf(Math.min(...result.validLoss));
    expect(result.rounds).toBe(best + 1);
    expect(result.model.trees).toHaveLength(best + 1);
    expect(result.validLoss.length).toBe(best + 11);
  });

  it('rejects bad input with a clear error', () => {
    expect(() => trainBooster([], [], { seed: 1 })).toThrow(/needs rows/);
    expect(() => trainBooster([[1], [2]], [0, 0], { seed: 1 })).toThrow(/both classes/);
    expect(() => trainBooster([[1], [2, 3]], [0, 1], { seed: 1 })).toThrow(/row 1 has 2 features/);
    expect(() => trainBooster([[1], [2]], [0, 2], { seed: 1 })).toThrow(/expected 0 or 1/);
    expect(() => trainBooster([[1], [2]], [0, 1], { seed: 1, subsample: 0 })).toThrow(/subsample/);
  });
});
