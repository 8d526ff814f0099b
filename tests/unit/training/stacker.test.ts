import { describe, expect, it } from 'vitest';
import { mix } from '../../../scoring/ensemble.ts';
import { rocAuc } from '../../../training/evaluation/metrics.ts';
import { Rng } from '../../../core/random.ts';
import { fitStacker } from '../../../training/stacker.ts';

/** Two scores of a latent fraud signal: `rf` sees it with `rfNoise`, `nn` with `nnNoise`. */
function scores(n: number, rfNoise: number, nnNoise: number, seed: number): { rf: Float64Array; nn: Float64Array; y: Uint8Array } {
  const rng = new Rng(seed);
  const rf = new Float64Array(n);
  const nn = new Float64Array(n);
  const y = new Uint8Array(n);
  const squash = (z: number): number => 1 / (1 + Math.exp(-z));
  for (let i = 0; i < n; i++) {
    y[i] = rng.next() < 0.1 ? 1 : 0;
    const signal = y[i] ? 1.5 : -1.5;
    rf[i] = squash(signal + rfNoise * rng.normal());
    nn[i] = squash(signal + nnNoise * rng.normal());
  }
  return { rf, nn, y };
}

describe('fitStacker', () => {
  it('weighs the less noisy model more, and its mix ranks at least as well as either model', () => {
    const { rf, nn, y } = scores(4000, 1, 2, 3);
    const { weights, coefficients } = fitStacker(rf, nn, y);
    expect(weights.rf + weights.nn).toBeCloseTo(1, 12);
    expect(weights.rf).toBeGreaterThan(weights.nn);
    expect(coefficients.rf).toBeGreaterThan(0);
    expect(coefficients.nn).toBeGreaterThan(0);
    const mixed = rf.map((r, i) => mix(weights, r, nn[i] as number));
    expect(rocAuc(mixed, y)).toBeGreaterThanOrEqual(rocAuc(rf, y) - 1e-3);
  });

  it('ranks exactly as the logistic regression it fitted', () => {
    const { rf, nn, y } = scores(1000, 1, 1, 4);
    const { weights, coefficients: c } = fitStacker(rf, nn, y);
    const order = (s: Float64Array): number[] => Array.from(s.keys()).sort((a, b) => (s[a] as number) - (s[b] as number) || a - b);
    const logistic = rf.map((r, i) => 1 / (1 + Math.exp(-(c.intercept + c.rf * r + c.nn * (nn[i] as number)))));
    expect(order(rf.map((r, i) => mix(weights, r, nn[i] as number)))).toEqual(order(logistic));
  });

  it('drops a score that would enter with a negative sign', () => {
    const { rf, y } = scores(2000, 1, 1, 5);
    const inverted = rf.map((r) => 1 - r + 0.01 * Math.sin(r * 1000));
    const { weights } = fitStacker(rf, inverted, y);
    expect(weights).toEqual({ rf: 1, nn: 0 });
  });

  it('is deterministic', () => {
    const { rf, nn, y } = scores(500, 1, 1.5, 6);
    expect(fitStacker(rf, nn, y)).toEqual(fitStacker(rf, nn, y));
  });

  it('refuses mismatched lengths and a single class', () => {
    expect(() => fitStacker([0.1, 0.2], [0.1], [0, 1])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error);
    expect(() => fitStacker([0.1, 0.2], [0.1, 0.3], [0, 0])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error);
  });
});
