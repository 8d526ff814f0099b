import { describe, expect, it } from 'vitest';
import { mix } from '../../../scoring/ensemble.ts';
import { rocAuc } from '../../../training/evaluation/metrics.ts';
import { Rng } from '../../../core/random.ts';
import { fitMemberStacker, fitStacker } from '../../../training/stacker.ts';

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

describe('fitMemberStacker (three members)', () => {
  /** rf and gb see the signal (gb better), `noise` is a member that knows nothing. */
  function three(n: number, seed: number) {
    const { rf, nn, y } = scores(n, 1.5, 2, seed);
    const rng = new Rng(seed + 100);
    const squash = (z: number): number => 1 / (1 + Math.exp(-z));
    const gb = Float64Array.from(y, (v) => squash((v ? 1.5 : -1.5) + 1 * rng.normal()));
    const noise = Float64Array.from(y, () => rng.next());
    return { rf, nn, gb, noise, y };
  }

  it('gives a pure-noise member weight 0 and keeps the members that help', () => {
    for (const seed of [1, 2, 3]) {
      const { rf, gb, noise, y } = three(4000, seed);
      const fit = fitMemberStacker({ rf, nn: noise, gb }, y);
      expect(fit.weights.nn).toBe(0);
      expect(fit.dropped).toContain('nn');
      expect(fit.weights.rf).toBeGreaterThan(0);
      expect(fit.weights.gb).toBeGreaterThan(fit.weights.rf);
      expect(fit.weights.rf + fit.weights.nn + fit.weights.gb).toBeCloseTo(1, 12);
      // The noise member is dropped wherever it stands.
      expect(fitMemberStacker({ rf: noise, nn: rf, gb }, y).weights.rf).toBe(0);
      expect(fitMemberStacker({ rf, nn: gb, gb: noise }, y).weights.gb).toBe(0);
    }
  });

  it('keeps all three when each adds information, and the mix ranks at least as well as the best member', () => {
    const { rf, nn, gb, y } = three(6000, 4);
    const fit = fitMemberStacker({ rf, nn, gb }, y);
    expect(fit.dropped).toEqual([]);
    for (const m of ['rf', 'nn', 'gb'] as const) expect(fit.weights[m]).toBeGreaterThan(0);
    const mixed = rf.map((r, i) => mix(fit.weights, r, nn[i]!, gb[i]!));
    expect(rocAuc(mixed, y)).toBeGreaterThanOrEqual(rocAuc(gb, y) - 1e-3);
  });

  it('drops a member that ranks backwards, works with two members, and is deterministic', () => {
    const { rf, gb, y } = three(2000, 5);
    const inverted = rf.map((r) => 1 - r);
    expect(fitMemberStacker({ rf, nn: inverted, gb }, y).weights.nn).toBe(0);
    const two = fitMemberStacker({ rf, nn: gb }, y);
    expect(two.weights.gb).toBe(0);
    expect(two.weights.rf + two.weights.nn).toBeCloseTo(1, 12);
    expect(fitMemberStacker({ rf, nn: inverted, gb }, y)).toEqual(fitMemberStacker({ rf, nn: inverted, gb }, y));
    expect(() => fitMemberStacker({}, y)).toThrow(/at least one member/);
    expect(() => fitMemberStacker({ rf: [0.1] }, y)).toThrow(/one rf score per label/);
  });
});
