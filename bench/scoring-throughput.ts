/**
 * Scoring throughput, library path vs fast path, and training time for 15,000 x 30.
 *
 *   node bench/scoring-throughput.ts [--train 15000] [--score 20000] [--batch 500] [--trees 100]
 *
 * Rates are claims per CPU-second of this process (`process.cpuUsage`, user + system): the
 * per-core rate, independent of what else the machine runs. Wall-clock rates are printed too, with
 * the load average, because both depend on how busy the other engineers keep the machine.
 *
 * - library path: features, the forest through ml-random-forest's own ml-cart trees
 *   (`libraryProbabilities`), the network through tf.js (one `predictOnBatch` per batch), mix +
 *   calibration. No explanations.
 * - fast path, scores: features, the compiled forest tree by tree over the batch, the network
 *   through the Float32Array evaluator, the booster (when the trained bundle kept it) in the same
 *   flat layout, mix + calibration. No explanations.
 * - fast path, Scorer#scoreBatch: everything the pipeline gets: the above plus rules, exact forest
 *   path contributions, network gradient x input and the reason texts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Claim } from '../domain/claim.schema.ts';
import { generateClaims } from '../fixtures/generator.ts';
import { offlineObservations } from '../scoring/aggregates.ts';
import { calibrate } from '../scoring/calibration.ts';
import { mix, scoreMatrix } from '../scoring/ensemble.ts';
import { extractFeatures, extractFeaturesInto, FEATURES } from '../scoring/features.ts';
import { libraryProbabilities } from '../scoring/forest.ts';
import { trainForest } from '../training/forest-trainer.ts';
import { MlpEvaluator } from '../scoring/mlp-evaluator.ts';
import { predictMlp } from '../scoring/mlp-predict.ts';
import { trainMlp } from '../training/mlp.ts';
import { loadModelBundle } from '../scoring/model-bundle.ts';
import { fitNormalizer, normalizeInto } from '../scoring/normalizer.ts';
import { Scorer } from '../scoring/scorer.ts';
import { initTf } from '../scoring/tf.ts';
import { trainModel } from '../training/train.ts';

const { values: args } = parseArgs({
  options: {
    train: { type: 'string', default: '15000' },
    score: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '500' },
    trees: { type: 'string', default: '100' },
    columns: { type: 'string', default: '30' },
  },
});
const TRAIN = Number(args.train);
const SCORE = Number(args.score);
const BATCH = Number(args.batch);
const TREES = Number(args.trees);
const COLUMNS = Number(args.columns);

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

interface Measured {
  wallMs: number;
  cpuMs: number;
}

async function measure(fn: () => unknown): Promise<Measured> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Runs `fn` over all claims in batches, once to warm up, then `rounds` times measured. */
async function throughput(claims: readonly Claim[], fn: (batch: readonly Claim[], start: number) => void, rounds = 3): Promise<{ perCpuSecond: number; perWallSecond: number }> {
  const all = (): void => {
    for (let i = 0; i < claims.length; i += BATCH) fn(claims.slice(i, i + BATCH), i);
  };
  all();
  const m = await measure(() => {
    for (let k = 0; k < rounds; k++) all();
  });
  const n = claims.length * rounds;
  return { perCpuSecond: n / (m.cpuMs / 1000), perWallSecond: n / (m.wallMs / 1000) };
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(9);
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const { backend } = await initTf();
process.stdout.write(`claimtrail scoring throughput  (node ${process.version}, tf backend ${backend}, load average ${load()})\n\n`);

// --- training: 15,000 x 30 (forest + MLP), then the full trainModel on the same claims ---------
const training = generateClaims({ count: TRAIN, seed: 1 });
const rows = training.claims.map((c) => extractFeatures(c).subarray(0, COLUMNS));
const y = Uint8Array.from(training.labels, (l) => (l.fraud ? 1 : 0));
const forestTime = await measure(() => trainForest(rows, y, { seed: 1, nTrees: TREES }));
const normalizer = fitNormalizer(rows);
const x = new Float32Array(rows.length * COLUMNS);
rows.forEach((r, i) => normalizeInto(normalizer, r, x, i * COLUMNS));
const mlpTime = await measure(async () => (await trainMlp(x, y, rows.length, COLUMNS, { seed: 1 })).dispose());
process.stdout.write(`training on ${TRAIN.toLocaleString('en-US')} x ${COLUMNS}  (load ${load()})\n`);
process.stdout.write(`  random forest, ${TREES} trees   wall ${secs(forestTime.wallMs).padStart(7)}   cpu ${secs(forestTime.cpuMs)}\n`);
process.stdout.write(`  MLP [32, 16], 12 epochs    wall ${secs(mlpTime.wallMs).padStart(7)}   cpu ${secs(mlpTime.cpuMs)}\n`);
process.stdout.write(`  both                       wall ${secs(forestTime.wallMs + mlpTime.wallMs).padStart(7)}   cpu ${secs(forestTime.cpuMs + mlpTime.cpuMs)}\n`);

const dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-bench-'));
try {
  let durations = { features: 0, forest: 0, booster: 0, network: 0, total: 0 };
  const full = await measure(async () => {
    const result = await trainModel({ claims: training.claims, labels: training.labels, outDir: dir, seed: 1, forest: { nTrees: TREES } });
    durations = result.metrics.durationsMs;
  });
  process.stdout.write(`  trainModel (${FEATURES.length} claim features + entity aggregates, split, weights, calibration, bundle)  wall ${secs(full.wallMs)} (features ${secs(durations.features)}, forest ${secs(durations.forest)}, booster ${secs(durations.booster)}, network ${secs(durations.network)})   cpu ${secs(full.cpuMs)}\n\n`);

  // --- scoring ----------------------------------------------------------------------------
  const scoring = generateClaims({ count: SCORE, seed: 2 }).claims;
  const bundle = await loadModelBundle(dir);
  const { forest, nn, manifest } = bundle;
  const width = manifest.features.length;
  // Aggregate observations come from Redis in the pipeline (one round trip per batch, outside
  // scoring's CPU): here they are computed once beforehand, offline, and every path gets the same
  // values (the feature paths the features when the model has them, the Scorer all of it).
  const observations = offlineObservations(scoring, manifest.aggregates);
  const aggregates = manifest.aggregates ? observations.map((o) => o.features) : undefined;
  const rowOf = (c: Claim, index: number): Float64Array => {
    const row = new Float64Array(width);
    extractFeaturesInto(c, row, 0);
    if (aggregates) row.set(aggregates[index] as number[], FEATURES.length);
    return row;
  };
  const mlp = MlpEvaluator.fromModel(nn);
  const models = { forest, nn, mlp, normalizer: bundle.normalizer, ...(bundle.booster ? { booster: bundle.booster } : {}), weights: manifest.weights, calibration: manifest.calibration };
  const members = `${forest.treeCount} trees + MLP${bundle.booster ? ` + ${bundle.booster.treeCount} boosted trees` : ''} (weights ${JSON.stringify(manifest.weights)})`;

  const library = await throughput(scoring, (batch, start) => {
    const features = batch.map((c, i) => rowOf(c, start + i));
    const rf = libraryProbabilities(forest.library, features);
    const z = new Float32Array(batch.length * width);
    features.forEach((f, i) => normalizeInto(bundle.normalizer, f, z, i * width));
    const p = predictMlp(nn, z, batch.length, width);
    for (let i = 0; i < batch.length; i++) calibrate(manifest.calibration, mix(manifest.weights, rf[i] as number, p[i] as number));
  }, 1);
  const fast = await throughput(scoring, (batch, start) => {
    const matrix = new Float64Array(batch.length * width);
    batch.forEach((c, i) => {
      extractFeaturesInto(c, matrix, i * width);
      if (aggregates) matrix.set(aggregates[start + i] as number[], i * width + FEATURES.length);
    });
    scoreMatrix(models, matrix, batch.length, width);
  });
  const scorer = await Scorer.load(dir);
  const full2 = await throughput(scoring, (batch, start) => void scorer.scoreBatch(batch, observations.slice(start, start + batch.length)));
  scorer.dispose();

  // The same claims through both paths: the scores must agree (identical forest, network within 1e-6).
  const check = scoring.slice(0, 1000);
  const checkFeatures = check.map((c, i) => rowOf(c, i));
  const libRf = libraryProbabilities(forest.library, checkFeatures);
  const matrix = new Float64Array(check.length * width);
  checkFeatures.forEach((f, i) => matrix.set(f, i * width));
  const fastScores = scoreMatrix(models, matrix, check.length, width);
  const tfScores = scoreMatrix({ ...models, mlp: undefined }, matrix, check.length, width);
  let rfSame = 0;
  let nnMaxDiff = 0;
  for (let i = 0; i < check.length; i++) {
    if (Object.is(libRf[i], fastScores.rf[i])) rfSame++;
    nnMaxDiff = Math.max(nnMaxDiff, Math.abs((fastScores.nn[i] as number) - (tfScores.nn[i] as number)));
  }

  process.stdout.write(`scoring ${SCORE.toLocaleString('en-US')} generated claims in batches of ${BATCH}, ${members}, ${width} features${aggregates ? ` (${width - FEATURES.length} entity aggregates, precomputed)` : ''}  (load ${load()})\n`);
  process.stdout.write('path                                         claims/s per core   claims/s wall\n');
  process.stdout.write(`library (ml-cart trees + tf.js), scores      ${fmt(library.perCpuSecond)}           ${fmt(library.perWallSecond)}\n`);
  process.stdout.write(`fast (flat trees + JS MLP), scores           ${fmt(fast.perCpuSecond)}           ${fmt(fast.perWallSecond)}\n`);
  process.stdout.write(`fast, Scorer#scoreBatch (rules + reasons)    ${fmt(full2.perCpuSecond)}           ${fmt(full2.perWallSecond)}\n`);
  process.stdout.write(`speed-up of the scores: ${(fast.perCpuSecond / library.perCpuSecond).toFixed(1)}x per core\n`);
  process.stdout.write(`check on ${check.length} claims: forest identical to the library on ${rfSame}/${check.length}; network max |fast - tf.js| = ${nnMaxDiff.toExponential(2)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
