import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../core/random.ts';
import { Booster, sigmoid } from '../../../scoring/booster.ts';
import { BOOSTER_FORMAT, type BoosterModelJson, type BoosterTreeJson } from '../../../scoring/booster-model.ts';
import { trainBooster, walkRaw } from '../../../training/booster-trainer.ts';

/** A random tree in pre-order over `width` features, thresholds and values on a small grid. */
function randomTree(rng: Rng, width: number, maxDepth: number): BoosterTreeJson {
  const t: BoosterTreeJson = { feature: [], threshold: [], left: [], right: [], value: [], cover: [] };
  const grow = (depth: number): number => {
    const id = t.feature.length;
    t.feature.push(-1);
    t.threshold.push(0);
    t.left.push(-1);
    t.right.push(-1);
    t.value.push(0);
    t.cover.push(0);
    if (depth < maxDepth && rng.chance(0.75)) {
      t.feature[id] = rng.int(0, width - 1);
      t.threshold[id] = rng.int(0, 4) + 0.5;
      t.left[id] = grow(depth + 1);
      t.right[id] = grow(depth + 1);
      t.cover[id] = t.cover[t.left[id]!]! + t.cover[t.right[id]!]!;
    } else {
      t.value[id] = rng.float(-1, 1);
      t.cover[id] = rng.float(0.1, 5);
    }
    return id;
  };
  grow(0);
  return t;
}

function randomModel(seed: number, width: number, trees: number, maxDepth: number): BoosterModelJson {
  const rng = new Rng(seed);
  return { format: BOOSTER_FORMAT, featureCount: width, baseMargin: rng.float(-3, 0), trees: Array.from({ length: trees }, () => randomTree(rng, width, maxDepth)) };
}

function randomRows(seed: number, n: number, width: number): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Float64Array.from({ length: width }, () => rng.int(0, 5)));
}

/** Path-dependent conditional expectation of a tree given the features in `known` (cover-weighted). */
function expectation(tree: BoosterTreeJson, x: ArrayLike<number>, known: Set<number>, node = 0): number {
  const f = tree.feature[node]!;
  if (f < 0) return tree.value[node]!;
  const l = tree.left[node]!;
  const r = tree.right[node]!;
  if (known.has(f)) return expectation(tree, x, known, x[f]! < tree.threshold[node]! ? l : r);
  const cl = tree.cover[l]!;
  const cr = tree.cover[r]!;
  return (cl * expectation(tree, x, known, l) + cr * expectation(tree, x, known, r)) / (cl + cr);
}

/** Shapley values by enumerating every coalition (small widths only). */
function bruteShapley(model: BoosterModelJson, x: ArrayLike<number>): Float64Array {
  const M = model.featureCount;
  const phi = new Float64Array(M);
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const value = (known: Set<number>): number => model.trees.reduce((s, t) => s + expectation(t, x, known), 0);
  for (let j = 0; j < M; j++) {
    for (let mask = 0; mask < 1 << M; mask++) {
      if (mask & (1 << j)) continue;
      const s = new Set<number>();
      for (let k = 0; k < M; k++) if (mask & (1 << k)) s.add(k);
      const weight = (fact(s.size) * fact(M - s.size - 1)) / fact(M);
      const withJ = new Set(s).add(j);
      phi[j] = phi[j]! + weight * (value(withJ) - value(s));
    }
  }
  return phi;
}

describe('Booster (flat evaluator)', () => {
  it('scores random trees as the naive walk does, batch == single, and contributions + bias sum to the margin', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 37 }), (seed, width, trees, rows) => {
        const model = randomModel(seed, width, trees, 6);
        const booster = Booster.fromJson(model);
        const data = randomRows(seed + 1, rows, width);
        const matrix = new Float64Array(rows * width);
        data.forEach((r, i) => matrix.set(r, i * width));
        const margins = new Float64Array(rows);
        const contributions = new Float64Array(rows * width);
        booster.predictMarginBatch(matrix, rows, margins, contributions);
        data.forEach((row, i) => {
          let naive = model.baseMargin;
          for (const t of model.trees) naive += walkRaw(t, row);
          expect(margins[i]).toBe(booster.predictMargin(row));
          expect(margins[i]!).toBeCloseTo(naive, 12);
          let sum = booster.bias;
          for (let j = 0; j < width; j++) sum += contributions[i * width + j]!;
          expect(sum).toBeCloseTo(margins[i]!, 10);
          const shap = booster.shapValues(row);
          expect(shap.reduce((s, v) => s + v, booster.bias)).toBeCloseTo(margins[i]!, 10);
        });
        // Probability units: sigmoid of the margin, contributions sum to p - baseValue.
        const probs = new Float64Array(rows);
        const pc = new Float64Array(rows * width);
        booster.predictBatch(matrix, rows, probs, pc);
        for (let i = 0; i < rows; i++) {
          expect(probs[i]).toBe(sigmoid(margins[i]!));
          let sum = booster.baseValue;
          for (let j = 0; j < width; j++) sum += pc[i * width + j]!;
          expect(sum).toBeCloseTo(probs[i]!, 10);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('shapValues are the exact Shapley values of the cover-weighted expectations (brute force)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), (seed, width, trees) => {
        const model = randomModel(seed, width, trees, 5);
        const booster = Booster.fromJson(model);
        for (const row of randomRows(seed + 2, 4, width)) {
          const fast = booster.shapValues(row);
          const brute = bruteShapley(model, row);
          for (let j = 0; j < width; j++) expect(fast[j]!).toBeCloseTo(brute[j]!, 9);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('serves a trained model with the trainer\'s own predictions', () => {
    const rng = new Rng(4);
    const rows = Array.from({ length: 500 }, () => Float64Array.from({ length: 4 }, () => rng.normal()));
    const y = Uint8Array.from(rows, (r) => (r[0]! + r[1]! * r[2]! + 0.3 * rng.normal() > 0.8 ? 1 : 0));
    const { model } = trainBooster(rows, y, { seed: 3, rounds: 30 });
    const booster = Booster.fromJson(JSON.parse(JSON.stringify(model)));
    expect(booster.treeCount).toBe(30);
    for (const row of rows.slice(0, 50)) expect(booster.predictMargin(row)).toBeCloseTo(model.trees.reduce((s, t) => s + walkRaw(t, row), model.baseMargin), 12);
  });

  it('rejects malformed models with a clear error', () => {
    const good = randomModel(1, 3, 2, 3);
    expect(() => Booster.fromJson({ ...good, format: 'x' })).toThrow(/not a booster model: format/);
    const rng = new Rng(9);
    let tree = randomTree(rng, 3, 3);
    while (tree.feature[0] === -1) tree = randomTree(rng, 3, 3);
    expect(() => Booster.fromJson({ ...good, trees: [{ ...tree, feature: tree.feature.map((f) => (f >= 0 ? 7 : f)) }] })).toThrow(/splits on feature 7/);
    expect(() => Booster.fromJson({ ...good, trees: [{ ...tree, left: tree.left.map((l, i) => (i === 0 ? 0 : l)) }] })).toThrow(/invalid child/);
    expect(() => Booster.fromJson({ ...good, trees: [{ ...tree, cover: tree.cover.slice(1) }] })).toThrow(/different lengths/);
  });
});
