import { InvalidArgumentError } from '../core/errors.ts';
import { prAuc, rocAuc } from './evaluation/metrics.ts';

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

/** Members a stacker may weigh: forest, network and gradient-boosted trees. */
export type Member = 'rf' | 'nn' | 'gb';

export interface MemberStackerFit {
  /** Mixing weights (sum 1, each in [0, 1]); a member left out has weight 0. */
  weights: Record<Member, number>;
  /** Fitted logistic coefficients on the members kept (0 for the others), for the report. */
  coefficients: { intercept: number } & Record<Member, number>;
  /** Members that got weight 0, and the held-out ranking (mean ROC-AUC + PR-AUC) of the subsets tried. */
  dropped: Member[];
  heldOut: Record<string, number>;
}

/** Folds of the stacker's own held-out check. */
const STACKER_FOLDS = 5;
/** A member stays only if leaving it out costs more than this held-out ROC-AUC + PR-AUC. */
const HELPS_BY = 1e-3;

/**
 * The stacker over up to three members (forest, network, booster), fitted on out-of-fold scores.
 * A member is kept only if it helps: starting from every member, the member whose removal gives
 * the best held-out ranking (mean over 5 folds of ROC-AUC + PR-AUC of the stacker fitted on the
 * other folds; folds dealt round-robin within each class in row order, so deterministic) is
 * dropped as long as that ranking is within 0.001 of the ranking with it; a member whose
 * coefficient would be negative is dropped first. Ranking, not log-loss, decides because the mix
 * is linear in probabilities: a member with near-0/1 probabilities can rank best and still fit
 * the log-loss of a linear mix poorly. The kept members are then fitted on all rows
 * (non-negative coefficients as in `fitStacker`); their weights are the coefficients over their
 * sum, and the others get weight 0. A pure-noise member therefore gets weight 0.
 *
 * @param scores out-of-fold probabilities per member (all members given must have one per label)
 * @throws InvalidArgumentError for arrays of different lengths, no member, or a single class.
 */
export function fitMemberStacker(scores: Partial<Record<Member, ArrayLike<number>>>, labels: ArrayLike<number>): MemberStackerFit {
  const n = labels.length;
  const members = (['rf', 'nn', 'gb'] as const).filter((m) => scores[m] !== undefined);
  if (members.length === 0) throw new InvalidArgumentError('stacker needs at least one member');
  for (const m of members) if ((scores[m] as ArrayLike<number>).length !== n) throw new InvalidArgumentError(`stacker needs one ${m} score per label (${(scores[m] as ArrayLike<number>).length}, ${n})`);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  if (positives === 0 || positives === n) throw new InvalidArgumentError('stacker needs both classes');

  const fold = new Int32Array(n);
  const dealt = [0, 0];
  for (let i = 0; i < n; i++) {
    const c = labels[i] === 1 ? 1 : 0;
    fold[i] = (dealt[c] as number) % STACKER_FOLDS;
    dealt[c] = (dealt[c] as number) + 1;
  }
  const heldOut: Record<string, number> = {};
  const ranking = (subset: readonly Member[]): number => {
    const key = subset.join('+');
    const known = heldOut[key];
    if (known !== undefined) return known;
    let total = 0;
    for (let k = 0; k < STACKER_FOLDS; k++) {
      const fit: number[] = [];
      const held: number[] = [];
      for (let i = 0; i < n; i++) (fold[i] === k ? held : fit).push(i);
      const pick = (idx: readonly number[]) => subset.map((m) => Float64Array.from(idx, (i) => (scores[m] as ArrayLike<number>)[i] as number));
      const beta = logistic(pick(fit), Uint8Array.from(fit, (i) => labels[i] as number));
      const columns = pick(held);
      // The serving mix: non-negative slopes on the probabilities (the intercept does not rank).
      const mixed = Float64Array.from(held, (_, r) => subset.reduce((z, _m, j) => z + Math.max(0, beta[j + 1] as number) * ((columns[j] as Float64Array)[r] as number), 0));
      const heldY = Uint8Array.from(held, (i) => labels[i] as number);
      total += rocAuc(mixed, heldY) + prAuc(mixed, heldY);
    }
    heldOut[key] = total / STACKER_FOLDS;
    return total / STACKER_FOLDS;
  };

  // Members entering with a non-positive slope in the joint fit go first.
  let kept: Member[] = [...members];
  for (;;) {
    const beta = logistic(kept.map((m) => scores[m] as ArrayLike<number>), labels);
    const negative = kept.filter((_, j) => !((beta[j + 1] as number) > 0));
    if (negative.length === 0 || kept.length === 1) break;
    // Drop the most negative one and refit.
    let worst = 0;
    kept.forEach((_, j) => {
      if ((beta[j + 1] as number) < (beta[worst + 1] as number)) worst = j;
    });
    kept = kept.filter((_, j) => j !== worst);
  }
  // Backward elimination on the held-out ranking.
  while (kept.length > 1) {
    const current = ranking(kept);
    let best: { member: Member; rank: number } | undefined;
    for (const m of kept) {
      const rank = ranking(kept.filter((x) => x !== m));
      if (rank >= current - HELPS_BY && (best === undefined || rank > best.rank)) best = { member: m, rank };
    }
    if (!best) break;
    const gone = best.member;
    kept = kept.filter((x) => x !== gone);
  }
  const beta = logistic(kept.map((m) => scores[m] as ArrayLike<number>), labels);
  const coefficients = { intercept: beta[0] as number, rf: 0, nn: 0, gb: 0 };
  kept.forEach((m, j) => (coefficients[m] = Math.max(0, beta[j + 1] as number)));
  const sum = kept.reduce((s, m) => s + coefficients[m], 0);
  const weights = { rf: 0, nn: 0, gb: 0 };
  // No member separates the classes: an even mix of those given.
  if (sum > 0) for (const m of kept) weights[m] = coefficients[m] / sum;
  else for (const m of members) weights[m] = 1 / members.length;
  return { weights, coefficients, dropped: members.filter((m) => !(weights[m] > 0)), heldOut };
}
