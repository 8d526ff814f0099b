import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOSTER_CHECKPOINT, crossValidate, stratifiedFolds, TABLE_BOOSTER_CANDIDATES, TABLE_NETWORK_CANDIDATES, type CrossValidation, type FitEvent } from '../../../training/cross-validate.ts';
import { parseFeatureSpec } from '../../../training/tables/feature-spec.ts';
import { rocAuc } from '../../../training/evaluation/metrics.ts';
import { Rng } from '../../../core/random.ts';
import { loadTableBundle, saveTableBundle } from '../../../training/tables/table-bundle.ts';
import type { TableRow } from '../../../training/tables/table-reader.ts';

// A table where fraud depends on an amount, a category and a code list, with noise columns.
const rng = new Rng(5);
const rows: TableRow[] = [];
const labels = new Uint8Array(600);
for (let i = 0; i < 600; i++) {
  const fraud = rng.next() < 0.15 ? 1 : 0;
  labels[i] = fraud;
  rows.push({
    amount: String(Math.round((fraud ? 3000 : 1000) * (0.5 + rng.next()))),
    noise: String(rng.next()),
    kind: fraud && rng.next() < 0.7 ? 'x' : rng.pick(['a', 'b', 'c']),
    codes: fraud && rng.next() < 0.5 ? 'K1;K2;K3' : 'A1',
    label: fraud ? 'Y' : 'N',
  });
}
const spec = parseFeatureSpec({
  format: 'claimtrail-feature-spec-v1',
  features: [
    { type: 'numeric', columns: ['amount', 'noise'], log: true },
    { type: 'categorical', column: 'kind', encoding: 'target' },
    { type: 'codeList', name: 'codes', columns: ['codes'], sets: { k: ['K*'] } },
  ],
});

const options = { rows, labels, spec, folds: 3, innerFolds: 2, seed: 2, trees: 20, epochs: 5 };
let cv: CrossValidation;
const fits: FitEvent[] = [];
let dir = '';
beforeAll(async () => {
  cv = await crossValidate({ ...options, onFit: (e) => fits.push(e) });
  dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-cv-'));
}, 120_000);
afterAll(async () => {
  cv?.final?.nn.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('stratifiedFolds', () => {
  it('deals each class evenly over the folds', () => {
    const folds = stratifiedFolds(labels, 5, new Rng(1));
    for (let f = 0; f < 5; f++) {
      const inFold = Array.from(folds.keys()).filter((i) => folds[i] === f);
      const positives = inFold.filter((i) => labels[i] === 1).length;
      const total = labels.reduce((s, v) => s + v, 0);
      expect(Math.abs(positives - total / 5)).toBeLessThanOrEqual(1);
    }
  });
});

describe('crossValidate', () => {
  it('scores every row out of fold and learns the signal', () => {
    expect(new Set(cv.foldOf)).toEqual(new Set([0, 1, 2]));
    for (const s of [cv.rf, cv.nn, cv.ensemble]) for (const p of s) expect(p).toBeGreaterThanOrEqual(0);
    expect(rocAuc(cv.rf, labels)).toBeGreaterThan(0.85);
    expect(rocAuc(cv.ensemble, labels)).toBeGreaterThan(0.85);
    expect(cv.featureNames).toEqual(['amount', 'noise', 'kind__target', 'codes__count', 'codes__k']);
  });

  it('never fits anything on an outer fold\'s held-out rows', () => {
    for (let f = 0; f < 3; f++) {
      const held = new Set(Array.from(cv.foldOf.keys()).filter((i) => cv.foldOf[i] === f));
      const events = fits.filter((e) => e.outerFold === f);
      // 2 inner splits, the combination (forest setting, epochs, stacker, Platt, thresholds), the fold's models.
      expect(events.map((e) => e.stage)).toEqual(['inner-model', 'inner-model', 'combination', 'fold-model']);
      for (const e of events) {
        expect(e.rows.some((i) => held.has(i))).toBe(false);
        expect(e.rows.length).toBeGreaterThan(0);
      }
      // The combination uses exactly the training part: every row not held out.
      expect(events[2]?.rows.length).toBe(rows.length - held.size);
      // The inner splits each leave out a part of it, together all of it.
      const innerUnion = new Set(events.slice(0, 2).flatMap((e) => e.rows));
      expect(innerUnion.size).toBe(rows.length - held.size);
    }
    const final = fits.filter((e) => e.outerFold === null);
    expect(final.map((e) => e.stage)).toEqual(['inner-model', 'inner-model', 'combination', 'final-model']);
    expect(final.at(-1)?.rows.length).toBe(rows.length);
  });

  it('reports per-fold figures and the inner choices', () => {
    expect(cv.folds.map((f) => f.fold)).toEqual([0, 1, 2]);
    for (const f of cv.folds) {
      expect(f.combination.weights.rf + f.combination.weights.nn + f.combination.weights.gb).toBeCloseTo(1, 12);
      // Booster setting and rounds chosen on the inner folds, among the candidates and checkpoints.
      expect(f.combination.booster).not.toBeNull();
      expect(f.combination.booster!.rounds % BOOSTER_CHECKPOINT).toBe(0);
      expect(f.combination.booster!.setting).toBe(TABLE_BOOSTER_CANDIDATES[f.combination.booster!.index]);
      expect(f.combination.inner.gbRocAuc).toBeGreaterThan(0.8);
      // The network too: one of the candidates (the MLP or no hidden layer).
      expect(TABLE_NETWORK_CANDIDATES).toContain(f.combination.network);
      expect(f.combination.epochs).toBeGreaterThanOrEqual(1);
      expect(f.combination.epochs).toBeLessThanOrEqual(5);
      expect(f.combination.inner.forestRocAuc).toHaveLength(3);
      for (const m of Object.values(f.metrics)) {
        expect(m.rocAuc).toBeGreaterThan(0.8);
        expect(m.f1).toBeGreaterThan(0.3);
      }
    }
    const w = cv.final!.combination.weights;
    expect(cv.final?.weights).toEqual(w.gb > 0 ? w : { rf: w.rf, nn: w.nn });
    expect(cv.final?.booster !== null).toBe(w.gb > 0);
    expect(rocAuc(cv.gb, labels)).toBeGreaterThan(0.85);
  });

  it('runs with two members when there are no booster candidates', async () => {
    const two = await crossValidate({ ...options, folds: 2, boosterCandidates: [], fitFinal: false });
    for (const f of two.folds) {
      expect(f.combination.booster).toBeNull();
      expect(f.combination.weights.gb).toBe(0);
    }
    expect(Array.from(two.gb).every((v) => v === 0)).toBe(true);
  }, 120_000);

  it('fits the network shape the inner folds chose: without hidden layers, one dense layer', async () => {
    const linear = await crossValidate({ ...options, folds: 2, epochs: 30, networkCandidates: [{ hidden: [], learningRate: 0.01 }], boosterCandidates: [] });
    try {
      for (const f of linear.folds) expect(f.combination.network.hidden).toEqual([]);
      expect(linear.final!.nn.layers).toHaveLength(1);
      expect(rocAuc(linear.nn, labels)).toBeGreaterThan(0.85);
      const { dir: out } = await saveTableBundle(path.join(dir, 'linear'), linear.final!, 'label', { seed: 2 });
      const model = await loadTableBundle(out);
      try {
        expect(rocAuc(model.score(rows).nn, labels)).toBeGreaterThan(0.85);
      } finally {
        model.dispose();
      }
    } finally {
      linear.final?.nn.dispose();
    }
    await expect(crossValidate({ ...options, networkCandidates: [] })).rejects.toThrow(/at least one network candidate/);
  }, 120_000);

  it('is reproducible for a seed (and the CV does not depend on fitting the final model)', async () => {
    const again = await crossValidate({ ...options, fitFinal: false });
    expect(again.final).toBeNull();
    expect(Array.from(again.rf)).toEqual(Array.from(cv.rf));
    expect(Array.from(again.nn)).toEqual(Array.from(cv.nn));
    expect(Array.from(again.gb)).toEqual(Array.from(cv.gb));
    expect(Array.from(again.ensemble)).toEqual(Array.from(cv.ensemble));
    expect(again.folds.map((f) => f.combination)).toEqual(cv.folds.map((f) => f.combination));
  }, 120_000);

  it('gives the same results on worker threads, and reports the same fittings', async () => {
    const events: FitEvent[] = [];
    const parallel = await crossValidate({ ...options, fitFinal: false, workers: 2, onFit: (e) => events.push(e) });
    expect(Array.from(parallel.ensemble)).toEqual(Array.from(cv.ensemble));
    expect(Array.from(parallel.gb)).toEqual(Array.from(cv.gb));
    expect(parallel.folds).toEqual(cv.folds);
    const key = (e: FitEvent): string => `${e.outerFold} ${e.stage} ${e.rows.length}`;
    expect(events.map(key).sort()).toEqual(fits.filter((e) => e.outerFold !== null).map(key).sort());
    await expect(crossValidate({ ...options, workers: 0 })).rejects.toThrow(/workers must be an integer >= 1/);
  }, 120_000);

  it('refuses too few rows of a class', async () => {
    await expect(crossValidate({ rows: rows.slice(0, 3), labels: Uint8Array.from([1, 0, 0]), spec, folds: 3, seed: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // 3 outer x 3 inner folds need 9 rows of each class.
    const few = Uint8Array.from(labels.map((y, i) => (i < 8 ? 1 : 0)));
    await expect(crossValidate({ rows, labels: few, spec, folds: 3, innerFolds: 3, seed: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('table bundle', () => {
  it('saves, verifies and reloads the final model; scores equal the in-memory model', async () => {
    if (!cv.final) throw new Error('final model expected');
    const { modelHash, dir: out } = await saveTableBundle(path.join(dir, 'model'), cv.final, 'label', { seed: 2 });
    expect(modelHash).toMatch(/^0x[0-9a-f]{64}$/);
    const model = await loadTableBundle(out);
    try {
      expect(model.modelHash).toBe(modelHash);
      const scored = model.score(rows);
      expect(rocAuc(scored.score, labels)).toBeGreaterThan(0.85);
      expect(model.manifest.files['booster.json'] !== undefined).toBe(cv.final.booster !== null);
      expect(scored.gb !== undefined).toBe(cv.final.booster !== null);
      // In [0, 1]: on this easily separated toy table the Platt slope is steep enough for the
      // most certain rows to round to exactly 0 or 1.
      for (const p of scored.score) expect(p >= 0 && p <= 1).toBe(true);
    } finally {
      model.dispose();
    }
    await writeFile(path.join(out, 'encoder.json'), '{}');
    await expect(loadTableBundle(out)).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
  });
});
