import { describe, expect, it } from 'vitest';
import { privateServiceUnavailable, PRIVATE_SERVICE_KINDS } from '../support/private-services.ts';
import { VIOLATION_KEYS } from '../faults/invariants.ts';
import { formatTable, runFaultSuite, type TrialResult } from '../faults/suite.ts';

/**
 * CI-sized service restarts and review API kill of the fault-injection suite (tests/faults,
 * docs/faults.md): one trial per service, each against a PRIVATE instance on its own port and data
 * folder (the shared stack keeps serving the other suites), taken down with SIGKILL mid-run (the
 * chain with SIGTERM: anvil's state file is a periodic dump, see docs/faults.md), kept down 3 s,
 * started again; then one kill-review trial (two kill -9 of `review serve` among 4 investigators).
 * Full length: `node tests/faults/run.ts --restart kafka,redis,postgres,chain --trials 3` and
 * `--kinds kill-review`.
 */

function expectClean(results: readonly TrialResult[], claims: number): void {
  const table = formatTable(results);
  console.log(table);
  for (const r of results) {
    expect(r.failures, table).toEqual([]);
    expect(r.report!.decisionsInLog, table).toBe(claims);
    expect(r.report!.decisionsInIndex, table).toBe(claims);
    for (const key of VIOLATION_KEYS) expect(r.report![key], `trial ${r.trial} ${key}`).toBe(0);
    expect(r.auditExit).toBe(0);
  }
}

describe('fault injection: service restarts mid-run and a review API kill, smoke', () => {
  // One suite run for every kind (the model is trained once): 4 restarts + 1 review API kill.
  const services = PRIVATE_SERVICE_KINDS.filter((s) => privateServiceUnavailable(s) === null);
  const skipped = PRIVATE_SERVICE_KINDS.flatMap((s) => {
    const why = privateServiceUnavailable(s);
    return why === null ? [] : [`${s}: ${why}`];
  });

  it(`keeps every invariant through a restart of ${services.join(', ')} and two kill -9 of review serve${skipped.length ? ` (skipped: ${skipped.join('; ')})` : ''}`, async () => {
    const CLAIMS = 300;
    const results = await runFaultSuite({ kinds: [...services.map((s) => `restart-${s}` as const), 'kill-review'], trials: 1, claims: CLAIMS, malformed: 5, seed: 5, killWindowMs: 1500, downMs: 3000, restartModes: ['kill9'], reviewKills: 2 });
    expectClean(results, CLAIMS);
    expect(results).toHaveLength(services.length + 1);
    services.forEach((service, i) => {
      expect(results[i]!.restart).not.toBeNull();
      expect(results[i]!.restart!.mode).toBe(service === 'chain' ? 'clean' : 'kill9');
    });
    const review = results.at(-1)!.review!;
    expect(review.kills).toHaveLength(2);
    expect(review.cases).toBeGreaterThan(0);
    expect(review.dispositions).toBe(review.cases);
    expect([review.handedTwice, review.verdictsLost, review.verdictsDoubled]).toEqual([0, 0, 0]);
  }, 1_800_000);
});
