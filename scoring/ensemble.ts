import { calibrate, type Calibration } from './calibration.ts';
import type { Forest } from './forest.ts';
import { predictMlp } from './mlp.ts';
import { normalizeInto, type Normalizer } from './normalizer.ts';
import type { tf } from './tf.ts';

/**
 * The ensemble: forest and network score the same feature rows, their probabilities are mixed
 * with fixed weights (chosen at training time) and the mix is calibrated into the final score.
 */

export interface EnsembleModels {
  forest: Forest;
  nn: tf.LayersModel;
  normalizer: Normalizer;
  weights: { rf: number; nn: number };
  calibration: Calibration;
}

export interface EnsembleScores {
  rf: Float64Array;
  nn: Float32Array;
  /** Calibrated final score per row, in (0, 1). */
  score: Float64Array;
}

/**
 * Scores `rows` feature rows given as one row-major matrix (`rows` x `width`): one forest pass
 * per row and ONE network forward pass for all rows.
 */
export function scoreMatrix(models: EnsembleModels, matrix: Float64Array, rows: number, width: number): EnsembleScores {
  const rf = new Float64Array(rows);
  const normalized = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const row = matrix.subarray(r * width, (r + 1) * width);
    rf[r] = models.forest.predict(row);
    normalizeInto(models.normalizer, row, normalized, r * width);
  }
  const nn = predictMlp(models.nn, normalized, rows, width);
  const score = new Float64Array(rows);
  for (let r = 0; r < rows; r++) score[r] = calibrate(models.calibration, mix(models.weights, rf[r] as number, nn[r] as number));
  return { rf, nn, score };
}

/**
 * Scores each row and its occluded copies (feature j replaced by the normaliser mean, the
 * training mean). Output arrays have `rows.length * (width + 1)` entries: for row i, index
 * `i * (width + 1)` is the row itself and `+ 1 + j` the copy without feature j. The forest
 * uses its exact path-based shortcut; the network scores all copies in ONE forward pass.
 */
export function scoreOccluded(models: EnsembleModels, rows: readonly Float64Array[], width: number): EnsembleScores {
  const stride = width + 1;
  const total = rows.length * stride;
  const means = models.normalizer.means;
  const rf = new Float64Array(total);
  const normalized = new Float32Array(total * width);
  const copy = new Float64Array(width);
  rows.forEach((row, i) => {
    models.forest.predictOccluded(row, means, rf, i * stride);
    normalizeInto(models.normalizer, row, normalized, i * stride * width);
    for (let j = 0; j < width; j++) {
      copy.set(row);
      copy[j] = means[j] as number;
      normalizeInto(models.normalizer, copy, normalized, (i * stride + 1 + j) * width);
    }
  });
  const nn = predictMlp(models.nn, normalized, total, width);
  const score = new Float64Array(total);
  for (let r = 0; r < total; r++) score[r] = calibrate(models.calibration, mix(models.weights, rf[r] as number, nn[r] as number));
  return { rf, nn, score };
}

/** Weighted mix of the two model probabilities (before calibration). */
export function mix(weights: { rf: number; nn: number }, rf: number, nn: number): number {
  return weights.rf * rf + weights.nn * nn;
}
