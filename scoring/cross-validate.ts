import { InvalidArgumentError } from '../core/errors.ts';
import { calibrate, fitPlatt, type Calibration } from './calibration.ts';
import { TableEncoder, type FeatureSpec } from './feature-spec.ts';
import { Forest } from './forest.ts';
import { trainForest, type ForestModelJson, type ForestTrainOptions } from './forest-trainer.ts';
import { MlpEvaluator } from './mlp-evaluator.ts';
import { trainMlp } from './mlp.ts';
import { rocAuc } from './metrics.ts';
import { fitNormalizer, normalizeInto, type Normalizer } from './normalizer.ts';
import { Rng } from './random.ts';
import type { TableRow } from './table-reader.ts';
import type { tf } from './tf.ts';
import { initTf } from './tf.ts';

/**
 * Stratified k-fold cross-validation of the RF + MLP ensemble on a table with a feature spec, and
 * the final model fitted on all rows.
 *
 * Per fold: the spec is fitted on the training folds only (medians, categories, target rates;
 * target encodings out-of-fold inside them), a balanced random forest (class imbalance: each
 * tree's bootstrap draws as many legitimate rows as fraudulent ones) and a class-weighted MLP are
 * trained, and the held-out fold is scored. Every row is thus scored once by models that never saw
 * it (out-of-fold scores). The ensemble weight of each fold is chosen on the training folds only
 * (nested): models fitted on 80 % of them (stratified) score the other 20 %, and the weight in
 * 0.2..0.8 with the best ROC-AUC there is used for the fold (ties: closest to 0.5). The final
 * model uses the mean of the fold weights. Platt calibration is fitted on the out-of-fold mix,
 * which is monotone and leaves ROC-AUC / PR-AUC unchanged (the Brier score after it is slightly
 * optimistic: one calibration fitted on the same rows).
 */

export interface CrossValidateOptions {
  rows: readonly TableRow[];
  labels: Uint8Array;
  spec: FeatureSpec;
  /** Folds, >= 2. Default 5. */
  folds?: number;
  seed: number;
  /** Trees per forest. Default 100. */
  trees?: number;
  /** MLP epochs. Default 30 (tables are small). */
  epochs?: number;
  /**
   * Forest options. Defaults for tables: negativeRatio 4 (each tree sees 4 legitimate rows per
   * fraud row: balanced enough for the imbalance, more of the data than 1:1), minNumSamples 20 and
   * maxDepth 14 (larger leaves: smoother leaf probabilities, better ranking on a few thousand
   * rows). Chosen by comparing a few settings on the provider table's cross-validation, so those
   * figures carry a little selection optimism (said in the report).
   */
  forest?: Omit<ForestTrainOptions, 'seed' | 'onTree' | 'nTrees'>;
  /** Progress: `done` of `total` steps (3 per fold: weight search, forest, network; 2 for the final model). */
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface FinalModel {
  encoder: TableEncoder;
  forest: ForestModelJson;
  nn: tf.LayersModel;
  normalizer: Normalizer;
  weights: { rf: number; nn: number };
  calibration: Calibration;
}

export interface CrossValidation {
  /** Out-of-fold probabilities per row. */
  rf: Float64Array;
  nn: Float64Array;
  /** Calibrated out-of-fold ensemble score per row. */
  ensemble: Float64Array;
  /** Forest weight chosen (nested) for each fold. */
  foldWeights: number[];
  foldOf: Int32Array;
  featureNames: readonly string[];
  final: FinalModel;
  durationsMs: { cv: number; final: number };
}

/** Forest defaults for tables (see `CrossValidateOptions.forest`). */
export const TABLE_FOREST_DEFAULTS = Object.freeze({ negativeRatio: 4, minNumSamples: 20, maxDepth: 14 });

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

async function fitModels(encoder: TableEncoder, matrix: Float64Array, labels: Uint8Array, seed: number, trees: number, epochs: number, forestOptions: CrossValidateOptions['forest']): Promise<{ forestJson: ForestModelJson; forest: Forest; nn: tf.LayersModel; mlp: MlpEvaluator; normalizer: Normalizer }> {
  const width = encoder.names.length;
  const n = labels.length;
  const rows = Array.from({ length: n }, (_, r) => matrix.subarray(r * width, (r + 1) * width));
  const forestJson = trainForest(rows, labels, { mtry: Math.ceil(Math.sqrt(width)) + 1, ...TABLE_FOREST_DEFAULTS, ...forestOptions, seed, nTrees: trees });
  const normalizer = fitNormalizer(rows);
  const x = new Float32Array(n * width);
  rows.forEach((r, i) => normalizeInto(normalizer, r, x, i * width));
  const nn = await trainMlp(x, labels, n, width, { seed, epochs, hidden: [32, 16], batchSize: 64 });
  return { forestJson, forest: Forest.fromJson(forestJson), nn, mlp: MlpEvaluator.fromModel(nn), normalizer };
}

function scoreRows(models: { forest: Forest; mlp: MlpEvaluator; normalizer: Normalizer }, matrix: Float64Array, rows: number, width: number): { rf: Float64Array; nn: Float64Array } {
  const rf = new Float64Array(rows);
  models.forest.predictBatch(matrix, rows, rf);
  const x = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) normalizeInto(models.normalizer, matrix.subarray(r * width, (r + 1) * width), x, r * width);
  const nn = new Float64Array(rows);
  models.mlp.predictBatch(x, rows, nn);
  return { rf, nn };
}

/**
 * Runs the cross-validation and fits the final model on all rows (see module doc).
 * @throws InvalidArgumentError when a class has fewer rows than folds.
 */
export async function crossValidate(options: CrossValidateOptions): Promise<CrossValidation> {
  await initTf();
  const { rows, labels, spec, seed } = options;
  const folds = options.folds ?? 5;
  const trees = options.trees ?? 100;
  const epochs = options.epochs ?? 30;
  const progress = options.onProgress ?? (() => {});
  if (rows.length !== labels.length) throw new InvalidArgumentError(`${rows.length} rows but ${labels.length} labels`);
  let positives = 0;
  for (const y of labels) positives += y;
  if (!Number.isInteger(folds) || folds < 2) throw new InvalidArgumentError(`folds must be an integer >= 2, got ${folds}`);
  if (positives < folds || rows.length - positives < folds) throw new InvalidArgumentError(`need at least ${folds} rows of each class for ${folds}-fold CV (${positives} fraudulent, ${rows.length - positives} legitimate)`);

  const started = performance.now();
  const foldOf = stratifiedFolds(labels, folds, new Rng(seed));
  const rf = new Float64Array(rows.length);
  const nn = new Float64Array(rows.length);
  const total = 3 * folds + 2;
  let done = 0;
  let featureNames: readonly string[] = [];
  const foldWeights: number[] = [];
  const mixed = new Float64Array(rows.length);
  for (let f = 0; f < folds; f++) {
    const trainIdx: number[] = [];
    const testIdx: number[] = [];
    for (let i = 0; i < rows.length; i++) (foldOf[i] === f ? testIdx : trainIdx).push(i);
    const trainLabels = Uint8Array.from(trainIdx, (i) => labels[i] as number);
    progress(done++, total, `fold ${f + 1}/${folds}: weights`);
    const w = await chooseWeight(trainIdx.map((i) => rows[i] as TableRow), trainLabels, spec, seed + 1000 + f, trees, epochs, options.forest);
    foldWeights.push(w);
    const { encoder, matrix } = TableEncoder.fit(spec, trainIdx.map((i) => rows[i] as TableRow), trainLabels, { seed: seed + f });
    featureNames = encoder.names;
    progress(done++, total, `fold ${f + 1}/${folds}: forest`);
    const models = await fitModels(encoder, matrix, trainLabels, seed + f, trees, epochs, options.forest);
    progress(done++, total, `fold ${f + 1}/${folds}: network`);
    const testMatrix = encoder.transform(testIdx.map((i) => rows[i] as TableRow));
    const scored = scoreRows(models, testMatrix, testIdx.length, encoder.names.length);
    testIdx.forEach((row, k) => {
      rf[row] = scored.rf[k] as number;
      nn[row] = scored.nn[k] as number;
      mixed[row] = w * (scored.rf[k] as number) + (1 - w) * (scored.nn[k] as number);
    });
    models.nn.dispose();
  }
  const meanWeight = Math.round((foldWeights.reduce((a, b) => a + b, 0) / folds) * 10) / 10;
  const weights = { rf: meanWeight, nn: Math.round((1 - meanWeight) * 10) / 10 };
  const calibration = fitPlatt(mixed, labels);
  const ensemble = mixed.map((m) => calibrate(calibration, m));
  const cvMs = performance.now() - started;

  const t = performance.now();
  progress(done++, total, 'final model: forest');
  const { encoder, matrix } = TableEncoder.fit(spec, rows, labels, { seed });
  const models = await fitModels(encoder, matrix, labels, seed, trees, epochs, options.forest);
  progress(done++, total, 'final model: network');
  progress(total, total, 'done');
  return {
    rf,
    nn,
    ensemble,
    foldWeights,
    foldOf,
    featureNames,
    final: { encoder, forest: models.forestJson, nn: models.nn, normalizer: models.normalizer, weights, calibration },
    durationsMs: { cv: Math.round(cvMs), final: Math.round(performance.now() - t) },
  };
}

/**
 * The forest weight in 0.2..0.8 (step 0.1) whose mix ranks best (ROC-AUC) on a stratified 20 %
 * of `rows` held out from models fitted on the other 80 %. Ties go to the weight closest to 0.5.
 */
async function chooseWeight(rows: readonly TableRow[], labels: Uint8Array, spec: FeatureSpec, seed: number, trees: number, epochs: number, forestOptions: CrossValidateOptions['forest']): Promise<number> {
  const inner = stratifiedFolds(labels, 5, new Rng(seed));
  const fitIdx: number[] = [];
  const valIdx: number[] = [];
  for (let i = 0; i < rows.length; i++) (inner[i] === 0 ? valIdx : fitIdx).push(i);
  const fitLabels = Uint8Array.from(fitIdx, (i) => labels[i] as number);
  const valLabels = Uint8Array.from(valIdx, (i) => labels[i] as number);
  const { encoder, matrix } = TableEncoder.fit(spec, fitIdx.map((i) => rows[i] as TableRow), fitLabels, { seed });
  const models = await fitModels(encoder, matrix, fitLabels, seed, trees, epochs, forestOptions);
  const scored = scoreRows(models, encoder.transform(valIdx.map((i) => rows[i] as TableRow)), valIdx.length, encoder.names.length);
  models.nn.dispose();
  let best = { w: 0.5, auc: -1 };
  for (let k = 2; k <= 8; k++) {
    const w = k / 10;
    const auc = rocAuc(scored.rf.map((r, i) => w * r + (1 - w) * (scored.nn[i] as number)), valLabels);
    if (auc > best.auc + 1e-12 || (Math.abs(auc - best.auc) <= 1e-12 && Math.abs(w - 0.5) < Math.abs(best.w - 0.5))) best = { w, auc };
  }
  return best.w;
}
