/**
 * The network's weights as one flat vector (what FedAvg averages) and back, for the MLP shape
 * training/mlp.ts builds.
 */
import { buildMlp } from '../training/mlp.ts';
import { tf } from '../scoring/tf.ts';
import { FederationError } from './secure-aggregation/errors.ts';

/** A fresh MLP (uncompiled) holding `flat` as its weights. */
export function mlpFromFlat(width: number, hidden: readonly number[], flat: ArrayLike<number>, seed = 1): tf.Sequential {
  const model = buildMlp(width, hidden, seed);
  const shapes = model.getWeights().map((w) => w.shape);
  let offset = 0;
  const tensors = shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(Array.from({ length: size }, (_, i) => flat[offset + i] as number), shape);
    offset += size;
    return t;
  });
  if (offset !== flat.length) {
    tensors.forEach((t) => t.dispose());
    model.dispose();
    throw new FederationError('FEDERATION_PROTOCOL_VIOLATION', `weight vector has ${flat.length} values, the network ${offset}`);
  }
  model.setWeights(tensors);
  tensors.forEach((t) => t.dispose());
  return model;
}

/** The weights of `model` as one flat vector (layer by layer, kernel then bias). */
export function flatWeights(model: tf.LayersModel): Float64Array {
  const parts = model.getWeights().map((w) => w.dataSync());
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
