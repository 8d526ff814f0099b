/**
 * Evaluation of access monitoring on simulated investigator work (docs/evaluation/access-monitoring.md).
 *
 *   npm run eval:access                      # evaluation seeds -> docs/evaluation/access-monitoring.md
 *   npm run eval:access -- --seeds tuning    # tuning seeds -> stdout only
 *
 * Each seed runs on the real stack in its own PostgreSQL schema, Kafka topics and DecisionAnchorV2
 * deployment: the simulated users are created as `claimtrail review user create` creates them
 * (AuthService.createUser), the cases are opened by the real CaseOpeningService from recorded
 * decisions, the real review server (review/server.ts, as `review serve` starts it) listens on a
 * free port with the simulation's virtual clock injected (review/clock.ts), and the driver
 * (driver.ts) performs every planned action over HTTP. The audit entries then flow as in
 * production: outbox -> relay -> access-events topic -> monitor stage (the pipeline's `monitor`
 * role) -> access records; the behaviour monitor then scores every simulated day. The simulated
 * weeks are the three before the run's week (simulationStart), so no event is ahead of the
 * monitor's clock.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { devKeySources, devMasterKeySource } from '../../cli/dev-sources.ts';
import { createLogger } from '../../core/logger.ts';
import { generateClaims } from '../../fixtures/generator.ts';
import { migrate } from '../../infra/db/migrate.ts';
import { createPool } from '../../infra/db/pool.ts';
import { createKafka } from '../../infra/kafka/kafka.ts';
import { SCORER_THRESHOLDS } from '../../monitoring/behaviour-scorer.ts';
import { startPipeline } from '../../pipeline/runtime.ts';
import { ClaimPayloadRepository } from '../../privacy/claim-payload.repository.ts';
import { openMemberKeys } from '../../privacy/master-key.ts';
import { AuditRepository } from '../../review/repositories/audit.repository.ts';
import { UserRepository } from '../../review/repositories/user.repository.ts';
import { AuthService } from '../../review/services/auth.service.ts';
import { reviewTestConfig } from '../../tests/support/review-cases.ts';
import { openSimCases } from './cases.ts';
import { type DriverStats, type DrivenUser, SimClock, SimDriver } from './driver.ts';
import { EVALUATION_SEEDS, SIM_PARAMS, type ScenarioName, TUNING_SEEDS } from './params.ts';
import { simReviewConfig, startSimReviewServer } from './server.ts';
import { planSimulation, simulationStart } from './simulator.ts';

interface Row { scenario: ScenarioName | null; score: number; unexplained: number; features: Record<string, number>; reasons: Array<{ code: string }>; user: string; day: string; role: string }
interface SeedResult { rows: Row[]; phi: number; explained: number; phiOrdinary: number; explainedOrdinary: number; events: number; stats: DriverStats; days: string[] }

const log = createLogger('error');
const HOUR_MS = 3_600_000;

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function runSeed(seed: number, start: number): Promise<SeedResult> {
  const indexKey = randomBytes(32);
  const config = await reviewTestConfig({ ACCESS_RELAY_POLL_MS: '200', MONITOR_CHAIN_POLL_MS: '0', MONITOR_SCORE_SECONDS: '0' });
  const review = simReviewConfig(config, indexKey);
  const stops: Array<() => Promise<unknown>> = [];
  await migrate(config.database.url, config.database.schema);
  const pool = createPool(config.database.url, config.database.schema, 4);
  try {
    const plan = planSimulation(seed, start);
    const clock = new SimClock();
    // Users as `claimtrail review user create` makes them, at the prehistory's early morning.
    clock.set(Date.parse(`${plan.prehistory.day}T06:00:00Z`));
    const auth = new AuthService({ users: new UserRepository(pool), audit: new AuditRepository(pool, clock), sessionHours: review.sessionHours, clock });
    const users = new Map<string, DrivenUser>();
    for (const u of plan.users) {
      const created = await auth.createUser(u.name, u.role, null);
      users.set(u.name, { userId: created.user.userId, password: created.password! });
    }
    const intake = await auth.createUser('sim-intake', 'compliance', null, { service: true });
    const opener = { payloads: new ClaimPayloadRepository(pool, await openMemberKeys(pool, devMasterKeySource(config), log)), intakeUserId: intake.user.userId };
    const claims = generateClaims({ count: plan.cases.length, seed }).claims;
    let offset = 0;
    const open = async (cases: typeof plan.cases) => {
      const opened = await openSimCases(pool, config, opener, cases, cases.map((c) => claims[c.index]!), offset);
      offset += cases.length;
      driver.addCases(opened);
    };

    const server = await startSimReviewServer(config, review, indexKey, clock, log);
    stops.unshift(() => server.stop());
    const pipeline = await startPipeline(config, log, { ...devKeySources(config), indexKey: { indexKey: () => indexKey } }, ['monitor']);
    stops.unshift(() => pipeline.stop());
    const driver = new SimDriver({ baseUrl: server.url, clock, seed, users });

    // The starting pool: the cases closed in the prehistory open first, so take-next hands out those.
    await open(plan.cases.filter((c) => c.arrives === -1 && c.closedBefore));
    for (const a of plan.prehistory.actions) await driver.perform(a);
    await open(plan.cases.filter((c) => c.arrives === -1 && !c.closedBefore));
    for (const [d, actions] of plan.actions.entries()) {
      await open(plan.cases.filter((c) => c.arrives === d));
      for (const a of actions) await driver.perform(a);
      process.stderr.write(`seed ${seed}: ${plan.days[d]} driven (${driver.stats.requests} requests)\n`);
    }

    // Every audit entry reaches the monitor through the outbox, the relay and Kafka.
    const count = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);
    const written = await count('SELECT count(*)::text AS n FROM audit_log');
    await until('every audit entry recorded by the monitor', async () => (await count('SELECT count(*)::text AS n FROM access_records')) >= written, 600_000);
    const dead = await count(`SELECT count(*)::text AS n FROM access_outbox WHERE published_at IS NULL`);
    if (dead > 0) throw new Error(`${dead} outbox rows unpublished`);
    for (const day of plan.days) await pipeline.monitor!.behaviour.scoreDay(day);

    const names = new Map([...users.entries()].map(([name, u]) => [u.userId, name]));
    const label = (userId: string, day: string) => plan.labels.get(`${names.get(userId)}:${day}`) ?? null;
    const first = plan.days[0]!;
    const after = new Date(Date.parse(`${plan.days.at(-1)!}T00:00:00Z`) + 24 * HOUR_MS).toISOString().slice(0, 10);
    const { rows } = await pool.query<{ user_id: string; day: string; role: string; score: number; unexplained: string; features: Record<string, number>; reasons: Array<{ code: string }> }>(
      `SELECT d.user_id::text, to_char(d.day, 'YYYY-MM-DD') AS day, d.role, d.score, (d.features->>'unexplained') AS unexplained, d.features, d.reasons FROM monitor_user_days d WHERE d.day >= $1::date AND d.day < $2::date`,
      [first, after],
    );
    const phi = await pool.query<{ user_id: string; day: string; phi: string; explained: string; n: string }>(
      `SELECT user_id::text, to_char(at::date, 'YYYY-MM-DD') AS day, count(*)::text AS n, count(*) FILTER (WHERE phi)::text AS phi, count(*) FILTER (WHERE phi AND explanation IS NOT NULL)::text AS explained
         FROM access_records WHERE user_id IS NOT NULL AND at >= $1::date AND at < $2::date GROUP BY 1, 2`,
      [first, after],
    );
    let p = 0, x = 0, po = 0, xo = 0, events = 0;
    for (const r of phi.rows) {
      if (!names.has(r.user_id)) continue;
      events += Number(r.n);
      p += Number(r.phi);
      x += Number(r.explained);
      if (label(r.user_id, r.day) === null) { po += Number(r.phi); xo += Number(r.explained); }
    }
    return { rows: rows.filter((r) => names.has(r.user_id)).map((r) => ({ scenario: label(r.user_id, r.day), score: r.score, unexplained: Number(r.unexplained), features: r.features, reasons: r.reasons, user: `${seed}:${names.get(r.user_id)}`, day: r.day, role: r.role })), phi: p, explained: x, phiOrdinary: po, explainedOrdinary: xo, events, stats: driver.stats, days: plan.days };
  } finally {
    for (const stop of stops) await stop().catch((error: unknown) => process.stderr.write(`stopping: ${String(error)}\n`));
    await pool.end();
    const admin = createKafka(config, log, '-access-sim').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [config.monitoring.accessTopic, config.monitoring.accessDlqTopic, review.verdictsTopic] }).catch(() => undefined);
    await admin.deleteGroups([config.monitoring.groupId]).catch(() => undefined);
    await admin.disconnect();
    const db = new pg.Client({ connectionString: config.database.url });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${config.database.schema}" CASCADE`);
    await db.end();
    config.closeChain();
  }
}

/** ROC-AUC (rank statistic, ties halved) and PR-AUC (average precision) of `score` for positives. */
function aucs(rows: readonly { positive: boolean; score: number }[]): { roc: number; pr: number } {
  const pos = rows.filter((r) => r.positive);
  const neg = rows.filter((r) => !r.positive);
  let wins = 0;
  for (const a of pos) for (const b of neg) wins += a.score > b.score ? 1 : a.score === b.score ? 0.5 : 0;
  const sorted = [...rows].sort((a, b) => b.score - a.score);
  let tp = 0, ap = 0;
  sorted.forEach((r, i) => { if (r.positive) { tp++; ap += tp / (i + 1); } });
  return { roc: pos.length && neg.length ? wins / (pos.length * neg.length) : NaN, pr: pos.length ? ap / pos.length : NaN };
}

function operatingPoint(rows: readonly Row[], alerted: (r: Row, i: number) => boolean, order: readonly Row[]): { recall: Record<string, string>; falsePer100: number; alerts: number } {
  const set = new Set(order.filter((r, i) => alerted(r, i)));
  const scenarios = Object.keys(SIM_PARAMS.scenarios) as ScenarioName[];
  const recall: Record<string, string> = {};
  for (const s of scenarios) {
    const positives = rows.filter((r) => r.scenario === s);
    recall[s] = positives.length ? `${positives.filter((r) => set.has(r)).length}/${positives.length}` : '-';
  }
  const negatives = rows.filter((r) => r.scenario === null);
  return { recall, falsePer100: (100 * negatives.filter((r) => set.has(r)).length) / negatives.length, alerts: set.size };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seeds: { type: 'string', default: 'evaluation' }, out: { type: 'string', default: 'docs/evaluation/access-monitoring.md' }, dump: { type: 'string' } } });
  const seeds = values.seeds === 'tuning' ? TUNING_SEEDS : EVALUATION_SEEDS;
  // Per-user-day features and labels, for tuning: never for the evaluation seeds.
  if (values.dump !== undefined && values.seeds !== 'tuning') throw new Error('--dump is for --seeds tuning only: the evaluation seeds are not looked at while tuning');
  const started = performance.now();
  const load = loadavg()[0]!.toFixed(2);
  const all: Row[] = [];
  let phi = 0, explained = 0, phiO = 0, explainedO = 0, events = 0;
  const start = simulationStart(new Date());
  const stats: DriverStats = { requests: 0, byStatus: {}, refused: {}, noTarget: {}, extraLogins: 0 };
  const add = (into: Record<string, number>, from: Record<string, number>) => { for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v; };
  let days: string[] = [];
  for (const seed of seeds) {
    const r = await runSeed(seed, start);
    all.push(...r.rows);
    phi += r.phi; explained += r.explained; phiO += r.phiOrdinary; explainedO += r.explainedOrdinary; events += r.events;
    stats.requests += r.stats.requests; stats.extraLogins += r.stats.extraLogins;
    add(stats.byStatus, r.stats.byStatus); add(stats.refused, r.stats.refused); add(stats.noTarget, r.stats.noTarget);
    days = r.days;
    process.stderr.write(`seed ${seed}: ${r.events} access records, ${r.rows.length} user-days, ${r.stats.requests} requests\n`);
  }
  const counts = (o: Record<string, number>) => Object.entries(o).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const byScore = [...all].sort((a, b) => b.score - a.score);
  const byUnexplained = [...all].sort((a, b) => b.unexplained - a.unexplained);
  const budget = Math.max(1, Math.round(all.length * 0.02));
  const detector = operatingPoint(all, (r) => r.score >= SCORER_THRESHOLDS.alert, byScore);
  const detectorBudget = operatingPoint(all, (_r, i) => i < budget, byScore);
  const baseline = operatingPoint(all, (r) => r.unexplained > 0, byUnexplained);
  const baselineBudget = operatingPoint(all, (_r, i) => i < budget, byUnexplained);
  const dAuc = aucs(all.map((r) => ({ positive: r.scenario !== null, score: r.score })));
  const bAuc = aucs(all.map((r) => ({ positive: r.scenario !== null, score: r.unexplained })));
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  // Issue 20's targets at the detector's operating point: sprees and bulk export >= 0.9, one-member snooping >= 0.7, <= 2 false alerts per 100 user-days.
  const rate = (s: string) => { const [hit, of] = (detector.recall[s] ?? '0/0').split('/').map(Number); return of ? hit! / of : NaN; };
  const targets = (p: typeof detector) => [
    ...([['offHoursSpree', 0.9, 'recall on off-hours sprees'], ['bulkExport', 0.9, 'recall on bulk export'], ['oneMemberSnooping', 0.7, 'recall on single-target snooping']] as const).map(([s, goal, what]) =>
      `- ${what} >= ${goal}: ${p.recall[s]} = ${rate(s).toFixed(2)}, ${rate(s) >= goal ? 'met' : 'NOT met'}`),
    `- false alerts <= 1 per 50 user-days (2 per 100): ${p.falsePer100.toFixed(2)} per 100, ${p.falsePer100 <= 2 ? 'met' : 'NOT met'}`,
  ];
  const scenarios = Object.keys(SIM_PARAMS.scenarios);
  const table = (rows: Array<[string, ReturnType<typeof operatingPoint>]>) => [
    `| operating point | alerts | ${scenarios.join(' | ')} | false alerts / 100 user-days |`,
    `|---|---|${scenarios.map(() => '---').join('|')}|---|`,
    ...rows.map(([name, p]) => `| ${name} | ${p.alerts} | ${scenarios.map((s) => p.recall[s]).join(' | ')} | ${p.falsePer100.toFixed(2)} |`),
  ].join('\n');
  const report = `# Access monitoring: evaluation on simulated investigator work

Generated by \`npm run eval:access\` (bench/access-sim/evaluate.ts) on seeds ${seeds.join(', ')}
(${values.seeds === 'tuning' ? 'TUNING seeds' : 'evaluation seeds, never used while tuning'}); ${stats.requests} HTTP requests to the review API, ${events} access records,
${all.length} user-days, ${seconds} s with load average ${load} at the start (2-core machine, shared). Simulator parameters:
bench/access-sim/params.ts (frozen in its own commit before the detector was tuned; unchanged since).

## What is measured, and how
- The simulator (bench/access-sim/simulator.ts) plans ${SIM_PARAMS.investigators} investigators and ${SIM_PARAMS.supervisors} supervisors over ${SIM_PARAMS.weeks} working weeks
  (${days[0]} to ${days.at(-1)}, the three weeks before the run's week, so nothing is ahead of the monitor's clock) as
  ACTIONS: sign-in from an address at a virtual time, queue view, take-next, case views, attachment lists and downloads,
  notes, dispositions, escalations, supervisor oversight views with drill-downs into the related claims the case view
  lists, case lists, and a share of legitimate but unexplained accesses (open cases of queues not worked, QA of closed
  cases, identifier searches for a member who called in). Scenarios are injected into user-days, which are labelled by
  scenario.
- Every action goes through the real review HTTP API (bench/access-sim/driver.ts): the review server is started as
  \`claimtrail review serve\` starts it (review/server.ts) on a free loopback port with the simulation's virtual clock
  injected (review/clock.ts: the audit entry's time, session expiry, take / disposition times), and the driver sends real
  requests with fetch: sign-in with name and password, then the session cookie. The simulated client address is sent in
  X-Forwarded-For, which the app believes from loopback only (\`REVIEW_TRUST_PROXY=127.0.0.1\`). The sign-in rate limits
  (real-time minute windows) are raised for the run through the app's configuration (\`REVIEW_LOGIN_PER_IP_PER_MINUTE\`,
  \`REVIEW_LOGIN_GLOBAL_PER_MINUTE\`); the failed-login throttle is unchanged (no sign-in fails); sealing is off
  (bench/access-sim/server.ts). A request on a session that has expired on the virtual clock, or from an address the
  user has no session on (a shared account), signs in first, as a person would: ${stats.extraLogins} such sign-ins.
- Users are created as \`claimtrail review user create\` creates them (AuthService.createUser). Cases are opened the way
  production opens them: encrypted claim payloads, a recorded decision batch and the real CaseOpeningService in its
  transaction, routed to the three seeded queues by the seeded rules; ${SIM_PARAMS.members} members (skewed: a few have many
  claims) and ${SIM_PARAMS.providers} providers. 900 cases exist before the first day (360 of them closed by investigators
  through the API on a prehistory day 35 days before, outside the monitor's 30-day windows and not scored), 150 arrive
  every simulated morning. Each case carries the claim's documents as one attachment, filed through the attachment
  repository (the app has no intake route; uploading through the API would audit an access no scenario asks for).
- The audit entries flow as in production: audit log -> access outbox (same statement) -> relay -> access-events topic
  (isolated per seed, deleted afterwards) -> monitor stage (the pipeline's \`monitor\` role) -> access records with their
  explanations; then BehaviourMonitor scores every simulated day (features, isolation forest, role peers, reason codes).
  Each seed has its own PostgreSQL schema and DecisionAnchorV2 deployment.
- The targets of actions are resolved against the app's answers (the case take-next handed out, the related claims of a
  case view, the cases an identifier search found). Requests by status: ${counts(stats.byStatus)}. Refused by the app
  (403 / 404 / 409; a refusal writes no audit entry in this app, so it is not an access event): ${counts(stats.refused)}.
  Planned actions with nothing to act on (e.g. no case of one's own left to view): ${counts(stats.noTarget)}.
- Positives: scenario user-days. Detector operating point: score >= ${SCORER_THRESHOLDS.alert}. Fixed budget: the top 2 % of user-days
  (${budget} alerts). Baseline: "every unexplained access is an alert" (a user-day with any unexplained PHI access), and the
  same baseline ranked by unexplained count at the fixed budget.

## Share of accesses explained
- all PHI accesses: ${((100 * explained) / phi).toFixed(1)} % of ${phi}
- on ordinary (unlabelled) user-days: ${((100 * explainedO) / phiO).toFixed(1)} % of ${phiO}

## Recall per scenario and false alerts
${table([['detector, score >= threshold', detector], ['detector, top 2 %', detectorBudget], ['baseline: any unexplained access', baseline], ['baseline ranked by unexplained count, top 2 %', baselineBudget]])}

## Ranking over user-days
| | ROC-AUC | PR-AUC |
|---|---|---|
| detector score | ${dAuc.roc.toFixed(3)} | ${dAuc.pr.toFixed(3)} |
| baseline (unexplained count) | ${bAuc.roc.toFixed(3)} | ${bAuc.pr.toFixed(3)} |

## Targets of issue 20
${targets(detector).join('\n')}

## Limits and notes
- The slow drip (${SIM_PARAMS.scenarios.slowDrip.perDay.join('-')} views a day of cases not the user's, for ${SIM_PARAMS.scenarios.slowDrip.days} days) is mostly missed. A multi-day window
  feature exists (\`unexplained_members_window\`: distinct members of the user's unexplained PHI accesses over the last 5
  working days) with the reason A_UNEXPLAINED_WINDOW (robust z >= ${SCORER_THRESHOLDS.windowPeerZ} among the day's role peers, with >=
  ${SCORER_THRESHOLDS.windowUnexplainedToday} unexplained accesses that day), chosen on the tuning seeds, where it added 1 of 14 drip days and no
  false alert; looser settings added drip days only with more false alerts than drip days. The reason is the
  explanations, not the window: most drip views land on cases the work context explains (oversight of assigned or
  escalated cases, open cases of queues the supervisor took from), so on the tuning seeds a drip day had 4.4 unexplained
  accesses on average against 3.6 (sd 1.8) on an ordinary supervisor day: about one more a day, inside the legitimate
  unexplained share whatever the window.
- Investigators can open only cases assigned to them (the review app refuses the others with 403 and writes no audit
  entry for the refusal), so their accesses are explained by assignment; browsing and snooping scenarios are a
  supervisor's (role with access to every case). An investigator's risk shows as volume, off hours, new addresses and
  downloads.
- Explanations credit oversight of assigned and escalated cases to every supervisor: snooping on a case someone else
  works reads as oversight, which is why one member's cases count towards A_MEMBER_REPEAT unless assigned to the user.
- Thresholds were tuned on seeds ${TUNING_SEEDS.join(', ')} only. When the simulation moved onto the HTTP API the tuning seeds were
  run first: the targets held with the thresholds unchanged. The evaluation seeds were then run once (commit 9ff7ea2 of
  this report: sprees 9/9, bulk 9/9, snooping 13/15, slow drip 1/27, 0.77 false alerts per 100 user-days; 1,638 of its
  requests were second dispositions of closed cases, refused with 409, a target-resolution slip of the driver fixed
  since). A_UNEXPLAINED_WINDOW was added after that run, chosen on the tuning seeds only.
- Labels from compliance's dispositions (alert_dispositions) are stored for a supervised model but none is trained yet.
- The monitor stage's Kafka transactions were sometimes slow on this shared broker (kafkajs CONCURRENT_TRANSACTIONS
  retries, a consumer restart): delivery is at least once and records dedupe on source + audit id, and the run waits
  until every audit entry has its access record, so the figures do not depend on it.
`;
  if (values.dump !== undefined) writeFileSync(values.dump, all.map((r) => JSON.stringify(r)).join('\n') + '\n');
  if (values.seeds === 'tuning') process.stdout.write(report);
  else writeFileSync(values.out, report);
  process.stderr.write(report);
}

await main();
