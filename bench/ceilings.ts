import { leafReasonsOf } from '../anchoring/interim-leaf.ts';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import { claimCommitment, newSalt } from '../anchoring/core/commitment.ts';
import { leafValues, type LeafValues } from '../anchoring/core/leaf.ts';
import { buildBatchTree } from '../anchoring/core/merkle.ts';
import type { Logger } from '../core/logger.ts';
import type { Claim } from '../domain/claim.schema.ts';
import { generateClaims } from '../fixtures/generator.ts';
import { decodeClaim } from '../ingest/claim-decoder.ts';
import { offlineObservations } from '../scoring/aggregates.ts';
import { extractFeatures } from '../scoring/features.ts';
import { Scorer } from '../scoring/scorer.ts';
import { trainModel } from '../training/train.ts';
import type { EncodedClaim } from './claims-feed.ts';
import { rate } from './support.ts';

const run = promisify(execFile);

/** A CPU-bound ceiling: items/s on the wall clock and per second of CPU (user + system) of this process. */
export interface CpuCeiling {
  perSecond: number;
  /** Items per CPU-second: the per-core rate, independent of how busy the other core was. */
  perCpuSecond: number;
  items: number;
  ms: number;
}

function cpuRate(items: number, fn: () => void, minMs: number): CpuCeiling {
  fn();
  const cpu0 = process.cpuUsage();
  const measured = rate(items, fn, minMs);
  const cpu = process.cpuUsage(cpu0);
  // rate() runs fn once more as a warm-up inside the measured CPU window; count it.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { perSecond: measured.perSecond, perCpuSecond: (items * (measured.runs + 1)) / cpuSeconds, items: items * measured.runs, ms: measured.ms };
}

/** JSON decode + zod validation (ingest/claim-decoder.ts decodeClaim) over the real claim bytes. */
export function decodeCeiling(claims: readonly EncodedClaim[], minMs: number): CpuCeiling {
  const sample = claims.slice(0, 5_000);
  return cpuRate(sample.length, () => {
    for (const c of sample) if (!decodeClaim(c.value).ok) throw new Error(`bench claim ${c.claimId} does not decode`);
  }, minMs);
}

/** The model bundle to score with: MODEL_DIR when it exists, else one trained now into a temp dir. */
export async function ensureModel(modelDir: string, log: Logger): Promise<string> {
  if (existsSync(join(modelDir, 'manifest.json'))) return resolve(modelDir);
  const dir = mkdtempSync(join(tmpdir(), 'claimtrail-bench-model-'));
  const training = generateClaims({ count: 3_000, seed: 11 });
  await trainModel({ claims: training.claims, labels: training.labels, outDir: dir, seed: 11, log });
  return dir;
}

/** Scoring only: feature extraction alone, and Scorer.scoreBatch on batches of 500. */
export function scoringCeiling(scorer: Scorer, claims: readonly Claim[], minMs: number): { features: CpuCeiling; scoreBatch: CpuCeiling; backend: string } {
  const batch = claims.slice(0, 500);
  const features = cpuRate(batch.length, () => {
    for (const c of batch) extractFeatures(c);
  }, minMs);
  // Aggregate observations (features, duplicate flag) come from Redis in the pipeline: precomputed here.
  const observations = offlineObservations(batch, scorer.aggregates);
  const scoreBatch = cpuRate(batch.length, () => void scorer.scoreBatch(batch, observations), minMs);
  return { features, scoreBatch, backend: scorer.backend };
}

/** Leaf tuples of real scored decisions (what the batcher hashes), `count` of them. */
export function leafTuples(scorer: Scorer, claims: readonly EncodedClaim[], decoded: readonly Claim[], count: number): LeafValues[] {
  const out: LeafValues[] = [];
  const decidedAt = new Date().toISOString();
  for (let i = 0; i < count; i += 500) {
    const slice = decoded.slice(i % decoded.length, (i % decoded.length) + Math.min(500, count - i));
    const results = scorer.scoreInOrder(slice);
    results.forEach((r, j) => {
      const offset = String(i + j);
      const bytes = claims[(i + j) % claims.length]!.value;
      out.push(
        leafValues({
          decisionId: `0x${(i + j).toString(16).padStart(64, '0')}`,
          claimCommitment: claimCommitment(bytes, newSalt()),
          score: r.score,
          outcome: r.outcome,
          modelHash: scorer.modelHash,
          reasons: leafReasonsOf(r.reasons),
          decidedAt,
          log: { topic: 'bench.decisions', partition: 0, offset },
        }),
      );
    });
  }
  return out;
}

/** Merkle build only (anchoring/core/merkle.ts buildBatchTree), both builders, at each batch size: leaves/s. */
export function merkleCeiling(
  leaves: readonly LeafValues[],
  sizes: readonly number[],
  minMs: number,
): Array<{ size: number; builder: 'fast' | 'openzeppelin'; leavesPerSecond: number; leavesPerCpuSecond: number; msPerBatch: number }> {
  const rows = [];
  for (const size of sizes) {
    const values = leaves.slice(0, size);
    for (const builder of ['fast', 'openzeppelin'] as const) {
      const r = cpuRate(values.length, () => void buildBatchTree(values, { builder }), minMs);
      rows.push({ size: values.length, builder, leavesPerSecond: r.perSecond, leavesPerCpuSecond: r.perCpuSecond, msPerBatch: (values.length / r.perSecond) * 1000 });
    }
  }
  return rows;
}

/** Raw kafkajs consume of `expected` messages from `topic` (new group, no processing): messages/s and MB/s. */
export async function kafkajsCeiling(kafka: Kafka, topic: string, groupId: string, expected: number, timeoutMs: number): Promise<{ perSecond: number; mbPerSecond: number; seconds: number; messages: number }> {
  // Same fetch settings as the scoring stage's consumer (infra/kafka/transactional-stage.ts).
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxBytesPerPartition: 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  try {
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`raw kafkajs consume: ${count} of ${expected} messages in ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            if (first === 0) first = performance.now();
            count += batch.messages.length;
            for (const m of batch.messages) bytes += m.value?.length ?? 0;
            last = performance.now();
            if (count >= expected) {
              clearTimeout(timer);
              done();
            }
          },
        })
        .catch(fail);
    });
  } finally {
    await consumer.disconnect();
  }
  // From the first fetched batch: group join is not consume speed (ConsumerPerformance's fetch.* columns do the same).
  const seconds = (last - first) / 1000;
  return { perSecond: count / seconds, mbPerSecond: bytes / 2 ** 20 / seconds, seconds, messages: count };
}

/** Kafka's own org.apache.kafka.tools.ConsumerPerformance (kafka-consumer-perf-test) on the same topic. */
export async function javaConsumerCeiling(options: { libsDir: string; brokers: string; topic: string; groupId: string; messages: number }): Promise<{ perSecond: number; fetchPerSecond: number; mbPerSecond: number; raw: string }> {
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const args = [
    '-Xmx512m',
    '-cp',
    join(options.libsDir, '*'),
    `-Dlog4j2.configurationFile=${resolve(options.libsDir, '..', 'log4j2.xml')}`,
    'org.apache.kafka.tools.ConsumerPerformance',
    '--bootstrap-server', options.brokers,
    '--topic', options.topic,
    '--group', options.groupId,
    '--messages', String(options.messages),
    '--timeout', '60000',
  ];
  const { stdout } = await run(java, args, { timeout: 180_000, maxBuffer: 4 * 2 ** 20 });
  // Header: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const lines = stdout.trim().split('\n');
  const headerAt = lines.findIndex((l) => l.includes('nMsg.sec'));
  const header = lines[headerAt]?.split(',').map((h) => h.trim()) ?? [];
  const values = lines[headerAt + 1]?.split(',').map((v) => v.trim()) ?? [];
  const field = (name: string) => Number(values[header.indexOf(name)]);
  const result = { perSecond: field('nMsg.sec'), fetchPerSecond: field('fetch.nMsg.sec'), mbPerSecond: field('fetch.MB.sec'), raw: `${lines[headerAt]}\n${lines[headerAt + 1]}` };
  if (!(result.fetchPerSecond > 0)) throw new Error(`ConsumerPerformance output not understood:\n${stdout.slice(-2000)}`);
  return result;
}
