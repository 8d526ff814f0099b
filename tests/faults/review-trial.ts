import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { loadConfig } from '../../core/config.ts';
import { ClaimsProducer } from '../../ingest/claims.producer.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { generatedMessages } from '../../cli/commands/produce.command.ts';
import { freePort } from '../support/private-services.ts';
import { PipelineChild, sleep } from './children.ts';
import { readTopic } from './invariants.ts';
import { checkTrial, cleanup, count, finished, harnessPool, lastErrorLine, runCli, trialEnv, type Setup } from './trial-support.ts';
import { emptyResult, type ResolvedOptions, type ReviewKill, type ReviewReport, type TrialResult } from './trial-types.ts';

/** Investigators working the queues at once. */
const INVESTIGATORS = 4;
/** Dispositions the investigators pick from: each closes the case (escalated would hand it on). */
const CLOSING = ['confirmed_fraud', 'false_positive', 'needs_information'] as const;

/** The answer of one HTTP call, or null when the connection failed (server down, or killed mid-request). */
type Answer = { status: number; body: Record<string, unknown> | null } | null;

/**
 * One `kill-review` trial: the pipeline (no faults) decides `claims` claims, which opens a case for
 * every review / flag decision; then `claimtrail review serve` runs and {@link INVESTIGATORS}
 * API clients take the next case and dispose it, as fast as they can, until the queues are empty.
 * The server is killed with SIGKILL `reviewKills` times at seeded points of that stream (requests
 * in flight) and restarted at once on the same port. A client whose connection fails retries
 * like the web app would after a reload: first the cases assigned to it (a take-next whose answer
 * was lost), then take-next again.
 *
 * Checked after: every case closed with exactly one disposition (none lost, none doubled), no
 * case taken twice (one `case.take` audit entry per case), the verdict outbox drained without a
 * manual step, and every disposition on the verdicts topic (redeliveries are allowed: at least
 * once, consumers dedupe on `dispositionId`). The pipeline invariants and `audit --all` too.
 */
export async function runReviewTrial(setup: Setup, trial: number, options: ResolvedOptions, random: () => number): Promise<TrialResult> {
  const say = (line: string) => options.onProgress?.(`trial ${trial} (kill-review): ${line}`);
  const result = emptyResult(trial, 'kill-review');
  const killFractions = Array.from({ length: options.reviewKills }, () => 0.1 + 0.8 * random()).sort((a, b) => a - b);
  const killDelays = killFractions.map(() => Math.floor(random() * 40));
  const logDir = join(setup.root, `trial-${trial}`);
  mkdirSync(logDir);
  const base = trialEnv(setup, trial);
  const env: NodeJS.ProcessEnv = { ...base, VERDICTS_TOPIC: `${base.DATABASE_SCHEMA}.verdicts`, REVIEW_AUDIT_SEAL_SECONDS: '0', REVIEW_HOST: '127.0.0.1' };
  const verdictsTopic = env.VERDICTS_TOPIC!;
  const config = loadConfig(env);
  const children = [
    new PipelineChild('scoring', env, join(logDir, 'scoring.log')),
    new PipelineChild('batching', env, join(logDir, 'batching.log')),
    new PipelineChild('anchoring', env, join(logDir, 'anchoring.log')),
  ];
  const port = await freePort();
  const server = new PipelineChild('review', env, join(logDir, 'review.log'), { args: ['review', 'serve', '--port', String(port)], readyText: 'review app on ' });
  const seed = options.seed * 1000 + trial;
  const db = harnessPool(config);
  try {
    for (const c of children) await c.start();
    const kafka = createKafka(config, setup.log);
    const producer = new ClaimsProducer(kafka);
    await producer.connect();
    const t0 = Date.now();
    await producer.produce(generatedMessages(options.claims, seed, options.malformed), { topic: config.kafka.topics.claims, batchSize: 100 });
    await producer.disconnect();
    const deadline = Date.now() + options.settleTimeoutMs;
    while (!(await finished(db, options.claims))) {
      if (Date.now() > deadline) throw new Error(`pipeline not finished within ${options.settleTimeoutMs} ms (no fault yet)`);
      await sleep(250);
    }
    result.settledMs = Date.now() - t0;
    const cases = await count(db, 'SELECT count(*) AS n FROM cases');
    say(`pipeline settled in ${result.settledMs} ms, ${cases} cases open; starting the review server and ${INVESTIGATORS} investigators`);

    const tokens: string[] = [];
    for (let i = 1; i <= INVESTIGATORS; i++) {
      const created = await runCli(['review', 'user', 'create', '--role', 'investigator', '--name', `inv${i}`, '--json'], env);
      if (created.code !== 0) throw new Error(`review user create exit ${created.code}`);
      tokens.push((JSON.parse(created.stdout) as { token: string }).token);
    }
    await server.start();

    const stats = { disposed: 0, inFlight: 0, answersLost: 0, errors: [] as string[] };
    const call = async (token: string, method: string, path: string, body?: unknown): Promise<Answer> => {
      stats.inFlight++;
      try {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(20_000),
        });
        return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
      } catch {
        // Refused (server down) or reset (killed mid-request): the caller starts its step over.
        stats.answersLost++;
        return null;
      } finally {
        stats.inFlight--;
      }
    };
    // The work may take settleTimeoutMs, not counting the time the server spends restarting
    // (tens of seconds on a loaded machine: migrations, Kafka and chain connections).
    let downMs = 0;
    const w0 = Date.now();
    const timedOut = () => Date.now() - w0 - downMs > options.settleTimeoutMs;
    const investigator = async (token: string, index: number): Promise<void> => {
      let pick = index;
      while (!timedOut()) {
        const mine = await call(token, 'GET', '/api/cases?assignee=me&status=assigned&limit=10');
        if (mine === null) {
          await sleep(100);
          continue;
        }
        if (mine.status !== 200) throw new Error(`GET /api/cases answered ${mine.status}: ${JSON.stringify(mine.body)}`);
        let next = (mine.body!.items as Array<{ caseId: string }>)[0];
        if (!next) {
          const taken = await call(token, 'POST', '/api/cases/take-next', {});
          if (taken === null) continue;
          if (taken.status !== 200) throw new Error(`take-next answered ${taken.status}: ${JSON.stringify(taken.body)}`);
          next = (taken.body!.case as { caseId: string } | null) ?? undefined;
          if (!next) return;
        }
        const disposition = CLOSING[pick++ % CLOSING.length];
        const done = await call(token, 'POST', `/api/cases/${next.caseId}/disposition`, { disposition, note: `fault trial ${trial}` });
        if (done === null) continue;
        if (done.status !== 200) throw new Error(`disposition of case ${next.caseId} answered ${done.status}: ${JSON.stringify(done.body)}`);
        stats.disposed++;
      }
      throw new Error(`investigator ${index} still working after ${options.settleTimeoutMs} ms`);
    };
    const kills: ReviewKill[] = [];
    const killer = (async () => {
      for (const [k, fraction] of killFractions.entries()) {
        const threshold = Math.max(1, Math.floor(fraction * cases));
        while (stats.disposed < threshold) {
          if (timedOut()) return;
          await sleep(2);
        }
        await sleep(killDelays[k]!);
        const kill: ReviewKill = { atMs: Date.now() - w0, disposedBefore: stats.disposed, inFlight: stats.inFlight };
        const down = Date.now();
        await server.kill9();
        kills.push(kill);
        say(`review server kill -9 at ${kill.atMs} ms (${kill.disposedBefore}/${cases} disposed, ${kill.inFlight} requests in flight), restarting`);
        await server.start();
        downMs += Date.now() - down;
        say(`review server answering again after ${Date.now() - down} ms`);
      }
    })();
    const workers = tokens.map((token, i) => investigator(token, i));
    const settledWork = await Promise.allSettled(workers);
    await killer;
    for (const s of settledWork) if (s.status === 'rejected') stats.errors.push((s.reason as Error).message);
    result.failures.push(...stats.errors.map((e) => `investigator: ${e}`));
    say(`investigators done in ${Date.now() - w0} ms (${stats.disposed} dispositions answered, ${stats.answersLost} answers lost to kills); waiting for the verdict outbox`);

    const outboxDeadline = Date.now() + 90_000;
    while ((await count(db, 'SELECT count(*) AS n FROM dispositions WHERE published_at IS NULL')) > 0 && Date.now() < outboxDeadline) await sleep(250);
    result.review = await reviewReport(db, kafka, verdictsTopic, kills, cases, stats.answersLost);
    const r = result.review;
    if (r.handedTwice > 0) result.failures.push(`handedTwice=${r.handedTwice}`);
    if (r.verdictsLost > 0) result.failures.push(`verdictsLost=${r.verdictsLost}`);
    if (r.verdictsDoubled > 0) result.failures.push(`verdictsDoubled=${r.verdictsDoubled}`);
    if (kills.length < options.reviewKills) result.failures.push(`only ${kills.length} of ${options.reviewKills} kills happened (the queues emptied first)`);
    await server.stop();

    await checkTrial(result, { kafka, config, claims: options.claims, malformed: options.malformed, seed, children, env });
  } catch (error) {
    result.failures.push(`harness error: ${(error as Error).message}`);
    for (const c of [...children, server]) {
      const last = lastErrorLine(c.logFile);
      if (last) result.failures.push(`${c.role} last error: ${last}`);
    }
  } finally {
    await server.stop();
    for (const c of children) await c.stop();
    await db.end().catch(() => undefined);
    if (result.failures.length === 0 || !options.keepTemp) await cleanup(config, setup.log, [verdictsTopic]).catch((error: unknown) => setup.log.warn({ err: error }, 'trial cleanup failed'));
  }
  say(result.failures.length === 0 ? 'PASS' : `FAIL ${result.failures.join('; ')} (logs ${logDir})`);
  return result;
}

async function reviewReport(db: pg.Pool, kafka: ReturnType<typeof createKafka>, topic: string, kills: ReviewKill[], cases: number, answersLost: number): Promise<ReviewReport> {
  const dispositions = (await db.query<{ disposition_id: string }>('SELECT disposition_id::text FROM dispositions')).rows.map((r) => r.disposition_id);
  const onTopic = (await readTopic(kafka, topic, dispositions.length)).map((m) => (JSON.parse(m.value!.toString('utf8')) as { dispositionId: string }).dispositionId);
  const published = new Set(onTopic);
  const notClosed = await count(db, `SELECT count(*) AS n FROM cases WHERE status <> 'closed'`);
  const withoutDisposition = await count(db, `SELECT count(*) AS n FROM cases c WHERE c.status = 'closed' AND NOT EXISTS (SELECT 1 FROM dispositions d WHERE d.case_id = c.case_id)`);
  const unpublished = await count(db, 'SELECT count(*) AS n FROM dispositions WHERE published_at IS NULL');
  return {
    kills,
    cases,
    dispositions: dispositions.length,
    handedTwice: await count(db, `SELECT count(*) AS n FROM (SELECT target_id FROM audit_log WHERE action = 'case.take' GROUP BY target_id HAVING count(*) > 1) x`),
    verdictsLost: notClosed + withoutDisposition + unpublished + dispositions.filter((id) => !published.has(id)).length,
    verdictsDoubled: await count(db, 'SELECT count(*) AS n FROM (SELECT case_id FROM dispositions GROUP BY case_id HAVING count(*) > 1) x'),
    verdictsRedelivered: onTopic.length - published.size,
    answersLost,
  };
}
