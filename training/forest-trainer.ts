import { InvalidArgumentError } from '../core/errors.ts';
import { Rng } from '../core/random.ts';
import type { ForestModelJson, TreeNodeJson, TreeOptionsJson } from '../scoring/forest-model.ts';

/**
 * Trains a random forest and returns it in the model format of `ml-random-forest`
 * (`RandomForestClassifier#toJSON()`), which scoring loads with `RandomForestClassifier.load`.
 *
 * Why not `new RandomForestClassifier().train()`: its CART (ml-cart 2.1) evaluates every
 * candidate threshold by re-partitioning the node and recounting classes with an
 * `indexOf`-based scan, O(n^2) per feature and node; one 3,200-row tree took 2-30 s here, so a
 * 20k-claim forest would take hours. This trainer grows the same CART trees (gini gain,
 * thresholds at the mean of two adjacent values where the sorted labels change, ml-cart's stop
 * rules: `rows <= minNumSamples`, `depth < maxDepth`, `gain > gainThreshold`, `gain !== parent
 * gain`) with prefix counts in O(n log n) per feature and node, and writes the library's format.
 * tests/unit/scoring/forest.test.ts checks it against ml-cart's own trees on a small data set.
 *
 * Two documented departures from the library's training loop, both standard random-forest
 * practice: features are sampled per split (`mtry`) instead of once per tree, so every tree's
 * `indexes` entry is the identity; and each tree grows on a *balanced bootstrap* (Chen, Liaw &
 * Breiman 2004, "balanced random forest"): a bootstrap of the positives plus as many negatives
 * times `negativeRatio`, drawn with replacement. Leaf probabilities are therefore on the balanced
 * scale; the ensemble calibrates them afterwards.
 */

export interface ForestTrainOptions {
  /** Trees in the forest. Default 80. */
  nTrees?: number;
  /** Maximum depth (splits from the root). Default 10. */
  maxDepth?: number;
  /** A node with this many rows or fewer becomes a leaf (ml-cart semantics). Default 5. */
  minNumSamples?: number;
  /** Smallest gini gain worth a split. Default 0.0005. */
  gainThreshold?: number;
  /** Features tried at each split. Default ceil(sqrt(features)) + 1. */
  mtry?: number;
  /** Negatives drawn per positive in each tree's balanced bootstrap. Default 1. */
  negativeRatio?: number;
  /** Seed for bootstraps and feature sampling, integer in [0, 2^32). */
  seed: number;
  /** Called after each tree with the number of trees done. */
  onTree?: (done: number, total: number) => void;
}

/**
 * Grows the forest. `rows` are feature vectors of equal length; `labels` 0 (legitimate) or 1
 * (fraud), both classes present.
 *
 * @throws InvalidArgumentError for empty or ragged input, labels other than 0/1, one class only.
 */
export function trainForest(rows: readonly ArrayLike<number>[], labels: ArrayLike<number>, options: ForestTrainOptions): ForestModelJson {
  const n = rows.length;
  if (n === 0 || labels.length !== n) throw new InvalidArgumentError(`need as many labels as rows (got ${n} rows, ${labels.length} labels)`);
  const width = (rows[0] as ArrayLike<number>).length;
  const columns = Array.from({ length: width }, () => new Float64Array(n));
  const y = new Uint8Array(n);
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = rows[i] as ArrayLike<number>;
    if (row.length !== width) throw new InvalidArgumentError(`row ${i} has ${row.length} features, expected ${width}`);
    for (let j = 0; j < width; j++) (columns[j] as Float64Array)[i] = row[j] as number;
    const label = labels[i];
    if (label !== 0 && label !== 1) throw new InvalidArgumentError(`label ${i} is ${label}, expected 0 or 1`);
    y[i] = label;
    (label === 1 ? positives : negatives).push(i);
  }
  if (positives.length === 0 || negatives.length === 0) throw new InvalidArgumentError('training needs both classes');

  const nTrees = options.nTrees ?? 80;
  const treeOptions: TreeOptionsJson = {
    gainFunction: 'gini',
    splitFunction: 'mean',
    minNumSamples: options.minNumSamples ?? 5,
    maxDepth: options.maxDepth ?? 10,
    gainThreshold: options.gainThreshold ?? 0.0005,
    kind: 'classifier',
  };
  const mtry = Math.min(width, options.mtry ?? Math.ceil(Math.sqrt(width)) + 1);
  const negativeRatio = options.negativeRatio ?? 1;
  const rng = new Rng(options.seed);
  const grower = new TreeGrower(columns, y, treeOptions, mtry);
  const estimators: ForestModelJson['baseModel']['estimators'] = [];
  for (let t = 0; t < nTrees; t++) {
    const treeRng = rng.fork();
    const sample: number[] = [];
    for (let i = 0; i < positives.length; i++) sample.push(treeRng.pick(positives));
    const negCount = Math.min(negatives.length * 4, Math.round(positives.length * negativeRatio));
    for (let i = 0; i < negCount; i++) sample.push(treeRng.pick(negatives));
    treeRng.shuffle(sample);
    estimators.push({ options: treeOptions, root: grower.grow(Int32Array.from(sample), treeRng), name: 'DTClassifier' });
    options.onTree?.(t + 1, nTrees);
  }
  const identity = Array.from({ length: width }, (_, j) => j);
  return {
    name: 'RFClassifier',
    baseModel: {
      indexes: estimators.map(() => identity),
      n: width,
      replacement: false,
      maxFeatures: mtry,
      nEstimators: nTrees,
      treeOptions,
      isClassifier: true,
      seed: options.seed,
      estimators,
      useSampleBagging: true,
    },
  };
}

/**
 * Grows one CART tree over a row sample. `growAll` (no bootstrap, every feature at every split)
 * reproduces ml-cart's DecisionTreeClassifier, which the tests rely on.
 */
export class TreeGrower {
  readonly #columns: readonly Float64Array[];
  readonly #y: Uint8Array;
  readonly #options: TreeOptionsJson;
  readonly #mtry: number;

  constructor(columns: readonly Float64Array[], y: Uint8Array, options: TreeOptionsJson, mtry: number) {
    this.#columns = columns;
    this.#y = y;
    this.#options = options;
    this.#mtry = mtry;
  }

  /** Grows a tree on `sample` (row indexes, order matters for ties exactly as in ml-cart). */
  grow(sample: Int32Array, rng: Rng | null): TreeNodeJson {
    return this.#node(sample, 0, undefined, rng);
  }

  #leaf(rows: Int32Array): TreeNodeJson {
    let ones = 0;
    for (const r of rows) ones += this.#y[r] as number;
    const m = rows.length;
    // ml-cart sizes the distribution by the largest label present: [[1]] for a pure-0 leaf.
    // `numberSamples` on a leaf is our addition (ml-cart writes it on splits only; its loader
    // ignores it on leaves): it weights the split values of the explanations (see forest.ts).
    return { distribution: ones === 0 ? [[1]] : [[(m - ones) / m, ones / m]], numberSamples: m };
  }

  #node(rows: Int32Array, depth: number, parentGain: number | undefined, rng: Rng | null): TreeNodeJson {
    const m = rows.length;
    const { minNumSamples, maxDepth, gainThreshold } = this.#options;
    if (m <= minNumSamples) return this.#leaf(rows);
    const width = this.#columns.length;
    let features: number[];
    if (rng === null || this.#mtry >= width) features = Array.from({ length: width }, (_, j) => j);
    else features = rng.sample(Array.from({ length: width }, (_, j) => j), this.#mtry).sort((a, b) => a - b);

    const y = this.#y;
    let total1 = 0;
    for (const r of rows) total1 += y[r] as number;
    const parentImpurity = gini(total1, m);
    let bestGain = -Infinity;
    let bestColumn = -1;
    let bestValue = 0;
    const order = new Int32Array(m);
    const values = new Float64Array(m);
    const sortedY = new Uint8Array(m);
    const prefix1 = new Int32Array(m + 1);
    for (const j of features) {
      const col = this.#columns[j] as Float64Array;
      for (let i = 0; i < m; i++) {
        order[i] = i;
        values[i] = col[rows[i] as number] as number;
      }
      // Stable by position, as ml-cart's Array#sort over zipped (x, y) pairs.
      order.sort((a, b) => (values[a] as number) - (values[b] as number) || a - b);
      for (let i = 0; i < m; i++) {
        sortedY[i] = y[rows[order[i] as number] as number] as number;
        prefix1[i + 1] = (prefix1[i] as number) + (sortedY[i] as number);
      }
      let tieStart = 0;
      for (let i = 1; i < m; i++) {
        const prev = values[order[i - 1] as number] as number;
        const cur = values[order[i] as number] as number;
        if (cur !== prev) tieStart = i;
        if (sortedY[i - 1] === sortedY[i]) continue;
        const split = (prev + cur) / 2;
        // Rows going left are those strictly below `split`: all before i when the values
        // differ, only those before the tie group when they are equal (split === value).
        const left = prev < cur ? i : tieStart;
        const left1 = prefix1[left] as number;
        const gain = parentImpurity - (left / m) * gini(left1, left) - ((m - left) / m) * gini(total1 - left1, m - left);
        if (gain > bestGain) {
          bestGain = gain;
          bestColumn = j;
          bestValue = split;
        }
      }
    }
    if (bestColumn < 0 || depth >= maxDepth || !(bestGain > gainThreshold) || bestGain === parentGain) return this.#leaf(rows);
    const col = this.#columns[bestColumn] as Float64Array;
    let leftCount = 0;
    for (const r of rows) if ((col[r] as number) < bestValue) leftCount++;
    if (leftCount === 0 || leftCount === m) return this.#leaf(rows);
    const leftRows = new Int32Array(leftCount);
    const rightRows = new Int32Array(m - leftCount);
    let a = 0;
    let b = 0;
    for (const r of rows) {
      if ((col[r] as number) < bestValue) leftRows[a++] = r;
      else rightRows[b++] = r;
    }
    return {
      splitValue: bestValue,
      splitColumn: bestColumn,
      gain: bestGain,
      numberSamples: m,
      left: this.#node(leftRows, depth + 1, bestGain, rng),
      right: this.#node(rightRows, depth + 1, bestGain, rng),
    };
  }
}

function gini(ones: number, count: number): number {
  if (count === 0) return 0;
  const p = ones / count;
  return 1 - p * p - (1 - p) * (1 - p);
}
