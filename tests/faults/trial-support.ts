import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { isolatedEnv, type Config } from '../../core/config.ts';
import { withoutSecrets } from '../../stack/child-env.ts';
import type { Logger } from '../../core/logger.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import type { PipelineChild } from './children.ts';
import { checkInvariants, violations } from './invariants.ts';
import type { TrialResult } from './trial-types.ts';

/** What every trial of a run shares: the temp root, the model trained once, the children's state folder. */
export interface Setup {
  root: string;
  modelDir: string;
  stateDir: string;
  log: Logger;
}

/** The children's environment: fresh names for everything, plus a private service's address when there is one. */
export function trialEnv(setup: Setup, trial: number, overrides: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const id = `f${trial}_${randomBytes(4).toString('hex')}`;
  return {
    ...process.env,
    ...isolatedEnv(id),
    MODEL_DIR: setup.modelDir,
    STATE_DIR: setup.stateDir,
    BATCH_MAX_SIZE: '200',
    BATCH_MAX_AGE_MS: '1000',
    LOG_LEVEL: process.env.FAULTS_CHILD_LOG_LEVEL ?? 'info',
    ...overrides,
  };
}

export const CLI = join(import.meta.dirname, '..', '..', 'cli', 'main.ts');

/**
 * A pg pool for the harness's own polling: it must outlive a PostgreSQL restart (a single
 * `pg.Client` dies with its connection), so idle-client errors are ignored and every query takes
 * a fresh or revived connection.
 */
export function harnessPool(config: Readonly<Config>): pg.Pool {
  const pool = new pg.Pool({ connectionString: config.database.url, max: 2, options: `-c search_path=${config.database.schema}`, connectionTimeoutMillis: 5_000 });
  // A server restart kills idle connections; the next query opens a new one.
  pool.on('error', () => undefined);
  return pool;
}

export async function count(db: pg.Pool, sql: string): Promise<number> {
  return Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
}

/** Every decision indexed, every batch anchored, every flagged leaf anchored. */
export async function finished(db: pg.Pool, expected: number): Promise<boolean> {
  const { rows } = await db.query<{ decisions: string; pending_batches: string; pending_flagged: string }>(
    `SELECT (SELECT count(*) FROM decisions) AS decisions,
            (SELECT count(*) FROM batches WHERE status <> 'anchored') AS pending_batches,
            -- v1 leaves: anchored one by one (flagged_tx_hash); v2 leaves: in an anchored flagged root.
            (SELECT count(*) FROM decisions d WHERE outcome = 'flag' AND CASE WHEN leaf_encoding = 'claimtrail-leaf-v1' THEN flagged_tx_hash IS NULL
               ELSE NOT EXISTS (SELECT 1 FROM flagged_members m JOIN flagged_roots r USING (root) WHERE m.decision_id = d.decision_id AND r.status = 'anchored') END) AS pending_flagged`,
  );
  const r = rows[0]!;
  return Number(r.decisions) >= expected && Number(r.pending_batches) === 0 && Number(r.pending_flagged) === 0;
}

/** Runs `claimtrail <args>` to completion; resolves its exit code and stdout. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', CLI, ...args], {
      env: { ...env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('close', (code) => resolve({ code: code ?? 70, stdout }));
  });
}

/** `claimtrail audit --all` exit code (0: log, index and chain agree). */
export async function runAudit(env: NodeJS.ProcessEnv): Promise<number> {
  // The audit reads the log, the index and the chain: no key of any kind.
  return (await runCli(['audit', '--all'], withoutSecrets(env))).code;
}

/** The last error-level (>= 50) line of a child's log, shortened, or undefined. */
export function lastErrorLine(file: string): string | undefined {
  try {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => /"level":(50|60)/.test(l));
    return lines.at(-1)?.slice(0, 600);
  } catch {
    // No log written yet: nothing to report.
    return undefined;
  }
}

/** Deletes a trial's topics, schema and queue keys (on whichever Kafka / PostgreSQL / Redis the config names). */
export async function cleanup(config: Readonly<Config>, log: Logger, extraTopics: readonly string[] = []): Promise<void> {
  const kafka = createKafka(config, log);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [...Object.values(config.kafka.topics), ...extraTopics] }).catch((error: unknown) => log.warn({ err: error }, 'deleting trial topics failed'));
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

/**
 * The end of every trial: the invariants of the decisions log, DLQ and PostgreSQL against the
 * trial's claims, then the children stopped and `claimtrail audit --all` run; every violation is
 * added to `result.failures`.
 */
export async function checkTrial(
  result: TrialResult,
  trial: { kafka: ReturnType<typeof createKafka>; config: Readonly<Config>; claims: number; malformed: number; seed: number; children: readonly PipelineChild[]; env: NodeJS.ProcessEnv },
): Promise<void> {
  const { kafka, config } = trial;
  const { claims } = generateClaims({ count: trial.claims, seed: trial.seed });
  result.report = await checkInvariants({
    kafka,
    databaseUrl: config.database.url,
    schema: config.database.schema,
    topics: { decisions: config.kafka.topics.decisions, dlq: config.kafka.topics.dlq },
    expectedClaimIds: new Set(claims.map((c) => c.claimId)),
    malformed: trial.malformed,
  });
  result.failures.push(...violations(result.report));
  for (const c of trial.children) await c.stop();
  result.auditExit = await runAudit(trial.env);
  if (result.auditExit !== 0) result.failures.push(`audit --all exit ${result.auditExit}`);
}
