import { describe, expect, it } from 'vitest';
import { VIOLATION_KEYS } from '../faults/invariants.ts';
import { formatTable, runFaultSuite } from '../faults/suite.ts';

/**
 * A short run of the fault-injection suite (tests/faults, docs/faults.md) so CI exercises it:
 * three trials, each with `claimtrail run` children for scoring, batching and anchoring, the
 * scoring process killed with SIGKILL at a seeded moment and restarted.
 * `node tests/faults/run.ts --trials 50` is the full-length run, anchor worker kills included.
 * Service restarts and the review API kill: faults-restart-smoke.test.ts.
 *
 * Both the scoring process and the anchor worker are killed in every trial (the anchor worker
 * preferably with a transaction open); the restart bug such kills once found is fixed and pinned by
 * tests/integration/anchor-tx.resume.test.ts.
 */
describe('fault injection (kill -9 of scoring and of the anchor worker), smoke', () => {
  it('keeps every invariant over 3 kill trials', async () => {
    const results = await runFaultSuite({ trials: 3, claims: 400, malformed: 10, seed: 7, killWindowMs: 2500, anchorKillEvery: 1 });
    const table = formatTable(results);
    console.log(table);
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r.failures, table).toEqual([]);
      expect(r.report, table).not.toBeNull();
      expect(r.report!.decisionsInLog).toBe(400);
      expect(r.report!.decisionsInIndex).toBe(400);
      for (const key of VIOLATION_KEYS) expect(r.report![key], `trial ${r.trial} ${key}`).toBe(0);
      expect(r.auditExit).toBe(0);
      expect(r.scoringKillAtMs ?? 0).toBeGreaterThan(0);
    }
    expect(results.filter((r) => r.anchorKillAtMs !== null).length, table).toBeGreaterThan(0);
  }, 900_000);
});
