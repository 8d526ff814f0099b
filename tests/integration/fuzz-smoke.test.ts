import { describe, expect, it } from 'vitest';
import { runFuzz } from '../faults/fuzz.ts';

/**
 * Hostile-input fuzzing through the real scoring stage, CI size (tests/faults/fuzz.ts;
 * `node tests/faults/fuzz-run.ts --count 100000` is the full run): malformed JSON, wrong types,
 * payloads around 1 MiB, deep nesting, unicode edge cases, `__proto__` / `constructor` keys,
 * NaN / Infinity / negative amounts, far-future dates; X12 837 slices and FHIR R4 resources, valid
 * and hostile (truncated, mixed delimiters, line breaks, lying counts, non-ASCII, deep, Bundles).
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
    // The insurer formats' families reach their own reasons (tests/faults/fuzz-messages.ts).
    for (const reason of ['X12_TRUNCATED', 'X12_SLICE_INVALID', 'X12_SEGMENT_INVALID', 'X12_ENCODING', 'FHIR_JSON_TOO_DEEP', 'FHIR_STRUCTURE_INVALID', 'FHIR_NOT_A_CLAIM', 'JSON_TOO_DEEP', 'CONTENT_TYPE_UNKNOWN']) {
      expect(report.dlqReasons[reason] ?? 0, `${reason} ${summary}`).toBeGreaterThan(0);
    }
    // Bounded memory: the scoring process stays well under 1.5 GiB (it starts near 200 MiB).
    expect(report.rssPeakMiB, summary).toBeLessThan(1536);
  }, 600_000);
});
