import { InvalidArgumentError } from '../core/errors.ts';
import { Rng } from '../core/random.ts';

/** One isolation tree node: a split on `feature` at `threshold`, or a leaf holding `size` points. */
type Node = { feature: number; threshold: number; left: Node; right: Node } | { size: number };

export interface IsolationForestOptions {
  /** Trees in the forest. Default 100. */
  trees?: number;
  /** Points sampled (without replacement) per tree. Default 256, or all points when fewer. */
  sampleSize?: number;
  /** Seed of the sampling and splits: the same data and seed give the same forest. */
  seed: number;
}

/** Average path length of an unsuccessful BST search among n points (Liu, Ting & Zhou 2008, c(n)). */
function averagePath(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + 0.5772156649) - (2 * (n - 1)) / n;
}

/**
 * Isolation forest (Liu, Ting & Zhou 2008): random axis-parallel splits isolate anomalies in
 * fewer steps than ordinary points. `score` is 2^(-E[h(x)] / c(ψ)) in (0, 1]: about 0.5 for
 * ordinary points, towards 1 for anomalies. Deterministic for a seed. Small on purpose (no
 * maintained npm package fits a TypeScript service without native code); checked in
 * tests/unit/monitoring/isolation-forest.test.ts against planted outliers.
 */
export class IsolationForest {
  readonly #trees: Node[];
  readonly #sampleSize: number;
  readonly dimensions: number;

  private constructor(trees: Node[], sampleSize: number, dimensions: number) {
    this.#trees = trees;
    this.#sampleSize = sampleSize;
    this.dimensions = dimensions;
  }

  /** @throws InvalidArgumentError for no points, ragged rows or non-finite values. */
  static fit(points: readonly (readonly number[])[], options: IsolationForestOptions): IsolationForest {
    if (points.length === 0) throw new InvalidArgumentError('an isolation forest needs at least one point');
    const dimensions = points[0]!.length;
    for (const p of points) {
      if (p.length !== dimensions) throw new InvalidArgumentError(`every point needs ${dimensions} features, got ${p.length}`);
      if (!p.every(Number.isFinite)) throw new InvalidArgumentError('features must be finite numbers');
    }
    const trees = options.trees ?? 100;
    const sampleSize = Math.min(options.sampleSize ?? 256, points.length);
    const rng = new Rng(options.seed);
    const heightLimit = Math.ceil(Math.log2(Math.max(2, sampleSize)));
    const forest: Node[] = [];
    for (let t = 0; t < trees; t++) {
      const sample = sampleIndexes(points.length, sampleSize, rng).map((i) => points[i]!);
      forest.push(grow(sample, 0, heightLimit, rng));
    }
    return new IsolationForest(forest, sampleSize, dimensions);
  }

  /** Anomaly score of one point, in (0, 1]. */
  score(point: readonly number[]): number {
    if (point.length !== this.dimensions) throw new InvalidArgumentError(`expected ${this.dimensions} features, got ${point.length}`);
    const mean = this.#trees.reduce((sum, tree) => sum + pathLength(tree, point, 0), 0) / this.#trees.length;
    const c = averagePath(this.#sampleSize);
    return c === 0 ? 0.5 : 2 ** (-mean / c);
  }
}

function sampleIndexes(n: number, k: number, rng: Rng): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = rng.int(i, n - 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, k);
}

function grow(points: readonly (readonly number[])[], depth: number, limit: number, rng: Rng): Node {
  if (depth >= limit || points.length <= 1) return { size: points.length };
  // Only features that still vary can split.
  const dims = points[0]!.length;
  const varying: Array<{ feature: number; min: number; max: number }> = [];
  for (let f = 0; f < dims; f++) {
    let min = Infinity;
    let max = -Infinity;
    for (const p of points) {
      if (p[f]! < min) min = p[f]!;
      if (p[f]! > max) max = p[f]!;
    }
    if (max > min) varying.push({ feature: f, min, max });
  }
  if (varying.length === 0) return { size: points.length };
  const { feature, min, max } = varying[rng.int(0, varying.length - 1)]!;
  const threshold = rng.float(min, max);
  const left = points.filter((p) => p[feature]! < threshold);
  const right = points.filter((p) => p[feature]! >= threshold);
  return { feature, threshold, left: grow(left, depth + 1, limit, rng), right: grow(right, depth + 1, limit, rng) };
}

function pathLength(node: Node, point: readonly number[], depth: number): number {
  if ('size' in node) return depth + averagePath(node.size);
  return pathLength(point[node.feature]! < node.threshold ? node.left : node.right, point, depth + 1);
}
