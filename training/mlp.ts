import { tf } from '../scoring/tf.ts';
import { Rng } from '../core/random.ts';

/**
 * The neural half of the ensemble: a small multilayer perceptron over the normalised feature
 * vector (dense ReLU layers, sigmoid output = fraud probability), trained with binary
 * cross-entropy and balanced class weights. Deterministic for a seed: seeded initialisers, and
 * shuffling done here with the seeded PRNG (tf's own shuffle uses Math.random).
 */

export interface MlpTrainOptions {
  /** Passes over the training rows. Default 12. */
  epochs?: number;
  /** Rows per gradient step. Default 128. */
  batchSize?: number;
  /** Adam learning rate. Default 0.003. */
  learningRate?: number;
  /** Hidden layer widths. Default [32, 16]; [] is a logistic regression. */
  hidden?: readonly number[];
  seed: number;
  /**
   * Called after each epoch with the mean training loss and the model as trained so far (to score
   * a validation split per epoch, e.g. to choose the number of epochs; do not dispose it).
   */
  onEpoch?: (epoch: number, epochs: number, loss: number, model: tf.LayersModel) => void;
}

/** Builds (uncompiled) the MLP for `inputSize` features. */
export function buildMlp(inputSize: number, hidden: readonly number[], seed: number): tf.Sequential {
  const model = tf.sequential();
  hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: seed + i }),
        ...(i === 0 ? { inputShape: [inputSize] } : {}),
      }),
    );
  });
  // Without hidden layers the network is a logistic regression on the normalised features. It
  // starts from zero weights (no symmetry to break), so stopping after fewer epochs shrinks the
  // coefficients toward 0, as a ridge penalty would.
  const output =
    hidden.length === 0
      ? { kernelInitializer: tf.initializers.zeros(), inputShape: [inputSize] }
      : { kernelInitializer: tf.initializers.glorotUniform({ seed: seed + hidden.length }) };
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid', ...output }));
  return model;
}

/** Class weights that give both classes the same total weight: count / (2 * class count). */
export function balancedWeights(count: number, positives: number): { 0: number; 1: number } {
  return { 0: count / (2 * Math.max(1, count - positives)), 1: count / (2 * Math.max(1, positives)) };
}

/**
 * Trains on `x` (row-major, `rows` x `width`, already normalised) and `y` (0/1).
 * Class weights make both classes weigh the same in the loss (n / (2 * class count)).
 */
export async function trainMlp(x: Float32Array, y: ArrayLike<number>, rows: number, width: number, options: MlpTrainOptions): Promise<tf.LayersModel> {
  const epochs = options.epochs ?? 12;
  const batchSize = options.batchSize ?? 128;
  const model = buildMlp(width, options.hidden ?? [32, 16], options.seed);
  model.compile({ optimizer: tf.train.adam(options.learningRate ?? 0.003), loss: 'binaryCrossentropy' });
  let positives = 0;
  for (let i = 0; i < rows; i++) positives += y[i] as number;
  const classWeight = balancedWeights(rows, positives);

  const rng = new Rng(options.seed);
  const order = Array.from({ length: rows }, (_, i) => i);
  const xs = new Float32Array(rows * width);
  const ys = new Float32Array(rows);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    rng.shuffle(order);
    order.forEach((src, dst) => {
      xs.set(x.subarray(src * width, (src + 1) * width), dst * width);
      ys[dst] = y[src] as number;
    });
    const xt = tf.tensor2d(xs, [rows, width]);
    const yt = tf.tensor2d(ys, [rows, 1]);
    try {
      const history = await model.fit(xt, yt, { epochs: 1, batchSize, shuffle: false, classWeight, verbose: 0 });
      options.onEpoch?.(epoch, epochs, Number(history.history.loss?.[0] ?? NaN), model);
    } finally {
      xt.dispose();
      yt.dispose();
    }
  }
  return model;
}
