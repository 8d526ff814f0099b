/**
 * `npm run bench` entry point: `node bench/run.ts [--quick] [--claims N] [--duration S]
 * [--partitions 1,2,4] [--rate R] [--batch-size N] [--anchor-claims N] [--cpu-prof]`; `--help`.
 * Exit codes: 0 done, 2 bad options, 70 a measurement failed (services down, timeouts).
 */
import { runBench } from './harness.ts';
import { BenchUsageError } from './options.ts';

// Benchmarks run against the local stack: its generated dev keys may stand in for unset keys
// (cli/dev-sources.ts; an explicit CLAIMTRAIL_DEV_KEYS=0 still wins).
process.env.CLAIMTRAIL_DEV_KEYS ??= '1';

runBench(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof BenchUsageError ? `bench: ${error.message}` : error);
    process.exit(error instanceof BenchUsageError ? 2 : 70);
  },
);
