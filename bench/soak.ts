/**
 * Soak test: the real pipeline at a steady rate for a long time, with memory and lag sampled
 * periodically and checked against documented bounds (docs/soak.md).
 *
 *   node bench/soak.ts --minutes 30 --rate 200            # the full soak
 *   node bench/soak.ts --minutes 2 --rate 50 --sample-seconds 20   # CI size (tests/integration/soak-smoke.test.ts)
 *
 * Three `claimtrail run --roles <role>` child processes (bench/role-process.ts: scoring, batching, anchoring) on their own
 * topics, consumer groups, queue, schema and STATE_DIR (so they deploy their own DecisionAnchor
 * with their own dev signer: no nonce races with other users of the chain). Each child loads a
 * tiny probe (`--import data:...`) that writes its process.memoryUsage() to a file every second,
 * so heap is read from inside and RSS from /proc. This process produces valid claims at `--rate`
 * and samples every `--sample-seconds`: RSS and heap of each child, consumer lag of the scoring
 * group (claims topic) and of the batching group (decisions topic) from kafkajs admin
 * (fetchTopicOffsets - fetchOffsets), decisions indexed and batches anchored from PostgreSQL.
 * After the steady phase it waits until every claim is decided and every batch anchored.
 *
 * Pass criteria (exit 1 otherwise), all options:
 * - every produced claim has a decision in PostgreSQL and every batch is anchored (drain within --drain-seconds);
 * - each child's RSS grows by at most --max-rss-growth-mib between the middle and the end of the steady phase;
 * - the scoring lag never exceeds --max-lag during the second half of the steady phase
 *   (default: 30 s of input, rate x 30), and the batching lag likewise;
 * - the anchoring backlog (batches stored but not yet anchored) never exceeds --max-anchor-backlog
 *   during the second half (default 300 batches: with BATCH_MAX_AGE_MS 2 s and 4 partitions the
 *   pipeline cuts up to 2 batches a second, so 300 is about 2.5 minutes of batches).
 * Output: a table on stdout, progress on stderr, bench/results/soak-<date>.md and .json (json git-ignored).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Partitioners } from 'kafkajs';
import pg from 'pg';
import { loadConfig, type Config } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { generateClaims } from '../fixtures/generator.ts';
import { cpuBetween, readMachineCpu, type MachineCpu } from './machine-cpu.ts';
import { createKafka, ensureTopics } from '../infra/kafka/kafka.ts';
import { trainModel } from '../training/train.ts';
import { RoleProcess, type RoleName } from './role-process.ts';
import { startPrivateAnvil, type PrivateAnvil } from '../tests/support/private-anvil.ts';
import { benchEnv, cleanupRun, groupLag, progress, sleep } from './support.ts';

// The soak runs on the local stack: its dev keys stand in for unset keys (cli/dev-sources.ts; an explicit CLAIMTRAIL_DEV_KEYS=0 still wins).
process.env.CLAIMTRAIL_DEV_KEYS ??= '1';

type Role = RoleName;

export interface SoakOptions {
  /** Steady phase, minutes (fractions allowed). Default 30. */
  minutes: number;
  /** Claims per second offered during the steady phase. Default 200. */
  rate: number;
  /** Seconds between samples. Default 60. */
  sampleSeconds: number;
  /** Claims topic partitions. Default 4 (the config default). */
  partitions: number;
  /** Allowed RSS growth of each child between the middle and the end of the steady phase, MiB. Default 64. */
  maxRssGrowthMiB: number;
  /** Allowed scoring / batching lag during the second half, messages. Default rate x 30. */
  maxLag: number;
  /** Allowed batches stored but not anchored during the second half. Default 300. */
  maxAnchorBacklog: number;
  /** Time allowed after the steady phase for every claim to be decided and anchored, seconds. Default 300. */
  drainSeconds: number;
  /** Where child logs and the temp model go; kept when given, else a temp dir removed at the end. */
  workDir?: string;
  /** Where soak-<date>.md / .json are written. Default bench/results. */
  resultsDir: string;
  /**
   * Seconds between blocks of the soak's own anvil (`--block-time`): 2 plays an L2, 12 mainnet.
   * 0: the shared stack chain (automine, a block per transaction). Default 2.
   */
  blockTime: number;
  /** Scoring processes in the one consumer group (each its own transactional id). Default 1. */
  scoringProcesses: number;
  /** ANCHOR_EPOCH_SECONDS of the anchoring role. Default 0 (an epoch per block). */
  epochSeconds: number;
  /** Highest RSS any child may reach during the steady phase, MiB. Default 400. */
  maxRssMiB: number;
  /**
   * V8 old-space limit of each child (`--max-old-space-size`), MiB: how a deployment bounds a
   * role's memory (docs/soak.md, "Sizing"). 0: V8's default, which lets the heap grow to ~300 MiB
   * under a backlog and keeps that RSS. Default 160.
   */
  maxOldSpaceMiB: number;
  /**
   * The batching role's own old-space limit, MiB (0: `maxOldSpaceMiB`). Default 256: the batcher
   * holds up to BATCH_MAX_SIZE decoded decisions per partition, and at 160 MiB it spent 55 % of its
   * CPU in V8's garbage collector at 2,000 claims/s (a CPU profile of the running process).
   */
  batchingOldSpaceMiB: number;
  /**
   * V8 young-generation limit of each child (`--max-semi-space-size`), MiB; 0: V8's default (64
   * here). Default 16: at V8's default the scoring processes spent ~40 % of their CPU in GC pauses
   * at 2,000 claims/s, at 16 about 16 %, with 2.3x the decisions per CPU-second (docs/soak.md).
   */
  maxSemiSpaceMiB: number;
  /** More V8 / Node flags for every role process (`--node-flags="--max-semi-space-size=32"`; the `=` form, as the flags start with a dash). Default none. */
  nodeFlags: string[];
}

/** What the chain was paid, and how long anchoring took, over the whole run (from PostgreSQL). */
export interface SoakAnchoring {
  epochs: number;
  epochGas: number;
  /** Decisions in anchored epochs. */
  epochDecisions: number;
  flaggedRoots: number;
  flaggedGas: number;
  flaggedDecisions: number;
  /** Batch recorded (decisions committed to the index) -> its epoch anchored, ms. */
  epochLagMs: { p50: number; p99: number; max: number };
  /** Flagged decision's batch recorded -> its flagged root anchored, ms. */
  flaggedLagMs: { p50: number; p99: number; max: number };
}

export interface SoakSample {
  /** Seconds since the steady phase started. */
  t: number;
  phase: 'steady' | 'drain';
  produced: number;
  indexed: number;
  batches: number;
  anchored: number;
  scoringLag: number;
  batchingLag: number;
  /** By child name: `scoring`, `scoring-2`..., `batching`, `anchoring`. */
  rssMiB: Record<string, number>;
  heapMiB: Record<string, number>;
  /** CPU seconds each child has used since it started. */
  cpuSeconds?: Record<string, number>;
  /** Seconds each child's main thread spent paused in garbage collection since it started: all kinds, and full mark-compacts. */
  gcSeconds?: Record<string, { all: number; major: number }>;
  /** The machine and the local services (bench/machine-cpu.ts). */
  machineCpu?: MachineCpu;
  /** CPU seconds of this driver process so far. */
  driverCpuSeconds?: number;
  /** This driver process (producer + sampler). */
  driverRssMiB: number;
  load1: number;
}

export interface SoakResult {
  options: SoakOptions;
  startedAt: string;
  samples: SoakSample[];
  produced: number;
  offeredPerSecond: number;
  checks: Array<{ name: string; ok: boolean; detail: string }>;
  ok: boolean;
  anchoring?: SoakAnchoring;
}

export class SoakUsageError extends Error {}

/** The V8 heap limits and extra flags of one role process (the batcher has its own old-space limit). */
export function roleNodeFlags(options: Pick<SoakOptions, 'maxOldSpaceMiB' | 'batchingOldSpaceMiB' | 'maxSemiSpaceMiB' | 'nodeFlags'>, role: Role): string[] {
  const oldSpace = role === 'batching' && options.batchingOldSpaceMiB > 0 ? options.batchingOldSpaceMiB : options.maxOldSpaceMiB;
  return [...(oldSpace > 0 ? [`--max-old-space-size=${oldSpace}`] : []), ...(options.maxSemiSpaceMiB > 0 ? [`--max-semi-space-size=${options.maxSemiSpaceMiB}`] : []), ...options.nodeFlags];
}

/** `--node-flags`: whitespace-separated flags, each starting with `--` (they go before the CLI script). */
function parseNodeFlags(raw: string): string[] {
  const flags = raw.split(/\s+/).filter((f) => f !== '');
  const bad = flags.find((f) => !/^--[a-z][a-z0-9-]*(=\S+)?$/.test(f));
  if (bad !== undefined) throw new SoakUsageError(`--node-flags: '${bad}' is not a --flag or --flag=value`);
  return flags;
}

export function parseSoakOptions(argv: readonly string[]): SoakOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: 'string', default: '30' },
      rate: { type: 'string', default: '200' },
      'sample-seconds': { type: 'string', default: '60' },
      partitions: { type: 'string', default: '4' },
      'max-rss-growth-mib': { type: 'string', default: '64' },
      'max-lag': { type: 'string' },
      'max-anchor-backlog': { type: 'string', default: '300' },
      'drain-seconds': { type: 'string', default: '300' },
      'work-dir': { type: 'string' },
      'results-dir': { type: 'string', default: join(import.meta.dirname, 'results') },
      'block-time': { type: 'string', default: '2' },
      'scoring-processes': { type: 'string', default: '1' },
      'epoch-seconds': { type: 'string', default: '0' },
      'max-rss-mib': { type: 'string', default: '400' },
      'max-old-space-mib': { type: 'string', default: '160' },
      'batching-old-space-mib': { type: 'string', default: '256' },
      'max-semi-space-mib': { type: 'string', default: '16' },
      'node-flags': { type: 'string', default: '' },
    },
    strict: true,
  });
  const num = (name: string, raw: string | undefined, min: number, max: number): number => {
    const n = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new SoakUsageError(`--${name} must be a number in [${min}, ${max}], got ${raw}`);
    return n;
  };
  const rate = num('rate', values.rate, 1, 5000);
  return {
    minutes: num('minutes', values.minutes, 0.1, 24 * 60),
    rate,
    sampleSeconds: num('sample-seconds', values['sample-seconds'], 1, 3600),
    partitions: Math.round(num('partitions', values.partitions, 1, 64)),
    maxRssGrowthMiB: num('max-rss-growth-mib', values['max-rss-growth-mib'], 0, 65536),
    maxLag: values['max-lag'] === undefined ? Math.max(100, rate * 30) : num('max-lag', values['max-lag'], 0, 1e9),
    maxAnchorBacklog: num('max-anchor-backlog', values['max-anchor-backlog'], 0, 1e9),
    drainSeconds: num('drain-seconds', values['drain-seconds'], 10, 7200),
    workDir: values['work-dir'],
    resultsDir: values['results-dir'],
    blockTime: Math.round(num('block-time', values['block-time'], 0, 60)),
    scoringProcesses: Math.round(num('scoring-processes', values['scoring-processes'], 1, 8)),
    epochSeconds: Math.round(num('epoch-seconds', values['epoch-seconds'], 0, 3600)),
    maxRssMiB: num('max-rss-mib', values['max-rss-mib'], 64, 65536),
    maxOldSpaceMiB: Math.round(num('max-old-space-mib', values['max-old-space-mib'], 0, 65536)),
    batchingOldSpaceMiB: Math.round(num('batching-old-space-mib', values['batching-old-space-mib'], 0, 65536)),
    maxSemiSpaceMiB: Math.round(num('max-semi-space-mib', values['max-semi-space-mib'], 0, 1024)),
    nodeFlags: parseNodeFlags(values['node-flags'] ?? ''),
  };
}

const mib = (n: number) => n.toFixed(0);

/** The sample table printed on stdout and kept in the .md result. */
export function soakTable(samples: readonly SoakSample[]): string {
  const names = Object.keys(samples[0]?.rssMiB ?? {});
  const head = ['t (s)', 'phase', 'produced', 'indexed', 'batches', 'anchored', 'lag scoring', 'lag batching', ...names.map((n) => `RSS ${n}`), ...names.map((n) => `heap ${n}`), 'RSS driver', 'load1'];
  const rows = samples.map((s) => [
    s.t.toFixed(0), s.phase, String(s.produced), String(s.indexed), String(s.batches), String(s.anchored), String(s.scoringLag), String(s.batchingLag),
    ...names.map((n) => mib(s.rssMiB[n] ?? 0)), ...names.map((n) => mib(s.heapMiB[n] ?? 0)), mib(s.driverRssMiB), s.load1.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i <= 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** Evaluates the documented criteria over the samples. */
export function soakChecks(samples: readonly SoakSample[], options: SoakOptions, produced: number): SoakResult['checks'] {
  const steady = samples.filter((s) => s.phase === 'steady');
  const last = samples.at(-1);
  const checks: SoakResult['checks'] = [];
  checks.push({
    name: 'every claim decided',
    ok: last !== undefined && last.indexed === produced,
    detail: `${last?.indexed ?? 0} decisions indexed of ${produced} claims produced`,
  });
  checks.push({
    name: 'every batch anchored',
    ok: last !== undefined && last.batches > 0 && last.anchored === last.batches,
    detail: `${last?.anchored ?? 0} of ${last?.batches ?? 0} batches anchored`,
  });
  const half = steady.filter((s) => s.t >= options.minutes * 30);
  const mid = half[0];
  const end = steady.at(-1);
  const names = Object.keys(samples[0]?.rssMiB ?? {});
  for (const name of names) {
    const growth = mid && end ? end.rssMiB[name]! - mid.rssMiB[name]! : Number.NaN;
    checks.push({
      name: `RSS ${name} bounded`,
      ok: Number.isFinite(growth) && growth <= options.maxRssGrowthMiB && end!.rssMiB[name]! > 0,
      detail: mid && end ? `${mib(mid.rssMiB[name]!)} MiB at t=${mid.t.toFixed(0)} s -> ${mib(end.rssMiB[name]!)} MiB at t=${end.t.toFixed(0)} s (${growth >= 0 ? '+' : ''}${growth.toFixed(0)}, limit +${options.maxRssGrowthMiB})` : 'not enough samples in the second half',
    });
  }
  const peak = Object.fromEntries(names.map((n) => [n, Math.max(0, ...steady.map((s) => s.rssMiB[n] ?? 0))]));
  checks.push({
    name: 'RSS of every process under the limit',
    ok: names.length > 0 && names.every((n) => peak[n]! <= options.maxRssMiB),
    detail: `peak ${names.map((n) => `${n} ${mib(peak[n]!)}`).join(', ')} MiB (limit ${options.maxRssMiB})`,
  });
  for (const [name, pick] of [['scoring', (s: SoakSample) => s.scoringLag], ['batching', (s: SoakSample) => s.batchingLag]] as const) {
    const worst = Math.max(0, ...half.map(pick));
    checks.push({ name: `lag ${name} bounded`, ok: half.length > 0 && worst <= options.maxLag, detail: `max ${worst} in the second half (limit ${options.maxLag})` });
  }
  const backlog = Math.max(0, ...half.map((s) => s.batches - s.anchored));
  checks.push({ name: 'anchoring backlog bounded', ok: half.length > 0 && backlog <= options.maxAnchorBacklog, detail: `max ${backlog} batches not yet anchored in the second half (limit ${options.maxAnchorBacklog})` });
  return checks;
}

/** Runs the soak; never throws for a failed criterion (see `ok`), throws when the run itself breaks. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const startedAt = new Date().toISOString();
  const work = options.workDir ?? mkdtempSync(join(tmpdir(), 'claimtrail-soak-'));
  mkdirSync(join(work, 'state'), { recursive: true });
  // The children get the environment the configuration is loaded from, so they load the same one.
  const env: NodeJS.ProcessEnv = {
    ...benchEnv({ TOPIC_PARTITIONS: String(options.partitions), MODEL_DIR: join(work, 'model'), STATE_DIR: join(work, 'state') }),
    LOG_LEVEL: 'info',
    ANCHOR_EPOCH_SECONDS: String(options.epochSeconds),
  };
  const config: Readonly<Config> = loadConfig(env);
  const id = config.database.schema;
  const kafka = createKafka(config, log, '-soak');
  const admin = kafka.admin();
  // Batching first: the schema is migrated once, before two children race to migrate it.
  const children = [
    new RoleProcess('batching', work),
    new RoleProcess('anchoring', work),
    ...Array.from({ length: options.scoringProcesses }, (_, k) =>
      k === 0 ? new RoleProcess('scoring', work) : new RoleProcess('scoring', work, `scoring-${k + 1}`, { SCORING_INSTANCE_ID: `${id}-${k + 1}` }),
    ),
  ];
  let anvil: PrivateAnvil | undefined;
  const db = new pg.Client({ connectionString: config.database.url });
  const samples: SoakSample[] = [];
  let produced = 0;
  let offeredPerSecond = 0;
  try {
    progress(`soak ${id}: training the model into ${config.modelDir}`);
    const training = generateClaims({ count: 2000, seed: 11 });
    await trainModel({ claims: training.claims, labels: training.labels, outDir: config.modelDir, seed: 11, log });
    await ensureTopics(kafka, config);
    if (options.blockTime > 0) {
      anvil = await startPrivateAnvil({ blockTime: options.blockTime });
      env.CHAIN_RPC_URL = anvil.rpcUrl;
      progress(`chain: own anvil at ${anvil.rpcUrl}, a block every ${options.blockTime} s`);
    }
    for (const child of children) {
      progress(`starting ${child.name} (log ${child.logFile})`);
      await child.start(env, roleNodeFlags(options, child.role));
    }
    await admin.connect();
    await db.connect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();

    const counts = async () => {
      const { rows } = await db.query<{ d: string; b: string; a: string }>(
        `SELECT (SELECT count(*) FROM "${id}".decisions) AS d, (SELECT count(*) FROM "${id}".batches) AS b, (SELECT count(*) FROM "${id}".batches WHERE status = 'anchored') AS a`,
      );
      return { indexed: Number(rows[0]!.d), batches: Number(rows[0]!.b), anchored: Number(rows[0]!.a) };
    };
    const started = performance.now();
    const sample = async (phase: SoakSample['phase']) => {
      const [c, scoringLag, batchingLag] = await Promise.all([
        counts(),
        groupLag(admin, config.kafka.scoringGroupId, config.kafka.topics.claims),
        groupLag(admin, config.kafka.batchingGroupId, config.kafka.topics.decisions),
      ]);
      const probes = children.map((ch) => ch.probe());
      const s: SoakSample = {
        t: (performance.now() - started) / 1000, phase, produced, ...c, scoringLag, batchingLag,
        rssMiB: Object.fromEntries(children.map((ch) => [ch.name, ch.rssMiB()])),
        heapMiB: Object.fromEntries(children.map((ch, i) => [ch.name, probes[i]!.heapMiB])),
        cpuSeconds: Object.fromEntries(children.map((ch) => [ch.name, ch.cpuSeconds()])),
        gcSeconds: Object.fromEntries(children.map((ch, i) => [ch.name, probes[i]!.gcSeconds])),
        machineCpu: readMachineCpu(),
        driverCpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
        driverRssMiB: process.memoryUsage().rss / 2 ** 20, load1: loadavg()[0]!,
      };
      samples.push(s);
      progress(`t=${s.t.toFixed(0)}s ${phase}: produced ${produced}, indexed ${s.indexed}, anchored ${s.anchored}/${s.batches}, lag ${scoringLag}/${batchingLag}, RSS ${children.map((ch) => `${ch.name} ${mib(s.rssMiB[ch.name]!)}`).join(' ')} MiB, load ${s.load1.toFixed(1)}`);
      for (const ch of children) if (!ch.alive) throw new Error(`${ch.name} child died; see ${ch.logFile}`);
    };

    progress(`steady phase: ${options.rate} claims/s for ${options.minutes} min, a sample every ${options.sampleSeconds} s`);
    await sample('steady');
    const steadyMs = options.minutes * 60_000;
    let nextSample = options.sampleSeconds * 1000;
    let chunk = 0;
    let pool: Buffer[] = [];
    let keys: string[] = [];
    let at = 0;
    while (performance.now() - started < steadyMs) {
      const elapsed = performance.now() - started;
      // At most 500 per request (well under the claims topic's limit); a backlog is caught up next turn.
      const due = Math.min(500, Math.floor((elapsed / 1000) * options.rate) - produced);
      if (due > 0) {
        const messages = [];
        for (let i = 0; i < due; i++) {
          if (at >= pool.length) {
            // Fresh claims in chunks of 10,000 (new seed each): memory of this process stays flat.
            const { claims } = generateClaims({ count: 10_000, seed: 1000 + chunk++ });
            pool = claims.map((c) => Buffer.from(JSON.stringify(c), 'utf8'));
            keys = claims.map((c) => c.memberId);
            at = 0;
          }
          messages.push({ key: keys[at]!, value: pool[at]! });
          at++;
        }
        await producer.send({ topic: config.kafka.topics.claims, acks: -1, messages });
        produced += messages.length;
      }
      if (elapsed >= nextSample) {
        nextSample += options.sampleSeconds * 1000;
        await sample('steady');
      }
      await sleep(50);
    }
    offeredPerSecond = produced / ((performance.now() - started) / 1000);
    await producer.disconnect();
    await sample('steady');

    progress(`drain: waiting up to ${options.drainSeconds} s for ${produced} decisions and every batch anchored`);
    const drainUntil = Date.now() + options.drainSeconds * 1000;
    for (;;) {
      const c = await counts();
      if ((c.indexed >= produced && c.batches > 0 && c.anchored === c.batches) || Date.now() > drainUntil) break;
      await sleep(1000);
    }
    await sample('drain');
    const checks = soakChecks(samples, options, produced);
    const anchoring = await anchoringSummary(db, id);
    return { options, startedAt, samples, produced, offeredPerSecond, checks, ok: checks.every((c) => c.ok), anchoring };
  } finally {
    for (const child of children) await child.stop();
    await anvil?.stop();
    await db.end().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await cleanupRun(config, log);
    if (!options.workDir) rmSync(work, { recursive: true, force: true });
  }
}

/** Gas paid and anchor lag over the run, from the run's schema (epochs, flagged roots, their transactions). */
async function anchoringSummary(db: pg.Client, schema: string): Promise<SoakAnchoring> {
  const one = async (sql: string) => (await db.query<Record<string, string | null>>(sql)).rows[0]!;
  const epochs = await one(
    `SELECT count(*) AS n, coalesce(sum(t.gas_used), 0) AS gas, coalesce(sum(e.leaf_count), 0) AS leaves
       FROM "${schema}".epochs e LEFT JOIN "${schema}".anchor_transactions t ON t.tx_hash = e.tx_hash WHERE e.status = 'anchored'`,
  );
  const flagged = await one(
    `SELECT count(*) AS n, coalesce(sum(t.gas_used), 0) AS gas, coalesce(sum(f.leaf_count), 0) AS leaves
       FROM "${schema}".flagged_roots f LEFT JOIN "${schema}".anchor_transactions t ON t.tx_hash = f.tx_hash WHERE f.status = 'anchored'`,
  );
  const lag = async (sql: string) => {
    const r = await one(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max FROM (${sql}) l`,
    );
    return { p50: Number(r.p50 ?? 0), p99: Number(r.p99 ?? 0), max: Number(r.max ?? 0) };
  };
  return {
    epochs: Number(epochs.n),
    epochGas: Number(epochs.gas),
    epochDecisions: Number(epochs.leaves),
    flaggedRoots: Number(flagged.n),
    flaggedGas: Number(flagged.gas),
    flaggedDecisions: Number(flagged.leaves),
    epochLagMs: await lag(
      `SELECT extract(epoch FROM (e.anchored_at - b.created_at)) * 1000 AS ms FROM "${schema}".batches b
         JOIN "${schema}".epoch_batches eb ON eb.batch_id = b.batch_id JOIN "${schema}".epochs e ON e.epoch_id = eb.epoch_id WHERE e.status = 'anchored'`,
    ),
    flaggedLagMs: await lag(
      `SELECT extract(epoch FROM (f.anchored_at - b.created_at)) * 1000 AS ms FROM "${schema}".flagged_members m
         JOIN "${schema}".flagged_roots f ON f.root = m.root JOIN "${schema}".decisions d ON d.decision_id = m.decision_id
         JOIN "${schema}".batches b ON b.batch_id = d.batch_id WHERE f.status = 'anchored'`,
    ),
  };
}

/**
 * CPU seconds of each child from the first sample (children started, model loaded) to the last,
 * and decisions indexed in between per CPU-second of the scoring processes together.
 */
export function efficiencyLine(samples: readonly SoakSample[]): string {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first?.cpuSeconds || !last?.cpuSeconds) return '- CPU: not sampled';
  const used = Object.fromEntries(Object.entries(last.cpuSeconds).map(([n, v]) => [n, v - (first.cpuSeconds?.[n] ?? 0)]));
  const decisions = last.indexed - first.indexed;
  const scoring = Object.entries(used).filter(([n]) => n.startsWith('scoring')).reduce((a, [, v]) => a + v, 0);
  const per = (cpu: number | undefined) => (cpu && cpu > 0 ? (decisions / cpu).toFixed(0) : '?');
  const line = `- CPU seconds per process, first to last sample: ${Object.entries(used).map(([n, v]) => `${n} ${v.toFixed(0)}`).join(', ')}; ${decisions} decisions: scoring processes together **${per(scoring)} decisions per CPU-second**, batching ${per(used.batching)}, anchoring ${per(used.anchoring)}`;
  const lines = [line];
  if (first.gcSeconds && last.gcSeconds) lines.push(gcLine(first, last, used));
  if (first.machineCpu && last.machineCpu) lines.push(machineLine(first, last, used));
  return lines.join('\n');
}

/**
 * Main-thread garbage-collection pauses of each child between the first and the last sample, in
 * seconds and as a share of that child's CPU seconds (V8's helper threads are in the CPU, not in
 * the pauses, so the share is a floor of what GC costs).
 */
export function gcLine(first: SoakSample, last: SoakSample, cpu: Readonly<Record<string, number>>): string {
  const parts = Object.entries(last.gcSeconds ?? {}).map(([n, v]) => {
    const gc = v.all - (first.gcSeconds?.[n]?.all ?? 0);
    const major = v.major - (first.gcSeconds?.[n]?.major ?? 0);
    const c = cpu[n] ?? 0;
    return `${n} ${gc.toFixed(0)} s${c > 0 ? ` (${((100 * gc) / c).toFixed(0)} % of its CPU)` : ''} of which mark-compact ${major.toFixed(0)} s`;
  });
  return `- garbage collection, main-thread pauses first to last sample: ${parts.join(', ')}`;
}

/**
 * Where the machine's cores went between the first and the last sample: claimtrail's role
 * processes, the driver, each local service, and the rest (other work on the machine, processes
 * that came and went), as average cores busy.
 */
export function machineLine(first: SoakSample, last: SoakSample, roles: Readonly<Record<string, number>>): string {
  const wall = last.t - first.t;
  if (!first.machineCpu || !last.machineCpu || wall <= 0) return '- machine CPU: not sampled';
  const { busySeconds, totalSeconds, services } = cpuBetween(first.machineCpu, last.machineCpu);
  const cores = (s: number) => (s / wall).toFixed(2);
  const roleSeconds = Object.values(roles).reduce((a, b) => a + b, 0);
  const driver = (last.driverCpuSeconds ?? 0) - (first.driverCpuSeconds ?? 0);
  const serviceSeconds = Object.values(services).reduce((a, b) => a + b, 0);
  const rest = busySeconds - roleSeconds - driver - serviceSeconds;
  const parts = [`role processes ${cores(roleSeconds)}`, `driver ${cores(driver)}`, ...Object.entries(services).sort().map(([n, v]) => `${n} ${cores(v)}`), `rest ${cores(rest)}`];
  return `- machine, cores busy on average (of ${(totalSeconds / wall).toFixed(0)}): **${cores(busySeconds)}** = ${parts.join(' + ')} (rest: other work on the machine and processes that came and went)`;
}

/** The anchoring lines of the result: gas per decision and per flagged decision, lag, gas per day at 10,000 claims/s. */
export function anchoringLines(a: SoakAnchoring, options: SoakOptions): string[] {
  const perDecision = a.epochDecisions > 0 ? a.epochGas / a.epochDecisions : Number.NaN;
  const perFlagged = a.flaggedDecisions > 0 ? a.flaggedGas / a.flaggedDecisions : Number.NaN;
  const lag = (l: SoakAnchoring['epochLagMs']) => `p50 ${(l.p50 / 1000).toFixed(1)} s, p99 ${(l.p99 / 1000).toFixed(1)} s, max ${(l.max / 1000).toFixed(1)} s`;
  return [
    `- chain: ${options.blockTime > 0 ? `own anvil, --block-time ${options.blockTime}` : 'the shared stack anvil (automine)'}; ANCHOR_EPOCH_SECONDS=${options.epochSeconds}; ${options.scoringProcesses} scoring process(es); --max-old-space-size ${options.maxOldSpaceMiB || 'V8 default'} per role process${options.batchingOldSpaceMiB > 0 ? ` (batching ${options.batchingOldSpaceMiB})` : ''}, --max-semi-space-size ${options.maxSemiSpaceMiB || 'V8 default'}${options.nodeFlags.length > 0 ? `; node flags ${options.nodeFlags.join(' ')}` : ''}`,
    `- epochs: ${a.epochs} anchored, ${a.epochGas.toLocaleString('en-US')} gas for ${a.epochDecisions.toLocaleString('en-US')} decisions = **${perDecision.toFixed(3)} gas per decision** (target <= 0.1 at 10,000 claims/s with 60 s epochs); anchor lag batch recorded -> epoch anchored ${lag(a.epochLagMs)}`,
    `- flagged roots: ${a.flaggedRoots} anchored, ${a.flaggedGas.toLocaleString('en-US')} gas for ${a.flaggedDecisions.toLocaleString('en-US')} flagged decisions = **${perFlagged.toFixed(1)} gas per flagged decision** (target <= 100); lag batch recorded -> flagged root anchored ${lag(a.flaggedLagMs)}`,
  ];
}

/** Writes bench/results/soak-<date>.md (table + checks) and .json (every sample); returns the .md path. */
export function writeSoakResult(result: SoakResult, command: string, loadBefore: readonly number[]): string {
  mkdirSync(result.options.resultsDir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, '-').slice(0, 19) + 'Z';
  const base = join(result.options.resultsDir, `soak-${stamp}`);
  const loads = result.samples.map((s) => s.load1);
  const md = [
    `# claimtrail soak, ${result.startedAt}`,
    '',
    `Command: \`${command}\`. Machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; load average (1/5/15 min) ${loadBefore.map((l) => l.toFixed(2)).join('/')} at start, 1-minute load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} at the samples (shared machine: other work runs concurrently).`,
    `Produced ${result.produced} claims, ${result.offeredPerSecond.toFixed(1)}/s offered. RSS / heap in MiB; lag in messages (end offset - committed offset, summed over partitions; the decisions topic's end offsets include transaction markers).`,
    '',
    '```',
    soakTable(result.samples),
    '```',
    '',
    `Result: **${result.ok ? 'PASS' : 'FAIL'}**`,
    '',
    ...result.checks.map((c) => `- ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
    '',
    ...(result.anchoring ? ['Anchoring over the whole run (PostgreSQL: epochs, flagged roots and their transactions\' gasUsed):', '', ...anchoringLines(result.anchoring, result.options), ''] : []),
    efficiencyLine(result.samples),
    '',
  ].join('\n');
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  return `${base}.md`;
}

if (import.meta.main) {
  let options: SoakOptions;
  try {
    options = parseSoakOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`soak: ${(error as Error).message}\nusage: node bench/soak.ts [--minutes 30] [--rate 200] [--sample-seconds 60] [--partitions 4] [--max-rss-growth-mib 64] [--max-lag N] [--max-anchor-backlog 300] [--drain-seconds 300] [--block-time 2] [--scoring-processes 1] [--epoch-seconds 0] [--max-rss-mib 400] [--max-old-space-mib 160] [--batching-old-space-mib 256] [--max-semi-space-mib 16] [--node-flags="--flag=value ..."] [--work-dir DIR] [--results-dir DIR]\n`);
    process.exit(2);
  }
  const loadBefore = loadavg();
  const result = await runSoak(options);
  process.stdout.write(`${soakTable(result.samples)}\n\n${result.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n')}\n`);
  if (result.anchoring) process.stdout.write(`${anchoringLines(result.anchoring, options).join('\n')}\n`);
  process.stdout.write(`${efficiencyLine(result.samples)}\n`);
  const file = writeSoakResult(result, `node bench/soak.ts ${process.argv.slice(2).join(' ')}`, loadBefore);
  process.stdout.write(`${result.ok ? 'PASS' : 'FAIL'}; written ${file}\n`);
  process.exitCode = result.ok ? 0 : 1;
}
