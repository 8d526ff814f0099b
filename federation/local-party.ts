/**
 * One insurer's side of federated training: its own labelled feature rows, split once into a
 * training and a validation part, and the computation of its contribution to each task. Rows
 * never leave this object; only the vectors (summed under secure aggregation) and, for the union
 * forest, trees do.
 */
import { Rng } from '../core/random.ts';
import { calibrate } from '../scoring/calibration.ts';
import { mix } from '../scoring/ensemble.ts';
import { Forest } from '../scoring/forest.ts';
import type { ForestModelJson, TreeNodeJson } from '../scoring/forest-model.ts';
import { normalizeInto, type Normalizer } from '../scoring/normalizer.ts';
import { tf } from '../scoring/tf.ts';
import { trainForest } from '../training/forest-trainer.ts';
import { balancedWeights } from '../training/mlp.ts';
import { stratifiedSplit } from '../training/train.ts';
import { FederationError } from './secure-aggregation/errors.ts';
import { flatWeights, mlpFromFlat } from './mlp-weights.ts';
import type { GlobalModelRef, Task } from './tasks.ts';

export interface LocalPartyOptions {
  readonly id: string;
  readonly rows: readonly Float64Array[];
  readonly labels: ArrayLike<number>;
  /** Hidden layer widths of the network (the federation's, announced). */
  readonly hidden: readonly number[];
  /** Share of this party's rows kept for validation. Default 0.2. */
  readonly validationShare?: number;
  readonly seed: number;
}

const EPS = 1e-6;
const logit = (p: number): number => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};

export class LocalParty {
  readonly id: string;
  readonly width: number;
  readonly #hidden: readonly number[];
  readonly #train: { rows: Float64Array[]; y: Uint8Array };
  readonly #valid: { rows: Float64Array[]; y: Uint8Array };
  readonly #seed: number;
  #cachedModel: { key: GlobalModelRef; rf: Float64Array; nn: Float64Array } | undefined;

  constructor(options: LocalPartyOptions) {
    this.id = options.id;
    this.width = options.rows[0]?.length ?? 0;
    this.#hidden = options.hidden;
    this.#seed = options.seed;
    const { train, validation } = stratifiedSplit(options.labels, options.validationShare ?? 0.2, new Rng(options.seed));
    const pick = (idx: number[]) => ({ rows: idx.map((i) => options.rows[i] as Float64Array), y: Uint8Array.from(idx, (i) => options.labels[i] as number) });
    this.#train = pick(train);
    this.#valid = pick(validation);
  }

  get trainingExamples(): number {
    return this.#train.rows.length;
  }

  /** The vector this party contributes to `task` (not for `forest`). */
  async contribution(task: Exclude<Task, { kind: 'forest' }>): Promise<Float64Array> {
    switch (task.kind) {
      case 'stats':
        return this.#stats(task.positives === true);
      case 'variance':
        return this.#variance(task.means, task.totalExamples);
      case 'fedavg':
        return this.#fedavg(task);
      case 'validate':
        return this.#validate(task.weights, task.normalizer, task.bins ?? 0);
      case 'logistic':
        return this.#logistic(task.purpose, task.beta, task.model);
      case 'histogram':
        return this.#histogram(task.bins, task.model);
    }
  }

  /**
   * Trees grown on this party's training rows. `leafNoise` > 0 replaces each leaf's class
   * distribution by a noised one and drops its sample count (the safer option: leaf values no
   * longer give exact local class counts; split thresholds still lie between local values).
   */
  trees(task: Extract<Task, { kind: 'forest' }>): ForestModelJson {
    const nTrees = Math.max(1, Math.round(task.totalTrees * this.#treeShare(task)));
    const forest = trainForest(this.#train.rows, this.#train.y, { nTrees, seed: task.seed, maxDepth: task.maxDepth });
    if (task.leafNoise > 0) {
      const rng = new Rng((task.seed ^ 0x5eed) >>> 0);
      const noise = (node: TreeNodeJson): TreeNodeJson => {
        if ('distribution' in node) {
          const p1 = Math.min(1, Math.max(0, (node.distribution[0]?.[1] ?? 0) + task.leafNoise * rng.normal()));
          return { distribution: [[1 - p1, p1]] };
        }
        return { ...node, numberSamples: 0, left: noise(node.left), right: noise(node.right) };
      };
      forest.baseModel.estimators = forest.baseModel.estimators.map((e) => ({ ...e, root: noise(e.root) }));
    }
    return forest;
  }

  /** This party's share of the union forest's trees (task.shares, see tasks.ts). */
  #treeShare(task: Extract<Task, { kind: 'forest' }>): number {
    if ((task.shares ?? 'rows') === 'rows') return this.#train.rows.length / task.totalExamples;
    const total = task.totalPositives;
    if (total === undefined || !(total > 0)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `forest task with shares by positives but totalPositives ${String(total)}`);
    return this.#positives() / total;
  }

  /** The weight of this party's FedAvg update in the sum (tasks.ts `UpdateWeights`). */
  #updateShare(task: Extract<Task, { kind: 'fedavg' }>): number {
    const n = this.#train.rows.length;
    if ((task.updateWeights ?? 'examples') === 'examples') return n / task.totalExamples;
    const total = task.totalPositives;
    if (total === undefined || !(Number.isInteger(total) && total > 0 && total < task.totalExamples)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `fedavg task with balanced update weights but totalPositives ${String(total)} of ${task.totalExamples} examples`);
    const p = this.#positives();
    return ((n - p) / (task.totalExamples - total) + p / total) / 2;
  }

  #positives(): number {
    let p = 0;
    for (const v of this.#train.y) p += v;
    return p;
  }

  #stats(withPositives: boolean): Float64Array {
    const w = this.width;
    const at = withPositives ? 2 : 1;
    const out = new Float64Array(at + w);
    out[0] = this.#train.rows.length;
    if (withPositives) out[1] = this.#positives();
    for (const row of this.#train.rows) for (let j = 0; j < w; j++) out[at + j]! += row[j] as number;
    return out;
  }

  #variance(means: readonly number[], total: number): Float64Array {
    const out = new Float64Array(this.width);
    for (const row of this.#train.rows) {
      for (let j = 0; j < this.width; j++) out[j]! += (((row[j] as number) - (means[j] as number)) / (Math.abs(means[j] as number) + 1)) ** 2 / total;
    }
    return out;
  }

  #normalized(rows: readonly Float64Array[], normalizer: Normalizer): Float32Array {
    const x = new Float32Array(rows.length * this.width);
    rows.forEach((row, r) => normalizeInto(normalizer, row, x, r * this.width));
    return x;
  }

  async #fedavg(task: Extract<Task, { kind: 'fedavg' }>): Promise<Float64Array> {
    const n = this.#train.rows.length;
    const model = mlpFromFlat(this.width, this.#hidden, task.weights, this.#seed);
    const mu = task.proximalMu ?? 0;
    if (!(mu >= 0)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `fedavg task with proximalMu ${String(mu)}`);
    const steps = task.stepsPerEpoch;
    if (steps !== undefined && !(steps > 0 && Number.isFinite(steps))) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `fedavg task with stepsPerEpoch ${String(steps)}`);
    const batchSize = steps === undefined ? task.batchSize : Math.max(1, Math.round(n / steps));
    const optimizer = tf.train.adam(task.learningRate);
    if (mu === 0) model.compile({ optimizer, loss: 'binaryCrossentropy' });
    const classWeight = balancedWeights(n, this.#positives());
    // The global weights, the anchor of the proximal term.
    const anchor = mu > 0 ? model.trainableWeights.map((w) => w.read().clone()) : [];
    const rng = new Rng(task.seed);
    const order = Array.from({ length: n }, (_, i) => i);
    const x = this.#normalized(this.#train.rows, task.normalizer);
    const xs = new Float32Array(x.length);
    const ys = new Float32Array(n);
    for (let e = 0; e < task.epochs; e++) {
      rng.shuffle(order);
      order.forEach((src, dst) => {
        xs.set(x.subarray(src * this.width, (src + 1) * this.width), dst * this.width);
        ys[dst] = this.#train.y[src] as number;
      });
      if (mu > 0) {
        proximalEpoch(model, anchor, optimizer, xs, ys, this.width, batchSize, classWeight, mu);
        continue;
      }
      const xt = tf.tensor2d(xs, [n, this.width]);
      const yt = tf.tensor2d(ys, [n, 1]);
      try {
        await model.fit(xt, yt, { epochs: 1, batchSize, shuffle: false, classWeight, verbose: 0 });
      } finally {
        xt.dispose();
        yt.dispose();
      }
    }
    const local = flatWeights(model);
    anchor.forEach((t) => t.dispose());
    if (mu > 0) optimizer.dispose();
    model.dispose();
    const share = this.#updateShare(task);
    return local.map((v, i) => share * (v - (task.weights[i] as number)));
  }

  #predictNn(weights: readonly number[], normalizer: Normalizer, rows: readonly Float64Array[]): Float64Array {
    const model = mlpFromFlat(this.width, this.#hidden, weights, this.#seed);
    const x = tf.tensor2d(this.#normalized(rows, normalizer), [rows.length, this.width]);
    const out = model.predict(x) as tf.Tensor;
    const p = Float64Array.from(out.dataSync());
    x.dispose();
    out.dispose();
    model.dispose();
    return p;
  }

  #validate(weights: readonly number[], normalizer: Normalizer, bins: number): Float64Array {
    if (!(Number.isInteger(bins) && bins >= 0 && bins <= 100_000)) throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `validate task with bins ${String(bins)}`);
    const p = this.#predictNn(weights, normalizer, this.#valid.rows);
    const out = new Float64Array(2 + 2 * bins);
    let loss = 0;
    p.forEach((q, i) => {
      const fraud = this.#valid.y[i] === 1;
      const c = Math.min(1 - EPS, Math.max(EPS, q));
      loss -= fraud ? Math.log(c) : Math.log(1 - c);
      if (bins > 0) out[2 + classBin(bins, q, fraud)]! += 1;
    });
    out[0] = loss;
    out[1] = p.length;
    return out;
  }

  #scores(model: GlobalModelRef): { rf: Float64Array; nn: Float64Array } {
    if (this.#cachedModel?.key.forest === model.forest && this.#cachedModel.key.weights === model.weights) return this.#cachedModel;
    const rows = this.#valid.rows;
    const matrix = new Float64Array(rows.length * this.width);
    rows.forEach((r, i) => matrix.set(r, i * this.width));
    const rf = new Float64Array(rows.length);
    Forest.fromJson(model.forest).predictBatch(matrix, rows.length, rf);
    const nn = this.#predictNn(model.weights, model.normalizer, rows);
    this.#cachedModel = { key: model, rf, nn };
    return this.#cachedModel;
  }

  #logistic(purpose: 'stacker' | 'platt', beta: readonly number[], model: GlobalModelRef): Float64Array {
    const { rf, nn } = this.#scores(model);
    const columns = purpose === 'stacker' ? [rf, nn] : [Float64Array.from(rf, (r, i) => logit(mix(model.mix!, r, nn[i] as number)))];
    return logisticSums(columns, this.#valid.y, beta);
  }

  #histogram(bins: number, model: GlobalModelRef): Float64Array {
    const { rf, nn } = this.#scores(model);
    const out = new Float64Array(2 * bins);
    rf.forEach((r, i) => {
      const s = calibrate(model.calibration!, mix(model.mix!, r, nn[i] as number));
      out[classBin(bins, s, this.#valid.y[i] === 1)]! += 1;
    });
    return out;
  }
}

/**
 * Index of a score in [0, 1] in per-class histograms of `bins` equal bins, non-frauds first then
 * frauds: the layout the coordinator's `thresholdsFromHistogram` and `rocAucFromHistogram` read.
 */
function classBin(bins: number, score: number, fraud: boolean): number {
  return (fraud ? bins : 0) + Math.min(bins - 1, Math.floor(score * bins));
}

/**
 * One epoch of FedProx local training over rows already in order (`xs` row-major, `ys` 0/1): per
 * batch one optimizer step on the class-weighted binary cross-entropy (the loss `model.fit` uses
 * with `classWeight`: each row's loss times its class weight, averaged over the batch) plus
 * mu/2 * ||w - anchor||² over the trainable weights.
 */
function proximalEpoch(model: tf.LayersModel, anchor: readonly tf.Tensor[], optimizer: tf.Optimizer, xs: Float32Array, ys: Float32Array, width: number, batchSize: number, classWeight: { 0: number; 1: number }, mu: number): void {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const n = ys.length;
  for (let start = 0; start < n; start += batchSize) {
    const m = Math.min(batchSize, n - start);
    tf.tidy(() => {
      const xb = tf.tensor2d(xs.subarray(start * width, (start + m) * width), [m, width]);
      const yb = tf.tensor2d(ys.subarray(start, start + m), [m, 1]);
      const wb = yb.mul(classWeight[1] - classWeight[0]).add(classWeight[0]);
      optimizer.minimize(() => {
        const p = (model.apply(xb, { training: true }) as tf.Tensor).clipByValue(EPS_BCE, 1 - EPS_BCE);
        const bce = yb.mul(p.log()).add(tf.scalar(1).sub(yb).mul(tf.scalar(1).sub(p).log())).neg().mul(wb).mean();
        const prox = tf.addN(vars.map((v, i) => v.sub(anchor[i]!).square().sum())).mul(mu / 2);
        return bce.add(prox) as tf.Scalar;
      }, false, vars);
    });
  }
}

/** The clipping `binaryCrossentropy` applies to probabilities (Keras' epsilon). */
const EPS_BCE = 1e-7;

/**
 * Gradient (d values) and Hessian upper triangle (d(d+1)/2) of the logistic log-loss at `beta`
 * over [1, ...columns]: the sufficient statistics of one Newton step, summable across parties.
 */
export function logisticSums(columns: readonly ArrayLike<number>[], y: ArrayLike<number>, beta: readonly number[]): Float64Array {
  const d = columns.length + 1;
  const out = new Float64Array(d + (d * (d + 1)) / 2);
  const x = new Float64Array(d);
  for (let i = 0; i < y.length; i++) {
    x[0] = 1;
    for (let j = 1; j < d; j++) x[j] = (columns[j - 1] as ArrayLike<number>)[i] as number;
    let z = 0;
    for (let j = 0; j < d; j++) z += (beta[j] as number) * (x[j] as number);
    const p = 1 / (1 + Math.exp(-z));
    const r = p - (y[i] === 1 ? 1 : 0);
    const w = p * (1 - p);
    let k = d;
    for (let j = 0; j < d; j++) {
      out[j]! += r * (x[j] as number);
      for (let l = j; l < d; l++) out[k++]! += w * (x[j] as number) * (x[l] as number);
    }
  }
  return out;
}
