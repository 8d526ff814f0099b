/**
 * The coordinator's federated training loop. Everything it learns about the parties' data comes
 * through `Aggregator.sum` (secure aggregation: sums only) or, for the union forest, trees shared
 * in clear:
 *
 *  1. normalizer: Σ n (with Σ y when tree shares or update weights need the fraud total) and
 *     Σ x (one round), then the scale-free variance (one round);
 *  2. network: FedAvg from a seeded initialisation, `localEpochs` per round (by default every
 *     party taking the optimizer steps of a party of the mean size), each party's update
 *     weighted by its share of the class-balanced loss (or of the examples) and clipped; after
 *     each round the validation log-loss is summed (with `stopOn: 'roc-auc'` also per-class
 *     histograms of the network's validation score, whose sum gives the validation ROC-AUC);
 *     training stops after `patience` rounds without improvement of the chosen metric and keeps
 *     the best round;
 *  3. forest: the union of the parties' trees, each growing a share of the trees proportional to
 *     its training rows or, with `forestShares: 'positives'`, to its training fraud count (whose
 *     total then comes with the first sum); optionally with noised leaves;
 *  4. stacker and Platt calibration: Newton's method on the logistic log-loss, each step's
 *     gradient and Hessian summed over the parties' validation rows;
 *  5. thresholds: from per-class histograms of the calibrated validation scores.
 */
import { Forest } from '../scoring/forest.ts';
import type { ForestModelJson } from '../scoring/forest-model.ts';
import type { ModelBundleParts } from '../scoring/model-bundle.ts';
import type { Normalizer } from '../scoring/normalizer.ts';
import { buildMlp } from '../training/mlp.ts';
import { FederationError } from './secure-aggregation/errors.ts';
import { gaussianEpsilon } from './secure-aggregation/clipping.ts';
import type { Aggregator, RoundRecord } from './aggregator.ts';
import { LINEAGE_FORMAT, type FedAvgStop, type FederationLineage } from './lineage.ts';
import { flatWeights, mlpFromFlat } from './mlp-weights.ts';
import type { ForestShares, GlobalModelRef, SumSpec, Task, UpdateWeights } from './tasks.ts';

export interface FederatedTrainOptions {
  readonly aggregator: Aggregator;
  readonly federation: string;
  /** Registered keys of the participants, recorded in the lineage. */
  readonly participantKeys: readonly { id: string; publicKey: string }[];
  /** Feature count of every party's rows. */
  readonly width: number;
  readonly seed: number;
  /** Hidden layer widths. Default [32, 16]. */
  readonly hidden?: readonly number[];
  /** Most FedAvg rounds (early stopping ends most runs sooner). Default 30. */
  readonly maxRounds?: number;
  /** Local epochs per FedAvg round. Default 2. */
  readonly localEpochs?: number;
  /** Rounds without a better validation metric (`stopOn`) before stopping. Default 2. */
  readonly patience?: number;
  /**
   * The validation metric FedAvg's early stopping and choice of round follow: the summed
   * log-loss (`loss`) or the ROC-AUC from summed per-class histograms of the network's validation
   * scores (`roc-auc`: the ranking the ensemble uses, where the loss also moves with the
   * network's calibration; measured no better, docs/federation.md "Measured"). Default `loss`.
   */
  readonly stopOn?: FedAvgStop;
  readonly learningRate?: number;
  readonly batchSize?: number;
  /**
   * Optimizer steps per local epoch, the same for every party (its batch size is its training
   * rows divided by this) instead of batches of `batchSize`. With Adam each step moves the
   * weights by about the learning rate whatever the gradient's size, so under fixed batches a
   * party's update grows with its row count and, weighted again by its share of the examples,
   * the largest party's update dominates the average; equal steps leave the weighting to the
   * shares alone. `mean-party`: the steps a party of the mean size takes in batches of
   * `batchSize`, total / (parties * batchSize), so each party's batch is `batchSize` times its
   * size over the mean size and equal-sized parties train exactly as with fixed batches.
   * `fixed`: batches of `batchSize` whatever the party's size. Default `mean-party`.
   */
  readonly stepsPerEpoch?: number | 'mean-party' | 'fixed';
  /**
   * What each party's update is weighted by in the FedAvg sum: its share of the training examples
   * (`examples`, McMahan et al.'s n_k / n) or its share of the class-balanced loss (`balanced`:
   * ((n_k - p_k) / (n - p) + p_k / p) / 2, with p the fraud counts, summed in the first round).
   * Every party's local loss balances its classes and Adam moves each party's weights by about
   * the same amount whatever its data, so under example weights a large party with few frauds
   * outweighs a small one holding most of them; balanced weights give each fraud and each
   * non-fraud the same say as in the pooled class-balanced loss (docs/federation.md "Measured").
   * Default `balanced`.
   */
  readonly updateWeights?: UpdateWeights;
  /** FedProx: mu of the proximal term mu/2 * ||w_k - w||² in each party's local loss. Default 0 (plain FedAvg). */
  readonly proximalMu?: number;
  /** L2 bound each party clips its weighted update to. Default 5. */
  readonly updateNormBound?: number;
  /** Trees of the union forest. Default 60. */
  readonly trees?: number;
  readonly maxDepth?: number;
  /**
   * What each party's share of the forest's trees is proportional to: its training fraud count
   * (`positives`: a balanced tree grows on a bootstrap of twice the party's frauds, so under
   * skewed prevalence the party with the most frauds grows the best trees) or its training rows
   * (`rows`). Default `positives`.
   */
  readonly forestShares?: ForestShares;
  /** `noised-leaves`: Gaussian noise of this sd on each leaf's fraud share. Default `union`. */
  readonly forestMode?: 'union' | 'noised-leaves';
  readonly leafNoise?: number;
  /** Participant-level DP sigma the aggregator adds to FedAvg sums (must equal the aggregator's): epsilon is composed over every FedAvg round run. */
  readonly dpSigma?: number;
  readonly reviewShare?: number;
  readonly flagPrecision?: number;
  readonly maxFlagShare?: number;
  /** Progress callback (round records as they complete). */
  readonly onRound?: (record: RoundRecord) => void;
}

export interface FederatedModel {
  readonly parts: Omit<ModelBundleParts, 'training' | 'createdAt' | 'aggregates'>;
  readonly lineage: FederationLineage;
  readonly treesBytes: number;
}

const RIDGE = 1e-4;

export async function trainFederated(options: FederatedTrainOptions): Promise<FederatedModel> {
  const agg = options.aggregator;
  const width = options.width;
  const hidden = options.hidden ?? [32, 16];
  const n = agg.participants.length;
  const rounds: RoundRecord[] = [];
  const sum = async (task: Exclude<Task, { kind: 'forest' }>, spec: SumSpec): Promise<Float64Array> => {
    const { sum: s, record } = await agg.sum(task, spec);
    rounds.push(record);
    options.onRound?.(record);
    return s;
  };
  const big = (bits: number) => 2 ** (62 - bits) / (n + 1);

  // 1. Normalizer from sums (with the total fraud count when tree shares or update weights follow it).
  const forestShares = options.forestShares ?? 'positives';
  const proximalMu = options.proximalMu ?? 0;
  const updateWeights = options.updateWeights ?? 'balanced';
  const withPositives = forestShares === 'positives' || updateWeights === 'balanced';
  const at = withPositives ? 2 : 1;
  const stats = await sum(withPositives ? { kind: 'stats', positives: true } : { kind: 'stats' }, { vectorLength: at + width, normBound: big(12), fractionalBits: 12 });
  const total = Math.round(stats[0] as number);
  if (!(total > 0)) throw new FederationError('FEDERATION_AGGREGATE_REJECTED', `the parties report ${total} training examples`);
  const totalPositives = withPositives ? Math.round(stats[1] as number) : undefined;
  if (totalPositives !== undefined && !(totalPositives > 0)) throw new FederationError('FEDERATION_AGGREGATE_REJECTED', `the parties report ${totalPositives} training frauds`);
  const means = Array.from(stats.subarray(at), (v) => v / total);
  const rel = await sum({ kind: 'variance', means, totalExamples: total }, { vectorLength: width, normBound: big(24), fractionalBits: 24 });
  const stds = means.map((m, j) => {
    const sd = Math.sqrt(Math.max(0, rel[j] as number)) * (Math.abs(m) + 1);
    return sd > 1e-9 ? sd : 1;
  });
  const normalizer: Normalizer = { means, stds, clip: 8 };

  // 2. FedAvg.
  const init = buildMlp(width, hidden, options.seed);
  let weights = Array.from(flatWeights(init));
  init.dispose();
  const maxRounds = options.maxRounds ?? 30;
  const patience = options.patience ?? 2;
  const localEpochs = options.localEpochs ?? 2;
  const updateBound = options.updateNormBound ?? 5;
  const stopOn = options.stopOn ?? 'loss';
  const batchSize = options.batchSize ?? 128;
  const stepsOption = options.stepsPerEpoch ?? 'mean-party';
  const stepsPerEpoch = stepsOption === 'mean-party' ? total / (n * batchSize) : stepsOption === 'fixed' ? undefined : stepsOption;
  if (stepsPerEpoch !== undefined && !(stepsPerEpoch > 0 && Number.isFinite(stepsPerEpoch))) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `stepsPerEpoch ${String(stepsPerEpoch)}: expected a positive number`);
  if (!(Number.isInteger(patience) && patience >= 1)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `patience ${String(patience)}: expected an integer >= 1`);
  // Validation ROC-AUC resolution: 1000 equal score bins (ties within a bin count half).
  const aucBins = stopOn === 'roc-auc' ? VALIDATION_AUC_BINS : 0;
  const losses: number[] = [];
  const aucs: number[] = [];
  // `score`: the stopping metric, higher is better (minus the loss, or the ROC-AUC).
  let best = { score: -Infinity, weights, round: 0 };
  let stale = 0;
  for (let r = 1; r <= maxRounds && stale < patience; r++) {
    const update = await sum(
      { kind: 'fedavg', weights, normalizer, epochs: localEpochs, learningRate: options.learningRate ?? 0.003, batchSize, seed: (options.seed + r * 7919) >>> 0, totalExamples: total, ...(proximalMu > 0 ? { proximalMu } : {}), ...(stepsPerEpoch === undefined ? {} : { stepsPerEpoch }), ...(updateWeights === 'balanced' ? { updateWeights, totalPositives } : {}) },
      { vectorLength: weights.length, normBound: updateBound, fractionalBits: 24 },
    );
    weights = weights.map((w, i) => w + (update[i] as number));
    const v = await sum(aucBins > 0 ? { kind: 'validate', weights, normalizer, bins: aucBins } : { kind: 'validate', weights, normalizer }, { vectorLength: 2 + 2 * aucBins, normBound: big(24), fractionalBits: 24 });
    const loss = (v[0] as number) / Math.max(1, v[1] as number);
    losses.push(loss);
    const auc = aucBins > 0 ? rocAucFromHistogram(v.subarray(2), aucBins) : undefined;
    if (auc !== undefined && Number.isNaN(auc)) throw new FederationError('FEDERATION_AGGREGATE_REJECTED', 'validation ROC-AUC undefined: the summed validation histograms hold a single class');
    if (auc !== undefined) aucs.push(auc);
    const score = auc ?? -loss;
    if (score > best.score + 1e-6) {
      best = { score, weights, round: r };
      stale = 0;
    } else stale++;
  }
  weights = best.weights;

  // 3. Union forest.
  const totalTrees = options.trees ?? 60;
  const forestMode = options.forestMode ?? 'union';
  const leafNoise = forestMode === 'noised-leaves' ? (options.leafNoise ?? 0.1) : 0;
  const { forests, bytes: treesBytes } = await agg.trees({ kind: 'forest', totalTrees, totalExamples: total, shares: forestShares, ...(forestShares === 'positives' ? { totalPositives } : {}), seed: options.seed, maxDepth: options.maxDepth ?? 10, leafNoise });
  const forest = unionForest(forests);

  // 4. Stacker, then Platt calibration, by federated Newton steps.
  const model: GlobalModelRef = { forest, weights, normalizer };
  const stackBeta = await federatedLogistic((beta) => sum({ kind: 'logistic', purpose: 'stacker', beta, model }, { vectorLength: 9, normBound: big(24), fractionalBits: 24 }), 3);
  const a = { rf: Math.max(0, stackBeta[1] as number), nn: Math.max(0, stackBeta[2] as number) };
  const mix = a.rf + a.nn > 0 ? { rf: a.rf / (a.rf + a.nn), nn: a.nn / (a.rf + a.nn) } : { rf: 0.5, nn: 0.5 };
  const withMix: GlobalModelRef = { ...model, mix };
  const plattBeta = await federatedLogistic((beta) => sum({ kind: 'logistic', purpose: 'platt', beta, model: withMix }, { vectorLength: 5, normBound: big(24), fractionalBits: 24 }), 2);
  const calibration = (plattBeta[1] as number) > 0 && Number.isFinite(plattBeta[0]) ? { method: 'platt' as const, a: plattBeta[1] as number, b: plattBeta[0] as number } : { method: 'platt' as const, a: 1, b: 0 };

  // 5. Thresholds from the summed histograms.
  const bins = 200;
  const hist = await sum({ kind: 'histogram', bins, model: { ...withMix, calibration } }, { vectorLength: 2 * bins, normBound: big(24), fractionalBits: 24 });
  const thresholds = thresholdsFromHistogram(hist, bins, options.reviewShare ?? 0.12, options.flagPrecision ?? 0.9, options.maxFlagShare ?? 0.05);

  const nn = mlpFromFlat(width, hidden, weights, options.seed);
  const eps = options.dpSigma ? gaussianEpsilon(updateBound, { aggregateSigma: options.dpSigma, expectedParticipants: n, delta: 1e-5 }, losses.length) : undefined;
  const lineage: FederationLineage = {
    format: LINEAGE_FORMAT,
    federation: options.federation,
    participants: options.participantKeys.map((p) => ({ id: p.id, publicKey: p.publicKey })),
    rounds,
    forest: { mode: forestMode, trees: forest.baseModel.estimators.length, leafNoise, shares: forestShares },
    dp: { sigma: options.dpSigma ?? 0, epsilonPerRound: eps?.epsilonPerRound ?? null, epsilonTotal: eps?.epsilonTotal ?? null, delta: eps?.deltaTotal ?? null },
    fedavg: { rounds: losses.length, localEpochs, bestRound: best.round, validationLoss: losses, proximalMu, stopOn, patience, stepsPerEpoch: stepsPerEpoch ?? null, updateWeights, ...(stopOn === 'roc-auc' ? { validationRocAuc: aucs } : {}) },
  };
  return { parts: { forest, nn, normalizer, thresholds, weights: mix, calibration }, lineage, treesBytes };
}

const VALIDATION_AUC_BINS = 1000;

/**
 * ROC-AUC from per-class score histograms (`hist`: `bins` non-fraud counts, then `bins` fraud
 * counts, bin 0 lowest): each fraud outranks the non-frauds of lower bins and half of its own
 * bin's. NaN when a class is empty.
 */
export function rocAucFromHistogram(hist: ArrayLike<number>, bins: number): number {
  let below = 0;
  let pairs = 0;
  let negatives = 0;
  let positives = 0;
  for (let b = 0; b < bins; b++) {
    const neg = Math.max(0, Math.round(hist[b] as number));
    const pos = Math.max(0, Math.round(hist[bins + b] as number));
    pairs += pos * (below + neg / 2);
    below += neg;
    negatives += neg;
    positives += pos;
  }
  return negatives > 0 && positives > 0 ? pairs / (negatives * positives) : Number.NaN;
}

/** The union of the parties' forests: every tree, one forest (scoring averages trees). */
export function unionForest(forests: readonly ForestModelJson[]): ForestModelJson {
  if (forests.length === 0) throw new FederationError('FEDERATION_TOO_FEW_SURVIVORS', 'no party sent trees');
  const first = forests[0]!.baseModel;
  const estimators = forests.flatMap((f) => f.baseModel.estimators);
  const indexes = forests.flatMap((f) => f.baseModel.indexes);
  const union: ForestModelJson = { name: 'RFClassifier', baseModel: { ...first, estimators, indexes, nEstimators: estimators.length, maxFeatures: Math.max(...forests.map((f) => f.baseModel.maxFeatures)) } };
  Forest.fromJson(union); // validates the shape (equal feature counts)
  return union;
}

/** Newton's method on the logistic log-loss where each step's gradient and Hessian are a secure sum. */
async function federatedLogistic(step: (beta: number[]) => Promise<Float64Array>, d: number): Promise<number[]> {
  const beta = new Array<number>(d).fill(0);
  for (let iter = 0; iter < 20; iter++) {
    const s = await step([...beta]);
    const g = Array.from(s.subarray(0, d));
    const h = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    let k = d;
    for (let j = 0; j < d; j++) for (let l = j; l < d; l++) h[j]![l] = h[l]![j] = s[k++] as number;
    const count = Math.max(1, h[0]![0]!);
    for (let j = 1; j < d; j++) {
      g[j] = g[j]! + RIDGE * count * beta[j]!;
      h[j]![j] = h[j]![j]! + RIDGE * count;
    }
    const delta = solve(h, g);
    if (!delta) break;
    let largest = 0;
    for (let j = 0; j < d; j++) {
      beta[j] = beta[j]! - delta[j]!;
      largest = Math.max(largest, Math.abs(delta[j]!));
    }
    // Fixed-point sums carry ~1e-7 of rounding per step, so a tighter stop would never trigger.
    if (largest < 1e-5) break;
  }
  return beta;
}

function solve(h: number[][], g: number[]): number[] | null {
  const d = g.length;
  const m = h.map((row, i) => [...row, g[i]!]);
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (!(Math.abs(m[p]![c]!) > 1e-12)) return null;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = c + 1; r < d; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= d; k++) m[r]![k] = m[r]![k]! - f * m[c]![k]!;
    }
  }
  const s = new Array<number>(d).fill(0);
  for (let r = d - 1; r >= 0; r--) {
    let v = m[r]![d]!;
    for (let k = r + 1; k < d; k++) v -= m[r]![k]! * s[k]!;
    s[r] = v / m[r]![r]!;
  }
  return s;
}

/**
 * Review: the lowest bin edge whose tail holds at most `reviewShare` of validation rows. Flag: the
 * lowest edge whose tail has precision >= `flagPrecision` and share <= `maxFlagShare`, else the
 * top 3 %. Bin edges bound the resolution (1 / bins).
 */
export function thresholdsFromHistogram(hist: Float64Array, bins: number, reviewShare: number, flagPrecision: number, maxFlagShare: number): { review: number; flag: number } {
  const neg = Array.from(hist.subarray(0, bins), (v) => Math.max(0, Math.round(v)));
  const pos = Array.from(hist.subarray(bins, 2 * bins), (v) => Math.max(0, Math.round(v)));
  const total = neg.reduce((a, b) => a + b, 0) + pos.reduce((a, b) => a + b, 0);
  let tailPos = 0;
  let tailAll = 0;
  let review = 1;
  let flag: number | undefined;
  let top3 = 1;
  for (let b = bins - 1; b >= 0; b--) {
    tailPos += pos[b]!;
    tailAll += pos[b]! + neg[b]!;
    const edge = b / bins;
    if (tailAll / total <= reviewShare) review = edge;
    if (tailAll / total <= 0.03) top3 = edge;
    if (tailAll > 0 && tailAll / total <= maxFlagShare && tailPos / tailAll >= flagPrecision) flag = edge;
  }
  const f = flag ?? top3;
  return { flag: f, review: Math.min(f, review) };
}
