import { InvalidArgumentError } from '../core/errors.ts';
import { Rng } from '../core/random.ts';
import { BOOSTER_FORMAT, type BoosterModelJson, type BoosterTreeJson } from '../scoring/booster-model.ts';

/**
 * A small histogram-based gradient booster for binary labels (logistic loss), in the manner of
 * XGBoost's `hist` method and LightGBM:
 *
 * - every feature is cut into at most `maxBins` bins at quantiles of its training values; a cut
 *   is a distinct training value t, and bin b holds x with thresholds[b-1] <= x < thresholds[b],
 *   so a split "bin <= b" is exactly the serving test `x < thresholds[b]` (a NaN falls in the
 *   last bin, and goes right at every split, as in serving);
 * - each round computes the logistic loss's gradient g = p - y and hessian h = p (1 - p) at the
 *   current margins and grows one tree depth-first to `maxDepth`: per node, (sum g, sum h)
 *   histograms per feature and bin (the larger child's by subtraction from its parent), and the
 *   split of largest gain
 *     1/2 [G_L^2 / (H_L + lambda) + G_R^2 / (H_R + lambda) - G^2 / (H + lambda)] - gamma,
 *   with both children's hessian sums >= `minChildWeight`; a node with no split of positive gain
 *   becomes a leaf of weight -eta G / (H + lambda);
 * - row subsampling (`subsample`, per tree) and column subsampling (`colsample`, per tree) draw
 *   from the seeded PRNG (core/random.ts), so training is a pure function of its inputs and seed;
 * - with a validation set, training stops after `earlyStoppingRounds` rounds without a lower
 *   validation log-loss and keeps the trees up to the best round.
 *
 * tests/unit/training/booster-trainer.test.ts checks the gradients against finite differences,
 * the histogram split finder against an exhaustive search on the raw values, a decreasing
 * training loss and determinism.
 */

export interface BoosterTrainOptions {
  /** Most boosting rounds (trees). Default 400. */
  rounds?: number;
  /** Shrinkage eta. Default 0.05. */
  learningRate?: number;
  /** Maximum depth (splits from the root). Default 5. */
  maxDepth?: number;
  /** L2 penalty on leaf weights. Default 1. */
  lambda?: number;
  /** Smallest hessian sum of a child. Default 1. */
  minChildWeight?: number;
  /** Smallest loss reduction worth a split. Default 0. */
  gamma?: number;
  /** Share of rows drawn (without replacement) for each tree. Default 0.8. */
  subsample?: number;
  /** Share of features drawn for each tree. Default 0.8. */
  colsample?: number;
  /** Most bins per feature, 2..256. Default 64. */
  maxBins?: number;
  /** Stop after this many rounds without a better validation loss. Default 30. */
  earlyStoppingRounds?: number;
  /** Rows whose log-loss drives early stopping (never used to fit). */
  validation?: { rows: readonly ArrayLike<number>[]; labels: ArrayLike<number> };
  /** Seed of the subsampling, integer in [0, 2^32). */
  seed: number;
  /** Called after each round with the mean training (and validation) log-loss. */
  onRound?: (round: number, total: number, trainLoss: number, validLoss: number | undefined) => void;
}

export interface BoosterTrainResult {
  model: BoosterModelJson;
  /** Trees kept (the best validation round, or all rounds without validation). */
  rounds: number;
  /** Mean log-loss per round, on the training rows (all of them) and on validation. */
  trainLoss: number[];
  validLoss: number[];
}

/** Logistic loss of one row at margin z: log(1 + e^z) - y z, computed stably. */
export function logisticLoss(z: number, y: number): number {
  const s = y === 1 ? -z : z;
  return s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
}

/** First and second derivative of `logisticLoss` in z, per row. */
export function logisticGradients(margins: ArrayLike<number>, labels: ArrayLike<number>, g: Float64Array, h: Float64Array): void {
  for (let i = 0; i < labels.length; i++) {
    const p = 1 / (1 + Math.exp(-(margins[i] as number)));
    g[i] = p - (labels[i] as number);
    h[i] = Math.max(p * (1 - p), 1e-16);
  }
}

/**
 * Cut points of one feature: at most `maxBins - 1` distinct training values, each the first
 * value of a bin, placed so that the bins hold about equal numbers of rows. NaNs are ignored.
 */
export function quantileThresholds(values: ArrayLike<number>, maxBins: number): Float64Array {
  const sorted = Float64Array.from(values).filter((v) => !Number.isNaN(v)).sort();
  const n = sorted.length;
  const cuts: number[] = [];
  let distinct = n > 0 ? 1 : 0;
  for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  // Few distinct values: one bin each (exact). Otherwise a cut before a new value once the rows
  // since the last cut reach a bin's share.
  const share = distinct <= maxBins ? 0 : n / maxBins;
  let last = 0;
  for (let i = 1; i < n && cuts.length < maxBins - 1; i++) {
    if (sorted[i] === sorted[i - 1] || i - last < share) continue;
    cuts.push(sorted[i] as number);
    last = i;
  }
  return Float64Array.from(cuts);
}

/** Bin of x given ascending cut points: the number of cuts <= x (NaN: the last bin). */
export function binOf(thresholds: Float64Array, x: number): number {
  if (Number.isNaN(x)) return thresholds.length;
  let lo = 0;
  let hi = thresholds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((thresholds[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The binned training matrix: per feature its cut points and one bin per row. */
export interface BinnedData {
  rows: number;
  thresholds: Float64Array[];
  /** Column-major bins: bins[j][i] is row i's bin of feature j. */
  bins: Uint8Array[];
  /** Offset of feature j's bins in a histogram, and the total histogram length (bins). */
  offsets: Int32Array;
  totalBins: number;
}

export function binRows(rows: readonly ArrayLike<number>[], width: number, maxBins: number): BinnedData {
  const n = rows.length;
  const thresholds: Float64Array[] = [];
  const bins: Uint8Array[] = [];
  const offsets = new Int32Array(width + 1);
  const column = new Float64Array(n);
  for (let j = 0; j < width; j++) {
    for (let i = 0; i < n; i++) column[i] = (rows[i] as ArrayLike<number>)[j] as number;
    const t = quantileThresholds(column, maxBins);
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = binOf(t, column[i] as number);
    thresholds.push(t);
    bins.push(b);
    offsets[j + 1] = (offsets[j] as number) + t.length + 1;
  }
  return { rows: n, thresholds, bins, offsets, totalBins: offsets[width] as number };
}

/** Interleaved (sum g, sum h) per histogram bin of the given rows, for the given features. */
export function buildHistogram(data: BinnedData, features: readonly number[], rows: Int32Array, g: Float64Array, h: Float64Array, out: Float64Array): void {
  for (const j of features) {
    const bins = data.bins[j] as Uint8Array;
    const base = 2 * (data.offsets[j] as number);
    out.fill(0, base, 2 * (data.offsets[j + 1] as number));
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k] as number;
      const at = base + 2 * (bins[i] as number);
      out[at] = (out[at] as number) + (g[i] as number);
      out[at + 1] = (out[at + 1] as number) + (h[i] as number);
    }
  }
}

export interface SplitParams {
  lambda: number;
  minChildWeight: number;
  gamma: number;
}

export interface Split {
  feature: number;
  /** Rows with bin <= bin go left, i.e. x < thresholds[feature][bin]. */
  bin: number;
  gain: number;
  leftG: number;
  leftH: number;
}

/** The regularised second-order gain of splitting (G, H) into (GL, HL) and the rest. */
export function splitGain(G: number, H: number, GL: number, HL: number, p: SplitParams): number {
  const GR = G - GL;
  const HR = H - HL;
  return 0.5 * ((GL * GL) / (HL + p.lambda) + (GR * GR) / (HR + p.lambda) - (G * G) / (H + p.lambda)) - p.gamma;
}

/**
 * Best split of a node from its histogram: features in the given order, bins ascending, the
 * first of equal gains; null when no split has positive gain with both children's hessian
 * sums >= minChildWeight.
 */
export function findBestSplit(data: BinnedData, features: readonly number[], hist: Float64Array, G: number, H: number, p: SplitParams): Split | null {
  let best: Split | null = null;
  for (const j of features) {
    const base = 2 * (data.offsets[j] as number);
    const cuts = (data.thresholds[j] as Float64Array).length;
    let GL = 0;
    let HL = 0;
    for (let b = 0; b < cuts; b++) {
      GL += hist[base + 2 * b] as number;
      HL += hist[base + 2 * b + 1] as number;
      if (HL < p.minChildWeight || H - HL < p.minChildWeight) continue;
      const gain = splitGain(G, H, GL, HL, p);
      if (gain > 0 && (best === null || gain > best.gain)) best = { feature: j, bin: b, gain, leftG: GL, leftH: HL };
    }
  }
  return best;
}

/** A tree under construction (pre-order node lists, as in the model format). */
interface TreeBuilder {
  feature: number[];
  bin: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
  cover: number[];
}

interface GrowContext {
  data: BinnedData;
  features: readonly number[];
  g: Float64Array;
  h: Float64Array;
  params: SplitParams;
  maxDepth: number;
  eta: number;
}

function growNode(ctx: GrowContext, tree: TreeBuilder, rows: Int32Array, hist: Float64Array, G: number, H: number, depth: number): number {
  const id = tree.feature.length;
  tree.feature.push(-1);
  tree.bin.push(-1);
  tree.threshold.push(0);
  tree.left.push(-1);
  tree.right.push(-1);
  tree.value.push(0);
  tree.cover.push(H);
  const split = depth < ctx.maxDepth && rows.length >= 2 ? findBestSplit(ctx.data, ctx.features, hist, G, H, ctx.params) : null;
  if (split === null) {
    tree.value[id] = (-ctx.eta * G) / (H + ctx.params.lambda);
    return id;
  }
  const bins = ctx.data.bins[split.feature] as Uint8Array;
  let nLeft = 0;
  for (let k = 0; k < rows.length; k++) if ((bins[rows[k] as number] as number) <= split.bin) nLeft++;
  const leftRows = new Int32Array(nLeft);
  const rightRows = new Int32Array(rows.length - nLeft);
  for (let k = 0, a = 0, b = 0; k < rows.length; k++) {
    const i = rows[k] as number;
    if ((bins[i] as number) <= split.bin) leftRows[a++] = i;
    else rightRows[b++] = i;
  }
  // Histogram of the smaller child from its rows, the larger one's by subtraction.
  const small = new Float64Array(hist.length);
  const large = new Float64Array(hist.length);
  const leftSmaller = nLeft <= rows.length - nLeft;
  buildHistogram(ctx.data, ctx.features, leftSmaller ? leftRows : rightRows, ctx.g, ctx.h, small);
  for (const j of ctx.features) {
    for (let k = 2 * (ctx.data.offsets[j] as number), e = 2 * (ctx.data.offsets[j + 1] as number); k < e; k++) large[k] = (hist[k] as number) - (small[k] as number);
  }
  const [leftHist, rightHist] = leftSmaller ? [small, large] : [large, small];
  tree.feature[id] = split.feature;
  tree.bin[id] = split.bin;
  tree.threshold[id] = (ctx.data.thresholds[split.feature] as Float64Array)[split.bin] as number;
  tree.left[id] = growNode(ctx, tree, leftRows, leftHist, split.leftG, split.leftH, depth + 1);
  tree.right[id] = growNode(ctx, tree, rightRows, rightHist, G - split.leftG, H - split.leftH, depth + 1);
  return id;
}

/** Leaf value of binned row i in a builder tree. */
function walkBinned(tree: TreeBuilder, data: BinnedData, i: number): number {
  let node = 0;
  while ((tree.feature[node] as number) >= 0) {
    const f = tree.feature[node] as number;
    node = (((data.bins[f] as Uint8Array)[i] as number) <= (tree.bin[node] as number) ? tree.left[node] : tree.right[node]) as number;
  }
  return tree.value[node] as number;
}

/** Leaf value of a raw row in a model tree (the serving rule: x < threshold goes left). */
export function walkRaw(tree: BoosterTreeJson, row: ArrayLike<number>): number {
  let node = 0;
  while ((tree.feature[node] as number) >= 0) node = (((row[tree.feature[node] as number] as number) < (tree.threshold[node] as number)) ? tree.left[node] : tree.right[node]) as number;
  return tree.value[node] as number;
}

function meanLoss(margins: Float64Array, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < margins.length; i++) s += logisticLoss(margins[i] as number, labels[i] as number);
  return s / margins.length;
}

function checkLabels(labels: ArrayLike<number>, n: number, what: string): number {
  if (labels.length !== n) throw new InvalidArgumentError(`need as many ${what} labels as rows (got ${n} rows, ${labels.length} labels)`);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new InvalidArgumentError(`${what} label ${i} is ${y}, expected 0 or 1`);
    positives += y;
  }
  return positives;
}

function inUnit(name: string, v: number): number {
  if (!(v > 0 && v <= 1)) throw new InvalidArgumentError(`${name} must be in (0, 1], got ${v}`);
  return v;
}

/**
 * Trains the booster. `rows` are feature vectors of equal length; `labels` 0 (legitimate) or 1
 * (fraud), both classes present.
 * @throws InvalidArgumentError for empty or ragged input, labels other than 0/1, one class only,
 * or options out of range.
 */
export function trainBooster(rows: readonly ArrayLike<number>[], labels: ArrayLike<number>, options: BoosterTrainOptions): BoosterTrainResult {
  const n = rows.length;
  if (n === 0) throw new InvalidArgumentError('booster training needs rows');
  const positives = checkLabels(labels, n, 'training');
  if (positives === 0 || positives === n) throw new InvalidArgumentError('booster training needs both classes');
  const width = (rows[0] as ArrayLike<number>).length;
  rows.forEach((r, i) => {
    if (r.length !== width) throw new InvalidArgumentError(`row ${i} has ${r.length} features, expected ${width}`);
  });
  const rounds = options.rounds ?? 400;
  const eta = options.learningRate ?? 0.05;
  const maxDepth = options.maxDepth ?? 5;
  const maxBins = options.maxBins ?? 64;
  const subsample = inUnit('subsample', options.subsample ?? 0.8);
  const colsample = inUnit('colsample', options.colsample ?? 0.8);
  const patience = options.earlyStoppingRounds ?? 30;
  const params: SplitParams = { lambda: options.lambda ?? 1, minChildWeight: options.minChildWeight ?? 1, gamma: options.gamma ?? 0 };
  if (!Number.isInteger(rounds) || rounds < 1) throw new InvalidArgumentError(`rounds must be an integer >= 1, got ${rounds}`);
  if (!(eta > 0 && eta <= 1)) throw new InvalidArgumentError(`learning rate must be in (0, 1], got ${eta}`);
  if (!Number.isInteger(maxDepth) || maxDepth < 1) throw new InvalidArgumentError(`max depth must be an integer >= 1, got ${maxDepth}`);
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > 256) throw new InvalidArgumentError(`max bins must be an integer in [2, 256], got ${maxBins}`);
  if (!(params.lambda >= 0) || !(params.minChildWeight >= 0) || !(params.gamma >= 0)) throw new InvalidArgumentError('lambda, min child weight and gamma must be >= 0');

  const validation = options.validation;
  if (validation) {
    checkLabels(validation.labels, validation.rows.length, 'validation');
    validation.rows.forEach((r, i) => {
      if (r.length !== width) throw new InvalidArgumentError(`validation row ${i} has ${r.length} features, expected ${width}`);
    });
  }

  const data = binRows(rows, width, maxBins);
  const rng = new Rng(options.seed);
  const prior = positives / n;
  const baseMargin = Math.log(prior / (1 - prior));
  const margins = new Float64Array(n).fill(baseMargin);
  const validMargins = new Float64Array(validation?.rows.length ?? 0).fill(baseMargin);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const allFeatures = Array.from({ length: width }, (_, j) => j);
  const nFeatures = Math.max(1, Math.round(colsample * width));
  const trees: BoosterTreeJson[] = [];
  const trainLoss: number[] = [];
  const validLoss: number[] = [];
  let best = { round: -1, loss: Infinity };
  const hist = new Float64Array(2 * data.totalBins);

  for (let round = 0; round < rounds; round++) {
    logisticGradients(margins, labels, g, h);
    const treeRng = rng.fork();
    const sampled: number[] = [];
    for (let i = 0; i < n; i++) if (subsample >= 1 || treeRng.next() < subsample) sampled.push(i);
    const features = nFeatures >= width ? allFeatures : treeRng.sample(allFeatures, nFeatures).sort((a, b) => a - b);
    const sample = sampled.length > 0 ? Int32Array.from(sampled) : Int32Array.from({ length: n }, (_, i) => i);
    let G = 0;
    let H = 0;
    for (const i of sample) {
      G += g[i] as number;
      H += h[i] as number;
    }
    buildHistogram(data, features, sample, g, h, hist);
    const builder: TreeBuilder = { feature: [], bin: [], threshold: [], left: [], right: [], value: [], cover: [] };
    growNode({ data, features, g, h, params, maxDepth, eta }, builder, sample, hist, G, H, 0);
    for (let i = 0; i < n; i++) margins[i] = (margins[i] as number) + walkBinned(builder, data, i);
    const tree: BoosterTreeJson = { feature: builder.feature, threshold: builder.threshold, left: builder.left, right: builder.right, value: builder.value, cover: builder.cover };
    trees.push(tree);
    trainLoss.push(meanLoss(margins, labels));
    let vLoss: number | undefined;
    if (validation) {
      validation.rows.forEach((r, i) => (validMargins[i] = (validMargins[i] as number) + walkRaw(tree, r)));
      vLoss = meanLoss(validMargins, validation.labels);
      validLoss.push(vLoss);
      if (vLoss < best.loss - 1e-12) best = { round, loss: vLoss };
    }
    options.onRound?.(round + 1, rounds, trainLoss[round] as number, vLoss);
    if (validation && round - best.round >= patience) break;
  }
  const kept = validation ? best.round + 1 : trees.length;
  trees.length = kept;
  return {
    model: {
      format: BOOSTER_FORMAT,
      featureCount: width,
      baseMargin,
      trees,
      training: { rounds: kept, learningRate: eta, maxDepth, lambda: params.lambda, minChildWeight: params.minChildWeight, gamma: params.gamma, subsample, colsample, maxBins, seed: options.seed },
    },
    rounds: kept,
    trainLoss,
    validLoss,
  };
}
