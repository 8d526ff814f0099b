/**
 * What the coordinator asks every participant to compute in one step of federated training.
 * Each task but `forest` yields a vector that is summed by secure aggregation; `forest` yields
 * trees shared in clear (see docs/federation.md for what a tree reveals).
 */
import type { ForestModelJson } from '../scoring/forest-model.ts';
import type { Normalizer } from '../scoring/normalizer.ts';

export type Task =
  /**
   * [n, Σx_j ...] over the participant's training rows; with `positives`, [n, Σy, Σx_j ...] (Σy the
   * training fraud count, needed when the forest's tree shares follow fraud counts).
   */
  | { readonly kind: 'stats'; readonly positives?: boolean }
  /**
   * Σ_i ((x_ij - mean_j) / (|mean_j| + 1))² / totalExamples per feature: the scale-free variance
   * share, so heavy-tailed amounts and small rates both fit the fixed-point ring.
   */
  | { readonly kind: 'variance'; readonly means: readonly number[]; readonly totalExamples: number }
  /**
   * Local epochs from the global weights; contribution s_k * (w_k - w), s_k the party's weight
   * (`updateWeights`, below; n_k / total when absent). `proximalMu` > 0
   * (FedProx) adds mu/2 * ||w_k - w||² to the local loss (absent: 0, plain FedAvg).
   * `stepsPerEpoch` (absent: batches of `batchSize`): the party's batch size is round(n_k /
   * stepsPerEpoch), so every party takes about the same number of optimizer steps whatever its
   * size (a positive number, not necessarily whole). `updateWeights` `balanced` (with
   * `totalPositives`, the federation's training fraud count from the `stats` sum): the
   * contribution is weighted by the party's share of the class-balanced loss,
   * ((n_k - p_k) / (n - p) + p_k / p) / 2, instead of n_k / n (absent: `examples`).
   */
  | { readonly kind: 'fedavg'; readonly weights: readonly number[]; readonly normalizer: Normalizer; readonly epochs: number; readonly learningRate: number; readonly batchSize: number; readonly seed: number; readonly totalExamples: number; readonly proximalMu?: number; readonly stepsPerEpoch?: number; readonly updateWeights?: UpdateWeights; readonly totalPositives?: number }
  /**
   * [Σ log-loss, n] of the global network on the participant's validation rows; with `bins`,
   * followed by per-class histograms of the network's validation score (`bins` equal bins on
   * [0, 1], non-frauds then frauds), from whose sum the coordinator computes the validation
   * ROC-AUC: the same kind of aggregate as the `histogram` task's, for the network alone.
   */
  | { readonly kind: 'validate'; readonly weights: readonly number[]; readonly normalizer: Normalizer; readonly bins?: number }
  /**
   * Grow trees (at least one) on the training rows, shared in clear. `shares` `rows` (also when
   * absent): round(totalTrees * n_k / totalExamples) trees, so the union forest weighs each party by
   * its data size; `positives`: round(totalTrees * p_k / totalPositives) with p_k the party's
   * training fraud count, so it weighs each party by its minority-class count (a balanced tree
   * grows on a bootstrap of 2 p_k rows, so p_k is its effective sample size).
   */
  | { readonly kind: 'forest'; readonly totalTrees: number; readonly totalExamples: number; readonly shares?: ForestShares; readonly totalPositives?: number; readonly seed: number; readonly maxDepth: number; readonly leafNoise: number }
  /**
   * Gradient and Hessian (upper triangle) of the logistic log-loss at `beta` over the validation
   * rows' columns: `stacker` = [1, rf, nn], `platt` = [1, logit(mix)].
   */
  | { readonly kind: 'logistic'; readonly purpose: 'stacker' | 'platt'; readonly beta: readonly number[]; readonly model: GlobalModelRef }
  /** Per-class histograms of the calibrated validation score (`bins` equal bins on [0, 1]). */
  | { readonly kind: 'histogram'; readonly bins: number; readonly model: GlobalModelRef };

/**
 * What a party's FedAvg update is weighted by in the sum: its share of the training examples
 * (`examples`, FedAvg's n_k / n) or its share of the class-balanced loss (`balanced`: the mean of
 * its shares of the non-frauds and of the frauds).
 */
export type UpdateWeights = 'examples' | 'balanced';

/** What a party's share of the union forest's trees is proportional to. */
export type ForestShares = 'rows' | 'positives';

/** The global model as far as it is known when a task is sent. */
export interface GlobalModelRef {
  readonly forest: ForestModelJson;
  readonly weights: readonly number[];
  readonly normalizer: Normalizer;
  readonly mix?: { readonly rf: number; readonly nn: number };
  readonly calibration?: { readonly method: 'platt'; readonly a: number; readonly b: number };
}

/** Secure-aggregation settings of a task: bound and precision depend on what is summed. */
export interface SumSpec {
  readonly vectorLength: number;
  readonly normBound: number;
  readonly fractionalBits: number;
}
