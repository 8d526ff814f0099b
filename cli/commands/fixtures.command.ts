import path from 'node:path';
import { type Command, InvalidArgumentError as FlagError } from 'commander';
import { InvalidArgumentError } from '../../core/errors.ts';
import { FRAUD_PATTERNS, generateClaims, generateMalformed } from '../../fixtures/generator.ts';
import { writeClaimsNdjson, writeLabelsNdjson } from '../../fixtures/io.ts';
import { nonNegativeInt, positiveInt } from '../context.ts';

/** Commander parser for a PRNG seed: a whole number in [0, 2^32). */
export function seedArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n > 0xffff_ffff) throw new FlagError('expected a whole number from 0 to 4294967295.');
  return n;
}

/** Commander parser for a rate in [0, 1]. */
function rateArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new FlagError('expected a number from 0 to 1, e.g. 0.08.');
  return n;
}

/** Commander parser for a calendar date YYYY-MM-DD. */
function dateArg(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || !new Date(`${value}T00:00:00Z`).toISOString().startsWith(value)) throw new FlagError('expected a calendar date YYYY-MM-DD.');
  return value;
}

interface FixturesFlags {
  count: number;
  seed: number;
  out: string;
  labels: string;
  malformed: number;
  fraudRate: number;
  startDate: string;
}

/** `claimtrail fixtures`: writes synthetic claims and their fraud labels as NDJSON. */
export function registerFixturesCommand(program: Command): void {
  program
    .command('fixtures')
    .description('Generate synthetic health claims with labeled fraud patterns (deterministic for a seed).')
    .requiredOption('--count <n>', 'number of claims to generate (1 to 2000000)', positiveInt)
    .option('--seed <n>', 'PRNG seed; the same seed gives byte-identical files', seedArg, 1)
    .requiredOption('--out <file>', 'claims NDJSON file to write (one claim per line)')
    .requiredOption('--labels <file>', 'labels NDJSON file to write ({claimId, fraud, pattern} per line)')
    .option('--malformed <k>', 'also mix K malformed messages into the claims file, evenly spaced (for DLQ tests; they have no label)', nonNegativeInt, 0)
    .option('--fraud-rate <r>', 'share of fraudulent claims, 0 to 1', rateArg, 0.08)
    .option('--start-date <date>', 'first day of the one-year service window', dateArg, '2024-01-01')
    .addHelpText(
      'after',
      `
Fraud patterns (labels only, never inside the claims): ${FRAUD_PATTERNS.join(', ')}.
The excluded_provider pattern bills with NPIs from the demo exclusion list (fixtures/samples/exclusions-leie.csv).

Example:
  claimtrail fixtures --count 20000 --seed 7 --out data/claims.ndjson --labels data/labels.ndjson --malformed 50
`,
    )
    .action(async (flags: FixturesFlags) => {
      if (path.resolve(flags.out) === path.resolve(flags.labels)) throw new InvalidArgumentError('--out and --labels must be different files');
      const started = performance.now();
      const { claims, labels } = generateClaims({ count: flags.count, seed: flags.seed, fraudRate: flags.fraudRate, startDate: flags.startDate });
      const malformed = generateMalformed(flags.malformed, flags.seed);
      await writeClaimsNdjson(flags.out, claims, malformed);
      await writeLabelsNdjson(flags.labels, labels);
      const byPattern = new Map<string, number>();
      for (const l of labels) if (l.pattern) byPattern.set(l.pattern, (byPattern.get(l.pattern) ?? 0) + 1);
      const frauds = [...byPattern.values()].reduce((s, n) => s + n, 0);
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(
        `wrote ${claims.length} claims${malformed.length ? ` + ${malformed.length} malformed messages` : ''} to ${flags.out} and ${labels.length} labels to ${flags.labels} in ${seconds.toFixed(1)} s\n` +
          `fraud: ${frauds} (${((100 * frauds) / claims.length).toFixed(1)}%)${frauds ? ` - ${[...byPattern].map(([p, n]) => `${p} ${n}`).join(', ')}` : ''}\n`,
      );
    });
}
