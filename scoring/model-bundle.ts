import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CalibrationSchema, type Calibration } from './calibration.ts';
import { ModelLoadError } from './errors.ts';
import { aggregateFeatureNames, type AggregateWindows } from './aggregates.ts';
import { FEATURE_NAMES } from './features.ts';
import { Booster } from './booster.ts';
import type { BoosterModelJson } from './booster-model.ts';
import { Forest } from './forest.ts';
import type { ForestModelJson } from './forest-model.ts';
import { NormalizerSchema, type Normalizer } from './normalizer.ts';
import { tf } from './tf.ts';
import { memoryLoadHandler, memorySaveHandler, TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE } from './tfjs-io.ts';

/**
 * A model bundle is a directory:
 *
 * | file              | content                                                         |
 * |-------------------|-----------------------------------------------------------------|
 * | `manifest.json`   | format, features, thresholds, ensemble weights, calibration,    |
 * |                   | sha256 of every other file, training summary                    |
 * | `rf.json`         | the random forest, `RandomForestClassifier#toJSON()`            |
 * | `model.json`      | the tfjs layers model topology + weights manifest               |
 * | `weights.bin`     | the tfjs weights                                                |
 * | `normalizer.json` | feature means / stds for the network (and the explanations)     |
 * | `booster.json`    | optional: gradient-boosted trees (booster-model.ts), the third  |
 * |                   | member; listed in `files` and weighted by `weights.gb` when set |
 *
 * The model hash, recorded in every decision, is `0x` + sha256 of the manifest bytes; since the
 * manifest pins every other file by sha256, the hash pins the whole bundle. Bundles are read only
 * through `loadModelBundle`, which checks every file against the manifest before using it.
 * A bundle without a booster has neither the `booster.json` entry nor `weights.gb`, so bundles
 * written before the booster existed load unchanged and keep their model hash.
 */

export const MODEL_FORMAT = 'claimtrail-model-v1';
export const MANIFEST_FILE = 'manifest.json';
export const RF_FILE = 'rf.json';
export const NORMALIZER_FILE = 'normalizer.json';
/** Every file a bundle holds besides the manifest. */
export const BUNDLE_FILES = [RF_FILE, TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE, NORMALIZER_FILE] as const;
/** The optional third member's file. */
export const BOOSTER_FILE = 'booster.json';

const probability = z.number().finite().min(0).max(1);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex sha256');

export const ManifestSchema = z.strictObject({
  format: z.literal(MODEL_FORMAT),
  createdAt: z.iso.datetime(),
  features: z.array(z.string().min(1)).min(1),
  /**
   * Entity aggregate windows (days) the model was trained with; its features then end with
   * `aggregateFeatureNames(aggregates)` and scoring needs the observed aggregates of each claim.
   * Absent: claim features only.
   */
  aggregates: z
    .strictObject({ windowsDays: z.array(z.number().int().min(1).max(366)).min(1).max(8) })
    .refine((a) => a.windowsDays.every((w, i) => i === 0 || w > (a.windowsDays[i - 1] as number)), 'windows must be ascending')
    .optional(),
  thresholds: z.strictObject({ review: probability, flag: probability }).refine((t) => t.review <= t.flag, 'review threshold above flag threshold'),
  /** Mixing weights of the members; `gb` (the booster) exactly when the bundle has one. */
  weights: z.strictObject({ rf: probability, nn: probability, gb: probability.optional() }).refine((w) => Math.abs(w.rf + w.nn + (w.gb ?? 0) - 1) < 1e-9, 'ensemble weights must sum to 1'),
  calibration: CalibrationSchema,
  files: z.strictObject({
    ...(Object.fromEntries(BUNDLE_FILES.map((f) => [f, sha256Hex])) as Record<(typeof BUNDLE_FILES)[number], typeof sha256Hex>),
    [BOOSTER_FILE]: sha256Hex.optional(),
  }),
  /** Informational: how the bundle was trained (seed, data sizes, validation metrics). */
  training: z.record(z.string(), z.unknown()).optional(),
}).refine((m) => (m.weights.gb === undefined) === (m.files[BOOSTER_FILE] === undefined), { message: `weights.gb and files.${BOOSTER_FILE} come together`, path: ['weights'] });

export type Manifest = z.infer<typeof ManifestSchema>;

export interface ModelBundleParts {
  forest: ForestModelJson;
  nn: tf.LayersModel;
  normalizer: Normalizer;
  thresholds: { review: number; flag: number };
  /** `gb` exactly when `booster` is given. */
  weights: { rf: number; nn: number; gb?: number };
  calibration: Calibration;
  /** The optional gradient-boosted trees member. */
  booster?: BoosterModelJson;
  /** Entity aggregate windows the features include (see the manifest field). */
  aggregates?: AggregateWindows;
  training?: Record<string, unknown>;
  /** ISO-8601 creation time; default now. */
  createdAt?: string;
}

export interface LoadedModelBundle {
  manifest: Manifest;
  /** `0x` + sha256 of manifest.json. */
  modelHash: string;
  forest: Forest;
  nn: tf.LayersModel;
  normalizer: Normalizer;
  /** Present when the bundle has `booster.json`. */
  booster?: Booster;
}

/** The feature columns of a model: the claim's own features, then its aggregates if any. */
export function modelFeatureNames(aggregates: AggregateWindows | undefined): string[] {
  return aggregates ? [...FEATURE_NAMES, ...aggregateFeatureNames(aggregates)] : [...FEATURE_NAMES];
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes a bundle to `dir`, replacing any bundle there. Files go to a sibling temporary
 * directory first and are swapped in with renames, so a reader never sees half a bundle.
 * @returns the model hash and the final directory.
 */
export async function saveModelBundle(dir: string, parts: ModelBundleParts): Promise<{ modelHash: string; dir: string }> {
  const { handler, files: tfFiles } = memorySaveHandler();
  await parts.nn.save(handler);
  const { modelJson, weights } = tfFiles();
  const contents: Record<(typeof BUNDLE_FILES)[number], Buffer> = {
    [RF_FILE]: Buffer.from(JSON.stringify(parts.forest)),
    [TFJS_MODEL_FILE]: modelJson,
    [TFJS_WEIGHTS_FILE]: weights,
    [NORMALIZER_FILE]: Buffer.from(`${JSON.stringify(parts.normalizer)}\n`),
  };
  const boosterBytes = parts.booster ? Buffer.from(JSON.stringify(parts.booster)) : undefined;
  const manifest: Manifest = ManifestSchema.parse({
    format: MODEL_FORMAT,
    createdAt: parts.createdAt ?? new Date().toISOString(),
    features: modelFeatureNames(parts.aggregates),
    ...(parts.aggregates ? { aggregates: { windowsDays: [...parts.aggregates.windowsDays] } } : {}),
    thresholds: parts.thresholds,
    weights: parts.weights,
    calibration: parts.calibration,
    files: { ...Object.fromEntries(BUNDLE_FILES.map((f) => [f, sha256(contents[f])])), ...(boosterBytes ? { [BOOSTER_FILE]: sha256(boosterBytes) } : {}) },
    ...(parts.training ? { training: parts.training } : {}),
  });
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);

  const target = path.resolve(dir);
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  try {
    for (const f of BUNDLE_FILES) await writeFile(path.join(tmp, f), contents[f]);
    if (boosterBytes) await writeFile(path.join(tmp, BOOSTER_FILE), boosterBytes);
    await writeFile(path.join(tmp, MANIFEST_FILE), manifestBytes);
    const old = `${target}.old-${process.pid}-${Date.now()}`;
    let moved = false;
    try {
      await rename(target, old);
      moved = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await rename(tmp, target);
    if (moved) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  return { modelHash: `0x${sha256(manifestBytes)}`, dir: target };
}

async function readBundleFile(dir: string, file: string): Promise<Buffer> {
  try {
    return await readFile(path.join(dir, file));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : 'cannot be read';
    throw new ModelLoadError(`model bundle ${dir}: ${file} ${reason}`, { file, cause: error });
  }
}

function parseJson(bytes: Buffer, dir: string, file: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ModelLoadError(`model bundle ${dir}: ${file} is not valid JSON`, { file, cause: error });
  }
}

/**
 * Loads and verifies a bundle: the manifest must validate, list exactly the features this build
 * computes for it (`modelFeatureNames` of its aggregate windows), and every file's sha256 must match it. The tfjs model is built from the
 * verified bytes (no second read). Call `initTf()` first to choose the tf backend.
 *
 * @throws ModelLoadError (code MODEL_LOAD_FAILED) naming the file at fault.
 */
export async function loadModelBundle(dir: string): Promise<LoadedModelBundle> {
  const manifestBytes = await readBundleFile(dir, MANIFEST_FILE);
  const parsed = ManifestSchema.safeParse(parseJson(manifestBytes, dir, MANIFEST_FILE));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelLoadError(`model bundle ${dir}: invalid ${MANIFEST_FILE}: ${issues}`, { file: MANIFEST_FILE });
  }
  const manifest = parsed.data;
  const expected = modelFeatureNames(manifest.aggregates);
  if (manifest.features.length !== expected.length || manifest.features.some((f, i) => f !== expected[i])) {
    throw new ModelLoadError(`model bundle ${dir}: trained on features [${manifest.features.join(', ')}], this build computes [${expected.join(', ')}]; retrain the model`, { file: MANIFEST_FILE });
  }
  const files = {} as Record<(typeof BUNDLE_FILES)[number], Buffer>;
  for (const f of BUNDLE_FILES) {
    const bytes = await readBundleFile(dir, f);
    const actual = sha256(bytes);
    if (actual !== manifest.files[f]) throw new ModelLoadError(`model bundle ${dir}: ${f} has sha256 ${actual}, the manifest expects ${manifest.files[f]}`, { file: f });
    files[f] = bytes;
  }

  let forest: Forest;
  try {
    forest = Forest.fromJson(parseJson(files[RF_FILE], dir, RF_FILE));
  } catch (error) {
    if (error instanceof ModelLoadError) throw error;
    throw new ModelLoadError(`model bundle ${dir}: ${RF_FILE}: ${error instanceof Error ? error.message : String(error)}`, { file: RF_FILE, cause: error });
  }
  if (forest.featureCount !== expected.length) throw new ModelLoadError(`model bundle ${dir}: ${RF_FILE} expects ${forest.featureCount} features, not ${expected.length}`, { file: RF_FILE });

  let booster: Booster | undefined;
  const boosterHash = manifest.files[BOOSTER_FILE];
  if (boosterHash !== undefined) {
    const bytes = await readBundleFile(dir, BOOSTER_FILE);
    const actual = sha256(bytes);
    if (actual !== boosterHash) throw new ModelLoadError(`model bundle ${dir}: ${BOOSTER_FILE} has sha256 ${actual}, the manifest expects ${boosterHash}`, { file: BOOSTER_FILE });
    try {
      booster = Booster.fromJson(parseJson(bytes, dir, BOOSTER_FILE));
    } catch (error) {
      if (error instanceof ModelLoadError) throw error;
      throw new ModelLoadError(`model bundle ${dir}: ${BOOSTER_FILE}: ${error instanceof Error ? error.message : String(error)}`, { file: BOOSTER_FILE, cause: error });
    }
    if (booster.featureCount !== expected.length) throw new ModelLoadError(`model bundle ${dir}: ${BOOSTER_FILE} expects ${booster.featureCount} features, not ${expected.length}`, { file: BOOSTER_FILE });
  }

  const normalizer = NormalizerSchema.safeParse(parseJson(files[NORMALIZER_FILE], dir, NORMALIZER_FILE));
  if (!normalizer.success || normalizer.data.means.length !== expected.length) throw new ModelLoadError(`model bundle ${dir}: ${NORMALIZER_FILE} is invalid or has the wrong number of features`, { file: NORMALIZER_FILE });

  let nn: tf.LayersModel;
  try {
    nn = await tf.loadLayersModel(memoryLoadHandler({ modelJson: files[TFJS_MODEL_FILE], weights: files[TFJS_WEIGHTS_FILE] }));
  } catch (error) {
    throw new ModelLoadError(`model bundle ${dir}: the tfjs model cannot be built: ${error instanceof Error ? error.message : String(error)}`, { file: TFJS_MODEL_FILE, cause: error });
  }
  return { manifest, modelHash: `0x${sha256(manifestBytes)}`, forest, nn, normalizer: normalizer.data, ...(booster ? { booster } : {}) };
}
