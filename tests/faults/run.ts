/**
 * Fault-injection suite: kill -9 of the scoring and anchor worker processes at seeded
 * random moments, restarts of (private) Kafka, Redis, PostgreSQL and chain node mid-run, and
 * kill -9 of the review API mid-request-stream, against the real stack; invariants checked after
 * each trial, a table printed.
 *
 *   node tests/faults/run.ts [--kinds kill] [--restart kafka,redis,postgres,chain] [--trials 5]
 *                            [--claims 1000] [--malformed 20] [--seed 1] [--kill-window-ms 3000]
 *                            [--anchor-kill-every 1] [--restart-modes clean,kill9] [--down-ms 5000]
 *                            [--review-kills 2] [--keep-temp]
 *
 * `--kinds` takes any of kill, restart-kafka, restart-redis, restart-postgres, restart-chain,
 * kill-review (or `all`); `--restart a,b` adds `restart-a`, `restart-b`. `--trials` trials of each.
 * Exit 0 when every trial holds every invariant, 1 on any violation, 2 on bad options.
 * Details: docs/faults.md.
 */
import { parseArgs } from 'node:util';
import { PRIVATE_SERVICE_KINDS, type StopMode } from '../support/private-services.ts';
import { formatTable, runFaultSuite, TRIAL_KINDS, type TrialKind } from './suite.ts';

// Trials run against the local stack: its dev keys stand in for unset keys (cli/dev-sources.ts).
process.env.CLAIMTRAIL_DEV_KEYS ??= '1';

const { values } = parseArgs({
  options: {
    kinds: { type: 'string' },
    restart: { type: 'string' },
    trials: { type: 'string', default: '5' },
    claims: { type: 'string', default: '1000' },
    malformed: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    'kill-window-ms': { type: 'string', default: '3000' },
    'anchor-kill-every': { type: 'string', default: '1' },
    'restart-modes': { type: 'string', default: 'clean,kill9' },
    'down-ms': { type: 'string', default: '5000' },
    'review-kills': { type: 'string', default: '2' },
    'keep-temp': { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function wholeNumber(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) fail(`--${name}: expected a whole number >= 0, got ${value}`);
  return n;
}

function list<T extends string>(name: string, value: string, allowed: readonly T[]): T[] {
  const parts = value.split(',').map((p) => p.trim()).filter(Boolean);
  const bad = parts.filter((p) => !allowed.includes(p as T));
  if (bad.length > 0 || parts.length === 0) fail(`--${name}: unknown ${bad.join(', ') || '(empty)'}; expected some of ${allowed.join(',')}`);
  return parts as T[];
}

const kinds: TrialKind[] = [];
if (values.kinds !== undefined) kinds.push(...(values.kinds === 'all' ? TRIAL_KINDS : list('kinds', values.kinds, TRIAL_KINDS)));
if (values.restart !== undefined) kinds.push(...list('restart', values.restart, PRIVATE_SERVICE_KINDS).map((s) => `restart-${s}` as const));
if (kinds.length === 0) kinds.push('kill');

const started = Date.now();
const results = await runFaultSuite({
  kinds: [...new Set(kinds)],
  trials: wholeNumber('trials', values.trials),
  claims: wholeNumber('claims', values.claims),
  malformed: wholeNumber('malformed', values.malformed),
  seed: wholeNumber('seed', values.seed),
  killWindowMs: wholeNumber('kill-window-ms', values['kill-window-ms']),
  anchorKillEvery: wholeNumber('anchor-kill-every', values['anchor-kill-every']),
  restartModes: list<StopMode>('restart-modes', values['restart-modes'], ['clean', 'kill9']),
  downMs: wholeNumber('down-ms', values['down-ms']),
  reviewKills: wholeNumber('review-kills', values['review-kills']),
  keepTemp: values['keep-temp'],
  onProgress: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
});
process.stdout.write(`\nclaimtrail fault injection: ${results.length} trials (${[...new Set(kinds)].join(', ')}), seed ${values.seed}, ${((Date.now() - started) / 1000).toFixed(0)} s\n${formatTable(results)}\n`);
process.exit(results.every((r) => r.failures.length === 0) ? 0 : 1);
