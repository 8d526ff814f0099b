import { tf } from './tf.ts';

/**
 * Fraud probabilities for `rows` normalised rows (row-major, `width` columns), in one tf.js
 * forward pass of the ensemble's network. The reference the fast evaluator (mlp-evaluator.ts) is
 * proven against, and what `scoreMatrix` uses when no fast evaluator is given (training).
 */
export function predictMlp(model: tf.LayersModel, x: Float32Array, rows: number, width: number): Float32Array {
  if (rows === 0) return new Float32Array(0);
  return tf.tidy(() => {
    const out = model.predictOnBatch(tf.tensor2d(x, [rows, width])) as tf.Tensor;
    return out.dataSync() as Float32Array;
  });
}
