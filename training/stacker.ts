import { InvalidArgumentError } from '../core/errors.ts';

/**
 * The ensemble's combiner: a logistic-regression stacker over the forest and network
 * probabilities, p = sigmoid(c + a_rf * rf + a_nn * nn), fitted on out-of-fold scores (rows the
 * two models did not see). The coefficients are kept non-negative (a model whose score would
 * enter negatively is dropped and the other refitted alone), so the stacker ranks rows exactly as
 * the weighted mix w_rf * rf + w_nn * nn with w = a / (a_rf + a_nn). That mix is what model
 * bundles carry (`weights`) and what the scorers apply (ensemble.ts `mix`), followed by the Platt
 * calibration; no new bundle field is needed.
 */

export interface StackerFit {
  /** Mixing weights (sum 1, each in [0, 1]) that rank rows as the stacker does. */
  weights: { rf: number; nn: number };
  /** Fitted logistic coefficients (intercept, forest, network), for the report. */
  coefficients: { intercept: number; rf: number; nn: number };
}

/** Ridge penalty on the two slopes (not the intercept): keeps the fit finite on separable data. */
const RIDGE = 1e-4;

/**
 * Fits the stacker by Newton's method on the log-loss (unweighted: the mix's ranking, not its
 * calibration, is what the weights carry).
 *
 * @param rf out-of-fold forest probabilities, one per row
 * @param nn out-of-fold network probabilities, same rows
 * @param labels 0/1 per row, both classes present
 * @throws InvalidArgumentError for arrays of different lengths or a single class.
 */
export function fitStacker(rf: ArrayLike<number>, nn: ArrayLike<number>, labels: ArrayLike<number>): StackerFit {
  const n = labels.length;
  if (rf.length !== n || nn.length !== n) throw new InvalidArgumentError(`stacker needs one forest and one network score per label (${rf.length}, ${nn.length}, ${n})`);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  if (positives === 0 || positives === n) throw new InvalidArgumentError('stacker needs both classes');
  const both = logistic([rf, nn], labels);
  let a = { rf: both[1] as number, nn: both[2] as number, intercept: both[0] as number };
  if (!(a.rf > 0 && a.nn > 0)) {
    // One score would enter with a negative (or zero) sign: keep the better-fitting single model
    // among those that enter positively (a score ranking backwards is no candidate).
    const onlyRf = logistic([rf], labels);
    const onlyNn = logistic([nn], labels);
    const rfLoss = (onlyRf[1] as number) > 0 ? logLoss([rf], onlyRf, labels) : Infinity;
    const nnLoss = (onlyNn[1] as number) > 0 ? logLoss([nn], onlyNn, labels) : Infinity;
    if (rfLoss === Infinity && nnLoss === Infinity) a = { intercept: a.intercept, rf: 0, nn: 0 };
    else if (rfLoss <= nnLoss) a = { intercept: onlyRf[0] as number, rf: onlyRf[1] as number, nn: 0 };
    else a = { intercept: onlyNn[0] as number, rf: 0, nn: onlyNn[1] as number };
  }
  const sum = a.rf + a.nn;
  // Both slopes at zero means neither score separates the classes: fall back to an even mix.
  const weights = sum > 0 ? { rf: a.rf / sum, nn: a.nn / sum } : { rf: 0.5, nn: 0.5 };
  return { weights, coefficients: a };
}

/** Logistic regression with intercept on the given columns; returns [intercept, ...slopes]. */
function logistic(columns: readonly ArrayLike<number>[], labels: ArrayLike<number>): number[] {
  const n = labels.length;
  const d = columns.length + 1;
  const beta = new Array<number>(d).fill(0);
  const x = (i: number, j: number): number => (j === 0 ? 1 : ((columns[j - 1] as ArrayLike<number>)[i] as number));
  for (let iter = 0; iter < 50; iter++) {
    const g = new Array<number>(d).fill(0);
    const h = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < n; i++) {
      let z = 0;
      for (let j = 0; j < d; j++) z += (beta[j] as number) * x(i, j);
      const p = 1 / (1 + Math.exp(-z));
      const r = p - (labels[i] === 1 ? 1 : 0);
      const w = p * (1 - p);
      for (let j = 0; j < d; j++) {
        g[j] = (g[j] as number) + r * x(i, j);
        const hj = h[j] as number[];
        for (let k = 0; k < d; k++) hj[k] = (hj[k] as number) + w * x(i, j) * x(i, k);
      }
    }
    for (let j = 1; j < d; j++) {
      g[j] = (g[j] as number) + RIDGE * n * (beta[j] as number);
      (h[j] as number[])[j] = ((h[j] as number[])[j] as number) + RIDGE * n;
    }
    const step = solve(h, g);
    if (step === null) break;
    let largest = 0;
    for (let j = 0; j < d; j++) {
      beta[j] = (beta[j] as number) - (step[j] as number);
      largest = Math.max(largest, Math.abs(step[j] as number));
    }
    if (largest < 1e-10) break;
  }
  return beta;
}

function logLoss(columns: readonly ArrayLike<number>[], beta: readonly number[], labels: ArrayLike<number>): number {
  let loss = 0;
  for (let i = 0; i < labels.length; i++) {
    let z = beta[0] as number;
    columns.forEach((c, j) => (z += (beta[j + 1] as number) * (c[i] as number)));
    // log(1 + e^-z) for y = 1, log(1 + e^z) for y = 0, computed stably.
    const s = labels[i] === 1 ? -z : z;
    loss += s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
  }
  return loss;
}

/** Solves h * s = g by Gaussian elimination with partial pivoting; null when singular. */
function solve(h: readonly (readonly number[])[], g: readonly number[]): number[] | null {
  const d = g.length;
  const m = h.map((row, i) => [...row, g[i] as number]);
  for (let c = 0; c < d; c++) {
    let pivot = c;
    for (let r = c + 1; r < d; r++) if (Math.abs((m[r] as number[])[c] as number) > Math.abs((m[pivot] as number[])[c] as number)) pivot = r;
    if (!(Math.abs((m[pivot] as number[])[c] as number) > 1e-12)) return null;
    [m[c], m[pivot]] = [m[pivot] as number[], m[c] as number[]];
    const row = m[c] as number[];
    for (let r = c + 1; r < d; r++) {
      const other = m[r] as number[];
      const f = (other[c] as number) / (row[c] as number);
      for (let k = c; k <= d; k++) other[k] = (other[k] as number) - f * (row[k] as number);
    }
  }
  const s = new Array<number>(d).fill(0);
  for (let r = d - 1; r >= 0; r--) {
    const row = m[r] as number[];
    let v = row[d] as number;
    for (let k = r + 1; k < d; k++) v -= (row[k] as number) * (s[k] as number);
    s[r] = v / (row[r] as number);
  }
  return s;
}
