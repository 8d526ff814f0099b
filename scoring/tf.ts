import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Logger } from '../core/logger.ts';

/**
 * TensorFlow.js for claimtrail, with the fastest backend this machine can run:
 *
 * 1. `tensorflow` from `@tensorflow/tfjs-node` (native libtensorflow) when that optional
 *    dependency is installed and its native addon loads;
 * 2. otherwise `wasm` from `@tensorflow/tfjs-backend-wasm` (SIMD when available), loading its
 *    .wasm binaries from the package's `dist/` folder on disk;
 * 3. `cpu` (plain JS) only if wasm fails to initialise.
 *
 * All three register on the one `@tensorflow/tfjs` engine this module exports, so callers import
 * `tf` from here and call `initTf()` once before predicting. Initialisation is memoised.
 */

export { tf };
export type Tf = typeof tf;

export interface TfRuntime {
  tf: Tf;
  /** Backend in use: `tensorflow`, `wasm` or `cpu`. */
  backend: string;
}

let runtime: Promise<TfRuntime> | undefined;

/** Initialises the best backend (see module doc) and logs which one runs. Idempotent. */
export function initTf(log?: Logger): Promise<TfRuntime> {
  runtime ??= selectBackend(log);
  return runtime;
}

async function selectBackend(log?: Logger): Promise<TfRuntime> {
  const attempts: string[] = [];
  // A variable specifier keeps TypeScript from requiring the optional package at compile time.
  const nativePackage = '@tensorflow/tfjs-node';
  try {
    await import(nativePackage);
    if (await tf.setBackend('tensorflow')) {
      await tf.ready();
      return done('tensorflow', attempts, log);
    }
    attempts.push('tensorflow: setBackend returned false');
  } catch (error) {
    attempts.push(`tensorflow: ${firstLine(error)}`);
  }

  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    // In Node the backend reads the .wasm file from this path prefix with fs.
    wasm.setWasmPaths(dist);
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      return done('wasm', attempts, log);
    }
    attempts.push('wasm: setBackend returned false');
  } catch (error) {
    attempts.push(`wasm: ${firstLine(error)}`);
  }

  await tf.setBackend('cpu');
  await tf.ready();
  return done('cpu', attempts, log);
}

async function done(backend: string, attempts: string[], log?: Logger): Promise<TfRuntime> {
  const simd = backend === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : undefined;
  log?.info({ component: 'tf', backend, ...(simd === undefined ? {} : { simd }), skipped: attempts }, `tensorflow.js backend: ${backend}`);
  return { tf, backend };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
