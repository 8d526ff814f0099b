import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { generateClaims } from '../../../fixtures/generator.ts';
import { extractFeatures } from '../../../scoring/features.ts';
import { Forest } from '../../../scoring/forest.ts';
import type { TreeNodeJson, TreeOptionsJson } from '../../../scoring/forest-model.ts';
import { trainForest, TreeGrower } from '../../../training/forest-trainer.ts';

const { claims, labels } = generateClaims({ count: 1500, seed: 17, fraudRate: 0.15 });
const rows = claims.map((c) => extractFeatures(c));
const y = Uint8Array.from(labels, (l) => (l.fraud ? 1 : 0));

describe('TreeGrower', () => {
  it('grows the same tree as ml-cart DecisionTreeClassifier (the naive reference) on the same rows', () => {
    // ml-cart ships no types; it is ml-random-forest's own tree and the reference here.
    const load = createRequire(import.meta.url);
    const { DecisionTreeClassifier } = load('ml-cart') as { DecisionTreeClassifier: new (o: object) => { train(x: number[][], y: number[]): void; toJSON(): { root: unknown } } };
    const n = 300;
    const x = rows.slice(0, n).map((r) => Array.from(r));
    const labelsN = Array.from(y.slice(0, n));
    const options: TreeOptionsJson = { gainFunction: 'gini', splitFunction: 'mean', minNumSamples: 3, maxDepth: 6, gainThreshold: 0.01, kind: 'classifier' };
    const reference = new DecisionTreeClassifier(options);
    reference.train(x, labelsN);
    const columns = Array.from({ length: x[0]!.length }, (_, j) => Float64Array.from(x, (r) => r[j]!));
    const ours = new TreeGrower(columns, Uint8Array.from(labelsN), options, columns.length).grow(Int32Array.from({ length: n }, (_, i) => i), null);

    const compare = (a: TreeNodeJson, b: Record<string, unknown>, at: string): void => {
      if ('distribution' in a) {
        expect(b.distribution, `${at} should be a leaf`).toBeDefined();
        const dist = JSON.parse(JSON.stringify(b.distribution)) as number[][];
        expect(dist[0]!.length, at).toBe(a.distribution[0]!.length);
        a.distribution[0]!.forEach((p, k) => expect(dist[0]![k], at).toBeCloseTo(p, 9));
        return;
      }
      expect(b.distribution, `${at} should split`).toBeUndefined();
      expect(b.splitColumn, at).toBe(a.splitColumn);
      expect(b.splitValue, at).toBe(a.splitValue);
      compare(a.left, b.left as Record<string, unknown>, `${at}L`);
      compare(a.right, b.right as Record<string, unknown>, `${at}R`);
    };
    compare(ours, reference.toJSON().root as Record<string, unknown>, 'root');
  });
});

describe('trainForest / Forest', () => {
  const model = trainForest(rows, y, { seed: 3, nTrees: 25 });
  const forest = Forest.fromJson(JSON.parse(JSON.stringify(model)));

  it('writes a model ml-random-forest loads, whose hard votes match the library prediction', () => {
    expect(forest.treeCount).toBe(25);
    expect(forest.featureCount).toBe(rows[0]!.length);
    const sample = rows.slice(0, 200);
    const library = forest.library.predictionValues(sample.map((r) => Array.from(r)));
    sample.forEach((r, i) => expect(forest.votes(r)).toEqual(library.getRow(i)));
  });

  it('is deterministic for a seed', () => {
    expect(JSON.stringify(trainForest(rows, y, { seed: 3, nTrees: 25 }))).toBe(JSON.stringify(model));
    expect(JSON.stringify(trainForest(rows, y, { seed: 4, nTrees: 25 }))).not.toBe(JSON.stringify(model));
  });

  it('predicts probabilities in [0, 1] that separate the classes', () => {
    let pos = 0;
    let neg = 0;
    rows.forEach((r, i) => {
      const p = forest.predict(r);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      if (y[i]) pos += p / 225;
      else neg += p / 1275;
    });
    expect(pos).toBeGreaterThan(neg + 0.3);
  });

  it('scores a batch tree by tree exactly as row by row, with path contributions summing to p - base', () => {
    const width = forest.featureCount;
    const batch = rows.slice(0, 300);
    const matrix = new Float64Array(batch.length * width);
    batch.forEach((r, i) => matrix.set(r, i * width));
    const out = new Float64Array(batch.length);
    const contributions = new Float64Array(batch.length * width);
    forest.predictBatch(matrix, batch.length, out, contributions);
    batch.forEach((r, i) => {
      expect(out[i]).toBe(forest.predict(r));
      let sum = 0;
      for (let j = 0; j < width; j++) sum += contributions[i * width + j]!;
      expect(Math.abs(sum - (out[i]! - forest.baseValue))).toBeLessThan(1e-12);
    });
    const plain = new Float64Array(batch.length);
    forest.predictBatch(matrix, batch.length, plain);
    expect(plain).toEqual(out);
  });

  it('rejects bad training input and models the library cannot load', () => {
    expect(() => trainForest(rows, new Uint8Array(rows.length), { seed: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => trainForest([[1, 2], [1]], [0, 1], { seed: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => trainForest([[1], [2]], [0, 2], { seed: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => Forest.fromJson({ name: 'Nope' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
