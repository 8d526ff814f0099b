import { z } from 'zod';

/**
 * Platt scaling of the ensemble's raw score into an estimated fraud probability:
 * p = sigmoid(a * logit(raw) + b). The forest is grown on balanced samples and the network is
 * trained with balanced class weights, so their raw outputs overstate fraud at the real base
 * rate; a and b are fitted on held-out validation claims. With a > 0 the map is strictly
 * increasing, so rankings (ROC-AUC, PR-AUC) do not change.
 */

export const CalibrationSchema = z.strictObject({
  method: z.literal('platt'),
  a: z.number().finite().positive(),
  b: z.number().finite(),
});

export type Calibration = z.infer<typeof CalibrationSchema>;

const EPS = 1e-6;

function logit(p: number): number {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
}

/** Applies the calibration to a raw score in [0, 1]; the result is in (0, 1). */
export function calibrate(c: Calibration, raw: number): number {
  return 1 / (1 + Math.exp(-(c.a * logit(raw) + c.b)));
}

/**
 * Fits a and b by Newton's method on the log-loss with Platt's smoothed targets
 * ((n+ + 1) / (n+ + 2) and 1 / (n- + 2)), which keeps a held-out set from pushing probabilities
 * to exactly 0 or 1. Falls back to the identity (a = 1, b = 0) if the fit does not give a > 0.
 */
export function fitPlatt(raw: ArrayLike<number>, labels: ArrayLike<number>): Calibration {
  const n = raw.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (n - positives + 2);
  const x = Float64Array.from({ length: n }, (_, i) => logit(raw[i] as number));
  const t = Float64Array.from({ length: n }, (_, i) => (labels[i] === 1 ? hi : lo));
  let a = 1;
  let b = 0;
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-(a * (x[i] as number) + b)));
      const d = p - (t[i] as number);
      const w = p * (1 - p);
      const xi = x[i] as number;
      ga += d * xi;
      gb += d;
      haa += w * xi * xi;
      hab += w * xi;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-12)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) < 1e-9 && Math.abs(db) < 1e-9) break;
  }
  if (!(a > 0) || !Number.isFinite(b)) return { method: 'platt', a: 1, b: 0 };
  return { method: 'platt', a, b };
}
