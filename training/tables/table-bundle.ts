import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { calibrate, CalibrationSchema } from '../../scoring/calibration.ts';
import { mix } from '../../scoring/ensemble.ts';
import type { FinalModel } from '../cross-validate.ts';
import { ModelLoadError } from '../../scoring/errors.ts';
import { TableEncoder } from './feature-spec.ts';
import { Booster } from '../../scoring/booster.ts';
import { Forest } from '../../scoring/forest.ts';
import { MlpEvaluator } from '../../scoring/mlp-evaluator.ts';
import { NormalizerSchema, normalizeInto, type Normalizer } from '../../scoring/normalizer.ts';
import type { TableRow } from './table-reader.ts';
import { tf } from '../../scoring/tf.ts';
import { memoryLoadHandler, memorySaveHandler, TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE } from '../../scoring/tfjs-io.ts';

/**
 * A model bundle for a table trained with a feature spec (`claimtrail train --spec`). Same idea
 * as model-bundle.ts (manifest pinning every file by sha256; the model hash is `0x` + sha256 of
 * the manifest), plus `encoder.json`: the spec with what was fitted on the training rows, so
 * scoring turns raw rows into exactly the training features. `booster.json` (gradient-boosted
 * trees) is there, listed in `files` and weighted by `weights.gb`, only when the final model's
 * stacker gave the booster a weight.
 */

export const TABLE_MODEL_FORMAT = 'claimtrail-table-model-v1';
const FILES = ['encoder.json', 'rf.json', TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE, 'normalizer.json'] as const;
const BOOSTER = 'booster.json';
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const TableManifestSchema = z.strictObject({
  format: z.literal(TABLE_MODEL_FORMAT),
  createdAt: z.iso.datetime(),
  label: z.string().min(1),
  features: z.array(z.string().min(1)).min(1),
  weights: z.strictObject({ rf: z.number().min(0).max(1), nn: z.number().min(0).max(1), gb: z.number().min(0).max(1).optional() }),
  calibration: CalibrationSchema,
  files: z.strictObject({ ...(Object.fromEntries(FILES.map((f) => [f, sha256Hex])) as Record<(typeof FILES)[number], typeof sha256Hex>), [BOOSTER]: sha256Hex.optional() }),
  training: z.record(z.string(), z.unknown()).optional(),
}).refine((m) => (m.weights.gb === undefined) === (m.files[BOOSTER] === undefined), { message: `weights.gb and files.${BOOSTER} come together`, path: ['weights'] });
export type TableManifest = z.infer<typeof TableManifestSchema>;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Writes the bundle (replacing `dir`) and returns its model hash. */
export async function saveTableBundle(dir: string, model: FinalModel, label: string, training: Record<string, unknown>): Promise<{ modelHash: string; dir: string }> {
  const { handler, files: tfFiles } = memorySaveHandler();
  await model.nn.save(handler);
  const { modelJson, weights } = tfFiles();
  const contents: Record<(typeof FILES)[number], Buffer> = {
    'encoder.json': Buffer.from(JSON.stringify(model.encoder.toJSON())),
    'rf.json': Buffer.from(JSON.stringify(model.forest)),
    [TFJS_MODEL_FILE]: modelJson,
    [TFJS_WEIGHTS_FILE]: weights,
    'normalizer.json': Buffer.from(JSON.stringify(model.normalizer)),
  };
  const boosterBytes = model.booster ? Buffer.from(JSON.stringify(model.booster)) : undefined;
  const manifest: TableManifest = TableManifestSchema.parse({
    format: TABLE_MODEL_FORMAT,
    createdAt: new Date().toISOString(),
    label,
    features: [...model.encoder.names],
    weights: model.weights,
    calibration: model.calibration,
    files: { ...Object.fromEntries(FILES.map((f) => [f, sha256(contents[f])])), ...(boosterBytes ? { [BOOSTER]: sha256(boosterBytes) } : {}) },
    training,
  });
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const target = path.resolve(dir);
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  try {
    for (const f of FILES) await writeFile(path.join(tmp, f), contents[f]);
    if (boosterBytes) await writeFile(path.join(tmp, BOOSTER), boosterBytes);
    await writeFile(path.join(tmp, 'manifest.json'), manifestBytes);
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  return { modelHash: `0x${sha256(manifestBytes)}`, dir: target };
}

/** A loaded table model: scores raw rows. */
export interface TableModel {
  manifest: TableManifest;
  modelHash: string;
  encoder: TableEncoder;
  /** Per row: member probabilities (gb with a booster) and the calibrated ensemble score. */
  score(rows: readonly TableRow[]): { rf: Float64Array; nn: Float64Array; gb?: Float64Array; score: Float64Array };
  dispose(): void;
}

/**
 * Loads and verifies a table bundle (every file against the manifest). Call `initTf()` first.
 * @throws ModelLoadError naming the file at fault.
 */
export async function loadTableBundle(dir: string): Promise<TableModel> {
  const read = async (f: string): Promise<Buffer> => {
    try {
      return await readFile(path.join(dir, f));
    } catch (error) {
      throw new ModelLoadError(`table model bundle ${dir}: ${f} cannot be read`, { file: f, cause: error });
    }
  };
  const manifestBytes = await read('manifest.json');
  let manifest: TableManifest;
  try {
    manifest = TableManifestSchema.parse(JSON.parse(manifestBytes.toString('utf8')));
  } catch (error) {
    throw new ModelLoadError(`table model bundle ${dir}: invalid manifest.json`, { file: 'manifest.json', cause: error });
  }
  const files = {} as Record<(typeof FILES)[number], Buffer>;
  for (const f of FILES) {
    files[f] = await read(f);
    if (sha256(files[f]) !== manifest.files[f]) throw new ModelLoadError(`table model bundle ${dir}: ${f} does not match its sha256 in the manifest`, { file: f });
  }
  let encoder: TableEncoder;
  let forest: Forest;
  let normalizer: Normalizer;
  let booster: Booster | undefined;
  const boosterHash = manifest.files[BOOSTER];
  if (boosterHash !== undefined) {
    const bytes = await read(BOOSTER);
    if (sha256(bytes) !== boosterHash) throw new ModelLoadError(`table model bundle ${dir}: ${BOOSTER} does not match its sha256 in the manifest`, { file: BOOSTER });
    try {
      booster = Booster.fromJson(JSON.parse(bytes.toString('utf8')));
    } catch (error) {
      throw new ModelLoadError(`table model bundle ${dir}: ${BOOSTER}: ${error instanceof Error ? error.message : String(error)}`, { file: BOOSTER, cause: error });
    }
  }
  try {
    encoder = TableEncoder.fromJson(JSON.parse(files['encoder.json'].toString('utf8')));
    forest = Forest.fromJson(JSON.parse(files['rf.json'].toString('utf8')));
    normalizer = NormalizerSchema.parse(JSON.parse(files['normalizer.json'].toString('utf8')));
  } catch (error) {
    throw new ModelLoadError(`table model bundle ${dir}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const width = encoder.names.length;
  if (forest.featureCount !== width || normalizer.means.length !== width || (booster && booster.featureCount !== width) || manifest.features.join('\n') !== encoder.names.join('\n')) throw new ModelLoadError(`table model bundle ${dir}: encoder, forest and normalizer disagree on the features`);
  const nn = await tf.loadLayersModel(memoryLoadHandler({ modelJson: files[TFJS_MODEL_FILE], weights: files[TFJS_WEIGHTS_FILE] }));
  const mlp = MlpEvaluator.fromModel(nn);
  return {
    manifest,
    modelHash: `0x${sha256(manifestBytes)}`,
    encoder,
    score(rows) {
      const matrix = encoder.transform(rows);
      const n = rows.length;
      const rf = new Float64Array(n);
      forest.predictBatch(matrix, n, rf);
      const x = new Float32Array(n * width);
      for (let r = 0; r < n; r++) normalizeInto(normalizer, matrix.subarray(r * width, (r + 1) * width), x, r * width);
      const p = new Float64Array(n);
      mlp.predictBatch(x, n, p);
      let gb: Float64Array | undefined;
      if (booster) {
        gb = new Float64Array(n);
        booster.predictBatch(matrix, n, gb);
      }
      const score = rf.map((v, i) => calibrate(manifest.calibration, mix(manifest.weights, v, p[i] as number, gb ? (gb[i] as number) : 0)));
      return { rf, nn: p, ...(gb ? { gb } : {}), score };
    },
    dispose: () => nn.dispose(),
  };
}
