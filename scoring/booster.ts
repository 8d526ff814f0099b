import { InvalidArgumentError } from '../core/errors.ts';
import { type FlatTreeArrays, FlatTreeScratch } from './flat-tree-walk.ts';
import { BoosterModelSchema, type BoosterModelJson } from './booster-model.ts';

/**
 * Gradient-boosted trees ready to score: a `booster.json` model (booster-model.ts), validated and
 * compiled into the same flat typed-array layout as the forest (forest.ts): every tree laid out
 * breadth-first with the two children of a split side by side, a leaf looping on itself through
 * a padding column, so a walk takes a fixed number of steps with no branch.
 *
 * margin = baseMargin + sum of the reached leaves' values (in tree order); probability =
 * sigmoid(margin).
 *
 * Explanations are Saabas path attributions, exact in the sense that they add up: a split's value
 * is the cover-weighted (hessian-weighted) mean of its children's values, and for every split on
 * a row's path, (value of the child taken - value of the split) goes to the split's feature. Per
 * row they sum to margin - `bias`, where `bias` = baseMargin + the sum of the roots' values (the
 * expected margin over the training rows). They were chosen over TreeSHAP for serving speed:
 * O(depth) per tree and row with per-leaf tables, where TreeSHAP costs O(leaves x depth^2); both
 * are exact in sum, Saabas can over-credit features split near the root. `shapValues` gives the
 * exact TreeSHAP values of one row (interventional on the tree's covers, Lundberg et al. 2018,
 * Algorithm 2) for audits; tests check both sum to the margin.
 */
export class Booster {
  readonly featureCount: number;
  readonly treeCount: number;
  readonly baseMargin: number;
  /** Expected margin: baseMargin + the sum of the roots' cover-weighted values. */
  readonly bias: number;
  /** sigmoid(bias): the explanation baseline in probability units. */
  readonly baseValue: number;
  readonly #model: BoosterModelJson;
  readonly #roots: Int32Array;
  readonly #depths: Int32Array;
  readonly #feature: Int32Array;
  readonly #threshold: Float64Array;
  readonly #child: Int32Array;
  readonly #value: Float64Array;
  readonly #pathStart: Int32Array;
  readonly #pathEnd: Int32Array;
  readonly #pathFeature: Int32Array;
  readonly #pathDelta: Float64Array;
  readonly #scratch = new FlatTreeScratch();

  private constructor(model: BoosterModelJson) {
    this.#model = model;
    this.featureCount = model.featureCount;
    this.treeCount = model.trees.length;
    this.baseMargin = model.baseMargin;
    const width = this.featureCount;
    let total = 0;
    for (const t of model.trees) total += t.feature.length;
    const f2 = new Int32Array(total);
    const t2 = new Float64Array(total);
    const c2 = new Int32Array(total);
    const v2 = new Float64Array(total);
    const pathStart = new Int32Array(total);
    const pathEnd = new Int32Array(total);
    const pathFeature: number[] = [];
    const pathDelta: number[] = [];
    const roots: number[] = [];
    const depths: number[] = [];
    let next = 0;
    let bias = model.baseMargin;
    for (const tree of model.trees) {
      // Node values: leaves their weight, splits the cover-weighted mean of their children.
      const value = treeValues(tree);
      bias += value[0] as number;
      let depth = 0;
      const queue: { old: number; id: number; path: [number, number][] }[] = [{ old: 0, id: next++, path: [] }];
      roots.push(queue[0]!.id);
      for (let q = 0; q < queue.length; q++) {
        const { old, id, path } = queue[q]!;
        const f = tree.feature[old] as number;
        v2[id] = value[old] as number;
        depth = Math.max(depth, path.length);
        if (f >= 0) {
          f2[id] = f;
          t2[id] = tree.threshold[old] as number;
          c2[id] = next;
          const l = tree.left[old] as number;
          const r = tree.right[old] as number;
          queue.push({ old: l, id: next++, path: [...path, [f, (value[l] as number) - (value[old] as number)]] });
          queue.push({ old: r, id: next++, path: [...path, [f, (value[r] as number) - (value[old] as number)]] });
        } else {
          const byFeature = new Map<number, number>();
          for (const [pf, d] of path) byFeature.set(pf, (byFeature.get(pf) ?? 0) + d);
          pathStart[id] = pathFeature.length;
          for (const [pf, d] of byFeature) {
            pathFeature.push(pf);
            pathDelta.push(d);
          }
          pathEnd[id] = pathFeature.length;
          f2[id] = width;
          t2[id] = 1;
          c2[id] = id;
        }
      }
      depths.push(depth);
    }
    this.#roots = Int32Array.from(roots);
    this.#depths = Int32Array.from(depths);
    this.#feature = f2;
    this.#threshold = t2;
    this.#child = c2;
    this.#value = v2;
    this.#pathStart = pathStart;
    this.#pathEnd = pathEnd;
    this.#pathFeature = Int32Array.from(pathFeature);
    this.#pathDelta = Float64Array.from(pathDelta);
    this.bias = bias;
    this.baseValue = sigmoid(bias);
  }

  /**
   * Validates and compiles a `booster.json` model.
   * @throws InvalidArgumentError when it does not match the format or a tree is malformed
   * (a child out of range or reached twice, a split on a feature outside the model).
   */
  static fromJson(json: unknown): Booster {
    const parsed = BoosterModelSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidArgumentError(`not a booster model: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
    }
    const model = parsed.data;
    model.trees.forEach((tree, t) => {
      const m = tree.feature.length;
      if (tree.threshold.length !== m || tree.left.length !== m || tree.right.length !== m || tree.value.length !== m || tree.cover.length !== m) throw new InvalidArgumentError(`booster tree ${t}: node arrays of different lengths`);
      const parents = new Uint8Array(m);
      for (let id = 0; id < m; id++) {
        const f = tree.feature[id] as number;
        const l = tree.left[id] as number;
        const r = tree.right[id] as number;
        if (f < 0) {
          if (l !== -1 || r !== -1) throw new InvalidArgumentError(`booster tree ${t}: leaf ${id} has children`);
          continue;
        }
        if (f >= model.featureCount) throw new InvalidArgumentError(`booster tree ${t}: node ${id} splits on feature ${f}, the model has ${model.featureCount}`);
        // Children after their parent and reached once: the nodes form one tree (no cycle).
        for (const c of [l, r]) {
          if (!(c > id && c < m) || parents[c] !== 0) throw new InvalidArgumentError(`booster tree ${t}: node ${id} has an invalid child ${c}`);
          parents[c] = 1;
        }
      }
      for (let id = 1; id < m; id++) if (parents[id] === 0) throw new InvalidArgumentError(`booster tree ${t}: node ${id} is not reachable`);
    });
    return new Booster(model);
  }

  /** The validated model, for `toJSON`-style round trips. */
  get model(): BoosterModelJson {
    return this.#model;
  }

  /** Margin (log-odds) of one feature vector. */
  predictMargin(row: ArrayLike<number>): number {
    const feature = this.#feature;
    const threshold = this.#threshold;
    const child = this.#child;
    const width = this.featureCount;
    let sum = this.baseMargin;
    for (let t = 0; t < this.#roots.length; t++) {
      let node = this.#roots[t] as number;
      for (;;) {
        const f = feature[node] as number;
        if (f >= width) break;
        node = (child[node] as number) + +!((row[f] as number) < (threshold[node] as number));
      }
      sum += this.#value[node] as number;
    }
    return sum;
  }

  /** The typed arrays the shared batch walk reads (flat-tree-walk.ts). */
  get #arrays(): FlatTreeArrays {
    return { feature: this.#feature, threshold: this.#threshold, child: this.#child, value: this.#value, roots: this.#roots, depths: this.#depths, pathStart: this.#pathStart, pathEnd: this.#pathEnd, pathFeature: this.#pathFeature, pathDelta: this.#pathDelta };
  }

  /**
   * Batch margins: `matrix` is row-major (`rows` x featureCount). With `contributions` (length >=
   * rows x featureCount, overwritten), also the Saabas path contributions in margin units; per
   * row they sum to `out[r] - bias` up to rounding. Same sums in the same order as
   * `predictMargin`, hence identical margins.
   */
  predictMarginBatch(matrix: Float64Array, rows: number, out: Float64Array, contributions?: Float64Array): void {
    const width = this.featureCount;
    this.#scratch.sum(this.#arrays, matrix, rows, width, this.baseMargin, out, contributions);
  }

  /**
   * Batch fraud probabilities, sigmoid(margin). With `contributions`, the margin contributions
   * carried into probability units by the sigmoid's secant slope (p - baseValue) / (margin -
   * bias) (its derivative when the margin is within 1e-12 of the bias), so per row they sum to
   * `out[r] - baseValue`.
   */
  predictBatch(matrix: Float64Array, rows: number, out: Float64Array, contributions?: Float64Array): void {
    this.predictMarginBatch(matrix, rows, out, contributions);
    const width = this.featureCount;
    for (let r = 0; r < rows; r++) {
      const m = out[r] as number;
      const p = sigmoid(m);
      out[r] = p;
      if (contributions) {
        const k = Math.abs(m - this.bias) > 1e-12 ? (p - this.baseValue) / (m - this.bias) : p * (1 - p);
        for (let j = 0, at = r * width; j < width; j++, at++) contributions[at] = k * (contributions[at] as number);
      }
    }
  }

  /**
   * Exact TreeSHAP values of one row in margin units (path-dependent, on the trees' covers):
   * `phi[j]` per feature; they sum to margin - bias up to rounding. O(trees x leaves x depth^2).
   */
  shapValues(row: ArrayLike<number>): Float64Array {
    const phi = new Float64Array(this.featureCount);
    for (const tree of this.#model.trees) treeShap(tree, row, phi);
    return phi;
  }
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** Leaf weights, and for splits the cover-weighted mean of their children (children first). */
function treeValues(tree: BoosterModelJson['trees'][number]): Float64Array {
  const m = tree.feature.length;
  const value = new Float64Array(m);
  const cover = new Float64Array(m);
  // Children come after their parent: a reverse sweep sees both children before the split.
  for (let id = m - 1; id >= 0; id--) {
    if ((tree.feature[id] as number) < 0) {
      value[id] = tree.value[id] as number;
      cover[id] = tree.cover[id] as number;
      continue;
    }
    const l = tree.left[id] as number;
    const r = tree.right[id] as number;
    const cl = cover[l] as number;
    const cr = cover[r] as number;
    value[id] = cl + cr > 0 ? ((value[l] as number) * cl + (value[r] as number) * cr) / (cl + cr) : ((value[l] as number) + (value[r] as number)) / 2;
    cover[id] = cl + cr > 0 ? cl + cr : 0;
  }
  return value;
}

/** One element of the TreeSHAP path: feature, zero fraction, one fraction, permutation weight. */
interface PathElement {
  d: number;
  z: number;
  o: number;
  w: number;
}

/** Lundberg, Erion & Lee (2018), "Consistent individualized feature attribution for tree ensembles", Algorithm 2. */
function treeShap(tree: BoosterModelJson['trees'][number], x: ArrayLike<number>, phi: Float64Array): void {
  const cover = nodeCovers(tree);
  const extend = (m: PathElement[], pz: number, po: number, pi: number): PathElement[] => {
    const path = m.map((e) => ({ ...e }));
    const l = path.length;
    path.push({ d: pi, z: pz, o: po, w: l === 0 ? 1 : 0 });
    for (let i = l - 1; i >= 0; i--) {
      const e = path[i] as PathElement;
      const n = path[i + 1] as PathElement;
      n.w += (po * e.w * (i + 1)) / (l + 1);
      e.w = (pz * e.w * (l - i)) / (l + 1);
    }
    return path;
  };
  const unwind = (m: PathElement[], i: number): PathElement[] => {
    const path = m.map((e) => ({ ...e }));
    const l = path.length - 1;
    const { o, z } = path[i] as PathElement;
    let n = (path[l] as PathElement).w;
    for (let j = l - 1; j >= 0; j--) {
      const e = path[j] as PathElement;
      if (o !== 0) {
        const t = e.w;
        e.w = (n * (l + 1)) / ((j + 1) * o);
        n = t - (e.w * z * (l - j)) / (l + 1);
      } else e.w = (e.w * (l + 1)) / (z * (l - j));
    }
    for (let j = i; j < l; j++) {
      const a = path[j] as PathElement;
      const b = path[j + 1] as PathElement;
      a.d = b.d;
      a.z = b.z;
      a.o = b.o;
    }
    path.pop();
    return path;
  };
  const unwoundSum = (m: PathElement[], i: number): number => {
    const l = m.length - 1;
    const { o, z } = m[i] as PathElement;
    let n = (m[l] as PathElement).w;
    let total = 0;
    for (let j = l - 1; j >= 0; j--) {
      if (o !== 0) {
        const t = (n * (l + 1)) / ((j + 1) * o);
        total += t;
        n = (m[j] as PathElement).w - (t * z * (l - j)) / (l + 1);
      } else total += ((m[j] as PathElement).w * (l + 1)) / (z * (l - j));
    }
    return total;
  };
  const recurse = (node: number, m: PathElement[], pz: number, po: number, pi: number): void => {
    const path = extend(m, pz, po, pi);
    const f = tree.feature[node] as number;
    if (f < 0) {
      for (let i = 1; i < path.length; i++) {
        const e = path[i] as PathElement;
        phi[e.d] = (phi[e.d] as number) + unwoundSum(path, i) * (e.o - e.z) * (tree.value[node] as number);
      }
      return;
    }
    const l = tree.left[node] as number;
    const r = tree.right[node] as number;
    const goLeft = (x[f] as number) < (tree.threshold[node] as number);
    const [hot, cold] = goLeft ? [l, r] : [r, l];
    let iz = 1;
    let io = 1;
    let k = 1;
    while (k < path.length && (path[k] as PathElement).d !== f) k++;
    let next = path;
    if (k < path.length) {
      iz = (path[k] as PathElement).z;
      io = (path[k] as PathElement).o;
      next = unwind(path, k);
    }
    const c = cover[node] as number;
    recurse(hot, next, (iz * (cover[hot] as number)) / c, io, f);
    recurse(cold, next, (iz * (cover[cold] as number)) / c, 0, f);
  };
  recurse(0, [], 1, 1, -1);
}

/** Covers of every node (a split's = the sum of its leaves'); zero covers become equal weights. */
function nodeCovers(tree: BoosterModelJson['trees'][number]): Float64Array {
  const m = tree.feature.length;
  const cover = new Float64Array(m);
  for (let id = m - 1; id >= 0; id--) {
    if ((tree.feature[id] as number) < 0) cover[id] = Math.max(tree.cover[id] as number, 1e-300);
    else cover[id] = (cover[tree.left[id] as number] as number) + (cover[tree.right[id] as number] as number);
  }
  return cover;
}
