import { describe, expect, it } from 'vitest';
import { runFuzz } from '../faults/fuzz.ts';

/**
 * Hostile-input fuzzing through the real scoring stage, CI size (tests/faults/fuzz.ts;
 * `node tests/faults/fuzz-run.ts --count 100000` is the full run): malformed JSON, wrong types,
 * payloads around 1 MiB, deep nesting, unicode edge cases, `__proto__` / `constructor` keys,
 * NaN / Infinity / negative amounts, far-future dates.
 */
describe('hostile input fuzzing of the scoring stage', () => {
  it('decides or dead-letters (with a reason) every message exactly once, without the consumer stopping', async () => {
    const report = await runFuzz({ count: 1500, seed: 3 });
    const summary = JSON.stringify(report);
    expect(report.produced, summary).toBe(1501);
    expect(report.unaccounted, summary).toBe(0);
    expect(report.duplicated, summary).toBe(0);
    expect(report.decided + report.deadLettered, summary).toBe(report.produced);
    expect(report.dlqWithoutReason, summary).toBe(0);
    expect(report.crashes, summary).toBe(0);
    // Both outcomes and the size limit are exercised, not just one path.
    expect(report.decided, summary).toBeGreaterThan(0);
    expect(report.dlqReasons.TOO_LARGE ?? 0, summary).toBeGreaterThan(0);
    expect(report.dlqReasons.SCHEMA_INVALID ?? 0, summary).toBeGreaterThan(0);
    expect(report.dlqReasons.NOT_JSON ?? 0, summary).toBeGreaterThan(0);
    // Bounded memory: the scoring process stays well under 1.5 GiB (it starts near 200 MiB).
    expect(report.rssPeakMiB, summary).toBeLessThan(1536);
  }, 600_000);
});
