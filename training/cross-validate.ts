import { InvalidArgumentError } from '../core/errors.ts';
import { calibrate, fitPlatt, type Calibration } from '../scoring/calibration.ts';
import { mix } from '../scoring/ensemble.ts';
import { bestF1 } from './evaluation/evaluation.ts';
import { TableEncoder, type FeatureSpec } from './tables/feature-spec.ts';
import { Forest } from '../scoring/forest.ts';
import type { ForestModelJson } from '../scoring/forest-model.ts';
import { trainForest, type ForestTrainOptions } from './forest-trainer.ts';
import { MlpEvaluator } from '../scoring/mlp-evaluator.ts';
import { predictMlp } from '../scoring/mlp-predict.ts';
import { trainMlp } from './mlp.ts';
import { prAuc, rocAuc, statsAt } from './evaluation/metrics.ts';
import { fitNormalizer, normalizeInto, type Normalizer } from '../scoring/normalizer.ts';
import { Rng } from '../core/random.ts';
import { fitStacker } from './stacker.ts';
import type { TableRow } from './tables/table-reader.ts';
import type { tf } from '../scoring/tf.ts';
import { initTf } from '../scoring/tf.ts';

/**
 * Nested, stratified k-fold cross-validation of the RF + MLP ensemble on a table with a feature
 * spec, and the final model fitted on all rows.
 *
 * Outer loop: each fold is held out once; everything learnt from data is learnt from the other
 * folds (the "training part") only:
 *
 * 1. the feature spec is fitted on the training part (medians, categories, target rates);
 * 2. the **combination** is chosen by an inner stratified k-fold of the training part
 *    (`innerFolds`): on every inner split the spec, each candidate forest setting and one MLP
 *    are fitted on the inner training rows and score the inner held-out rows (the MLP once per
 *    epoch), giving inner out-of-fold scores for every training-part row. From them: the forest
 *    setting with the best inner ROC-AUC (`forestCandidates`, fixed in advance; ties to the
 *    first), the number of MLP epochs with the best inner ROC-AUC (1..`epochs`; ties to fewer),
 *    the stacker (logistic regression on the two scores, stacker.ts) whose ranking is a weighted
 *    mix, the Platt calibration of that mix, and the decision threshold of each component (its
 *    best F1 on the inner scores);
 * 3. forest and MLP are fitted on the whole training part with those choices, and the held-out
 *    fold is scored: calibrate(mix(rf, nn)), compared with the chosen thresholds.
 *
 * The held-out fold's rows are thus never passed to any fitting or choice (`onFit` reports every
 * fitting with the rows it used; the tests check this). The final model runs step 2 on all rows,
 * then fits on all rows. Cost: (folds + 1) x (innerFolds x (candidates forests + 1 MLP) + 1
 * forest + 1 MLP).
 */

/** Forest options a candidate may set (the trainer's own defaults fill the rest). */
export type ForestSetting = Readonly<Omit<ForestTrainOptions, 'seed' | 'onTree' | 'nTrees'>>;

/**
 * Forest settings the inner cross-validation chooses from, fixed in advance. The first is the
 * former table default (4 legitimate rows per fraud row in each balanced bootstrap, leaves of
 * more than 20 rows, depth <= 14; it was picked by looking at the provider table's outer CV, so
 * it is only a candidate now); the second is Chen, Liaw & Breiman's balanced random forest
 * (1:1 bootstraps, nearly fully grown trees); the third sits between them (4:1, small leaves).
 */
export const TABLE_FOREST_CANDIDATES: readonly ForestSetting[] = Object.freeze([
  Object.freeze({ negativeRatio: 4, minNumSamples: 20, maxDepth: 14 }),
  Object.freeze({ negativeRatio: 1, minNumSamples: 2, maxDepth: 30 }),
  Object.freeze({ negativeRatio: 4, minNumSamples: 5, maxDepth: 20 }),
]);

/** MLP shape for tables. */
const MLP_HIDDEN = [32, 16] as const;
const MLP_BATCH = 64;

/** Which fitting `onFit` reports. */
export type FitStage = 'inner-model' | 'combination' | 'fold-model' | 'final-model';

export interface FitEvent {
  stage: FitStage;
  /** Outer fold whose training part this is, or null for the final model (all rows). */
  outerFold: number | null;
  /** Indexes into `rows` of the rows this fitting (encoder, models or combination) used. */
  rows: readonly number[];
}

export interface CrossValidateOptions {
  rows: readonly TableRow[];
  labels: Uint8Array;
  spec: FeatureSpec;
  /** Outer folds, >= 2. Default 5. */
  folds?: number;
  /** Inner folds (of each training part) for the combination, >= 2. Default 3. */
  innerFolds?: number;
  /** Seed of the fold assignments and the models, integer in [0, 2^32). */
  seed: number;
  /** Trees per forest. Default 100. */
  trees?: number;
  /** Most MLP epochs; the inner CV chooses 1..epochs. Default 30. */
  epochs?: number;
  /** Forest settings to choose from (inner CV). Default TABLE_FOREST_CANDIDATES. */
  forestCandidates?: readonly ForestSetting[];
  /** Fit the final model on all rows after the CV. Default true (false: CV figures only). */
  fitFinal?: boolean;
  /** Progress: `done` of `total` model fittings, with what is being fitted. */
  onProgress?: (done: number, total: number, what: string) => void;
  /** Instrumentation: called before every fitting with the rows it uses (see FitEvent). */
  onFit?: (event: FitEvent) => void;
}

/** What the inner CV chose for one training part. */
export interface Combination {
  /** Index into the candidates, and the setting. */
  forestIndex: number;
  forest: ForestSetting;
  epochs: number;
  /** Mixing weights (from the stacker) and the stacker's coefficients. */
  weights: { rf: number; nn: number };
  coefficients: { intercept: number; rf: number; nn: number };
  calibration: Calibration;
  /** Decision thresholds (score >= t): forest and network on their raw scale, ensemble calibrated. */
  thresholds: { rf: number; nn: number; ensemble: number };
  /** Inner out-of-fold ROC-AUC of each forest candidate, the chosen MLP and the stacked mix. */
  inner: { forestRocAuc: number[]; nnRocAuc: number; ensembleRocAuc: number };
}

export type Component = 'rf' | 'nn' | 'ensemble';

/** One component's figures on one outer fold; F1 at the threshold chosen by the inner CV. */
export interface FoldMetrics {
  rocAuc: number;
  prAuc: number;
  f1: number;
  precision: number;
  recall: number;
}

export interface FoldResult {
  fold: number;
  rows: number;
  frauds: number;
  combination: Combination;
  metrics: Record<Component, FoldMetrics>;
}

export interface FinalModel {
  encoder: TableEncoder;
  forest: ForestModelJson;
  nn: tf.LayersModel;
  normalizer: Normalizer;
  weights: { rf: number; nn: number };
  calibration: Calibration;
  combination: Combination;
}

export interface CrossValidation {
  seed: number;
  /** Out-of-fold probabilities per row. */
  rf: Float64Array;
  nn: Float64Array;
  /** Out-of-fold ensemble score per row, calibrated by its fold's inner calibration. */
  ensemble: Float64Array;
  foldOf: Int32Array;
  folds: FoldResult[];
  featureNames: readonly string[];
  /** Null with `fitFinal: false`. */
  final: FinalModel | null;
  durationsMs: { cv: number; final: number };
}

/** Stratified fold assignment: each class shuffled with the seed and dealt round-robin. */
export function stratifiedFolds(labels: ArrayLike<number>, folds: number, rng: Rng): Int32Array {
  const foldOf = new Int32Array(labels.length);
  for (const cls of [0, 1]) {
    const idx: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === cls) idx.push(i);
    rng.shuffle(idx);
    idx.forEach((row, k) => (foldOf[row] = k % folds));
  }
  return foldOf;
}

interface Context {
  rows: readonly TableRow[];
  labels: Uint8Array;
  spec: FeatureSpec;
  trees: number;
  epochs: number;
  innerFolds: number;
  candidates: readonly ForestSetting[];
  onFit: (event: FitEvent) => void;
  step: (what: string) => void;
}

/** An encoder fitted on `idx`, with the encoded training matrix. */
function encode(ctx: Context, idx: readonly number[], seed: number): { encoder: TableEncoder; matrix: Float64Array; labels: Uint8Array } {
  const labels = Uint8Array.from(idx, (i) => ctx.labels[i] as number);
  const { encoder, matrix } = TableEncoder.fit(ctx.spec, idx.map((i) => ctx.rows[i] as TableRow), labels, { seed });
  return { encoder, matrix, labels };
}

function rowViews(matrix: Float64Array, rows: number, width: number): Float64Array[] {
  return Array.from({ length: rows }, (_, r) => matrix.subarray(r * width, (r + 1) * width));
}

function normalized(normalizer: Normalizer, matrix: Float64Array, rows: number, width: number): Float32Array {
  const x = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) normalizeInto(normalizer, matrix.subarray(r * width, (r + 1) * width), x, r * width);
  return x;
}

function growForest(matrix: Float64Array, labels: Uint8Array, width: number, setting: ForestSetting, trees: number, seed: number): ForestModelJson {
  return trainForest(rowViews(matrix, labels.length, width), labels, { mtry: Math.ceil(Math.sqrt(width)) + 1, ...setting, seed, nTrees: trees });
}

/** Index of the largest value; ties to the first. */
function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number) + 1e-12) best = i;
  return best;
}

/**
 * Step 2 of the module doc on the rows `idx` (a training part, or all rows for the final model).
 * Every fitting inside is reported through `ctx.onFit`.
 */
async function chooseCombination(ctx: Context, idx: readonly number[], seed: number, outerFold: number | null): Promise<Combination> {
  const n = idx.length;
  const y = Uint8Array.from(idx, (i) => ctx.labels[i] as number);
  const inner = stratifiedFolds(y, ctx.innerFolds, new Rng(seed));
  const rfOof = ctx.candidates.map(() => new Float64Array(n));
  const nnOof = Array.from({ length: ctx.epochs }, () => new Float64Array(n));
  for (let k = 0; k < ctx.innerFolds; k++) {
    const fitAt: number[] = [];
    const valAt: number[] = [];
    for (let p = 0; p < n; p++) (inner[p] === k ? valAt : fitAt).push(p);
    const fitIdx = fitAt.map((p) => idx[p] as number);
    ctx.onFit({ stage: 'inner-model', outerFold, rows: fitIdx });
    ctx.step(`inner ${k + 1}/${ctx.innerFolds}`);
    const { encoder, matrix, labels } = encode(ctx, fitIdx, seed + k);
    const width = encoder.names.length;
    const valMatrix = encoder.transform(valAt.map((p) => ctx.rows[idx[p] as number] as TableRow));
    const scored = new Float64Array(valAt.length);
    ctx.candidates.forEach((setting, c) => {
      Forest.fromJson(growForest(matrix, labels, width, setting, ctx.trees, seed + k)).predictBatch(valMatrix, valAt.length, scored);
      valAt.forEach((p, v) => ((rfOof[c] as Float64Array)[p] = scored[v] as number));
    });
    const normalizer = fitNormalizer(rowViews(matrix, labels.length, width));
    const xVal = normalized(normalizer, valMatrix, valAt.length, width);
    const nn = await trainMlp(normalized(normalizer, matrix, labels.length, width), labels, labels.length, width, {
      seed: seed + k,
      epochs: ctx.epochs,
      hidden: MLP_HIDDEN,
      batchSize: MLP_BATCH,
      onEpoch: (epoch, _epochs, _loss, model) => {
        const p = predictMlp(model, xVal, valAt.length, width);
        valAt.forEach((at, v) => ((nnOof[epoch - 1] as Float64Array)[at] = p[v] as number));
      },
    });
    nn.dispose();
  }
  ctx.onFit({ stage: 'combination', outerFold, rows: idx });
  const forestRocAuc = rfOof.map((s) => rocAuc(s, y));
  const forestIndex = argmax(forestRocAuc);
  const epochAuc = nnOof.map((s) => rocAuc(s, y));
  const bestEpoch = argmax(epochAuc);
  const rf = rfOof[forestIndex] as Float64Array;
  const nn = nnOof[bestEpoch] as Float64Array;
  const { weights, coefficients } = fitStacker(rf, nn, y);
  const mixed = rf.map((r, i) => mix(weights, r, nn[i] as number));
  const calibration = fitPlatt(mixed, y);
  const ensemble = mixed.map((m) => calibrate(calibration, m));
  return {
    forestIndex,
    forest: ctx.candidates[forestIndex] as ForestSetting,
    epochs: bestEpoch + 1,
    weights,
    coefficients,
    calibration,
    thresholds: { rf: bestF1(rf, y).threshold, nn: bestF1(nn, y).threshold, ensemble: bestF1(ensemble, y).threshold },
    inner: { forestRocAuc, nnRocAuc: epochAuc[bestEpoch] as number, ensembleRocAuc: rocAuc(ensemble, y) },
  };
}

interface FittedModels {
  encoder: TableEncoder;
  forestJson: ForestModelJson;
  forest: Forest;
  nn: tf.LayersModel;
  mlp: MlpEvaluator;
  normalizer: Normalizer;
}

/** Step 3: encoder, forest and MLP fitted on `idx` with the combination's choices. */
async function fitModels(ctx: Context, idx: readonly number[], combination: Combination, seed: number): Promise<FittedModels> {
  const { encoder, matrix, labels } = encode(ctx, idx, seed);
  const width = encoder.names.length;
  ctx.step('forest');
  const forestJson = growForest(matrix, labels, width, combination.forest, ctx.trees, seed);
  ctx.step('network');
  const normalizer = fitNormalizer(rowViews(matrix, labels.length, width));
  const nn = await trainMlp(normalized(normalizer, matrix, labels.length, width), labels, labels.length, width, { seed, epochs: combination.epochs, hidden: MLP_HIDDEN, batchSize: MLP_BATCH });
  return { encoder, forestJson, forest: Forest.fromJson(forestJson), nn, mlp: MlpEvaluator.fromModel(nn), normalizer };
}

function scoreRows(models: FittedModels, rows: readonly TableRow[]): { rf: Float64Array; nn: Float64Array } {
  const matrix = models.encoder.transform(rows);
  const width = models.encoder.names.length;
  const rf = new Float64Array(rows.length);
  models.forest.predictBatch(matrix, rows.length, rf);
  const nn = new Float64Array(rows.length);
  models.mlp.predictBatch(normalized(models.normalizer, matrix, rows.length, width), rows.length, nn);
  return { rf, nn };
}

function foldMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): FoldMetrics {
  const at = statsAt(scores, labels, threshold);
  const precision = Number.isNaN(at.precision) ? 0 : at.precision;
  const f1 = precision + at.recall > 0 ? (2 * precision * at.recall) / (precision + at.recall) : 0;
  return { rocAuc: rocAuc(scores, labels), prAuc: prAuc(scores, labels), f1, precision: at.precision, recall: at.recall };
}

/**
 * Runs the nested cross-validation and (unless `fitFinal: false`) fits the final model on all
 * rows (see module doc). Deterministic for a seed.
 * @throws InvalidArgumentError for bad fold counts, mismatched labels, or when a class has fewer
 * rows than outer x inner folds need.
 */
export async function crossValidate(options: CrossValidateOptions): Promise<CrossValidation> {
  await initTf();
  const { rows, labels, spec, seed } = options;
  const folds = options.folds ?? 5;
  const innerFolds = options.innerFolds ?? 3;
  const fitFinal = options.fitFinal ?? true;
  const candidates = options.forestCandidates ?? TABLE_FOREST_CANDIDATES;
  if (rows.length !== labels.length) throw new InvalidArgumentError(`${rows.length} rows but ${labels.length} labels`);
  if (!Number.isInteger(folds) || folds < 2) throw new InvalidArgumentError(`folds must be an integer >= 2, got ${folds}`);
  if (!Number.isInteger(innerFolds) || innerFolds < 2) throw new InvalidArgumentError(`inner folds must be an integer >= 2, got ${innerFolds}`);
  if (candidates.length === 0) throw new InvalidArgumentError('need at least one forest candidate');
  let positives = 0;
  for (const y of labels) positives += y;
  // Every inner training split must still hold both classes.
  const need = folds * innerFolds;
  if (positives < need || rows.length - positives < need) throw new InvalidArgumentError(`need at least ${need} rows of each class for ${folds}-fold CV with ${innerFolds} inner folds (${positives} fraudulent, ${rows.length - positives} legitimate)`);

  const total = (folds + (fitFinal ? 1 : 0)) * (innerFolds + 2);
  let done = 0;
  const progress = options.onProgress ?? (() => {});
  let where = '';
  const ctx: Context = {
    rows,
    labels,
    spec,
    trees: options.trees ?? 100,
    epochs: options.epochs ?? 30,
    innerFolds,
    candidates,
    onFit: options.onFit ?? (() => {}),
    step: (what) => progress(done++, total, `${where}: ${what}`),
  };

  const started = performance.now();
  const foldOf = stratifiedFolds(labels, folds, new Rng(seed));
  const rf = new Float64Array(rows.length);
  const nn = new Float64Array(rows.length);
  const ensemble = new Float64Array(rows.length);
  const results: FoldResult[] = [];
  let featureNames: readonly string[] = [];
  for (let f = 0; f < folds; f++) {
    where = `fold ${f + 1}/${folds}`;
    const trainIdx: number[] = [];
    const testIdx: number[] = [];
    for (let i = 0; i < rows.length; i++) (foldOf[i] === f ? testIdx : trainIdx).push(i);
    const combination = await chooseCombination(ctx, trainIdx, seed + 1000 + f, f);
    ctx.onFit({ stage: 'fold-model', outerFold: f, rows: trainIdx });
    const models = await fitModels(ctx, trainIdx, combination, seed + f);
    featureNames = models.encoder.names;
    const scored = scoreRows(models, testIdx.map((i) => rows[i] as TableRow));
    models.nn.dispose();
    const testLabels = Uint8Array.from(testIdx, (i) => labels[i] as number);
    const mixed = scored.rf.map((r, k) => calibrate(combination.calibration, mix(combination.weights, r, scored.nn[k] as number)));
    testIdx.forEach((row, k) => {
      rf[row] = scored.rf[k] as number;
      nn[row] = scored.nn[k] as number;
      ensemble[row] = mixed[k] as number;
    });
    results.push({
      fold: f,
      rows: testIdx.length,
      frauds: testLabels.reduce((s, v) => s + v, 0),
      combination,
      metrics: {
        rf: foldMetrics(scored.rf, testLabels, combination.thresholds.rf),
        nn: foldMetrics(scored.nn, testLabels, combination.thresholds.nn),
        ensemble: foldMetrics(mixed, testLabels, combination.thresholds.ensemble),
      },
    });
  }
  const cvMs = performance.now() - started;

  let final: FinalModel | null = null;
  const t = performance.now();
  if (fitFinal) {
    where = 'final model';
    const all = Array.from({ length: rows.length }, (_, i) => i);
    const combination = await chooseCombination(ctx, all, seed + 2000, null);
    ctx.onFit({ stage: 'final-model', outerFold: null, rows: all });
    const models = await fitModels(ctx, all, combination, seed);
    final = { encoder: models.encoder, forest: models.forestJson, nn: models.nn, normalizer: models.normalizer, weights: combination.weights, calibration: combination.calibration, combination };
  }
  progress(total, total, 'done');
  return { seed, rf, nn, ensemble, foldOf, folds: results, featureNames, final, durationsMs: { cv: Math.round(cvMs), final: Math.round(performance.now() - t) } };
}
