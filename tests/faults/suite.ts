import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig, type Config, isolatedEnv } from '../../core/config.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { createKafka } from '../../ingest/kafka.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { trainModel } from '../../scoring/train.ts';
import { PipelineChild, sleep } from './children.ts';
import { checkInvariants, violations, type InvariantReport } from './invariants.ts';

/** Options of a fault-injection run. */
export interface FaultSuiteOptions {
  /** Kill trials; each gets fresh topics, groups, queue and schema. Default 5. */
  trials?: number;
  /** Valid claims produced per trial. Default 1,000. */
  claims?: number;
  /** Malformed messages produced per trial (must all end in the DLQ, once). Default 20. */
  malformed?: number;
  /** Seed of the kill moments and the claims. Default 1. */
  seed?: number;
  /** Scoring kill moment: uniform in [0, killWindowMs] after the first claim is produced. Default 3,000 ms. */
  killWindowMs?: number;
  /** Also kill -9 the anchor worker process mid-run in every `anchorKillEvery`-th trial (0: never). Default 1 (every trial). */
  anchorKillEvery?: number;
  /** Time a trial may take after its faults to reach the finished state (all decided, all anchored). Default 180,000 ms. */
  settleTimeoutMs?: number;
  /** Keeps the temp dir (child logs) for inspection. Default false. */
  keepTemp?: boolean;
  /** Progress lines (one per trial step); default silent. */
  onProgress?(line: string): void;
}

/** One row of the trials table. */
export interface TrialResult {
  trial: number;
  /** When scoring was killed, ms after produce began, and how many decisions were indexed then. */
  scoringKillAtMs: number;
  indexedAtScoringKill: number;
  /** When the anchor worker was killed (ms after produce began), null when not in this trial. */
  anchorKillAtMs: number | null;
  /** Anchor transactions not yet confirmed at the anchor kill (a kill mid-transaction when > 0). */
  openAnchorTxAtKill: number | null;
  /** Time from produce to the finished state (every decision indexed, every batch and flagged leaf anchored). */
  settledMs: number | null;
  /** `claimtrail audit --all` exit code after the trial (0: log, index and chain agree). */
  auditExit: number | null;
  report: InvariantReport | null;
  /** Broken invariants and harness errors; empty when the trial passed. */
  failures: string[];
}

interface Setup {
  root: string;
  modelDir: string;
  stateDir: string;
  log: Logger;
}

/** mulberry32: a small seeded PRNG, so a failing trial's kill moments can be replayed with the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function prepare(options: FaultSuiteOptions): Promise<Setup> {
  const root = mkdtempSync(join(tmpdir(), 'claimtrail-faults-'));
  const modelDir = join(root, 'model');
  // Own STATE_DIR: the children generate their own dev signer and deploy their own DecisionAnchor,
  // so nonces never race with other processes using the stack's shared dev key.
  const stateDir = join(root, 'state');
  mkdirSync(stateDir);
  const log = createLogger(process.env.FAULTS_LOG_LEVEL ?? 'warn');
  options.onProgress?.(`training the model once into ${modelDir}`);
  const training = generateClaims({ count: 2000, seed: 11 });
  await trainModel({ claims: training.claims, labels: training.labels, outDir: modelDir, seed: 11, log });
  return { root, modelDir, stateDir, log };
}

function trialEnv(setup: Setup, trial: number): NodeJS.ProcessEnv {
  const id = `f${trial}_${randomBytes(4).toString('hex')}`;
  return {
    ...process.env,
    ...isolatedEnv(id),
    MODEL_DIR: setup.modelDir,
    STATE_DIR: setup.stateDir,
    BATCH_MAX_SIZE: '200',
    BATCH_MAX_AGE_MS: '1000',
    LOG_LEVEL: process.env.FAULTS_CHILD_LOG_LEVEL ?? 'info',
  };
}

async function openAnchorTxs(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM anchor_transactions WHERE state IN ('pending', 'sent', 'mined')`);
  return Number(rows[0]!.n);
}

async function finished(client: pg.Client, expected: number): Promise<boolean> {
  const { rows } = await client.query<{ decisions: string; pending_batches: string; pending_flagged: string }>(
    `SELECT (SELECT count(*) FROM decisions) AS decisions,
            (SELECT count(*) FROM batches WHERE status <> 'anchored') AS pending_batches,
            (SELECT count(*) FROM decisions WHERE outcome = 'flag' AND flagged_tx_hash IS NULL) AS pending_flagged`,
  );
  const r = rows[0]!;
  return Number(r.decisions) >= expected && Number(r.pending_batches) === 0 && Number(r.pending_flagged) === 0;
}

function runAudit(env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', join(import.meta.dirname, '..', '..', 'cli', 'main.ts'), 'audit', '--all'], {
      env: { ...env, LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    child.once('exit', (code) => resolve(code ?? 70));
  });
}

/** The last error-level (>= 50) line of a child's log, shortened, or undefined. */
function lastErrorLine(file: string): string | undefined {
  try {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => /"level":(50|60)/.test(l));
    return lines.at(-1)?.slice(0, 600);
  } catch {
    // No log written yet: nothing to report.
    return undefined;
  }
}

async function cleanup(config: Readonly<Config>, setup: Setup): Promise<void> {
  const kafka = createKafka(config, setup.log);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(config.kafka.topics) }).catch((error: unknown) => setup.log.warn({ err: error }, 'deleting trial topics failed'));
  await admin.disconnect();
  const client = new pg.Client({ connectionString: config.database.url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${config.database.schema}" CASCADE`);
  await client.end();
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const keys = await redis.keys(`bull:${config.anchor.queue}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

async function runTrial(setup: Setup, trial: number, options: Required<Omit<FaultSuiteOptions, 'onProgress'>> & Pick<FaultSuiteOptions, 'onProgress'>, random: () => number): Promise<TrialResult> {
  const env = trialEnv(setup, trial);
  const config = loadConfig(env);
  const say = (line: string) => options.onProgress?.(`trial ${trial}: ${line}`);
  const result: TrialResult = {
    trial, scoringKillAtMs: 0, indexedAtScoringKill: 0, anchorKillAtMs: null, openAnchorTxAtKill: null, settledMs: null, auditExit: null, report: null, failures: [],
  };
  const logDir = join(setup.root, `trial-${trial}`);
  mkdirSync(logDir);
  const anchoring = new PipelineChild('anchoring', env, join(logDir, 'anchoring.log'));
  const batching = new PipelineChild('batching', env, join(logDir, 'batching.log'));
  const scoring = new PipelineChild('scoring', env, join(logDir, 'scoring.log'));
  const children = [scoring, batching, anchoring];
  const seed = options.seed * 1000 + trial;
  // Draw the moments up front so a trial's faults depend only on the seed.
  const scoringKillAt = Math.floor(random() * options.killWindowMs);
  const killAnchor = options.anchorKillEvery > 0 && trial % options.anchorKillEvery === 0;
  const anchorKillAfterBatch = Math.floor(random() * 1500);
  const db = new pg.Client({ connectionString: config.database.url });
  try {
    // Scoring first: it migrates the schema and creates the topics the others read.
    await scoring.start();
    await batching.start();
    await anchoring.start();
    await db.connect();
    await db.query(`SET search_path TO "${config.database.schema}"`);
    say(`children up (pids ${children.map((c) => c.pid).join(', ')}), producing ${options.claims} + ${options.malformed} malformed`);

    const kafka = createKafka(config, setup.log);
    const producer = new ClaimsProducer(kafka);
    await producer.connect();
    const t0 = Date.now();
    const produced = producer.produce(generatedMessages(options.claims, seed, options.malformed), { topic: config.kafka.topics.claims, batchSize: 100 });

    const scoringFault = (async () => {
      await sleep(scoringKillAt);
      result.indexedAtScoringKill = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM decisions')).rows[0]!.n);
      result.scoringKillAtMs = Date.now() - t0;
      await scoring.kill9();
      say(`scoring kill -9 at ${result.scoringKillAtMs} ms (${result.indexedAtScoringKill} indexed), restarting`);
      await scoring.start();
    })();
    const anchorFault = (async () => {
      if (!killAnchor) return;
      // Mid-run: once the first batch is stored, wait a seeded moment, prefer a moment with a transaction in flight.
      const deadline = Date.now() + 120_000;
      while (Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM batches')).rows[0]!.n) === 0) {
        if (Date.now() > deadline) throw new Error('no batch stored within 120 s');
        await sleep(20);
      }
      await sleep(anchorKillAfterBatch);
      // With automine a transaction is in flight for milliseconds: poll briefly for one.
      let open = await openAnchorTxs(db);
      const grace = Date.now() + 2000;
      while (open === 0 && Date.now() < grace) {
        await sleep(5);
        open = await openAnchorTxs(db);
      }
      result.openAnchorTxAtKill = open;
      result.anchorKillAtMs = Date.now() - t0;
      await anchoring.kill9();
      say(`anchoring kill -9 at ${result.anchorKillAtMs} ms (${open} open anchor tx), restarting`);
      await anchoring.start();
    })();
    await Promise.all([produced, scoringFault, anchorFault]);
    await producer.disconnect();

    const deadline = Date.now() + options.settleTimeoutMs;
    while (!(await finished(db, options.claims))) {
      if (Date.now() > deadline) {
        result.failures.push(`did not resume: not finished ${options.settleTimeoutMs} ms after the faults`);
        break;
      }
      for (const c of children) if (!c.alive) result.failures.push(`${c.role} child died on its own`);
      if (result.failures.length > 0) break;
      await sleep(250);
    }
    if (result.failures.length === 0) result.settledMs = Date.now() - t0;
    say(`settled after ${result.settledMs ?? '-'} ms, checking invariants`);

    const { claims } = generateClaims({ count: options.claims, seed });
    result.report = await checkInvariants({
      kafka,
      databaseUrl: config.database.url,
      schema: config.database.schema,
      topics: { decisions: config.kafka.topics.decisions, dlq: config.kafka.topics.dlq },
      expectedClaimIds: new Set(claims.map((c) => c.claimId)),
      malformed: options.malformed,
    });
    result.failures.push(...violations(result.report));
    for (const c of children) await c.stop();
    result.auditExit = await runAudit(env);
    if (result.auditExit !== 0) result.failures.push(`audit --all exit ${result.auditExit}`);
  } catch (error) {
    result.failures.push(`harness error: ${(error as Error).message}`);
    for (const c of children) {
      const last = lastErrorLine(c.logFile);
      if (last) result.failures.push(`${c.role} last error: ${last}`);
    }
  } finally {
    for (const c of children) await c.stop();
    await db.end().catch(() => undefined);
    if (result.failures.length === 0 || !options.keepTemp) await cleanup(config, setup).catch((error: unknown) => setup.log.warn({ err: error }, 'trial cleanup failed'));
  }
  say(result.failures.length === 0 ? 'PASS' : `FAIL ${result.failures.join('; ')} (logs ${logDir})`);
  return result;
}

/**
 * Runs the fault-injection trials against the real stack: per trial, three `claimtrail run`
 * children (scoring, batching, anchoring) on fresh topics / groups / queue / schema, claims
 * produced, scoring killed with SIGKILL at a seeded random moment and restarted, the anchor worker
 * likewise once batches exist, then the invariants of {@link checkInvariants} and `audit --all`.
 */
export async function runFaultSuite(options: FaultSuiteOptions = {}): Promise<TrialResult[]> {
  const opts = {
    trials: options.trials ?? 5,
    claims: options.claims ?? 1000,
    malformed: options.malformed ?? 20,
    seed: options.seed ?? 1,
    killWindowMs: options.killWindowMs ?? 3000,
    anchorKillEvery: options.anchorKillEvery ?? 1,
    settleTimeoutMs: options.settleTimeoutMs ?? 180_000,
    keepTemp: options.keepTemp ?? false,
    onProgress: options.onProgress,
  };
  const setup = await prepare(opts);
  const random = prng(opts.seed);
  const results: TrialResult[] = [];
  try {
    for (let trial = 1; trial <= opts.trials; trial++) results.push(await runTrial(setup, trial, opts, random));
  } finally {
    // A failed trial's child logs are kept for diagnosis (the failure line names them).
    if (!opts.keepTemp && results.every((r) => r.failures.length === 0)) rmSync(setup.root, { recursive: true, force: true });
  }
  return results;
}

/** The trials table, one line per trial plus totals. */
export function formatTable(results: readonly TrialResult[]): string {
  const head = ['trial', 'scoring kill', 'indexed@kill', 'anchor kill', 'open tx', 'settled', 'log', 'index', 'lost', 'dup', 'dup leaves', 'unbatched', 'double-anchored', 'cases missing', 'dlq Δ', 'audit', 'result'];
  const rows = results.map((r) => {
    const x = r.report;
    return [
      String(r.trial), `${r.scoringKillAtMs} ms`, String(r.indexedAtScoringKill),
      r.anchorKillAtMs === null ? '-' : `${r.anchorKillAtMs} ms`, r.openAnchorTxAtKill === null ? '-' : String(r.openAnchorTxAtKill),
      r.settledMs === null ? '-' : `${(r.settledMs / 1000).toFixed(1)} s`,
      x ? String(x.decisionsInLog) : '-', x ? String(x.decisionsInIndex) : '-',
      x ? String(x.lostInLog + x.lostInIndex) : '-', x ? String(x.duplicatedInLog + x.duplicatedInIndex) : '-',
      x ? String(x.duplicateLeaves) : '-', x ? String(x.decisionsNotInOneAnchoredBatch + x.overlappingBatches) : '-',
      x ? String(x.doubleAnchoredBatches) : '-', x ? String(x.flaggedMissingFromQueue) : '-', x ? String(x.dlqDelta) : '-',
      r.auditExit === null ? '-' : String(r.auditExit), r.failures.length === 0 ? 'PASS' : 'FAIL',
    ];
  });
  const sum = (f: (x: InvariantReport) => number) => results.reduce((n, r) => n + (r.report ? f(r.report) : 0), 0);
  const totals = ['total', '', '', '', '', '', '', '', String(sum((x) => x.lostInLog + x.lostInIndex)), String(sum((x) => x.duplicatedInLog + x.duplicatedInIndex)),
    String(sum((x) => x.duplicateLeaves)), String(sum((x) => x.decisionsNotInOneAnchoredBatch + x.overlappingBatches)), String(sum((x) => x.doubleAnchoredBatches)),
    String(sum((x) => x.flaggedMissingFromQueue)), String(sum((x) => Math.abs(x.dlqDelta))), '', `${results.filter((r) => r.failures.length === 0).length}/${results.length} PASS`];
  const all = [head, ...rows, totals];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padStart(widths[i]!)).join('  ');
  const failures = results.filter((r) => r.failures.length > 0).map((r) => `trial ${r.trial}: ${r.failures.join('; ')}`);
  return [line(head), ...rows.map(line), line(totals), ...failures].join('\n');
}
