import { RandomForestClassifier } from 'ml-random-forest';
import { InvalidArgumentError } from '../core/errors.ts';
import type { ForestModelJson, TreeNodeJson } from './forest-trainer.ts';

/**
 * A random forest ready to score: loaded through `RandomForestClassifier.load` (so anything the
 * library cannot read is rejected) and compiled into flat typed arrays for fast soft voting.
 *
 * Probability = mean over trees of the fraud share of the reached leaf (soft voting). The
 * library's own `predictProbability` counts hard votes and, in 2.1, seeds its reduce with the
 * first tree's label, so the first tree counts 1e-6 instead of 1/nTrees; soft voting avoids both
 * and ranks better. `votes()` gives the library's hard votes for cross-checking.
 */
export class Forest {
  readonly featureCount: number;
  readonly treeCount: number;
  /** The library object, for reference predictions (`predictionValues`) and `toJSON`. */
  readonly library: RandomForestClassifier;
  readonly #roots: Int32Array;
  readonly #feature: Int32Array;
  readonly #threshold: Float64Array;
  readonly #left: Int32Array;
  readonly #right: Int32Array;
  /** For leaves: fraud share; unused for splits. */
  readonly #value: Float64Array;

  private constructor(model: ForestModelJson, library: RandomForestClassifier) {
    this.library = library;
    this.featureCount = model.baseModel.n;
    this.treeCount = model.baseModel.estimators.length;
    const feature: number[] = [];
    const threshold: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const value: number[] = [];
    const roots: number[] = [];
    model.baseModel.estimators.forEach((est, t) => {
      const columns = model.baseModel.indexes[t] as number[];
      const visit = (node: TreeNodeJson): number => {
        const id = feature.length;
        feature.push(-1);
        threshold.push(0);
        left.push(-1);
        right.push(-1);
        value.push(0);
        if ('distribution' in node) {
          value[id] = node.distribution[0]?.[1] ?? 0;
          return id;
        }
        const global = columns[node.splitColumn];
        if (global === undefined) throw new InvalidArgumentError(`tree ${t} splits on column ${node.splitColumn}, outside its ${columns.length} features`);
        feature[id] = global;
        threshold[id] = node.splitValue;
        left[id] = visit(node.left);
        right[id] = visit(node.right);
        return id;
      };
      roots.push(visit(est.root));
    });
    this.#roots = Int32Array.from(roots);
    this.#feature = Int32Array.from(feature);
    this.#threshold = Float64Array.from(threshold);
    this.#left = Int32Array.from(left);
    this.#right = Int32Array.from(right);
    this.#value = Float64Array.from(value);
  }

  /**
   * Loads a model in `RandomForestClassifier#toJSON()` format.
   * @throws InvalidArgumentError when the library rejects it or a tree is malformed.
   */
  static fromJson(model: unknown): Forest {
    let library: RandomForestClassifier;
    try {
      library = RandomForestClassifier.load(model as Parameters<typeof RandomForestClassifier.load>[0]);
    } catch (error) {
      throw new InvalidArgumentError(`not a RandomForestClassifier model: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const json = model as ForestModelJson;
    if (!Array.isArray(json.baseModel?.estimators) || json.baseModel.estimators.length === 0) throw new InvalidArgumentError('random forest has no trees');
    return new Forest(json, library);
  }

  /** Fraud probability of one feature vector, in [0, 1]. */
  predict(row: ArrayLike<number>): number {
    const feature = this.#feature;
    const threshold = this.#threshold;
    const left = this.#left;
    const right = this.#right;
    let sum = 0;
    for (let t = 0; t < this.#roots.length; t++) {
      let node = this.#roots[t] as number;
      for (;;) {
        const f = feature[node] as number;
        if (f < 0) break;
        node = ((row[f] as number) < (threshold[node] as number) ? left[node] : right[node]) as number;
      }
      sum += this.#value[node] as number;
    }
    return sum / this.#roots.length;
  }

  /**
   * Probabilities for `row` and for each occluded copy of it: writes `out[offset]` = predict(row)
   * and `out[offset + 1 + j]` = predict(row with feature j set to `neutral[j]`), for every j.
   * Exact, and much cheaper than featureCount + 1 predictions: replacing feature j can only
   * change a tree's leaf when j is tested on the row's path, so each tree re-walks only for the
   * features on that path.
   */
  predictOccluded(row: ArrayLike<number>, neutral: ArrayLike<number>, out: Float64Array, offset: number): void {
    const width = this.featureCount;
    const feature = this.#feature;
    const threshold = this.#threshold;
    const left = this.#left;
    const right = this.#right;
    const value = this.#value;
    const sums = new Float64Array(width + 1);
    // firstAt[f]: the first node of the current tree's path that tests f (the path above it does
    // not depend on f, so the occluded walk can start there); stamp[f] marks the tree.
    const firstAt = new Int32Array(width);
    const stamp = new Int32Array(width).fill(-1);
    const seen = new Int32Array(width);
    for (let t = 0; t < this.#roots.length; t++) {
      let node = this.#roots[t] as number;
      let k = 0;
      for (;;) {
        const f = feature[node] as number;
        if (f < 0) break;
        if (stamp[f] !== t) {
          stamp[f] = t;
          firstAt[f] = node;
          seen[k++] = f;
        }
        node = ((row[f] as number) < (threshold[node] as number) ? left[node] : right[node]) as number;
      }
      const base = value[node] as number;
      sums[0] = (sums[0] as number) + base;
      for (let s = 0; s < k; s++) {
        const swapped = seen[s] as number;
        const x0 = neutral[swapped] as number;
        let n = firstAt[swapped] as number;
        for (;;) {
          const f = feature[n] as number;
          if (f < 0) break;
          n = ((f === swapped ? x0 : (row[f] as number)) < (threshold[n] as number) ? left[n] : right[n]) as number;
        }
        sums[swapped + 1] = (sums[swapped + 1] as number) + (value[n] as number) - base;
      }
    }
    const n = this.#roots.length;
    const baseMean = (sums[0] as number) / n;
    out[offset] = baseMean;
    for (let j = 0; j < width; j++) out[offset + 1 + j] = baseMean + (sums[j + 1] as number) / n;
  }

  /** Hard votes per tree (0/1), as the library's `predictionValues` computes them. */
  votes(row: ArrayLike<number>): number[] {
    const out: number[] = [];
    for (let t = 0; t < this.#roots.length; t++) {
      let node = this.#roots[t] as number;
      while ((this.#feature[node] as number) >= 0) node = ((row[this.#feature[node] as number] as number) < (this.#threshold[node] as number) ? this.#left[node] : this.#right[node]) as number;
      out.push((this.#value[node] as number) > 0.5 ? 1 : 0);
    }
    return out;
  }
}
