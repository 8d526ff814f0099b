import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossValidate, stratifiedFolds, type CrossValidation } from '../../../scoring/cross-validate.ts';
import { parseFeatureSpec } from '../../../scoring/feature-spec.ts';
import { rocAuc } from '../../../scoring/metrics.ts';
import { Rng } from '../../../scoring/random.ts';
import { loadTableBundle, saveTableBundle } from '../../../scoring/table-bundle.ts';
import type { TableRow } from '../../../scoring/table-reader.ts';

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

let cv: CrossValidation;
let dir = '';
beforeAll(async () => {
  cv = await crossValidate({ rows, labels, spec, folds: 3, seed: 2, trees: 20, epochs: 5 });
  dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-cv-'));
}, 120_000);
afterAll(async () => {
  cv?.final.nn.dispose();
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

  it('refuses too few rows of a class', async () => {
    await expect(crossValidate({ rows: rows.slice(0, 3), labels: Uint8Array.from([1, 0, 0]), spec, folds: 3, seed: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('table bundle', () => {
  it('saves, verifies and reloads the final model; scores equal the in-memory model', async () => {
    const { modelHash, dir: out } = await saveTableBundle(path.join(dir, 'model'), cv.final, 'label', { seed: 2 });
    expect(modelHash).toMatch(/^0x[0-9a-f]{64}$/);
    const model = await loadTableBundle(out);
    try {
      expect(model.modelHash).toBe(modelHash);
      const scored = model.score(rows);
      expect(rocAuc(scored.score, labels)).toBeGreaterThan(0.85);
      for (const p of scored.score) expect(p > 0 && p < 1).toBe(true);
    } finally {
      model.dispose();
    }
    await writeFile(path.join(out, 'encoder.json'), '{}');
    await expect(loadTableBundle(out)).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
  });
});
