import { parentPort, workerData } from 'node:worker_threads';
import { initTf } from '../scoring/tf.ts';
import { foldContext, runOuterFold, type FitEvent, type FoldWorkerData } from './cross-validate.ts';

/**
 * Worker thread of `crossValidate({ workers })`: rebuilds the context from `workerData` once,
 * then runs the outer folds it is sent (`{ foldOf, f, seed }`), reporting every fitting and
 * progress step, and posts each fold's output back.
 */
const port = parentPort;
if (!port) throw new Error('cv-worker.ts runs as a worker thread');
await initTf();
const ctx = foldContext(
  workerData as FoldWorkerData,
  (event: FitEvent) => port.postMessage({ type: 'fit', event }),
  (what: string) => port.postMessage({ type: 'step', what }),
);
port.on('message', (job: { foldOf: Int32Array; f: number; seed: number }) => {
  void runOuterFold(ctx, job.foldOf, job.f, job.seed).then(
    (out) => port.postMessage({ type: 'done', f: job.f, out }),
    (error: unknown) => {
      throw error;
    },
  );
});
port.postMessage({ type: 'ready' });
