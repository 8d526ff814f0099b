/**
 * Hostile-input fuzzing of the real scoring stage:
 *
 *   node tests/faults/fuzz-run.ts [--count 100000] [--seed 1] [--no-huge]
 *
 * Exit 0 when every message is decided or dead-lettered with a reason, exactly once, and the
 * scoring process never died; 1 otherwise. Details: docs/faults.md.
 */
import { parseArgs } from 'node:util';
import { runFuzz } from './fuzz.ts';

// Trials run against the local stack: its dev keys stand in for unset keys (cli/dev-sources.ts).
process.env.CLAIMTRAIL_DEV_KEYS ??= '1';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    'no-huge': { type: 'boolean', default: false },
  },
});
for (const name of ['count', 'seed'] as const) {
  if (!/^\d+$/.test(values[name])) {
    process.stderr.write(`--${name}: expected a whole number, got ${values[name]}\n`);
    process.exit(2);
  }
}
const report = await runFuzz({
  count: Number(values.count),
  seed: Number(values.seed),
  huge: !values['no-huge'],
  onProgress: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
const ok = report.unaccounted === 0 && report.duplicated === 0 && report.dlqWithoutReason === 0 && report.crashes === 0 && report.decided + report.deadLettered === report.produced;
process.stdout.write(`fuzz: ${ok ? 'PASS' : 'FAIL'}  ${report.produced} messages, ${report.decided} decided, ${report.deadLettered} dead-lettered, ${report.unaccounted} unaccounted, ${report.duplicated} duplicated, ${report.crashes} crashes, scoring RSS ${report.rssStartMiB} -> peak ${report.rssPeakMiB} -> end ${report.rssEndMiB} MiB, ${(report.elapsedMs / 1000).toFixed(0)} s\n`);
process.exit(ok ? 0 : 1);
