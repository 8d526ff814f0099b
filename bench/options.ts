import { parseArgs } from 'node:util';

/** What one `bench/run.ts` invocation measures. Every field has a default for full and --quick runs. */
export interface BenchOptions {
  /** Short CI smoke run (< 2 minutes): fewer claims, shorter open-loop runs, partitions 1 and 2. */
  quick: boolean;
  /** Claims preloaded for the ceilings and the end-to-end drain. Default 100,000 (quick 6,000). */
  claims: number;
  /** Seconds of each open-loop latency run (fixed rate and saturation). Default 20 (quick 5). */
  durationS: number;
  /** Partition counts for the scaling runs; the first one is the main run. Default 1,2,4 (quick 1,2). */
  partitions: number[];
  /** Offered rate of the fixed-rate latency run, claims/s. Default 2,000 (quick 500). */
  rate: number;
  /** BATCH_MAX_SIZE of the end-to-end runs. Default 1,000. */
  batchSize: number;
  /** Leaf counts for the Merkle ceiling and the gas-per-decision measurement. */
  anchorBatchSizes: number[];
  /** Claims pushed through the run with anchoring. Default 20,000 (quick 2,000). */
  anchorClaims: number;
  /**
   * Seconds between blocks of the bench's own anvil for the runs with anchoring (2 plays an L2, 12
   * mainnet), so "within a block" means what it means on a real chain. 0: the stack's chain
   * (automine, a block per transaction). Default 2.
   */
  blockTime: number;
  /** Add a separate drain (<= 30,000 claims) under the V8 profiler; self time summarised by folder/package. */
  cpuProf: boolean;
  /** Where results go. Default bench/results. */
  outDir: string;
}

const HELP = `node bench/run.ts [options]
  --quick             CI smoke run (< 2 minutes)
  --claims N          claims preloaded for ceilings and the end-to-end drain
  --duration S        seconds of each open-loop latency run
  --partitions LIST   partition counts for scaling, e.g. 1,2,4 (first = main run)
  --rate R            offered claims/s of the fixed-rate latency run
  --batch-size N      BATCH_MAX_SIZE of the end-to-end runs
  --anchor-claims N   claims through the run with anchoring
  --block-time S      seconds between blocks of the bench's own anvil for the runs with anchoring
                      (default 2, an L2; 12 plays mainnet; 0 = the stack's automine chain)
  --cpu-prof          one more drain under the V8 profiler, self time summarised per folder/package
  --out DIR           results folder (default bench/results)`;

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1) throw new BenchUsageError(`--${name} must be a positive integer, got ${value}`);
  return n;
}

function blockTime(value: string | undefined): number {
  if (value === undefined) return 2;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 60) throw new BenchUsageError(`--block-time must be a whole number of seconds from 0 to 60, got ${value}`);
  return n;
}

/** Bad command-line input (exit code 2). */
export class BenchUsageError extends Error {
  readonly code = 'BENCH_USAGE';
}

/** Parses argv (without node and script). Returns null when --help was asked for (help printed). */
export function parseBenchOptions(argv: readonly string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      claims: { type: 'string' },
      duration: { type: 'string' },
      partitions: { type: 'string' },
      rate: { type: 'string' },
      'batch-size': { type: 'string' },
      'anchor-claims': { type: 'string' },
      'block-time': { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return null;
  }
  const quick = values.quick ?? false;
  const partitions = (values.partitions ?? (quick ? '1,2' : '1,2,4')).split(',').map((p) => positive('partitions', p.trim(), 1));
  if (partitions.some((p) => p > 64)) throw new BenchUsageError('--partitions: at most 64 per run');
  const claims = positive('claims', values.claims, quick ? 6_000 : 100_000);
  if (claims > 2_000_000) throw new BenchUsageError('--claims: at most 2,000,000 (the generator limit)');
  return {
    quick,
    claims,
    durationS: positive('duration', values.duration, quick ? 5 : 20),
    partitions,
    rate: positive('rate', values.rate, quick ? 500 : 2_000),
    batchSize: positive('batch-size', values['batch-size'], 1_000),
    anchorBatchSizes: quick ? [100, 1_000] : [100, 1_000, 10_000],
    anchorClaims: positive('anchor-claims', values['anchor-claims'], quick ? 2_000 : 20_000),
    blockTime: blockTime(values['block-time']),
    cpuProf: values['cpu-prof'] ?? false,
    outDir: values.out ?? 'bench/results',
  };
}
