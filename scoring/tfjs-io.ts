import { tf } from './tf.ts';
import { InvalidArgumentError } from '../core/errors.ts';

type ModelArtifacts = tf.io.ModelArtifacts;
type IOHandler = tf.io.IOHandler;

/**
 * tf.js IOHandlers for a layers model as two files, `model.json` (topology + weights manifest,
 * the standard tfjs "layers-model" format) and `weights.bin` (all weights concatenated).
 * `tf.io`'s `file://` handler needs tfjs-node; these work with any backend and keep file I/O
 * with the caller (the bundle code hashes exactly the bytes it writes and reads).
 */

export const TFJS_MODEL_FILE = 'model.json';
export const TFJS_WEIGHTS_FILE = 'weights.bin';

/** The files of a saved model, as bytes. */
export interface TfjsModelFiles {
  modelJson: Buffer;
  weights: Buffer;
}

/** A save handler that captures the model's files in memory (write them with node:fs). */
export function memorySaveHandler(): { handler: IOHandler; files: () => TfjsModelFiles } {
  let captured: TfjsModelFiles | undefined;
  const handler: IOHandler = {
    save: async (artifacts: ModelArtifacts) => {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new InvalidArgumentError('binary model topology is not supported');
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const json = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      captured = { modelJson: Buffer.from(JSON.stringify(json)), weights: Buffer.from(weightData) };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
  return {
    handler,
    files: () => {
      if (!captured) throw new InvalidArgumentError('model was not saved through this handler');
      return captured;
    },
  };
}

/** A load handler over files already read (and verified) by the caller. */
export function memoryLoadHandler(files: TfjsModelFiles): IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(files.modelJson.toString('utf8')) as {
        format?: string;
        generatedBy?: string;
        convertedBy?: string | null;
        modelTopology: object;
        trainingConfig?: tf.io.TrainingConfig;
        weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
      };
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw new InvalidArgumentError(`${TFJS_MODEL_FILE} is not a tfjs layers model`);
      const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
      const weightData = files.weights.buffer.slice(files.weights.byteOffset, files.weights.byteOffset + files.weights.byteLength) as ArrayBuffer;
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData,
        ...(json.format ? { format: json.format } : {}),
        ...(json.generatedBy ? { generatedBy: json.generatedBy } : {}),
        ...(json.convertedBy ? { convertedBy: json.convertedBy } : {}),
        ...(json.trainingConfig ? { trainingConfig: json.trainingConfig } : {}),
      };
    },
  };
}
