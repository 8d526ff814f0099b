/**
 * The benchmark harness (issue #8): ceilings and the end-to-end pipeline measured in ONE run on
 * the same machine, the same claim bytes and the same topics. Prints a table, writes
 * `<out>/<date>.json`, `<out>/<date>.md` and `<out>/<date>.svg`.
 *
 * Everything runs against the local stack (Kafka, Redis, PostgreSQL, anvil) with its own topics,
 * consumer groups, queue and schema per run, removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.ts';
import { loadConfig, loadDotEnv } from '../core/config.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import type { Claim } from '../domain/claim.schema.ts';
import { decodeClaim } from '../ingest/claim-decoder.ts';
import { createKafka, ensureTopics } from '../infra/kafka/kafka.ts';
import { createRulesConfig } from '../scoring/rules.ts';
import { Scorer } from '../scoring/scorer.ts';
import { anchorCeiling } from './anchoring.ts';
import { type EncodedClaim, encodeClaims, preload } from './claims-feed.ts';
import { ensureKafkaTools } from '../stack/kafka.ts';
import { startPrivateAnvil } from '../tests/support/private-anvil.ts';
import { decodeCeiling, ensureModel, javaConsumerCeiling, kafkajsCeiling, leafTuples, merkleCeiling, scoringCeiling } from './ceilings.ts';
import { type BenchOptions, parseBenchOptions } from './options.ts';
import { stageTimings } from './stage-timings.ts';
import { type PipelineRunResult, type PipelineRunSpec, runPipeline } from './pipeline-run.ts';
import { timelineSvg } from './plot.ts';
import { type BenchResult, evaluateTargets, renderMarkdown, renderTable } from './report.ts';
import { benchConfig, benchEnv, cleanupRun, progress } from './support.ts';

const SEED = 8_0808;

/** The code measured: HEAD and the files changed in the working tree (other engineers edit it too). */
function codeState(): { commit: string; dirty: string[] } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => l.slice(3));
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: [] };
  }
}

/**
 * Runs one pipeline measurement on fresh topics/schema/queue and always cleans up. `body` gets the
 * run's configuration and the environment it was loaded from (for role processes).
 */
async function isolatedRun(overrides: Record<string, string>, log: Logger, body: (config: Readonly<Config>, env: NodeJS.ProcessEnv) => Promise<PipelineRunResult>): Promise<PipelineRunResult> {
  const env = benchEnv(overrides);
  const config = loadConfig(env);
  try {
    return await body(config, env);
  } finally {
    await cleanupRun(config, log, [`${config.kafka.scoringGroupId}-observer`, `${config.kafka.scoringGroupId}-raw`, `${config.kafka.scoringGroupId}-java`]);
  }
}

async function main(opts: BenchOptions): Promise<BenchResult> {
  // 'error' by default: retried anchor jobs log whole signed transactions at 'warn'.
  const log = createLogger(process.env.LOG_LEVEL ?? 'error');
  const startedAt = new Date();
  const t0 = performance.now();
  const code = codeState();
  const machine = { nproc: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', memGb: totalmem() / 2 ** 30, node: nodeWithHeapFlags(), loadAvgStart: loadavg(), loadAvgEnd: [] as number[] };
  progress(`machine: ${machine.nproc} cores, ${machine.memGb.toFixed(1)} GiB, load ${machine.loadAvgStart.map((l) => l.toFixed(2)).join(' ')} (other engineers share it: figures are noisy)`);
  const minMs = opts.quick ? 300 : 1500;
  const base = benchConfig();
  const modelDir = await ensureModel(base.modelDir, log);
  const common = { MODEL_DIR: modelDir, BATCH_MAX_SIZE: String(opts.batchSize), BATCH_MAX_AGE_MS: '500' };

  const poolSize = Math.max(opts.claims, opts.anchorClaims, Math.ceil(opts.rate * opts.durationS * 1.05));
  progress(`generating ${poolSize} claims`);
  const pool: EncodedClaim[] = encodeClaims(poolSize, SEED);

  // --- CPU ceilings ---------------------------------------------------------------------------
  progress('ceiling: JSON decode + zod validation');
  const decode = decodeCeiling(pool, minMs);
  const decoded: Claim[] = pool.slice(0, 5_000).map((c) => {
    const d = decodeClaim(c.value);
    if (!d.ok) throw new Error(`claim ${c.claimId} does not decode: ${d.reason}`);
    return d.claim;
  });
  progress('ceiling: scoring (features, Scorer.scoreBatch x500)');
  const scorer = await Scorer.load(modelDir, { rules: createRulesConfig() });
  const scoring = scoringCeiling(scorer, decoded, minMs);
  progress('ceiling: Merkle build (fast, openzeppelin)');
  const maxLeaves = Math.max(...opts.anchorBatchSizes);
  const leaves = leafTuples(scorer, pool, decoded, maxLeaves);
  const merkle = merkleCeiling(leaves, opts.anchorBatchSizes, minMs);

  // --- Per-stage wall timings of one fetch-sized batch -------------------------------------------
  const avgBytes = pool.slice(0, 2_000).reduce((s, c) => s + c.value.length, 0) / Math.min(pool.length, 2_000);
  const fetchBatch = Math.max(1, Math.floor((1024 * 1024) / avgBytes));
  progress(`stage timings: batches of ${fetchBatch} claims (1 MiB fetch / ${avgBytes.toFixed(0)} B per claim)`);
  const timingsConfig = benchConfig(common);
  const timingsKafka = createKafka(timingsConfig, log, '-bench');
  let timings;
  try {
    timings = await stageTimings(timingsKafka, timingsConfig, scorer, pool, fetchBatch, opts.quick ? 3 : 7, log);
  } finally {
    await cleanupRun(timingsConfig, log);
  }

  // --- Kafka ceilings + end-to-end drain per partition count -----------------------------------
  const kafkaCeilings: BenchResult['ceilings']['kafka'] = [];
  const drains: PipelineRunResult[] = [];
  for (const partitions of opts.partitions) {
    const run = await isolatedRun({ ...common, TOPIC_PARTITIONS: String(partitions) }, log, async (config) => {
      const kafka = createKafka(config, log, '-bench');
      await ensureTopics(kafka, config);
      const topic = config.kafka.topics.claims;
      progress(`${partitions} partition(s): preloading ${opts.claims} claims into ${topic}`);
      const preloadPerSecond = await preload(kafka, topic, pool.slice(0, opts.claims));
      progress(`${partitions} partition(s): raw kafkajs consume`);
      const kafkajs = await kafkajsCeiling(kafka, topic, `${config.kafka.scoringGroupId}-raw`, opts.claims, 120_000);
      progress(`${partitions} partition(s): Kafka ConsumerPerformance (java)`);
      // The broker may be one we did not start (docker compose, CI's reused broker): fetch the tools' jars if absent.
      const { libs } = await ensureKafkaTools(config.stateDir, log);
      const java = await javaConsumerCeiling({ libsDir: libs, brokers: config.kafka.brokers.join(','), topic, groupId: `${config.kafka.scoringGroupId}-java`, messages: opts.claims }).catch((error: unknown) => {
        progress(`ConsumerPerformance failed: ${(error as Error).message.split('\n')[0]}`);
        return null;
      });
      kafkaCeilings.push({ partitions, messages: opts.claims, preloadPerSecond, kafkajs, java });
      progress(`${partitions} partition(s): end-to-end drain (scoring + batching)`);
      const spec: PipelineRunSpec = { label: `drain p=${partitions}`, config, roles: ['scoring', 'batching'], mode: { kind: 'drain', expected: opts.claims }, timeoutMs: 600_000 };
      return runPipeline(spec, log);
    });
    drains.push(run);
  }
  const main = drains[0]!;
  const mainPartitions = opts.partitions[0]!;

  // A separate profiled drain, so the profiler's overhead never touches the figures above.
  if (opts.cpuProf) {
    const n = Math.min(opts.claims, 30_000);
    const profiled = await isolatedRun({ ...common, TOPIC_PARTITIONS: String(mainPartitions) }, log, async (config) => {
      const kafka = createKafka(config, log, '-bench');
      await ensureTopics(kafka, config);
      progress(`profiled drain: preloading ${n} claims`);
      await preload(kafka, config.kafka.topics.claims, pool.slice(0, n));
      return runPipeline({ label: 'profiled drain', config, roles: ['scoring', 'batching'], mode: { kind: 'drain', expected: n }, profile: true, timeoutMs: 600_000 }, log);
    });
    if (profiled.profile) main.profile = profiled.profile;
  }

  // --- Latency at a fixed offered rate and at saturation ---------------------------------------
  const openRun = (label: string, rate: number) =>
    isolatedRun({ ...common, TOPIC_PARTITIONS: String(mainPartitions) }, log, (config) =>
      runPipeline({ label, config, roles: ['scoring', 'batching'], mode: { kind: 'open', rate, durationS: opts.durationS, claims: pool }, timeoutMs: 300_000 }, log),
    );
  progress(`latency at ${opts.rate} claims/s offered for ${opts.durationS} s`);
  const fixedRate = await openRun(`fixed ${opts.rate}/s`, opts.rate);
  // "Saturation" = offered at the sustained rate the drain measured: the pipeline is exactly busy.
  const saturationRate = Math.max(1, Math.round(main.indexedPerSecond));
  progress(`latency at saturation: ${saturationRate} claims/s offered (the measured sustained rate)`);
  const saturation = await openRun(`saturation ${saturationRate}/s`, saturationRate);

  // --- Batch size scaling (full runs only) -----------------------------------------------------
  const batchSizes: PipelineRunResult[] = [];
  if (!opts.quick) {
    for (const size of [100, 10_000].filter((s) => s !== opts.batchSize)) {
      const n = Math.min(opts.claims, 50_000);
      batchSizes.push(
        await isolatedRun({ ...common, TOPIC_PARTITIONS: String(mainPartitions), BATCH_MAX_SIZE: String(size) }, log, async (config) => {
          const kafka = createKafka(config, log, '-bench');
          await ensureTopics(kafka, config);
          progress(`batch size ${size}: preloading ${n} claims`);
          await preload(kafka, config.kafka.topics.claims, pool.slice(0, n));
          return runPipeline({ label: `batch ${size}`, config, roles: ['scoring', 'batching'], mode: { kind: 'drain', expected: n }, timeoutMs: 600_000 }, log);
        }),
      );
    }
  }

  // --- Anchoring -------------------------------------------------------------------------------
  // On the bench's own anvil with a block time (an L2 at 2 s), unless --block-time 0: epochs and
  // flagged roots go out once per block, as on a real chain, not once per transaction.
  const chain = opts.blockTime > 0 ? await startPrivateAnvil({ blockTime: opts.blockTime }) : undefined;
  if (chain) progress(`anchoring: own anvil at ${chain.rpcUrl}, a block every ${opts.blockTime} s`);
  const anchorCommon = { ...common, ...(chain ? { CHAIN_RPC_URL: chain.rpcUrl } : {}) };
  const defaultPartitions = loadConfig({}).kafka.partitions;
  // With anchoring at the main run's partition count and, when it differs, at the deployment's
  // default (TOPIC_PARTITIONS unset), which is what an installation runs.
  const anchorRunAt = (partitions: number) => {
    progress(`anchoring, p=${partitions}: ${opts.anchorClaims} claims through scoring + batching + anchoring`);
    return isolatedRun({ ...anchorCommon, TOPIC_PARTITIONS: String(partitions) }, log, async (config) => {
      const kafka = createKafka(config, log, '-bench');
      await ensureTopics(kafka, config);
      await preload(kafka, config.kafka.topics.claims, pool.slice(0, opts.anchorClaims));
      return runPipeline({ label: `anchoring p=${partitions}`, config, roles: ['scoring', 'batching', 'anchoring'], mode: { kind: 'drain', expected: opts.anchorClaims }, anchored: true, timeoutMs: 600_000 }, log);
    });
  };
  // The deployment's shape: each role its own process (`claimtrail run --roles <role>`), one
  // scoring process, at the default partition count. The target is judged here. As many claims as
  // the drains: the role processes start cold (their JIT warms up on the first ~10,000 claims),
  // where the runs above reuse this warm process, and a deployment's processes run for days.
  const processClaims = Math.max(opts.anchorClaims, opts.claims);
  const asProcesses = () => {
    progress(`anchoring, roles as processes, p=${defaultPartitions}: ${processClaims} claims`);
    return isolatedRun({ ...anchorCommon, TOPIC_PARTITIONS: String(defaultPartitions) }, log, async (config, env) => {
      const kafka = createKafka(config, log, '-bench');
      await ensureTopics(kafka, config);
      await preload(kafka, config.kafka.topics.claims, pool.slice(0, processClaims));
      const logDir = mkdtempSync(join(tmpdir(), 'claimtrail-bench-roles-'));
      const run = await runPipeline(
        { label: `anchoring p=${defaultPartitions}, roles as processes`, config, roles: ['scoring', 'batching', 'anchoring'], mode: { kind: 'drain', expected: processClaims }, anchored: true, timeoutMs: 600_000, processes: { scoring: 1, env, nodeFlags: heapFlags(), logDir } },
        log,
      );
      // The role logs are kept only when the run fails (the error names them).
      rmSync(logDir, { recursive: true, force: true });
      return run;
    });
  };
  let anchorRun: PipelineRunResult;
  let anchorRunDefault: PipelineRunResult | undefined;
  let anchorRunProcesses: PipelineRunResult;
  try {
    anchorRun = await anchorRunAt(mainPartitions);
    anchorRunDefault = defaultPartitions !== mainPartitions ? await anchorRunAt(defaultPartitions) : undefined;
    anchorRunProcesses = await asProcesses();
  } finally {
    await chain?.stop();
  }
  progress('anchoring: gas of anchorEpoch and anchorFlaggedRoot (direct, DecisionAnchorV2)');
  const anchorDirect = await anchorCeiling(base, log, opts.quick ? 3 : 10);

  machine.loadAvgEnd = loadavg();
  const result: BenchResult = {
    format: 'claimtrail-bench-v1',
    startedAt: startedAt.toISOString(),
    durationS: (performance.now() - t0) / 1000,
    options: opts,
    machine,
    code,
    ceilings: { decode, scoring, merkle, kafka: kafkaCeilings },
    endToEnd: { main, drains, fixedRate, saturation, batchSizes },
    anchoring: { direct: anchorDirect, pipeline: anchorRun, ...(anchorRunDefault ? { atDefaultPartitions: anchorRunDefault } : {}), asProcesses: anchorRunProcesses },
    stageTimings: timings,
    targets: [],
  };
  result.targets = evaluateTargets(result);
  return result;
}

/**
 * Runs the benchmark for command-line `argv` (without node and script); returns the exit code
 * (0 done, 2 bad options). Service failures throw.
 */
export async function runBench(argv: readonly string[]): Promise<number> {
  let opts: BenchOptions | null;
  try {
    opts = parseBenchOptions(argv);
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    return 2;
  }
  if (!opts) return 0;
  loadDotEnv();
  const result = await main(opts);
  const stamp = result.startedAt.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  const name = opts.quick ? `${stamp}-quick` : stamp;
  mkdirSync(opts.outDir, { recursive: true });
  const table = renderTable(result);
  const svgName = `${name}.svg`;
  writeFileSync(join(opts.outDir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(opts.outDir, `${name}.md`), renderMarkdown(result, table, svgName));
  writeFileSync(
    join(opts.outDir, svgName),
    timelineSvg(`${result.startedAt}, ${result.machine.nproc} cores shared with other engineers' tests`, [
      { name: result.endToEnd.main.label, timeline: result.endToEnd.main.timeline, latency: false },
      { name: result.endToEnd.fixedRate.label, timeline: result.endToEnd.fixedRate.timeline, latency: true },
      { name: result.endToEnd.saturation.label, timeline: result.endToEnd.saturation.timeline, latency: true },
    ]),
  );
  console.log(table);
  progress(`wrote ${join(opts.outDir, name)}.{json,md,svg} in ${result.durationS.toFixed(0)} s`);
  return 0;
}

/**
 * `v24.x.y` plus the V8 heap flags this process runs with (command line and NODE_OPTIONS), which
 * change the pipeline's CPU per claim (docs/soak.md, "Sizing").
 */
function nodeWithHeapFlags(): string {
  const flags = heapFlags();
  return flags.length > 0 ? `${process.version} (${flags.join(' ')})` : process.version;
}

/** The V8 heap flags this process runs with (command line and NODE_OPTIONS): role processes get the same. */
function heapFlags(): string[] {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].filter((f) => /^--max-(old|semi)-space-size=/.test(f));
}
