import type { Claim } from '../domain/claim.schema.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { fitPlatt } from '../scoring/calibration.ts';
import { DEFAULT_AGGREGATE_SPEC, offlineObservations, type AggregateObservation, type AggregateWindows } from '../scoring/aggregates.ts';
import { mix, scoreMatrix } from '../scoring/ensemble.ts';
import { extractFeatures } from '../scoring/features.ts';
import { Booster } from '../scoring/booster.ts';
import { Forest } from '../scoring/forest.ts';
import { trainBooster, type BoosterTrainOptions } from './booster-trainer.ts';
import { trainForest, type ForestTrainOptions } from './forest-trainer.ts';
import { fitMemberStacker } from './stacker.ts';
import { prAuc, rocAuc, statsAt, topShareThreshold, type ThresholdStats } from './evaluation/metrics.ts';
import { trainMlp, type MlpTrainOptions } from './mlp.ts';
import { modelFeatureNames, saveModelBundle } from '../scoring/model-bundle.ts';
import { fitNormalizer, normalizeInto } from '../scoring/normalizer.ts';
import { Rng } from '../core/random.ts';
import { evaluateRules, type RulesConfig } from '../scoring/rules.ts';
import { initTf } from '../scoring/tf.ts';

/** Ground truth for training. `pattern` (optional) only feeds per-pattern metrics. */
export interface TrainingLabel {
  claimId: string;
  fraud: boolean;
  pattern?: string | null;
}

export type TrainPhase = 'features' | 'forest' | 'booster' | 'network' | 'evaluate' | 'save';

export interface TrainOptions {
  /**
   * Training claims in stream (submission) order: the entity aggregates of each claim are
   * computed over the claims before it in this order, as the streaming path does in Redis.
   */
  claims: readonly Claim[];
  /** One label per claim, joined on claimId (order does not matter; extra labels are ignored). */
  labels: readonly TrainingLabel[];
  /** Bundle directory to write (replaced if it exists). */
  outDir: string;
  /** Seed for the split, the forest and the network, integer in [0, 2^32). */
  seed: number;
  log?: Logger;
  /** Progress callback: `done` of `total` steps of a phase. */
  onProgress?: (phase: TrainPhase, done: number, total: number) => void;
  /** Share of claims held out for validation, stratified by label. Default 0.2. */
  validationShare?: number;
  /**
   * The flag threshold is the lowest validation score at which precision is still at least
   * `flagPrecision` (default 0.9) while at most `maxFlagShare` (default 0.05) of claims are
   * flagged; if no such threshold exists, the top `fallbackFlagShare` (default 0.03).
   */
  flagPrecision?: number;
  maxFlagShare?: number;
  fallbackFlagShare?: number;
  /** Share of validation claims at or above the review threshold. Default 0.12. */
  reviewShare?: number;
  forest?: Omit<ForestTrainOptions, 'seed' | 'onTree'>;
  network?: Omit<MlpTrainOptions, 'seed' | 'onEpoch'>;
  /**
   * Gradient-boosted trees, the third member (early stopping on `boosterStoppingShare` of the
   * training part, never on validation); `null` leaves it out (a two-member bundle).
   */
  booster?: Omit<BoosterTrainOptions, 'seed' | 'onRound' | 'validation'> | null;
  /**
   * When given, metrics also report the full decision on validation: every rule (the duplicate
   * rule included, from the claims' history in stream order) forcing flag, as the Scorer decides.
   */
  rules?: RulesConfig;
  /**
   * Entity aggregate windows to add to the features (per provider / member counts and sums,
   * volume vs own history and peers, duplicate seen: scoring/aggregates.ts); `null` for claim
   * features only. Default: DEFAULT_AGGREGATE_SPEC's windows (1 and 30 days).
   */
  aggregates?: AggregateWindows | null;
}

export interface ModelMetrics {
  rocAuc: number;
  prAuc: number;
}

export interface TrainMetrics {
  train: { claims: number; frauds: number };
  validation: { claims: number; frauds: number };
  rf: ModelMetrics;
  nn: ModelMetrics;
  /** The booster's validation metrics, when the bundle has one. */
  gb?: ModelMetrics;
  ensemble: ModelMetrics;
  weights: { rf: number; nn: number; gb?: number };
  thresholds: { review: number; flag: number };
  /** Validation precision / recall / share at the two thresholds (ensemble score only). */
  atFlag: ThresholdStats;
  atReview: ThresholdStats;
  /** With rules: share flagged and recall of frauds by the full outcome (rule or score >= flag). */
  withRules?: { flaggedShare: number; flagPrecision: number; flagRecall: number; reviewOrFlagRecall: number };
  /** Per fraud pattern on validation: count, recall at review and at flag (ensemble score). */
  byPattern: Record<string, { count: number; recallAtReview: number; recallAtFlag: number }>;
  durationsMs: { features: number; forest: number; booster: number; network: number; total: number };
  backend: string;
}

export interface TrainResult {
  modelHash: string;
  dir: string;
  metrics: TrainMetrics;
}

/** Share of the training part the booster's early stopping watches (not fitted on). */
const BOOSTER_STOPPING_SHARE = 0.2;

/**
 * Trains the ensemble and writes a model bundle:
 * features -> stratified train/validation split -> balanced random forest, class-weighted MLP
 * and gradient-boosted trees on the training part -> on validation: ensemble weights (without a
 * booster: the forest weight on a grid 0.2..0.8, best PR-AUC; with one: the member stacker,
 * stacker.ts, which gives a member that does not help weight 0), Platt
 * calibration, thresholds (flag: precision-targeted with a cap on the flagged share; review: top
 * `reviewShare` of validation scores) and metrics -> bundle. Deterministic for a seed on a given
 * tf backend.
 *
 * @throws InvalidArgumentError when a claim has no label, claim ids repeat, or a split lacks a class.
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const { claims, seed, log } = options;
  const progress = options.onProgress ?? (() => {});
  const { backend } = await initTf(log);

  const byId = new Map(options.labels.map((l) => [l.claimId, l]));
  const seen = new Set<string>();
  const missing: string[] = [];
  for (const c of claims) {
    if (seen.has(c.claimId)) throw new InvalidArgumentError(`claim id ${c.claimId} appears twice in the training data`);
    seen.add(c.claimId);
    if (!byId.has(c.claimId)) missing.push(c.claimId);
  }
  if (missing.length > 0) throw new InvalidArgumentError(`${missing.length} claims have no label (first: ${missing.slice(0, 3).join(', ')})`);
  const labels = claims.map((c) => byId.get(c.claimId) as TrainingLabel);
  const y = Uint8Array.from(labels, (l) => (l.fraud ? 1 : 0));

  let t = performance.now();
  const aggregates = options.aggregates === null ? undefined : (options.aggregates ?? { windowsDays: DEFAULT_AGGREGATE_SPEC.windowsDays });
  const width = modelFeatureNames(aggregates).length;
  // Observed point-in-time over the claims in stream order, as in Redis: model features when the
  // model uses aggregates, and the duplicate rule's history for the with-rules metrics either way.
  const observations = offlineObservations(claims, aggregates);
  const features: Float64Array[] = [];
  claims.forEach((c, i) => {
    const own = extractFeatures(c);
    const row = new Float64Array(width);
    row.set(own);
    if (aggregates) row.set((observations[i] as AggregateObservation).features, own.length);
    features.push(row);
    if (i % 2000 === 0) progress('features', i, claims.length);
  });
  progress('features', claims.length, claims.length);
  const featuresMs = performance.now() - t;

  const { train, validation } = stratifiedSplit(y, options.validationShare ?? 0.2, new Rng(seed));
  const trainRows = train.map((i) => features[i] as Float64Array);
  const trainY = Uint8Array.from(train, (i) => y[i] as number);
  const validY = Uint8Array.from(validation, (i) => y[i] as number);
  log?.info({ component: 'train', train: train.length, validation: validation.length, trainFrauds: count1(trainY), validationFrauds: count1(validY) }, 'split');

  t = performance.now();
  const forestJson = trainForest(trainRows, trainY, { ...options.forest, seed, onTree: (d, n) => progress('forest', d, n) });
  const forest = Forest.fromJson(forestJson);
  const forestMs = performance.now() - t;
  log?.info({ component: 'train', trees: forest.treeCount, ms: Math.round(forestMs) }, 'random forest trained');

  t = performance.now();
  let boosterJson: ReturnType<typeof trainBooster>['model'] | undefined;
  let booster: Booster | undefined;
  if (options.booster !== null) {
    // Early stopping watches a stratified part of the training rows; the booster fits the rest.
    const stop = stratifiedSplit(trainY, BOOSTER_STOPPING_SHARE, new Rng(seed + 1));
    const rounds = options.booster?.rounds ?? 400;
    const result = trainBooster(
      stop.train.map((k) => trainRows[k] as Float64Array),
      Uint8Array.from(stop.train, (k) => trainY[k] as number),
      {
        ...options.booster,
        seed,
        validation: { rows: stop.validation.map((k) => trainRows[k] as Float64Array), labels: Uint8Array.from(stop.validation, (k) => trainY[k] as number) },
        onRound: (r) => progress('booster', r, rounds),
      },
    );
    boosterJson = result.model;
    booster = Booster.fromJson(boosterJson);
    progress('booster', rounds, rounds);
    log?.info({ component: 'train', trees: booster.treeCount, ms: Math.round(performance.now() - t) }, 'gradient-boosted trees trained');
  }
  const boosterMs = performance.now() - t;

  t = performance.now();
  const normalizer = fitNormalizer(trainRows);
  const xNorm = new Float32Array(train.length * width);
  trainRows.forEach((row, r) => normalizeInto(normalizer, row, xNorm, r * width));
  const epochs = options.network?.epochs ?? 12;
  const nn = await trainMlp(xNorm, trainY, train.length, width, { ...options.network, epochs, seed, onEpoch: (e, n) => progress('network', e, n) });
  const networkMs = performance.now() - t;
  log?.info({ component: 'train', epochs, ms: Math.round(networkMs) }, 'network trained');

  progress('evaluate', 0, 1);
  const validMatrix = new Float64Array(validation.length * width);
  validation.forEach((i, r) => validMatrix.set(features[i] as Float64Array, r * width));
  const identity = { method: 'platt' as const, a: 1, b: 0 };
  const raw = scoreMatrix({ forest, nn, normalizer, ...(booster ? { booster } : {}), weights: { rf: 0.5, nn: 0.5 }, calibration: identity }, validMatrix, validation.length, width);
  const rfScores = raw.rf;
  const nnScores = Float64Array.from(raw.nn);
  const gbScores = raw.gb;

  let weights: { rf: number; nn: number; gb?: number };
  if (gbScores) {
    weights = fitMemberStacker({ rf: rfScores, nn: nnScores, gb: gbScores }, validY).weights;
  } else {
    let best = { w: 0.5, ap: -1 };
    for (let k = 2; k <= 8; k++) {
      const w = k / 10;
      const ap = prAuc(rfScores.map((r, i) => mix({ rf: w, nn: 1 - w }, r, nnScores[i] as number)), validY);
      if (ap > best.ap + 1e-9 || (Math.abs(ap - best.ap) <= 1e-9 && Math.abs(w - 0.5) < Math.abs(best.w - 0.5))) best = { w, ap };
    }
    weights = { rf: best.w, nn: Math.round((1 - best.w) * 10) / 10 };
  }
  if (weights.gb === 0) {
    // The booster did not help on validation: leave it out of the bundle (nothing to evaluate).
    weights = { rf: weights.rf, nn: weights.nn };
    booster = undefined;
    boosterJson = undefined;
  }
  const mixed = rfScores.map((r, i) => mix(weights, r, nnScores[i] as number, gbScores ? (gbScores[i] as number) : 0));
  const calibration = fitPlatt(mixed, validY);
  const final = scoreMatrix({ forest, nn, normalizer, ...(booster ? { booster } : {}), weights, calibration }, validMatrix, validation.length, width).score;
  const flag = chooseFlagThreshold(final, validY, options.flagPrecision ?? 0.9, options.maxFlagShare ?? 0.05) ?? topShareThreshold(final, options.fallbackFlagShare ?? 0.03);
  const thresholds = { flag, review: Math.min(flag, topShareThreshold(final, options.reviewShare ?? 0.12)) };

  const byPattern: TrainMetrics['byPattern'] = {};
  validation.forEach((i, r) => {
    const pattern = labels[i]?.pattern;
    if (!pattern) return;
    const entry = (byPattern[pattern] ??= { count: 0, recallAtReview: 0, recallAtFlag: 0 });
    entry.count++;
    if ((final[r] as number) >= thresholds.review) entry.recallAtReview++;
    if ((final[r] as number) >= thresholds.flag) entry.recallAtFlag++;
  });
  for (const e of Object.values(byPattern)) {
    e.recallAtReview /= e.count;
    e.recallAtFlag /= e.count;
  }

  let withRules: TrainMetrics['withRules'];
  if (options.rules) {
    const rules = options.rules;
    const flagged = validation.map((i, r) => evaluateRules(claims[i] as Claim, rules, observations[i] as AggregateObservation).length > 0 || (final[r] as number) >= thresholds.flag);
    const reviewOrFlag = validation.map((_, r) => flagged[r] || (final[r] as number) >= thresholds.review);
    const frauds = count1(validY);
    const tpFlag = flagged.filter((f, r) => f && validY[r] === 1).length;
    const flaggedCount = flagged.filter(Boolean).length;
    withRules = {
      flaggedShare: flaggedCount / validation.length,
      flagPrecision: flaggedCount ? tpFlag / flaggedCount : NaN,
      flagRecall: frauds ? tpFlag / frauds : NaN,
      reviewOrFlagRecall: frauds ? reviewOrFlag.filter((f, r) => f && validY[r] === 1).length / frauds : NaN,
    };
  }

  const metrics: TrainMetrics = {
    train: { claims: train.length, frauds: count1(trainY) },
    validation: { claims: validation.length, frauds: count1(validY) },
    rf: { rocAuc: rocAuc(rfScores, validY), prAuc: prAuc(rfScores, validY) },
    nn: { rocAuc: rocAuc(nnScores, validY), prAuc: prAuc(nnScores, validY) },
    ...(gbScores ? { gb: { rocAuc: rocAuc(gbScores, validY), prAuc: prAuc(gbScores, validY) } } : {}),
    ensemble: { rocAuc: rocAuc(final, validY), prAuc: prAuc(final, validY) },
    weights,
    thresholds,
    atFlag: statsAt(final, validY, thresholds.flag),
    atReview: statsAt(final, validY, thresholds.review),
    ...(withRules ? { withRules } : {}),
    byPattern,
    durationsMs: { features: Math.round(featuresMs), forest: Math.round(forestMs), booster: Math.round(boosterMs), network: Math.round(networkMs), total: 0 },
    backend,
  };
  progress('evaluate', 1, 1);

  progress('save', 0, 1);
  const { modelHash, dir } = await saveModelBundle(options.outDir, {
    forest: forestJson,
    nn,
    normalizer,
    thresholds,
    weights,
    calibration,
    ...(boosterJson ? { booster: boosterJson } : {}),
    ...(aggregates ? { aggregates } : {}),
    training: {
      seed,
      claims: claims.length,
      forest: { trees: forest.treeCount, maxDepth: forestJson.baseModel.treeOptions.maxDepth, mtry: forestJson.baseModel.maxFeatures, sampling: 'balanced bootstrap', negativeRatio: options.forest?.negativeRatio ?? 1 },
      network: { hidden: options.network?.hidden ?? [32, 16], epochs, backend },
      ...(booster && boosterJson ? { booster: { trees: booster.treeCount, ...boosterJson.training } } : {}),
      validation: { claims: validation.length, frauds: metrics.validation.frauds, rf: metrics.rf, nn: metrics.nn, ensemble: metrics.ensemble },
    },
  });
  nn.dispose();
  progress('save', 1, 1);
  metrics.durationsMs.total = Math.round(performance.now() - started);
  log?.info({ component: 'train', modelHash, dir, rocAuc: metrics.ensemble.rocAuc, prAuc: metrics.ensemble.prAuc, ms: metrics.durationsMs.total }, 'model bundle written');
  return { modelHash, dir, metrics };
}

/**
 * Lowest score t such that, among validation claims scoring >= t, precision >= `precision` and
 * their share <= `maxShare`. Undefined when even the top-scored claims miss the precision.
 */
export function chooseFlagThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>, precision: number, maxShare: number): number | undefined {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  let chosen: number | undefined;
  let tp = 0;
  for (let k = 0; k < order.length; ) {
    const s = scores[order[k] as number] as number;
    while (k < order.length && scores[order[k] as number] === s) tp += labels[order[k++] as number] === 1 ? 1 : 0;
    if (k / order.length > maxShare) break;
    if (tp / k >= precision) chosen = s;
  }
  return chosen;
}

function count1(y: Uint8Array): number {
  let n = 0;
  for (const v of y) n += v;
  return n;
}

/** Shuffles each class with the seed and holds out `share` of each. Both parts need both classes. */
export function stratifiedSplit(y: ArrayLike<number>, share: number, rng: Rng): { train: number[]; validation: number[] } {
  if (!(share > 0 && share < 1)) throw new InvalidArgumentError(`validation share must be in (0, 1), got ${share}`);
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < y.length; i++) (y[i] === 1 ? pos : neg).push(i);
  rng.shuffle(pos);
  rng.shuffle(neg);
  const vp = Math.round(pos.length * share);
  const vn = Math.round(neg.length * share);
  if (vp < 1 || pos.length - vp < 1 || vn < 1 || neg.length - vn < 1) {
    throw new InvalidArgumentError(`not enough claims of each class to split (${pos.length} fraudulent, ${neg.length} legitimate)`);
  }
  const validation = [...pos.slice(0, vp), ...neg.slice(0, vn)].sort((a, b) => a - b);
  const train = [...pos.slice(vp), ...neg.slice(vn)].sort((a, b) => a - b);
  return { train, validation };
}
