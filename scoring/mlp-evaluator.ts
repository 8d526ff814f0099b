import { InvalidArgumentError } from '../core/errors.ts';
import type { tf } from './tf.ts';

/**
 * A plain-JavaScript evaluator for the ensemble's MLP (dense layers, ReLU hidden, sigmoid out):
 * the weights copied out of the tf.js model into Float32Arrays, products accumulated in doubles.
 * tf.js stays the training and reference implementation; tests/unit/scoring/fast-path.test.ts
 * proves this evaluator within 1e-6 of `model.predict` on the same inputs.
 *
 * Why: for batches of a few hundred 33-wide rows, tf.js spends more time creating tensors and
 * dispatching kernels than multiplying, and it has no cheap input gradient per row. Here one row
 * costs ~1.6k multiply-adds forward and as many backward.
 *
 * Attribution (documented method for the network's reasons): gradient x input against the
 * all-zeros input, i.e. the training mean after normalisation. For feature j:
 * `a_j = (d nn / d z_j) * z_j`, in network-probability units, computed with one backward pass
 * per row. It is exact for a linear model and a first-order approximation otherwise (ReLU
 * networks are piecewise linear, so the error comes from kinks crossed between 0 and z and
 * from the output sigmoid); the attributions need not sum to nn(z) - nn(0).
 */

interface DenseLayer {
  inputs: number;
  units: number;
  /** Row-major [inputs][units], as tf.js stores a dense kernel. */
  kernel: Float32Array;
  bias: Float32Array;
  activation: 'relu' | 'sigmoid' | 'linear';
}

export class MlpEvaluator {
  readonly inputSize: number;
  readonly #layers: DenseLayer[];
  /** Pre-activations per layer, reused across rows (the evaluator is not re-entrant). */
  readonly #pre: Float64Array[];
  readonly #act: Float64Array[];
  readonly #grad: Float64Array[];
  /** Scratch: indexes of units with a non-zero gradient. */
  readonly #active: Int32Array;
  /** Output at the all-zeros input: the attribution baseline. */
  readonly baseValue: number;

  private constructor(layers: DenseLayer[]) {
    this.#layers = layers;
    this.inputSize = (layers[0] as DenseLayer).inputs;
    this.#pre = layers.map((l) => new Float64Array(l.units));
    this.#act = layers.map((l) => new Float64Array(l.units));
    this.#grad = [new Float64Array(this.inputSize), ...layers.map((l) => new Float64Array(l.units))];
    this.#active = new Int32Array(Math.max(...layers.map((l) => l.units)));
    this.baseValue = this.#forward(new Float32Array(this.inputSize), 0);
  }

  /**
   * Copies the weights of a sequential tf.js model made of dense layers (ReLU / linear hidden,
   * one sigmoid unit out), as `buildMlp` creates.
   * @throws InvalidArgumentError for any other architecture.
   */
  static fromModel(model: tf.LayersModel): MlpEvaluator {
    const layers: DenseLayer[] = [];
    for (const layer of model.layers) {
      const config = layer.getConfig() as { activation?: string; useBias?: boolean };
      if (layer.getClassName() === 'InputLayer') continue;
      if (layer.getClassName() !== 'Dense') throw new InvalidArgumentError(`MLP evaluator supports Dense layers only, got ${layer.getClassName()}`);
      const activation = config.activation ?? 'linear';
      if (activation !== 'relu' && activation !== 'sigmoid' && activation !== 'linear') throw new InvalidArgumentError(`MLP evaluator does not support activation ${activation}`);
      const weights = layer.getWeights();
      const kernelTensor = weights[0];
      if (!kernelTensor || kernelTensor.shape.length !== 2) throw new InvalidArgumentError(`dense layer ${layer.name} has no 2-D kernel`);
      const [inputs, units] = kernelTensor.shape as [number, number];
      const kernel = Float32Array.from(kernelTensor.dataSync());
      const bias = weights[1] ? Float32Array.from(weights[1].dataSync()) : new Float32Array(units);
      const previous = layers.at(-1);
      if (previous && previous.units !== inputs) throw new InvalidArgumentError(`dense layer ${layer.name} expects ${inputs} inputs, previous layer gives ${previous.units}`);
      layers.push({ inputs, units, kernel, bias, activation });
    }
    const last = layers.at(-1);
    if (!last || last.units !== 1 || last.activation !== 'sigmoid') throw new InvalidArgumentError('MLP evaluator needs a final dense layer with one sigmoid unit');
    return new MlpEvaluator(layers);
  }

  /** Forward pass of the row at `x[offset..offset + inputSize)`; fills #pre / #act. */
  #forward(x: Float32Array, offset: number): number {
    let input: ArrayLike<number> = x;
    let base = offset;
    for (let l = 0; l < this.#layers.length; l++) {
      const { inputs, units, kernel, bias, activation } = this.#layers[l] as DenseLayer;
      const pre = this.#pre[l] as Float64Array;
      const act = this.#act[l] as Float64Array;
      for (let o = 0; o < units; o++) pre[o] = bias[o] as number;
      for (let i = 0; i < inputs; i++) {
        const v = input[base + i] as number;
        if (v === 0) continue;
        const row = i * units;
        for (let o = 0; o < units; o++) pre[o] = (pre[o] as number) + v * (kernel[row + o] as number);
      }
      for (let o = 0; o < units; o++) {
        const p = pre[o] as number;
        act[o] = activation === 'relu' ? (p > 0 ? p : 0) : activation === 'sigmoid' ? 1 / (1 + Math.exp(-p)) : p;
      }
      input = act;
      base = 0;
    }
    return (this.#act[this.#layers.length - 1] as Float64Array)[0] as number;
  }

  /** Probabilities for `rows` normalised rows (row-major `x`), written to `out[0..rows)`. */
  predictBatch(x: Float32Array, rows: number, out: Float64Array): void {
    const width = this.inputSize;
    for (let r = 0; r < rows; r++) out[r] = this.#forward(x, r * width);
  }

  /**
   * Probabilities and gradient x input attributions (see the module doc): `out[r]` as in
   * `predictBatch`, `attributions[r * inputSize + j]` = (d out / d z_j) * z_j.
   */
  predictWithAttributions(x: Float32Array, rows: number, out: Float64Array, attributions: Float64Array): void {
    const width = this.inputSize;
    const layers = this.#layers;
    const last = layers.length - 1;
    for (let r = 0; r < rows; r++) {
      const at = r * width;
      const y = this.#forward(x, at);
      out[r] = y;
      // Backward: grad[l + 1] holds d y / d (output of layer l); grad[0] is d y / d input.
      // Units with a zero local derivative (inactive ReLUs) are skipped.
      const top = this.#grad[last + 1] as Float64Array;
      top[0] = 1;
      const active = this.#active;
      for (let l = last; l >= 0; l--) {
        const { inputs, units, kernel, activation } = layers[l] as DenseLayer;
        const gOut = this.#grad[l + 1] as Float64Array;
        const pre = this.#pre[l] as Float64Array;
        const act = this.#act[l] as Float64Array;
        let k = 0;
        for (let o = 0; o < units; o++) {
          const a = act[o] as number;
          const d = activation === 'relu' ? ((pre[o] as number) > 0 ? 1 : 0) : activation === 'sigmoid' ? a * (1 - a) : 1;
          const g = (gOut[o] as number) * d;
          gOut[o] = g;
          if (g !== 0) active[k++] = o;
        }
        const gIn = this.#grad[l] as Float64Array;
        for (let i = 0; i < inputs; i++) {
          // The input layer's gradient only matters where the input is non-zero (it is multiplied by it).
          if (l === 0 && x[at + i] === 0) {
            gIn[i] = 0;
            continue;
          }
          const row = i * units;
          let s = 0;
          for (let q = 0; q < k; q++) {
            const o = active[q] as number;
            s += (kernel[row + o] as number) * (gOut[o] as number);
          }
          gIn[i] = s;
        }
      }
      const g0 = this.#grad[0] as Float64Array;
      for (let j = 0; j < width; j++) attributions[at + j] = (g0[j] as number) * (x[at + j] as number);
    }
  }
}
