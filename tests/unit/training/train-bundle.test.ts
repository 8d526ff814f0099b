import { renderReasonTexts } from '../../../scoring/reason-text.ts';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClaims } from '../../../fixtures/generator.ts';
import { SAMPLE_EXCLUSION_LIST } from '../../../fixtures/samples.ts';
import { aggregateFeatureNames, DEFAULT_AGGREGATE_SPEC, offlineObservations } from '../../../scoring/aggregates.ts';
import { scoreMatrix } from '../../../scoring/ensemble.ts';
import { ModelLoadError } from '../../../scoring/errors.ts';
import { loadLeieNpis } from '../../../scoring/exclusion-list.ts';
import { extractFeatures, FEATURE_NAMES } from '../../../scoring/features.ts';
import { Forest } from '../../../scoring/forest.ts';
import { trainForest } from '../../../training/forest-trainer.ts';
import { trainMlp } from '../../../training/mlp.ts';
import { BOOSTER_FILE, BUNDLE_FILES, loadModelBundle, MANIFEST_FILE, saveModelBundle } from '../../../scoring/model-bundle.ts';
import { Booster } from '../../../scoring/booster.ts';
import { trainBooster } from '../../../training/booster-trainer.ts';
import { fitNormalizer, normalizeInto } from '../../../scoring/normalizer.ts';
import { createRulesConfig, RULE_CODES, type RulesConfig } from '../../../scoring/rules.ts';
import { Scorer } from '../../../scoring/scorer.ts';
import { initTf } from '../../../scoring/tf.ts';
import { trainModel, type TrainResult } from '../../../training/train.ts';
import { officeClaim } from '../../support/claims.ts';

let dir: string;
let trained: TrainResult;
/** The demo LEIE list, read by the loader serving uses. */
let rules: RulesConfig;
const data = generateClaims({ count: 4000, seed: 2024 });
const fresh = generateClaims({ count: 600, seed: 77 });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-model-'));
  rules = createRulesConfig({ excludedNpis: await loadLeieNpis([SAMPLE_EXCLUSION_LIST]) });
  trained = await trainModel({ claims: data.claims, labels: data.labels, outDir: path.join(dir, 'current'), seed: 1, rules });
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tf backend', () => {
  it('runs on wasm (or native tensorflow when tfjs-node is installed), not the plain cpu backend', async () => {
    const { backend, tf } = await initTf();
    expect(['wasm', 'tensorflow']).toContain(backend);
    expect(tf.getBackend()).toBe(backend);
  });
});

describe('trainModel', () => {
  it('reaches ensemble ROC-AUC > 0.85 on validation of 4,000 generated claims', () => {
    const m = trained.metrics;
    expect(m.validation.claims).toBe(800);
    expect(m.validation.frauds).toBe(64);
    expect(m.ensemble.rocAuc).toBeGreaterThan(0.85);
    expect(m.rf.rocAuc).toBeGreaterThan(0.8);
    expect(m.nn.rocAuc).toBeGreaterThan(0.8);
    expect(m.ensemble.prAuc).toBeGreaterThan(0.5);
    expect(m.thresholds.review).toBeLessThanOrEqual(m.thresholds.flag);
    expect(m.weights.rf + m.weights.nn + (m.weights.gb ?? 0)).toBeCloseTo(1, 9);
    expect(m.withRules?.flagRecall).toBeGreaterThanOrEqual(m.atFlag.recall);
    expect(trained.modelHash).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('refuses claims without labels and repeated claim ids', async () => {
    await expect(trainModel({ claims: data.claims.slice(0, 10), labels: [], outDir: path.join(dir, 'x'), seed: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const twice = [data.claims[0]!, data.claims[0]!];
    await expect(trainModel({ claims: twice, labels: data.labels, outDir: path.join(dir, 'x'), seed: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('Scorer', () => {
  it('scores a batch: scores in [0, 1], outcomes from thresholds and rules, at most 3 feature reasons', async () => {
    const scorer = await Scorer.load(trained.dir);
    expect(scorer.modelHash).toBe(trained.modelHash);
    const observations = offlineObservations(fresh.claims, scorer.aggregates);
    const results = scorer.scoreBatch(fresh.claims, observations);
    expect(results).toHaveLength(fresh.claims.length);
    const { review, flag } = scorer.manifest.thresholds;
    for (const r of results) {
      for (const p of [r.score, r.components.rf, r.components.nn]) {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
      }
      // Date, quantity and duplicate rules are on by default; their reasons come first and force flag.
      const rules = r.reasons.filter((x) => x.code.startsWith('R_'));
      const features = r.reasons.slice(rules.length);
      expect(r.reasons.slice(0, rules.length)).toEqual(rules);
      expect(r.outcome).toBe(rules.length > 0 || r.score >= flag ? 'flag' : r.score >= review ? 'review' : 'approve');
      expect(features.length).toBeLessThanOrEqual(3);
      for (const reason of features) {
        expect(reason.code).toMatch(/^F_/);
        expect(reason.contribution).toBeGreaterThan(0);
      }
    }
    const flagged = results.filter((r) => r.outcome === 'flag');
    expect(flagged.length).toBeGreaterThan(0);
    for (const r of flagged) expect(r.reasons.length).toBeGreaterThan(0);
    expect(scorer.scoreBatch([], [])).toEqual([]);
    // Batching does not change results; scoreInOrder computes the same aggregates offline.
    expect(scorer.scoreBatch(fresh.claims.slice(100, 110), observations.slice(100, 110))).toEqual(results.slice(100, 110));
    expect(scorer.scoreInOrder(fresh.claims, 64)).toEqual(results);
    scorer.dispose();
  });

  it('puts rule hits first and forces flag', async () => {
    const scorer = await Scorer.load(trained.dir, { rules });
    const index = fresh.labels.findIndex((l) => l.pattern === 'excluded_provider');
    const [result] = scorer.scoreInOrder([fresh.claims[index]!]);
    expect(result?.outcome).toBe('flag');
    expect(result?.reasons[0]).toMatchObject({ code: RULE_CODES.excludedProvider, contribution: 1 });
    scorer.dispose();
  });

  it('sends claims the model was not trained on (dental, ICD-9) to review, never approve; a hard rule still flags them', async () => {
    const scorer = await Scorer.load(trained.dir, { rules });
    const legit = fresh.claims.filter((_, i) => fresh.labels[i]?.pattern === null).slice(0, 40);
    const dental = legit.map((c) => ({ ...c, claimType: 'dental' as const, placeOfService: '11' }));
    const icd9 = [officeClaim({ serviceFrom: '2014-06-02', serviceTo: '2014-06-02', diagnosisCodes: ['250.00'], lines: [{ procedureCode: '99213', units: 1, chargedAmount: 120, serviceDate: '2014-06-02' }] })];
    for (const r of scorer.scoreInOrder([...dental, ...icd9])) {
      expect(r.outcome).not.toBe('approve');
      expect(r.reasons.some((x) => x.code === RULE_CODES.notTrainedType && x.contribution === 1)).toBe(true);
    }
    expect(scorer.scoreInOrder(legit).some((r) => r.outcome === 'approve')).toBe(true);
    const index = fresh.labels.findIndex((l) => l.pattern === 'excluded_provider');
    const [excluded] = scorer.scoreInOrder([{ ...fresh.claims[index]!, claimType: 'dental', placeOfService: '11' }]);
    expect(excluded?.outcome).toBe('flag');
    expect(excluded?.reasons.slice(0, 2).map((x) => x.code)).toEqual([RULE_CODES.excludedProvider, RULE_CODES.notTrainedType]);
    scorer.dispose();
  });

  it('explains upcoding with the E/M and charge features', async () => {
    const scorer = await Scorer.load(trained.dir);
    const upcoded = fresh.claims.filter((_, i) => fresh.labels[i]?.pattern === 'upcoding');
    const results = scorer.scoreInOrder(upcoded);
    const explained = results.filter((r) => r.reasons.some((x) => ['F_EM_ABOVE_DIAGNOSIS', 'F_CHARGE_PER_UNIT', 'F_HIGH_LEVEL_EM', 'F_CHARGE_VS_REFERENCE', 'F_MAX_CHARGE_PER_UNIT', 'F_EM_LEVEL'].includes(x.code)));
    expect(explained.length).toBeGreaterThanOrEqual(Math.ceil(upcoded.length * 0.8));
    scorer.dispose();
  });

  it('uses the entity aggregates it was trained with: features listed in the manifest, required to score', async () => {
    const scorer = await Scorer.load(trained.dir);
    expect(scorer.aggregates).toEqual({ windowsDays: [...DEFAULT_AGGREGATE_SPEC.windowsDays] });
    expect(scorer.manifest.features).toEqual([...FEATURE_NAMES, ...aggregateFeatureNames(DEFAULT_AGGREGATE_SPEC)]);
    expect(() => scorer.scoreBatch(fresh.claims.slice(0, 3), [])).toThrow(/aggregate/);
    expect(() => scorer.scoreBatch(fresh.claims.slice(0, 1), [{ duplicate: false, features: [1, 2] }])).toThrow(/aggregate features/);
    // Abnormal volume and duplicates are explained by the aggregates (they look ordinary one by one).
    const results = scorer.scoreInOrder(fresh.claims);
    const codesOf = (pattern: string) => results.filter((_, i) => fresh.labels[i]?.pattern === pattern).map((r) => r.reasons.map((x) => x.code));
    const volume = codesOf('abnormal_volume');
    expect(volume.filter((c) => c.some((x) => x === 'F_PROVIDER_VOLUME' || x === 'F_PROVIDER_VS_PEERS')).length).toBeGreaterThanOrEqual(Math.ceil(volume.length * 0.5));
    const duplicates = codesOf('duplicate');
    expect(duplicates.filter((c) => c.includes('F_DUPLICATE_SEEN')).length).toBeGreaterThanOrEqual(Math.ceil(duplicates.length * 0.5));
    // Reasons are codes and contributions; their sentences, rendered from the claim, name no date.
    results.forEach((r, i) => {
      expect(r.reasons.every((x) => Object.keys(x).join() === 'code,contribution')).toBe(true);
      for (const x of renderReasonTexts(r.reasons, fresh.claims[i]!)) expect(x.text, x.code).toMatch(/^(?!.*(\d{4}-\d{2}-\d{2}|undefined|NaN)).+$/);
    });
    scorer.dispose();
  });

  it('trains on claim features only with aggregates: null', async () => {
    const plain = await trainModel({ claims: data.claims.slice(0, 2000), labels: data.labels, outDir: path.join(dir, 'plain'), seed: 3, aggregates: null, forest: { nTrees: 10 }, network: { epochs: 2 } });
    const scorer = await Scorer.load(plain.dir);
    expect(scorer.aggregates).toBeUndefined();
    expect(scorer.manifest.features).toEqual([...FEATURE_NAMES]);
    expect(scorer.scoreBatch(fresh.claims.slice(0, 5), offlineObservations(fresh.claims.slice(0, 5)))).toHaveLength(5);
    scorer.dispose();
  }, 30_000);

  it('reports MODEL_LOAD_FAILED for a missing bundle', async () => {
    await expect(Scorer.load(path.join(dir, 'nowhere'))).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED', file: MANIFEST_FILE });
  });
});

describe('model bundle', () => {
  it('round-trips: scores after save + load equal the in-memory models', async () => {
    const claims = data.claims.slice(0, 1500);
    const rows = claims.map((c) => extractFeatures(c));
    const y = data.labels.slice(0, 1500).map((l) => (l.fraud ? 1 : 0));
    const forestJson = trainForest(rows, y, { seed: 9, nTrees: 15 });
    const normalizer = fitNormalizer(rows);
    const width = FEATURE_NAMES.length;
    const x = new Float32Array(rows.length * width);
    rows.forEach((r, i) => normalizeInto(normalizer, r, x, i * width));
    const nn = await trainMlp(x, y, rows.length, width, { seed: 9, epochs: 2 });
    const parts = { forest: forestJson, nn, normalizer, thresholds: { review: 0.2, flag: 0.7 }, weights: { rf: 0.5, nn: 0.5 }, calibration: { method: 'platt' as const, a: 1.3, b: -0.4 }, createdAt: '2024-06-01T00:00:00.000Z' };
    const matrix = new Float64Array(fresh.claims.length * width);
    fresh.claims.forEach((c, i) => matrix.set(extractFeatures(c), i * width));
    const before = scoreMatrix({ ...parts, forest: Forest.fromJson(forestJson) }, matrix, fresh.claims.length, width);

    const saved = await saveModelBundle(path.join(dir, 'roundtrip'), parts);
    const loaded = await loadModelBundle(saved.dir);
    expect(loaded.modelHash).toBe(saved.modelHash);
    const after = scoreMatrix({ ...loaded, weights: loaded.manifest.weights, calibration: loaded.manifest.calibration }, matrix, fresh.claims.length, width);
    expect(Array.from(after.score)).toEqual(Array.from(before.score));
    expect(Array.from(after.rf)).toEqual(Array.from(before.rf));
    expect(Array.from(after.nn)).toEqual(Array.from(before.nn));

    // Saving the same parts again gives the same hash; any change to a file changes it.
    expect((await saveModelBundle(path.join(dir, 'roundtrip-2'), parts)).modelHash).toBe(saved.modelHash);
    const nudged = { ...parts, normalizer: { ...normalizer, means: normalizer.means.map((m, j) => (j === 0 ? m + 1e-9 : m)) } };
    expect((await saveModelBundle(path.join(dir, 'roundtrip-3'), nudged)).modelHash).not.toBe(saved.modelHash);
    expect((await saveModelBundle(path.join(dir, 'roundtrip-4'), { ...parts, thresholds: { review: 0.2, flag: 0.71 } })).modelHash).not.toBe(saved.modelHash);
    nn.dispose();
    loaded.nn.dispose();
  }, 30_000);

  it('carries the booster as a third member: listed in the manifest, pinned by the hash, scored identically after load; a two-member bundle has neither entry', async () => {
    const claims = data.claims.slice(0, 1500);
    const rows = claims.map((c) => extractFeatures(c));
    const byId = new Map(data.labels.map((l) => [l.claimId, l.fraud ? 1 : 0]));
    const y = Uint8Array.from(claims, (c) => byId.get(c.claimId)!);
    const width = FEATURE_NAMES.length;
    const forestJson = trainForest(rows, y, { seed: 9, nTrees: 10 });
    const normalizer = fitNormalizer(rows);
    const x = new Float32Array(rows.length * width);
    rows.forEach((r, i) => normalizeInto(normalizer, r, x, i * width));
    const nn = await trainMlp(x, y, rows.length, width, { seed: 9, epochs: 1 });
    const booster = trainBooster(rows, y, { seed: 9, rounds: 25 }).model;
    const two = { forest: forestJson, nn, normalizer, thresholds: { review: 0.2, flag: 0.7 }, weights: { rf: 0.5, nn: 0.5 }, calibration: { method: 'platt' as const, a: 1.3, b: -0.4 }, createdAt: '2024-06-01T00:00:00.000Z' };
    const three = { ...two, weights: { rf: 0.3, nn: 0.3, gb: 0.4 }, booster };
    const matrix = new Float64Array(fresh.claims.length * width);
    fresh.claims.forEach((c, i) => matrix.set(extractFeatures(c), i * width));
    const before = scoreMatrix({ ...three, forest: Forest.fromJson(forestJson), booster: Booster.fromJson(booster) }, matrix, fresh.claims.length, width);

    const saved = await saveModelBundle(path.join(dir, 'three'), three);
    const manifest = JSON.parse(await readFile(path.join(saved.dir, MANIFEST_FILE), 'utf8')) as { files: Record<string, string>; weights: Record<string, number> };
    expect(manifest.files[BOOSTER_FILE]).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.weights).toEqual({ rf: 0.3, nn: 0.3, gb: 0.4 });
    const loaded = await loadModelBundle(saved.dir);
    expect(loaded.booster?.treeCount).toBe(booster.trees.length);
    const after = scoreMatrix({ ...loaded, weights: loaded.manifest.weights, calibration: loaded.manifest.calibration }, matrix, fresh.claims.length, width);
    expect(Array.from(after.score)).toEqual(Array.from(before.score));
    expect(Array.from(after.gb!)).toEqual(Array.from(before.gb!));
    // The booster moves the score: the same bundle with its weight on the forest scores otherwise.
    const withoutGb = scoreMatrix({ ...loaded, weights: { rf: 0.7, nn: 0.3 }, calibration: loaded.manifest.calibration }, matrix, fresh.claims.length, width);
    expect(Array.from(withoutGb.score)).not.toEqual(Array.from(after.score));
    loaded.nn.dispose();

    // Any change to the booster changes the model hash.
    const nudged = { ...booster, trees: booster.trees.map((t, k) => (k === 0 ? { ...t, value: t.value.map((v, i) => (i === t.value.length - 1 ? v + 1e-9 : v)) } : t)) };
    expect((await saveModelBundle(path.join(dir, 'three-nudged'), { ...three, booster: nudged })).modelHash).not.toBe(saved.modelHash);

    // A booster byte flipped or the file missing: refused, naming the file.
    for (const damage of ['flip', 'delete'] as const) {
      const copy = path.join(dir, `three-${damage}`);
      await cp(saved.dir, copy, { recursive: true });
      const target = path.join(copy, BOOSTER_FILE);
      if (damage === 'flip') {
        const bytes = await readFile(target);
        bytes[10] = (bytes[10] as number) ^ 0x01;
        await writeFile(target, bytes);
      } else await rm(target);
      await expect(loadModelBundle(copy)).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED', file: BOOSTER_FILE });
    }
    // weights.gb without the file, or the file without weights.gb: an invalid manifest.
    const text = await readFile(path.join(saved.dir, MANIFEST_FILE), 'utf8');
    for (const [name, edited] of [
      ['no gb weight', text.replace(/"nn": 0.3,\s*"gb": 0.4/, '"nn": 0.7')],
      ['no booster file', text.replace(/,\s*"booster.json": "[0-9a-f]{64}"/, '')],
    ] as const) {
      expect(edited, name).not.toBe(text);
      const copy = path.join(dir, `three-${name.replaceAll(' ', '-')}`);
      await cp(saved.dir, copy, { recursive: true });
      await writeFile(path.join(copy, MANIFEST_FILE), edited);
      await expect(loadModelBundle(copy), name).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED', file: MANIFEST_FILE });
    }

    // Two members: the manifest has no booster entry and no gb weight (bundles from before the
    // booster load unchanged and keep their hash).
    const twoSaved = await saveModelBundle(path.join(dir, 'two'), two);
    const twoText = await readFile(path.join(twoSaved.dir, MANIFEST_FILE), 'utf8');
    expect(twoText).not.toContain(BOOSTER_FILE);
    expect(twoText).not.toContain('"gb"');
    const twoLoaded = await loadModelBundle(twoSaved.dir);
    expect(twoLoaded.booster).toBeUndefined();
    expect(twoLoaded.modelHash).toBe(twoSaved.modelHash);
    twoLoaded.nn.dispose();
    nn.dispose();
  }, 30_000);

  it.each([...BUNDLE_FILES])('refuses a bundle whose %s changed by one byte or is missing', async (file) => {
    for (const damage of ['flip', 'delete'] as const) {
      const copy = path.join(dir, `tampered-${file}-${damage}`);
      await cp(trained.dir, copy, { recursive: true });
      const target = path.join(copy, file);
      if (damage === 'flip') {
        const bytes = await readFile(target);
        const at = Math.floor(bytes.length / 2);
        bytes[at] = (bytes[at] as number) ^ 0x01;
        await writeFile(target, bytes);
      } else {
        await rm(target);
      }
      const error = await loadModelBundle(copy).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelLoadError);
      expect(error).toMatchObject({ code: 'MODEL_LOAD_FAILED', file });
    }
  });

  it('changes the model hash with any manifest byte, and refuses an invalid or foreign manifest', async () => {
    const manifestPath = path.join(trained.dir, MANIFEST_FILE);
    const original = await readFile(manifestPath, 'utf8');

    const edited = path.join(dir, 'manifest-edited');
    await cp(trained.dir, edited, { recursive: true });
    await writeFile(path.join(edited, MANIFEST_FILE), original.replace(/"createdAt": "\d/, (m) => `${m.slice(0, -1)}${m.endsWith('1') ? '2' : '1'}`));
    const reloaded = await loadModelBundle(edited);
    expect(reloaded.modelHash).not.toBe(trained.modelHash);
    reloaded.nn.dispose();

    const cases: [string, string][] = [
      ['not json', original.slice(0, original.length / 2)],
      ['other features', original.replace('"log_total_charged"', '"total_charged"')],
      ['wrong format', original.replace('claimtrail-model-v1', 'claimtrail-model-v0')],
      ['bad thresholds', original.replace(/"review": [0-9.e-]+/, '"review": 1.5')],
    ];
    for (const [name, text] of cases) {
      const copy = path.join(dir, `manifest-${name.replace(' ', '-')}`);
      await cp(trained.dir, copy, { recursive: true });
      await writeFile(path.join(copy, MANIFEST_FILE), text);
      await expect(loadModelBundle(copy), name).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED', file: MANIFEST_FILE });
    }
  });
});
