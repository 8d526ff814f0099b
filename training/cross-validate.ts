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
import { fitMemberStacker } from './stacker.ts';
import { Booster } from '../scoring/booster.ts';
import type { BoosterModelJson } from '../scoring/booster-model.ts';
import { trainBooster, walkRaw, type BoosterTrainOptions } from './booster-trainer.ts';
import type { TableRow } from './tables/table-reader.ts';
import type { tf } from '../scoring/tf.ts';
import { initTf } from '../scoring/tf.ts';

/**
 * Nested, stratified k-fold cross-validation of the RF + network + gradient-boosted trees ensemble
 * on a table with a feature spec, and the final model fitted on all rows.
 *
 * Outer loop: each fold is held out once; everything learnt from data is learnt from the other
 * folds (the "training part") only:
 *
 * 1. the feature spec is fitted on the training part (medians, categories, target rates);
 * 2. the **combination** is chosen by an inner stratified k-fold of the training part
 *    (`innerFolds`): on every inner split the spec, each candidate forest setting, each network
 *    shape and each booster setting are fitted on the inner training rows and score the inner
 *    held-out rows (the network once per epoch, the booster at every `BOOSTER_CHECKPOINT` rounds), giving
 *    inner out-of-fold scores for every training-part row. From them: the forest setting with
 *    the best inner ROC-AUC (`forestCandidates`, fixed in advance; ties to the first), the network
 *    shape and number of epochs with the best inner ROC-AUC (`networkCandidates` x 1..`epochs`;
 *    ties to the first shape and fewer epochs), the booster setting
 *    and number of rounds with the best inner ROC-AUC (`boosterCandidates` x checkpoints; ties to
 *    the first setting and fewer rounds: early stopping on the inner folds), the member stacker
 *    (logistic regression on the three scores, stacker.ts; a member that does not help on the
 *    inner scores gets weight 0) whose ranking is a weighted mix, the Platt calibration of that
 *    mix, and the decision threshold of each component (its best F1 on the inner scores);
 * 3. forest, network and booster are fitted on the whole training part with those choices, and the
 *    held-out fold is scored: calibrate(mix(rf, nn, gb)), compared with the chosen thresholds.
 *
 * The held-out fold's rows are thus never passed to any fitting or choice (`onFit` reports every
 * fitting with the rows it used; the tests check this). The final model runs step 2 on all rows,
 * then fits on all rows. Cost: (folds + 1) x (innerFolds x (candidates forests + network shapes +
 * booster candidates) + 1 forest + 1 network + 1 booster).
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

/** Booster options a candidate may set (the trainer's defaults fill the rest; rounds come from the inner CV). */
export type BoosterSetting = Readonly<Omit<BoosterTrainOptions, 'seed' | 'onRound' | 'validation' | 'rounds' | 'earlyStoppingRounds'>>;

/**
 * Booster settings the inner cross-validation chooses from (with the number of rounds), fixed
 * in advance from common practice, not from these tables: shallow trees (depth 3) and XGBoost's
 * default depth with more regularisation (depth 6, min child weight 3), both eta 0.05 and 0.8
 * row and column subsampling.
 */
export const TABLE_BOOSTER_CANDIDATES: readonly BoosterSetting[] = Object.freeze([
  Object.freeze({ maxDepth: 3, learningRate: 0.05, subsample: 0.8, colsample: 0.8 }),
  Object.freeze({ maxDepth: 6, learningRate: 0.05, subsample: 0.8, colsample: 0.8, minChildWeight: 3 }),
]);

/** The inner CV scores the booster after every this many rounds. */
export const BOOSTER_CHECKPOINT = 25;

/** A network the inner cross-validation may choose: its hidden layer widths and Adam's learning rate. */
export interface NetworkSetting {
  readonly hidden: readonly number[];
  readonly learningRate: number;
}

/**
 * Networks the inner cross-validation chooses from (with their epochs), fixed in advance: the
 * ensemble's MLP and the same network without hidden layers, a logistic regression on the
 * normalised features. On a small table whose signal is mostly additive in the encoded features
 * the second generalises better; the inner folds decide, never the held-out fold. The logistic
 * regression starts from zero weights, so its epochs are a path from 0 toward the unpenalised fit
 * (fewer epochs, smaller coefficients); its larger step lets that path reach the fit within the
 * epochs the MLP needs (at 0.003 the inner folds chose the last epoch every time: the path was cut
 * short).
 */
export const TABLE_NETWORK_CANDIDATES: readonly NetworkSetting[] = Object.freeze([Object.freeze({ hidden: Object.freeze([32, 16]), learningRate: 0.003 }), Object.freeze({ hidden: Object.freeze([]), learningRate: 0.01 })]);
const MLP_BATCH = 64;

/** How reports name a network: `MLP [32, 16]`, or `logistic regression` without hidden layers. */
export function networkName(network: NetworkSetting): string {
  return network.hidden.length === 0 ? 'logistic regression' : `MLP [${network.hidden.join(', ')}]`;
}

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
  /** Most network epochs; the inner CV chooses 1..epochs (with the network). Default 30. */
  epochs?: number;
  /** Networks to choose from (inner CV). Default TABLE_NETWORK_CANDIDATES. */
  networkCandidates?: readonly NetworkSetting[];
  /** Forest settings to choose from (inner CV). Default TABLE_FOREST_CANDIDATES. */
  forestCandidates?: readonly ForestSetting[];
  /** Booster settings to choose from (inner CV); empty: no booster (two members). Default TABLE_BOOSTER_CANDIDATES. */
  boosterCandidates?: readonly BoosterSetting[];
  /** Most booster rounds; the inner CV chooses a multiple of BOOSTER_CHECKPOINT up to it. Default 400. */
  boosterRounds?: number;
  /** Fit the final model on all rows after the CV. Default true (false: CV figures only). */
  fitFinal?: boolean;
  /**
   * Worker threads the outer folds are dealt to (1: in this thread). Results are the same for
   * any number: every fold is a pure function of its seed. Default 1.
   */
  workers?: number;
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
  /** The network (hidden layer widths, [] = logistic regression; learning rate) and its epochs. */
  network: NetworkSetting;
  epochs: number;
  /** The booster setting and rounds chosen; null without booster candidates. */
  booster: { index: number; setting: BoosterSetting; rounds: number } | null;
  /** Mixing weights (from the member stacker; gb 0 without a booster) and the stacker's coefficients. */
  weights: { rf: number; nn: number; gb: number };
  coefficients: { intercept: number; rf: number; nn: number; gb: number };
  calibration: Calibration;
  /** Decision thresholds (score >= t): members on their raw scale, ensemble calibrated. */
  thresholds: { rf: number; nn: number; gb: number; ensemble: number };
  /** Inner out-of-fold ROC-AUC of each forest candidate, the chosen network, the chosen booster and the stacked mix. */
  inner: { forestRocAuc: number[]; nnRocAuc: number; gbRocAuc: number; ensembleRocAuc: number };
}

export type Component = 'rf' | 'nn' | 'gb' | 'ensemble';

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
  /** The booster, when the combination gives it a weight. */
  booster: BoosterModelJson | null;
  /** `gb` only with a booster. */
  weights: { rf: number; nn: number; gb?: number };
  calibration: Calibration;
  combination: Combination;
}

export interface CrossValidation {
  seed: number;
  /** Out-of-fold probabilities per row. */
  rf: Float64Array;
  nn: Float64Array;
  /** Out-of-fold booster probabilities (0 without booster candidates). */
  gb: Float64Array;
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

/** What a worker needs to rebuild the context (all structured-cloneable). */
export interface FoldWorkerData {
  rows: readonly TableRow[];
  labels: Uint8Array;
  spec: FeatureSpec;
  trees: number;
  epochs: number;
  innerFolds: number;
  candidates: readonly ForestSetting[];
  networks: readonly NetworkSetting[];
  boosters: readonly BoosterSetting[];
  boosterRounds: number;
}

/** A fold's context: the worker data plus the progress callbacks, which stay on their thread. */
interface Context extends FoldWorkerData {
  onFit: (event: FitEvent) => void;
  step: (what: string) => void;
}

export function foldContext(data: FoldWorkerData, onFit: (event: FitEvent) => void, step: (what: string) => void): Context {
  return { ...data, onFit, step };
}

/** What one outer fold gives back, computed in this thread or in a worker. */
export interface OuterFoldOutput {
  combination: Combination;
  rf: Float64Array;
  nn: Float64Array;
  gb: Float64Array;
  featureNames: string[];
}

/** Rows held out by fold `f` and the others, in row order. */
function splitFold(foldOf: Int32Array, f: number): { trainIdx: number[]; testIdx: number[] } {
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  for (let i = 0; i < foldOf.length; i++) (foldOf[i] === f ? testIdx : trainIdx).push(i);
  return { trainIdx, testIdx };
}

/** Steps 2 and 3 of the module doc for outer fold `f`: its combination and its held-out scores. */
export async function runOuterFold(ctx: Context, foldOf: Int32Array, f: number, seed: number): Promise<OuterFoldOutput> {
  const { trainIdx, testIdx } = splitFold(foldOf, f);
  const combination = await chooseCombination(ctx, trainIdx, seed + 1000 + f, f);
  ctx.onFit({ stage: 'fold-model', outerFold: f, rows: trainIdx });
  const models = await fitModels(ctx, trainIdx, combination, seed + f);
  const scored = scoreRows(models, testIdx.map((i) => ctx.rows[i] as TableRow));
  models.nn.dispose();
  return { combination, ...scored, featureNames: [...models.encoder.names] };
}

/** Runs the outer folds on `workers` worker threads (training/cv-worker.ts), folds dealt in order. */
async function runFoldsInWorkers(data: FoldWorkerData, foldOf: Int32Array, folds: number, seed: number, workers: number, onFit: (event: FitEvent) => void, step: (what: string) => void): Promise<OuterFoldOutput[]> {
  const { Worker } = await import('node:worker_threads');
  const outputs: OuterFoldOutput[] = [];
  let next = 0;
  const runOne = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(new URL('./cv-worker.ts', import.meta.url), { workerData: data });
      const take = (): void => {
        if (next >= folds) {
          void worker.terminate().then(() => resolve());
          return;
        }
        const f = next++;
        worker.postMessage({ foldOf, f, seed });
      };
      worker.on('message', (m: { type: 'fit'; event: FitEvent } | { type: 'step'; what: string } | { type: 'done'; f: number; out: OuterFoldOutput } | { type: 'ready' }) => {
        if (m.type === 'fit') onFit(m.event);
        else if (m.type === 'step') step(m.what);
        else if (m.type === 'done') {
          outputs[m.f] = m.out;
          take();
        } else take();
      });
      worker.on('error', reject);
      worker.on('exit', (code) => {
        if (code !== 0 && code !== 1) reject(new Error(`cross-validation worker exited with code ${code}`));
      });
    });
  await Promise.all(Array.from({ length: Math.min(workers, folds) }, runOne));
  return outputs;
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

/**
 * Row and column of the score vector with the best ROC-AUC against `y` in `grid` (rows in order,
 * then columns; ties and NaN to the first); null when the grid holds none.
 */
function bestInGrid(grid: readonly (readonly Float64Array[])[], y: Uint8Array): { row: number; column: number; auc: number } | null {
  let best: { row: number; column: number; auc: number } | null = null;
  grid.forEach((columns, row) =>
    columns.forEach((scores, column) => {
      const auc = rocAuc(scores, y);
      if (best === null || auc > best.auc + 1e-12) best = { row, column, auc };
    }),
  );
  return best;
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
  // Network probabilities per shape and epoch.
  const nnOof = ctx.networks.map(() => Array.from({ length: ctx.epochs }, () => new Float64Array(n)));
  const checkpoints = Math.floor(ctx.boosterRounds / BOOSTER_CHECKPOINT);
  // Booster probabilities per setting and checkpoint (after (c + 1) x BOOSTER_CHECKPOINT rounds).
  const gbOof = ctx.boosters.map(() => Array.from({ length: checkpoints }, () => new Float64Array(n)));
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
    const fitRows = rowViews(matrix, labels.length, width);
    const valRows = rowViews(valMatrix, valAt.length, width);
    ctx.boosters.forEach((setting, b) => {
      const { model } = trainBooster(fitRows, labels, { ...setting, seed: seed + k, rounds: checkpoints * BOOSTER_CHECKPOINT });
      valRows.forEach((row, v) => {
        let margin = model.baseMargin;
        model.trees.forEach((tree, t) => {
          margin += walkRaw(tree, row);
          if ((t + 1) % BOOSTER_CHECKPOINT === 0) ((gbOof[b] as Float64Array[])[(t + 1) / BOOSTER_CHECKPOINT - 1] as Float64Array)[valAt[v] as number] = 1 / (1 + Math.exp(-margin));
        });
      });
    });
    const normalizer = fitNormalizer(fitRows);
    const xVal = normalized(normalizer, valMatrix, valAt.length, width);
    const xFit = normalized(normalizer, matrix, labels.length, width);
    for (const [s, { hidden, learningRate }] of ctx.networks.entries()) {
      const nn = await trainMlp(xFit, labels, labels.length, width, {
        seed: seed + k,
        epochs: ctx.epochs,
        hidden,
        learningRate,
        batchSize: MLP_BATCH,
        onEpoch: (epoch, _epochs, _loss, model) => {
          const p = predictMlp(model, xVal, valAt.length, width);
          valAt.forEach((at, v) => (((nnOof[s] as Float64Array[])[epoch - 1] as Float64Array)[at] = p[v] as number));
        },
      });
      nn.dispose();
    }
  }
  ctx.onFit({ stage: 'combination', outerFold, rows: idx });
  const forestRocAuc = rfOof.map((s) => rocAuc(s, y));
  const forestIndex = argmax(forestRocAuc);
  // Network: the shape and epoch with the best inner ROC-AUC, shapes in order, fewer epochs first.
  const network = bestInGrid(nnOof, y) ?? { row: 0, column: 0, auc: NaN };
  const rf = rfOof[forestIndex] as Float64Array;
  const nn = (nnOof[network.row] as Float64Array[])[network.column] as Float64Array;
  // Booster: the setting and checkpoint with the best inner ROC-AUC, settings in order, fewer rounds first.
  const bestBooster = bestInGrid(gbOof, y);
  const booster: Combination['booster'] = bestBooster ? { index: bestBooster.row, setting: ctx.boosters[bestBooster.row] as BoosterSetting, rounds: (bestBooster.column + 1) * BOOSTER_CHECKPOINT } : null;
  const gb = bestBooster ? (gbOof[bestBooster.row] as Float64Array[])[bestBooster.column] : undefined;
  const fit = fitMemberStacker(gb ? { rf, nn, gb } : { rf, nn }, y);
  const { weights, coefficients } = fit;
  const mixed = rf.map((r, i) => mix(weights, r, nn[i] as number, gb ? (gb[i] as number) : 0));
  const calibration = fitPlatt(mixed, y);
  const ensemble = mixed.map((m) => calibrate(calibration, m));
  return {
    forestIndex,
    forest: ctx.candidates[forestIndex] as ForestSetting,
    network: ctx.networks[network.row] as NetworkSetting,
    epochs: network.column + 1,
    booster,
    weights,
    coefficients,
    calibration,
    thresholds: { rf: bestF1(rf, y).threshold, nn: bestF1(nn, y).threshold, gb: gb ? bestF1(gb, y).threshold : 0.5, ensemble: bestF1(ensemble, y).threshold },
    inner: { forestRocAuc, nnRocAuc: network.auc, gbRocAuc: bestBooster?.auc ?? NaN, ensembleRocAuc: rocAuc(ensemble, y) },
  };
}

interface FittedModels {
  encoder: TableEncoder;
  forestJson: ForestModelJson;
  forest: Forest;
  nn: tf.LayersModel;
  mlp: MlpEvaluator;
  normalizer: Normalizer;
  boosterJson: BoosterModelJson | null;
  booster: Booster | null;
}

/** Step 3: encoder, forest and network fitted on `idx` with the combination's choices. */
async function fitModels(ctx: Context, idx: readonly number[], combination: Combination, seed: number): Promise<FittedModels> {
  const { encoder, matrix, labels } = encode(ctx, idx, seed);
  const width = encoder.names.length;
  ctx.step('forest');
  const forestJson = growForest(matrix, labels, width, combination.forest, ctx.trees, seed);
  ctx.step('network');
  const normalizer = fitNormalizer(rowViews(matrix, labels.length, width));
  const nn = await trainMlp(normalized(normalizer, matrix, labels.length, width), labels, labels.length, width, { seed, epochs: combination.epochs, hidden: combination.network.hidden, learningRate: combination.network.learningRate, batchSize: MLP_BATCH });
  // Fitted even with weight 0, for its own held-out figures; a final model leaves it out then.
  let boosterJson: BoosterModelJson | null = null;
  if (combination.booster) {
    ctx.step('booster');
    boosterJson = trainBooster(rowViews(matrix, labels.length, width), labels, { ...combination.booster.setting, seed, rounds: combination.booster.rounds }).model;
  }
  return { encoder, forestJson, forest: Forest.fromJson(forestJson), nn, mlp: MlpEvaluator.fromModel(nn), normalizer, boosterJson, booster: boosterJson ? Booster.fromJson(boosterJson) : null };
}

function scoreRows(models: FittedModels, rows: readonly TableRow[]): { rf: Float64Array; nn: Float64Array; gb: Float64Array } {
  const matrix = models.encoder.transform(rows);
  const width = models.encoder.names.length;
  const rf = new Float64Array(rows.length);
  models.forest.predictBatch(matrix, rows.length, rf);
  const nn = new Float64Array(rows.length);
  models.mlp.predictBatch(normalized(models.normalizer, matrix, rows.length, width), rows.length, nn);
  const gb = new Float64Array(rows.length);
  models.booster?.predictBatch(matrix, rows.length, gb);
  return { rf, nn, gb };
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
  const networks = options.networkCandidates ?? TABLE_NETWORK_CANDIDATES;
  if (networks.length === 0) throw new InvalidArgumentError('need at least one network candidate');
  const boosters = options.boosterCandidates ?? TABLE_BOOSTER_CANDIDATES;
  const boosterRounds = options.boosterRounds ?? 400;
  if (boosters.length > 0 && !(Number.isInteger(boosterRounds) && boosterRounds >= BOOSTER_CHECKPOINT)) throw new InvalidArgumentError(`booster rounds must be an integer >= ${BOOSTER_CHECKPOINT}, got ${boosterRounds}`);
  if (rows.length !== labels.length) throw new InvalidArgumentError(`${rows.length} rows but ${labels.length} labels`);
  if (!Number.isInteger(folds) || folds < 2) throw new InvalidArgumentError(`folds must be an integer >= 2, got ${folds}`);
  if (!Number.isInteger(innerFolds) || innerFolds < 2) throw new InvalidArgumentError(`inner folds must be an integer >= 2, got ${innerFolds}`);
  if (candidates.length === 0) throw new InvalidArgumentError('need at least one forest candidate');
  let positives = 0;
  for (const y of labels) positives += y;
  // Every inner training split must still hold both classes.
  const need = folds * innerFolds;
  if (positives < need || rows.length - positives < need) throw new InvalidArgumentError(`need at least ${need} rows of each class for ${folds}-fold CV with ${innerFolds} inner folds (${positives} fraudulent, ${rows.length - positives} legitimate)`);

  const total = (folds + (fitFinal ? 1 : 0)) * (innerFolds + 2 + (boosters.length > 0 ? 1 : 0));
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
    networks,
    boosters,
    boosterRounds,
    onFit: options.onFit ?? (() => {}),
    step: (what) => progress(done++, total, `${where}: ${what}`),
  };

  const started = performance.now();
  const foldOf = stratifiedFolds(labels, folds, new Rng(seed));
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new InvalidArgumentError(`workers must be an integer >= 1, got ${workers}`);
  let outputs: OuterFoldOutput[] = [];
  if (workers > 1) {
    where = 'outer folds';
    const data: FoldWorkerData = { rows, labels, spec, trees: ctx.trees, epochs: ctx.epochs, innerFolds, candidates, networks, boosters, boosterRounds };
    outputs = await runFoldsInWorkers(data, foldOf, folds, seed, workers, ctx.onFit, ctx.step);
  }
  const rf = new Float64Array(rows.length);
  const nn = new Float64Array(rows.length);
  const gb = new Float64Array(rows.length);
  const ensemble = new Float64Array(rows.length);
  const results: FoldResult[] = [];
  let featureNames: readonly string[] = [];
  for (let f = 0; f < folds; f++) {
    where = `fold ${f + 1}/${folds}`;
    const { testIdx } = splitFold(foldOf, f);
    const scored = workers > 1 ? (outputs[f] as OuterFoldOutput) : await runOuterFold(ctx, foldOf, f, seed);
    const { combination } = scored;
    featureNames = scored.featureNames;
    const testLabels = Uint8Array.from(testIdx, (i) => labels[i] as number);
    const mixed = scored.rf.map((r, k) => calibrate(combination.calibration, mix(combination.weights, r, scored.nn[k] as number, scored.gb[k] as number)));
    testIdx.forEach((row, k) => {
      rf[row] = scored.rf[k] as number;
      nn[row] = scored.nn[k] as number;
      gb[row] = scored.gb[k] as number;
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
        gb: foldMetrics(scored.gb, testLabels, combination.thresholds.gb),
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
    const { rf: wRf, nn: wNn, gb: wGb } = combination.weights;
    const booster = wGb > 0 ? models.boosterJson : null;
    final = {
      encoder: models.encoder,
      forest: models.forestJson,
      nn: models.nn,
      normalizer: models.normalizer,
      booster,
      weights: booster ? { rf: wRf, nn: wNn, gb: wGb } : { rf: wRf, nn: wNn },
      calibration: combination.calibration,
      combination,
    };
  }
  progress(total, total, 'done');
  return { seed, rf, nn, gb, ensemble, foldOf, folds: results, featureNames, final, durationsMs: { cv: Math.round(cvMs), final: Math.round(performance.now() - t) } };
}
