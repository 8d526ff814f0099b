import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDecisionAnchorArtifact } from '../../contracts/artifacts.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { trainModel } from '../../training/train.ts';
import { startPrivateService, type PrivateService, type PrivateServiceKind, type StopMode } from '../support/private-services.ts';
import { PipelineChild, sleep, Supervisor } from './children.ts';
import { runReviewTrial } from './review-trial.ts';
import { checkTrial, cleanup, count, finished, harnessPool, lastErrorLine, trialEnv, type Setup } from './trial-support.ts';
import { emptyResult, type FaultSuiteOptions, type ResolvedOptions, type TrialKind, type TrialResult } from './trial-types.ts';

export { formatTable } from './table.ts';
export { TRIAL_KINDS, type FaultSuiteOptions, type TrialKind, type TrialResult } from './trial-types.ts';

/** mulberry32: a small seeded PRNG, so a failing trial's fault moments can be replayed with the same seed. */
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
  // Fail once, up front, instead of every trial's anchoring child exiting 70 (seen: a fresh checkout).
  loadDecisionAnchorArtifact();
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

/**
 * One trial of the pipeline under a fault (`kill` or `restart-*`): three `claimtrail run`
 * children, claims produced, the fault, the wait until everything is decided and anchored, the
 * invariants and `audit --all`.
 */
async function runPipelineTrial(setup: Setup, trial: number, indexInKind: number, kind: Exclude<TrialKind, 'kill-review'>, options: ResolvedOptions, random: () => number): Promise<TrialResult> {
  const say = (line: string) => options.onProgress?.(`trial ${trial} (${kind}): ${line}`);
  const result = emptyResult(trial, kind);
  const service: PrivateServiceKind | null = kind === 'kill' ? null : (kind.slice('restart-'.length) as PrivateServiceKind);
  // Draw every moment up front so a trial's faults depend only on the seed.
  const faultAt = Math.floor(random() * options.killWindowMs);
  const killAnchor = kind === 'kill' && options.anchorKillEvery > 0 && trial % options.anchorKillEvery === 0;
  const anchorKillAfterBatch = Math.floor(random() * 1500);
  const modes = options.restartModes;
  const mode: StopMode = service === 'chain' ? 'clean' : modes[indexInKind % modes.length]!;
  const logDir = join(setup.root, `trial-${trial}`);
  mkdirSync(logDir);
  let priv: PrivateService | undefined;
  try {
    if (service) {
      priv = await startPrivateService(service, logDir, setup.log);
      say(`private ${service} up (${Object.values(priv.env).join(' ')})`);
    }
  } catch (error) {
    result.failures.push(`harness error: private ${service} did not start: ${(error as Error).message}`);
    return result;
  }
  const env = trialEnv(setup, trial, priv?.env);
  const config = loadConfig(env);
  const anchoring = new PipelineChild('anchoring', env, join(logDir, 'anchoring.log'));
  const batching = new PipelineChild('batching', env, join(logDir, 'batching.log'));
  const scoring = new PipelineChild('scoring', env, join(logDir, 'scoring.log'));
  const children = [scoring, batching, anchoring];
  const supervisor = service ? new Supervisor(children) : null;
  const seed = options.seed * 1000 + trial;
  const db = harnessPool(config);
  try {
    // Scoring first: it migrates the schema and creates the topics the others read.
    await scoring.start();
    await batching.start();
    await anchoring.start();
    supervisor?.start();
    say(`children up (pids ${children.map((c) => c.pid).join(', ')}), producing ${options.claims} + ${options.malformed} malformed`);

    // The harness's own Kafka client logs every refused connection while a private Kafka is down: expected, so kept quiet.
    const kafka = createKafka(config, service === 'kafka' ? setup.log.child({ component: 'harness' }, { level: 'fatal' }) : setup.log);
    const producer = new ClaimsProducer(kafka);
    await producer.connect();
    const t0 = Date.now();
    const produced = producer.produce(generatedMessages(options.claims, seed, options.malformed), { topic: config.kafka.topics.claims, batchSize: 100 });

    const faults: Array<Promise<void>> = [];
    if (kind === 'kill') {
      faults.push((async () => {
        await sleep(faultAt);
        result.indexedAtScoringKill = await count(db, 'SELECT count(*) AS n FROM decisions');
        result.scoringKillAtMs = Date.now() - t0;
        await scoring.kill9();
        say(`scoring kill -9 at ${result.scoringKillAtMs} ms (${result.indexedAtScoringKill} indexed), restarting`);
        await scoring.start();
      })());
    }
    if (killAnchor) {
      faults.push((async () => {
        await waitForFirst(db, 'batches');
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
      })());
    }
    if (priv) {
      const target = priv;
      faults.push((async () => {
        // Mid-run: once decisions flow (the chain: once batches are being anchored), then a seeded moment.
        await waitForFirst(db, target.kind === 'chain' ? 'batches' : 'decisions');
        await sleep(faultAt);
        const indexedAtStop = await count(db, 'SELECT count(*) AS n FROM decisions');
        const atMs = Date.now() - t0;
        await target.stop(mode);
        say(`${target.kind} stopped (${mode}) at ${atMs} ms (${indexedAtStop} indexed), down for ${options.downMs} ms`);
        await sleep(options.downMs);
        const started = Date.now();
        await target.start();
        result.restart = { service: target.kind, mode, atMs, indexedAtStop, downMs: options.downMs, startMs: Date.now() - started };
        say(`${target.kind} started again in ${result.restart.startMs} ms`);
      })());
    }
    await Promise.all([produced, ...faults]);
    await producer.disconnect();

    const deadline = Date.now() + options.settleTimeoutMs;
    for (;;) {
      // While a service restarts the harness's own query may fail too: that is "not yet".
      if (await finished(db, options.claims).catch(() => false)) break;
      if (Date.now() > deadline) {
        result.failures.push(`did not resume: not finished ${options.settleTimeoutMs} ms after the faults`);
        break;
      }
      if (!supervisor) for (const c of children) if (!c.alive) result.failures.push(`${c.role} child died on its own`);
      if (result.failures.length > 0) break;
      await sleep(250);
    }
    await supervisor?.stop();
    result.selfExits = (supervisor?.exits ?? []).map((e) => `${e.role} ${e.how} @${(e.atMs / 1000).toFixed(1)} s`);
    if (result.failures.length === 0) result.settledMs = Date.now() - t0;
    say(`settled after ${result.settledMs ?? '-'} ms${result.selfExits.length > 0 ? `, supervisor restarted: ${result.selfExits.join(', ')}` : ''}, checking invariants`);

    await checkTrial(result, { kafka, config, claims: options.claims, malformed: options.malformed, seed, children, env });
  } catch (error) {
    result.failures.push(`harness error: ${(error as Error).message}`);
    for (const c of children) {
      const last = lastErrorLine(c.logFile);
      if (last) result.failures.push(`${c.role} last error: ${last}`);
    }
  } finally {
    await supervisor?.stop();
    for (const c of children) await c.stop();
    await db.end().catch(() => undefined);
    if (result.failures.length === 0 || !options.keepTemp) {
      await cleanup(config, setup.log).catch((error: unknown) => setup.log.warn({ err: error }, 'trial cleanup failed'));
      await priv?.dispose();
    } else if (priv) {
      say(`private ${priv.kind} left running for inspection (data in ${priv.dir}, pid ${priv.pid() ?? '-'})`);
    }
  }
  say(result.failures.length === 0 ? 'PASS' : `FAIL ${result.failures.join('; ')} (logs ${logDir})`);
  return result;
}

async function waitForFirst(db: ReturnType<typeof harnessPool>, table: 'batches' | 'decisions'): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await count(db, `SELECT count(*) AS n FROM ${table}`).catch(() => 0)) === 0) {
    if (Date.now() > deadline) throw new Error(`nothing in ${table} within 120 s`);
    await sleep(20);
  }
}

async function openAnchorTxs(db: ReturnType<typeof harnessPool>): Promise<number> {
  return count(db, `SELECT count(*) AS n FROM anchor_transactions WHERE state IN ('pending', 'sent', 'mined')`);
}

/**
 * Runs the fault-injection trials against the real stack: `trials` of each kind in `kinds`, each
 * with `claimtrail run` children (scoring, batching, anchoring) on fresh topics / groups / queue /
 * schema, then its fault (see {@link TRIAL_KINDS}), then the invariants of
 * {@link checkInvariants} and `audit --all`.
 */
export async function runFaultSuite(options: FaultSuiteOptions = {}): Promise<TrialResult[]> {
  const opts: ResolvedOptions = {
    trials: options.trials ?? 5,
    kinds: options.kinds ?? ['kill'],
    claims: options.claims ?? 1000,
    malformed: options.malformed ?? 20,
    seed: options.seed ?? 1,
    killWindowMs: options.killWindowMs ?? 3000,
    anchorKillEvery: options.anchorKillEvery ?? 1,
    restartModes: options.restartModes ?? ['clean', 'kill9'],
    downMs: options.downMs ?? 5000,
    reviewKills: options.reviewKills ?? 2,
    settleTimeoutMs: options.settleTimeoutMs ?? 180_000,
    keepTemp: options.keepTemp ?? false,
    onProgress: options.onProgress,
  };
  if (opts.restartModes.length === 0) throw new Error('restartModes: name at least one of clean, kill9');
  const setup = await prepare(opts);
  const random = prng(opts.seed);
  const results: TrialResult[] = [];
  try {
    let trial = 0;
    for (const kind of opts.kinds) {
      for (let i = 0; i < opts.trials; i++) {
        trial++;
        results.push(kind === 'kill-review' ? await runReviewTrial(setup, trial, opts, random) : await runPipelineTrial(setup, trial, i, kind, opts, random));
      }
    }
  } finally {
    // A failed trial's child logs are kept for diagnosis (the failure line names them).
    if (!opts.keepTemp && results.every((r) => r.failures.length === 0)) rmSync(setup.root, { recursive: true, force: true });
  }
  return results;
}
