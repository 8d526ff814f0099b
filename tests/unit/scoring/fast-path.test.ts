import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateClaims } from '../../../fixtures/generator.ts';
import { scoreExplained } from '../../../scoring/ensemble.ts';
import { extractFeatures } from '../../../scoring/features.ts';
import { Forest, libraryProbabilities } from '../../../scoring/forest.ts';
import { trainForest } from '../../../training/forest-trainer.ts';
import { MlpEvaluator } from '../../../scoring/mlp-evaluator.ts';
import { predictMlp } from '../../../scoring/mlp-predict.ts';
import { buildMlp, trainMlp } from '../../../training/mlp.ts';
import { fitNormalizer, normalizeInto } from '../../../scoring/normalizer.ts';
import { initTf, type tf } from '../../../scoring/tf.ts';

const { claims, labels } = generateClaims({ count: 1200, seed: 31, fraudRate: 0.2 });
const rows = claims.map((c) => extractFeatures(c));
const y = Uint8Array.from(labels, (l) => (l.fraud ? 1 : 0));
const width = rows[0]!.length;
const forest = Forest.fromJson(JSON.parse(JSON.stringify(trainForest(rows, y, { seed: 9, nTrees: 30 }))));

/** Feature values drawn around (and far outside) the thresholds the trees use. */
const anyValue = fc.oneof(
  fc.double({ noNaN: false }),
  fc.double({ min: -5, max: 50, noNaN: true }),
  fc.integer({ min: -2, max: 12 }),
  fc.constantFrom(0, 0.5, 1, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
);
const anyRow = fc.array(anyValue, { minLength: width, maxLength: width });
/** Real feature rows with some values replaced by random ones. */
const perturbedRow = fc.tuple(fc.integer({ min: 0, max: rows.length - 1 }), fc.array(fc.tuple(fc.integer({ min: 0, max: width - 1 }), anyValue), { maxLength: 6 })).map(([i, edits]) => {
  const r = Array.from(rows[i]!);
  for (const [j, v] of edits) r[j] = v;
  return r;
});

function toMatrix(batch: readonly ArrayLike<number>[]): Float64Array {
  const m = new Float64Array(batch.length * width);
  batch.forEach((r, i) => m.set(Array.from(r), i * width));
  return m;
}

describe('fast forest vs the library (ml-random-forest / ml-cart trees)', () => {
  it('gives IDENTICAL probabilities on random inputs, row by row and batched (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(anyRow, perturbedRow), { minLength: 1, maxLength: 40 }), (batch) => {
        const reference = libraryProbabilities(forest.library, batch);
        const out = new Float64Array(batch.length);
        forest.predictBatch(toMatrix(batch), batch.length, out);
        batch.forEach((r, i) => {
          expect(Object.is(forest.predict(r), reference[i])).toBe(true);
          expect(Object.is(out[i], reference[i])).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('gives identical probabilities on every real row', () => {
    const reference = libraryProbabilities(forest.library, rows);
    const out = new Float64Array(rows.length);
    forest.predictBatch(toMatrix(rows), rows.length, out);
    expect(Array.from(out)).toEqual(Array.from(reference));
  });

  it('path contributions sum to the probability minus the base value (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(anyRow, perturbedRow), { minLength: 1, maxLength: 30 }), (batch) => {
        const out = new Float64Array(batch.length);
        const contributions = new Float64Array(batch.length * width);
        forest.predictBatch(toMatrix(batch), batch.length, out, contributions);
        batch.forEach((_, i) => {
          let sum = 0;
          for (let j = 0; j < width; j++) sum += contributions[i * width + j]!;
          expect(Math.abs(sum - (out[i]! - forest.baseValue))).toBeLessThan(1e-12);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('credits only features the tree paths test, and the base value is a probability', () => {
    expect(forest.baseValue).toBeGreaterThan(0);
    expect(forest.baseValue).toBeLessThan(1);
    // A feature constant over the training rows is never split on, so it never gets credit.
    const flat = rows.map((r) => Float64Array.from(r, (v, j) => (j === 0 ? 1 : v)));
    const small = Forest.fromJson(trainForest(flat, y, { seed: 2, nTrees: 10 }));
    const out = new Float64Array(flat.length);
    const contributions = new Float64Array(flat.length * width);
    small.predictBatch(toMatrix(flat), flat.length, out, contributions);
    let credited = 0;
    for (let i = 0; i < flat.length; i++) {
      expect(contributions[i * width]).toBe(0);
      for (let j = 1; j < width; j++) if (contributions[i * width + j] !== 0) credited++;
    }
    expect(credited).toBeGreaterThan(flat.length);
  });
});

// The table training chooses between the MLP and the same network without hidden layers (a
// logistic regression): the evaluator must match tf.js for both.
describe.each([{ shape: 'MLP [32, 16]', hidden: [32, 16] }, { shape: 'no hidden layer', hidden: [] }])('MlpEvaluator vs tf.js, $shape', ({ hidden }) => {
  let model: tf.LayersModel;
  let evaluator: MlpEvaluator;
  const normalizer = fitNormalizer(rows);
  const x = new Float32Array(rows.length * width);
  rows.forEach((r, i) => normalizeInto(normalizer, r, x, i * width));

  beforeAll(async () => {
    await initTf();
    model = await trainMlp(x, y, rows.length, width, { seed: 4, epochs: 3, hidden });
    evaluator = MlpEvaluator.fromModel(model);
  }, 60_000);

  it('matches model.predict within 1e-6 on real rows and on random inputs (property)', () => {
    const reference = predictMlp(model, x, rows.length, width);
    const out = new Float64Array(rows.length);
    evaluator.predictBatch(x, rows.length, out);
    for (let i = 0; i < rows.length; i++) expect(Math.abs(out[i]! - reference[i]!)).toBeLessThan(1e-6);
    fc.assert(
      fc.property(fc.array(fc.float({ min: -8, max: 8, noNaN: true }), { minLength: width, maxLength: width * 20 }), (values) => {
        const n = Math.floor(values.length / width);
        const batch = Float32Array.from(values.slice(0, n * width));
        const ref = predictMlp(model, batch, n, width);
        const got = new Float64Array(n);
        evaluator.predictBatch(batch, n, got);
        for (let i = 0; i < n; i++) expect(Math.abs(got[i]! - ref[i]!)).toBeLessThan(1e-6);
      }),
      { numRuns: 100 },
    );
  });

  it('gradient x input equals the central finite-difference gradient times the input', () => {
    const n = 20;
    const out = new Float64Array(n);
    const attributions = new Float64Array(n * width);
    evaluator.predictWithAttributions(x, n, out, attributions);
    const h = 1e-5;
    const probe = new Float64Array(2);
    let checked = 0;
    let off = 0;
    for (let i = 0; i < n; i++) {
      const single = new Float64Array(1);
      evaluator.predictBatch(x.subarray(i * width, (i + 1) * width), 1, single);
      expect(out[i]).toBe(single[0]);
      for (let j = 0; j < width; j++) {
        const xi = x[i * width + j]!;
        if (xi === 0) {
          expect(attributions[i * width + j]).toBe(0);
          continue;
        }
        const pair = new Float32Array(2 * width);
        pair.set(x.subarray(i * width, (i + 1) * width), 0);
        pair.set(x.subarray(i * width, (i + 1) * width), width);
        pair[j] = xi + h;
        pair[width + j] = xi - h;
        evaluator.predictBatch(pair, 2, probe);
        const numeric = (probe[0]! - probe[1]!) / (pair[j]! - pair[width + j]!);
        checked++;
        // A ReLU that switches within +-h breaks the finite difference, not the gradient.
        if (Math.abs(attributions[i * width + j]! / xi - numeric) > 1e-3) off++;
      }
    }
    expect(checked).toBeGreaterThan(200);
    expect(off / checked).toBeLessThan(0.03);
  });

  it('refuses architectures it does not evaluate', async () => {
    const { tf } = await initTf();
    const wrong = tf.sequential();
    wrong.add(tf.layers.dense({ units: 2, activation: 'softmax', inputShape: [3] }));
    expect(() => MlpEvaluator.fromModel(wrong)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const built = buildMlp(width, [8], 1);
    expect(MlpEvaluator.fromModel(built).inputSize).toBe(width);
    expect(MlpEvaluator.fromModel(buildMlp(width, [], 1)).inputSize).toBe(width);
  });

  it('ensemble contributions: the forest part sums exactly to k * w_rf * (rf - base)', () => {
    const n = 200;
    const matrix = toMatrix(rows.slice(0, n));
    const models = { forest, nn: model, mlp: evaluator, normalizer, weights: { rf: 1, nn: 0 }, calibration: { method: 'platt' as const, a: 1.3, b: -0.4 } };
    const explained = scoreExplained(models, matrix, n, width);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < width; j++) sum += explained.contributions[i * width + j]!;
      // With the network weighted 0 the contributions are all forest: they sum to score - baseScore.
      expect(Math.abs(sum - (explained.score[i]! - explained.baseScore))).toBeLessThan(1e-9);
    }
  });
});
