/**
 * Where the scoring stage's CPU goes, per claim: ScoringStage.handle (decode, aggregates in Redis,
 * scoring, decision build, PostgreSQL payload COPY), the Kafka transaction and the batching stage's
 * close, on the real PostgreSQL, Redis and Kafka, under the V8 profiler.
 *
 *   node bench/profile-scoring.ts [--model-dir DIR] [--batch-size 1000] [--rounds 10] [--heap]
 *
 * Without --model-dir a model is trained first as the soak trains it (2,000 generated claims,
 * seed 11: forest, booster, network). Prints the step timings, then self time per folder/package
 * and the hottest functions. With --heap, V8's sampling heap profiler instead: the bytes each
 * function allocated over the rounds (collected or not), which is what the garbage collector
 * pays for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../core/logger.ts';
import { generateClaims } from '../fixtures/generator.ts';
import { createKafka } from '../infra/kafka/kafka.ts';
import { Scorer } from '../scoring/scorer.ts';
import { trainModel } from '../training/train.ts';
import { encodeClaims } from './claims-feed.ts';
import { summariseHeapProfile, summariseProfile, type Tally } from './profile.ts';
import { stageTimings } from './stage-timings.ts';
import { benchConfig, cleanupRun } from './support.ts';

// The local stack's dev keys (cli/dev-sources.ts), as bench/run.ts uses them.
process.env.CLAIMTRAIL_DEV_KEYS ??= '1';
const { values } = parseArgs({ options: { 'model-dir': { type: 'string' }, 'batch-size': { type: 'string', default: '1000' }, rounds: { type: 'string', default: '10' }, heap: { type: 'boolean', default: false } } });
const batchSize = Number(values['batch-size']);
const rounds = Number(values.rounds);
const log = createLogger('warn');
const work = mkdtempSync(join(tmpdir(), 'claimtrail-profile-'));
const modelDir = values['model-dir'] ?? join(work, 'model');
try {
  if (!values['model-dir']) {
    const training = generateClaims({ count: 2000, seed: 11 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 11, log });
  }
  const config = benchConfig({ MODEL_DIR: modelDir });
  const kafka = createKafka(config, log, '-profile');
  const scorer = await Scorer.load(modelDir);
  const claims = encodeClaims(batchSize * Math.min(rounds, 12), 5);
  // One round first, unprofiled: JIT warm-up, connections, the payload key cache.
  await stageTimings(kafka, config, scorer, claims, batchSize, 1, log);
  const session = new Session();
  session.connect();
  if (values.heap) {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  } else {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  const cpu = process.cpuUsage();
  const timings = await stageTimings(kafka, config, scorer, claims, batchSize, rounds, log);
  const used = process.cpuUsage(cpu);
  const claimCount = batchSize * rounds;
  // Either profile gives an amount per folder / package and per function: bytes allocated, or
  // milliseconds of self time; one printer for both.
  let tables: Tally;
  let perClaim: string;
  if (values.heap) {
    const heap = summariseHeapProfile((await session.post('HeapProfiler.stopSampling')).profile.head);
    tables = heap;
    perClaim = `allocated ${(heap.totalBytes / claimCount / 1024).toFixed(1)} KiB per claim (sampled, `;
  } else {
    tables = summariseProfile((await session.post('Profiler.stop')).profile);
    perClaim = `CPU of this process ${((used.user + used.system) / claimCount).toFixed(0)} µs per claim (`;
  }
  session.disconnect();
  await cleanupRun(config, log);
  const [unit, scale, groupTitle, functionTitle] = values.heap ? ['KiB', 1 / 1024, 'allocated by folder / package', 'functions that allocated most'] : ['ms', 1, 'self time by folder / package', 'hottest functions (self time)'];
  const row = (share: number, amount: number) => `  ${(100 * share).toFixed(1).padStart(5)} %  ${(amount * scale).toFixed(0).padStart(9)} ${unit}`;
  console.log(`model: ${modelDir} (${scorer.modelHash.slice(0, 12)}), ${rounds} batches of ${batchSize}; ${perClaim}every step, the load generator's decode included)`);
  console.log('median ms per batch:', JSON.stringify(timings));
  console.log(`\n${groupTitle}`);
  for (const g of tables.byGroup) console.log(`${row(g.share, g.amount)}  ${g.group}`);
  console.log(`\n${functionTitle}`);
  for (const f of tables.topFunctions) console.log(`${row(f.share, f.amount)}  ${f.fn}  ${f.where}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(0);
