import type { Booster } from './booster.ts';
import { calibrate, type Calibration } from './calibration.ts';
import type { Forest } from './forest.ts';
import type { MlpEvaluator } from './mlp-evaluator.ts';
import { predictMlp } from './mlp-predict.ts';
import { normalizeInto, type Normalizer } from './normalizer.ts';
import type { tf } from './tf.ts';

/**
 * The ensemble: forest, network and (when the bundle has one) gradient-boosted trees score the
 * same feature rows, their probabilities are mixed with fixed weights (chosen at training time)
 * and the mix is calibrated into the final score.
 */

/** Mixing weights; `gb` is the booster's, absent (0) for two-member bundles. */
export interface MixWeights {
  rf: number;
  nn: number;
  gb?: number;
}

export interface EnsembleModels {
  forest: Forest;
  /** The tf.js network: training and reference implementation. */
  nn: tf.LayersModel;
  /** Fast evaluator of the same network (scoring); `scoreMatrix` uses tf.js when absent. */
  mlp?: MlpEvaluator;
  normalizer: Normalizer;
  /** The third member, weighted by `weights.gb`. */
  booster?: Booster;
  weights: MixWeights;
  calibration: Calibration;
}

export interface EnsembleScores {
  rf: Float64Array;
  nn: Float64Array;
  /** Booster probabilities, when the ensemble has a booster. */
  gb?: Float64Array;
  /** Calibrated final score per row, in (0, 1). */
  score: Float64Array;
}

export interface ExplainedScores extends EnsembleScores {
  /** Row-major `rows` x `width`: each feature's contribution to the score, in score units. */
  contributions: Float64Array;
  /** The score of the baseline (forest and booster base values mixed with the network at the training mean). */
  baseScore: number;
}

function normalizeMatrix(normalizer: Normalizer, matrix: Float64Array, rows: number, width: number): Float32Array {
  const normalized = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) normalizeInto(normalizer, matrix.subarray(r * width, (r + 1) * width), normalized, r * width);
  return normalized;
}

/**
 * Scores `rows` feature rows given as one row-major matrix (`rows` x `width`): the forest tree by
 * tree over the batch, the network in one pass (the fast evaluator when `models.mlp` is set,
 * otherwise ONE tf.js forward pass).
 */
export function scoreMatrix(models: EnsembleModels, matrix: Float64Array, rows: number, width: number): EnsembleScores {
  const rf = new Float64Array(rows);
  models.forest.predictBatch(matrix, rows, rf);
  const normalized = normalizeMatrix(models.normalizer, matrix, rows, width);
  let nn: Float64Array;
  if (models.mlp) {
    nn = new Float64Array(rows);
    models.mlp.predictBatch(normalized, rows, nn);
  } else nn = Float64Array.from(predictMlp(models.nn, normalized, rows, width));
  let gb: Float64Array | undefined;
  if (models.booster) {
    gb = new Float64Array(rows);
    models.booster.predictBatch(matrix, rows, gb);
  }
  const score = new Float64Array(rows);
  for (let r = 0; r < rows; r++) score[r] = calibrate(models.calibration, mix(models.weights, rf[r] as number, nn[r] as number, gb ? (gb[r] as number) : 0));
  return { rf, nn, ...(gb ? { gb } : {}), score };
}

/**
 * Scores and explains a batch with the fast evaluators. Per feature j of row r:
 *
 *   contribution = k * (w_rf * saabas_j + w_nn * gradInput_j + w_gb * boost_j)
 *
 * `saabas_j` is the forest's exact path contribution (they sum to rf - forest.baseValue);
 * `boost_j` the booster's path contribution carried into probability units (they sum to
 * gb - booster.baseValue, see booster.ts);
 * `gradInput_j` the network's gradient x input against the training mean (see
 * mlp-evaluator.ts). k converts mix units into score units through the calibration: the secant
 * slope (score - baseScore) / (mix - baseMix), or the calibration's derivative when the mix is
 * within 1e-12 of the baseline. The forest's and the booster's parts are therefore exact: they
 * sum to k * w_rf * (rf - forest.baseValue) and k * w_gb * (gb - booster.baseValue).
 */
export function scoreExplained(models: EnsembleModels & { mlp: MlpEvaluator }, matrix: Float64Array, rows: number, width: number): ExplainedScores {
  const { forest, mlp, weights, calibration } = models;
  // A member with weight 0 is still scored (decisions record the forest and network
  // probabilities) but not explained: its contributions would be multiplied by 0.
  const rf = new Float64Array(rows);
  const rfContrib = new Float64Array(rows * width);
  if (weights.rf > 0) forest.predictBatch(matrix, rows, rf, rfContrib);
  else forest.predictBatch(matrix, rows, rf);
  const normalized = normalizeMatrix(models.normalizer, matrix, rows, width);
  const nn = new Float64Array(rows);
  const contributions = new Float64Array(rows * width);
  if (weights.nn > 0) mlp.predictWithAttributions(normalized, rows, nn, contributions);
  else mlp.predictBatch(normalized, rows, nn);
  const booster = models.booster;
  const wGb = weights.gb ?? 0;
  let gb: Float64Array | undefined;
  let gbContrib: Float64Array | undefined;
  if (booster) {
    gb = new Float64Array(rows);
    if (wGb > 0) {
      gbContrib = new Float64Array(rows * width);
      booster.predictBatch(matrix, rows, gb, gbContrib);
    } else booster.predictBatch(matrix, rows, gb);
  }
  const baseMix = mix(weights, forest.baseValue, mlp.baseValue, booster ? booster.baseValue : 0);
  const baseScore = calibrate(calibration, baseMix);
  const score = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const m = mix(weights, rf[r] as number, nn[r] as number, gb ? (gb[r] as number) : 0);
    const s = calibrate(calibration, m);
    score[r] = s;
    const k = Math.abs(m - baseMix) > 1e-12 ? (s - baseScore) / (m - baseMix) : calibrationSlope(calibration, m, s);
    if (gbContrib) {
      for (let j = 0, at = r * width; j < width; j++, at++) contributions[at] = k * (weights.rf * (rfContrib[at] as number) + weights.nn * (contributions[at] as number) + wGb * (gbContrib[at] as number));
    } else {
      for (let j = 0, at = r * width; j < width; j++, at++) contributions[at] = k * (weights.rf * (rfContrib[at] as number) + weights.nn * (contributions[at] as number));
    }
  }
  return { rf, nn, ...(gb ? { gb } : {}), score, contributions, baseScore };
}

/** d score / d mix of Platt scaling at `m` (score `s`), with the same clipping as `calibrate`. */
function calibrationSlope(c: Calibration, m: number, s: number): number {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, m));
  return (c.a * s * (1 - s)) / (q * (1 - q));
}

/** Weighted mix of the member probabilities (before calibration); `gb` counts only with `weights.gb`. */
export function mix(weights: MixWeights, rf: number, nn: number, gb = 0): number {
  return weights.gb === undefined ? weights.rf * rf + weights.nn * nn : weights.rf * rf + weights.nn * nn + weights.gb * gb;
}
