import { RandomForestClassifier } from 'ml-random-forest';
import { type FlatTreeArrays, FlatTreeScratch } from './flat-tree-walk.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import type { ForestModelJson, TreeNodeJson } from './forest-model.ts';

/**
 * A random forest ready to score: loaded through `RandomForestClassifier.load` (so anything the
 * library cannot read is rejected) and compiled into flat typed arrays (feature index, threshold,
 * left, right, value per node) for fast soft voting and exact explanations.
 *
 * Probability = mean over trees of the fraud share of the reached leaf (soft voting), summed in
 * tree order and divided by the tree count. `libraryProbabilities` computes the same number
 * through the library's own tree objects (ml-cart `TreeNode#classify`); the property test in
 * tests/unit/scoring/fast-path.test.ts proves both give IDENTICAL doubles. The library's
 * `predictProbability` counts hard votes and, in 2.1, seeds its reduce with the first tree's
 * label, so the first tree counts 1e-6 instead of 1/nTrees; soft voting avoids both and ranks
 * better. `votes()` gives the library's hard votes for cross-checking.
 *
 * Node values for explanations: a leaf's value is its fraud share; a split's value is the
 * cover-weighted mean of its children (= the fraud share of the training rows that reached it).
 * Covers come from `numberSamples` (splits always; leaves when our trainer wrote it). A leaf
 * without it takes its parent's count minus its sibling's, or half the parent's when both
 * children are such leaves. Any choice keeps contributions exact (they telescope); covers only
 * make the split values meaningful.
 */
export class Forest {
  readonly featureCount: number;
  readonly treeCount: number;
  /** The library object, for reference predictions (`predictionValues`) and `toJSON`. */
  readonly library: RandomForestClassifier;
  /** Mean over trees of the root value: the forest's expected probability (explanation baseline). */
  readonly baseValue: number;
  readonly #roots: Int32Array;
  /** Longest root-to-leaf path per tree (splits). */
  readonly #depths: Int32Array;
  /** Split feature per node; leaves hold featureCount (the padding column, see the layout). */
  readonly #feature: Int32Array;
  readonly #threshold: Float64Array;
  /** Left child of a split (the right child is the next node); a leaf points to itself. */
  readonly #child: Int32Array;
  /** Leaves: fraud share; splits: cover-weighted mean of the children. */
  readonly #value: Float64Array;
  /**
   * Per leaf, its path's Saabas contributions aggregated per feature (value of the child taken
   * minus value of the split, summed over the splits on that feature): pairs
   * (#pathFeature[k], #pathDelta[k]) for k in [#pathStart[leaf], #pathEnd[leaf]).
   */
  readonly #pathStart: Int32Array;
  readonly #pathEnd: Int32Array;
  readonly #pathFeature: Int32Array;
  readonly #pathDelta: Float64Array;
  /** Scratch of `predictBatch`: padded rows, and the leaf per row of the current tree. */
  readonly #scratch = new FlatTreeScratch();

  private constructor(model: ForestModelJson, library: RandomForestClassifier) {
    this.library = library;
    this.featureCount = model.baseModel.n;
    this.treeCount = model.baseModel.estimators.length;
    const feature: number[] = [];
    const threshold: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const value: number[] = [];
    const cover: number[] = [];
    const roots: number[] = [];
    model.baseModel.estimators.forEach((est, t) => {
      const columns = model.baseModel.indexes[t] as number[];
      const visit = (node: TreeNodeJson, parentCover: number, sibling: TreeNodeJson | undefined): number => {
        const id = feature.length;
        feature.push(-1);
        threshold.push(0);
        left.push(-1);
        right.push(-1);
        value.push(0);
        cover.push(0);
        if ('distribution' in node) {
          value[id] = node.distribution[0]?.[1] ?? 0;
          const own = (node as { numberSamples?: unknown }).numberSamples;
          const siblingCover = sibling && 'numberSamples' in sibling ? (sibling as { numberSamples: number }).numberSamples : undefined;
          cover[id] = typeof own === 'number' && own > 0 ? own : siblingCover !== undefined && parentCover > siblingCover ? parentCover - siblingCover : Math.max(1, parentCover / 2);
          return id;
        }
        const global = columns[node.splitColumn];
        if (global === undefined) throw new InvalidArgumentError(`tree ${t} splits on column ${node.splitColumn}, outside its ${columns.length} features`);
        feature[id] = global;
        threshold[id] = node.splitValue;
        cover[id] = node.numberSamples > 0 ? node.numberSamples : Math.max(1, parentCover / 2);
        const l = visit(node.left, cover[id] as number, node.right);
        const r = visit(node.right, cover[id] as number, node.left);
        left[id] = l;
        right[id] = r;
        const cl = cover[l] as number;
        const cr = cover[r] as number;
        value[id] = ((value[l] as number) * cl + (value[r] as number) * cr) / (cl + cr);
        return id;
      };
      roots.push(visit(est.root, 2, undefined));
    });
    // Re-lay every tree breadth-first with the two children of a split side by side (right =
    // left + 1): the walk then picks a child by adding the comparison (0 or 1), no branch to
    // mispredict, and the nodes of one level sit together in memory.
    const n = feature.length;
    const f2 = new Int32Array(n);
    const t2 = new Float64Array(n);
    const c2 = new Int32Array(n);
    const v2 = new Float64Array(n);
    const newRoots: number[] = [];
    const depths: number[] = [];
    const pathFeature: number[] = [];
    const pathDelta: number[] = [];
    const leafStart = new Map<number, number>();
    const leafEnd = new Map<number, number>();
    const treeDepth = (node: number): number => ((feature[node] as number) < 0 ? 0 : 1 + Math.max(treeDepth(left[node] as number), treeDepth(right[node] as number)));
    let next = 0;
    for (const root of roots) {
      const queue: { old: number; id: number; path: [number, number][] }[] = [{ old: root, id: next++, path: [] }];
      newRoots.push(queue[0]!.id);
      for (let q = 0; q < queue.length; q++) {
        const { old, id, path } = queue[q]!;
        f2[id] = feature[old] as number;
        t2[id] = threshold[old] as number;
        v2[id] = value[old] as number;
        if ((feature[old] as number) >= 0) {
          c2[id] = next;
          const f = feature[old] as number;
          const v = value[old] as number;
          queue.push({ old: left[old] as number, id: next++, path: [...path, [f, (value[left[old] as number] as number) - v]] });
          queue.push({ old: right[old] as number, id: next++, path: [...path, [f, (value[right[old] as number] as number) - v]] });
        } else {
          // The leaf's path contributions, summed per feature in path order.
          const byFeature = new Map<number, number>();
          for (const [f, d] of path) byFeature.set(f, (byFeature.get(f) ?? 0) + d);
          leafStart.set(id, pathFeature.length);
          for (const [f, d] of byFeature) {
            pathFeature.push(f);
            pathDelta.push(d);
          }
          leafEnd.set(id, pathFeature.length);
          // A leaf loops on itself: it "splits" on the padding column (always 0) at 1, so the
          // comparison adds 0. Walks can then take a fixed number of steps with no leaf test.
          f2[id] = this.featureCount;
          t2[id] = 1;
          c2[id] = id;
        }
      }
      depths.push(treeDepth(root));
    }
    this.#roots = Int32Array.from(newRoots);
    this.#depths = Int32Array.from(depths);
    this.#feature = f2;
    this.#threshold = t2;
    this.#child = c2;
    this.#value = v2;
    this.#pathStart = Int32Array.from({ length: n }, (_, id) => leafStart.get(id) ?? 0);
    this.#pathEnd = Int32Array.from({ length: n }, (_, id) => leafEnd.get(id) ?? 0);
    this.#pathFeature = Int32Array.from(pathFeature);
    this.#pathDelta = Float64Array.from(pathDelta);
    let base = 0;
    for (const r of roots) base += value[r] as number;
    this.baseValue = base / roots.length;
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
    const child = this.#child;
    const width = this.featureCount;
    let sum = 0;
    for (let t = 0; t < this.#roots.length; t++) {
      let node = this.#roots[t] as number;
      for (;;) {
        const f = feature[node] as number;
        if (f >= width) break;
        // `!(x < t)`, not `x >= t`: a NaN goes right, as in ml-cart's `row[col] < value`.
        node = (child[node] as number) + +!((row[f] as number) < (threshold[node] as number));
      }
      sum += this.#value[node] as number;
    }
    return sum / this.#roots.length;
  }

  /** The typed arrays the shared batch walk reads (flat-tree-walk.ts). */
  get #arrays(): FlatTreeArrays {
    return { feature: this.#feature, threshold: this.#threshold, child: this.#child, value: this.#value, roots: this.#roots, depths: this.#depths, pathStart: this.#pathStart, pathEnd: this.#pathEnd, pathFeature: this.#pathFeature, pathDelta: this.#pathDelta };
  }

  /**
   * Batch scoring: `matrix` is row-major (`rows` x featureCount); writes each row's probability
   * to `out[0..rows)`. Walks tree by tree over the whole batch, so one tree's nodes stay in cache.
   * Same sums in the same order as `predict`, hence identical results.
   *
   * With `contributions` (length >= rows x featureCount, overwritten), also writes the exact
   * Saabas path contributions: for every split on a row's path in every tree, (value of the child
   * taken - value of the split) / treeCount goes to the split's feature. Per row they sum to
   * `out[r] - baseValue` (up to floating-point rounding).
   */
  predictBatch(matrix: Float64Array, rows: number, out: Float64Array, contributions?: Float64Array): void {
    const width = this.featureCount;
    this.#scratch.sum(this.#arrays, matrix, rows, width, 0, out, contributions);
    const trees = this.#roots.length;
    if (contributions) {
      for (let j = 0; j < rows * width; j++) contributions[j] = (contributions[j] as number) / trees;
    }
    for (let r = 0; r < rows; r++) out[r] = (out[r] as number) / trees;
  }

  /** Hard votes per tree (0/1), as the library's `predictionValues` computes them. */
  votes(row: ArrayLike<number>): number[] {
    const out: number[] = [];
    for (let t = 0; t < this.#roots.length; t++) {
      let node = this.#roots[t] as number;
      while ((this.#feature[node] as number) < this.featureCount) node = (this.#child[node] as number) + +!((row[this.#feature[node] as number] as number) < (this.#threshold[node] as number));
      out.push((this.#value[node] as number) > 0.5 ? 1 : 0);
    }
    return out;
  }
}

/** ml-cart's tree node as loaded by the library (untyped in its .d.ts). */
interface LibraryTree {
  root: { classify(row: ArrayLike<number>): { get(row: number, column: number): number; columns: number } };
}

/**
 * The reference (slow) path: soft-vote probabilities computed by the library's own objects. Each
 * estimator's ml-cart `TreeNode#classify` walks its tree on the row restricted to the tree's
 * feature `indexes`; the leaf distribution's fraud column (0 when the leaf has only the
 * legitimate class) is summed in tree order and divided by the tree count, exactly as
 * `Forest#predict` does.
 */
export function libraryProbabilities(library: RandomForestClassifier, rows: readonly ArrayLike<number>[]): Float64Array {
  const inner = library as unknown as { estimators: LibraryTree[]; indexes: number[][] };
  const out = new Float64Array(rows.length);
  const projected = inner.indexes.map((idx) => new Array<number>(idx.length));
  rows.forEach((row, r) => {
    let sum = 0;
    inner.estimators.forEach((tree, t) => {
      const idx = inner.indexes[t] as number[];
      const x = projected[t] as number[];
      for (let k = 0; k < idx.length; k++) x[k] = row[idx[k] as number] as number;
      const dist = tree.root.classify(x);
      sum += dist.columns > 1 ? dist.get(0, 1) : 0;
    });
    out[r] = sum / inner.estimators.length;
  });
  return out;
}
