import type { Command } from 'commander';
import { runBench } from '../../bench/harness.ts';

/**
 * `claimtrail bench`: the benchmark harness (bench/harness.ts), same options as
 * `npm run bench -- ...`. Options are handed to the harness's own parser unchanged so the two
 * entry points can never disagree; `claimtrail bench --help` prints the harness's help.
 */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('Benchmark: ceilings (Kafka consume, decode, scoring, Merkle) and the pipeline end to end, anchoring, footprint; writes bench/results/<date>.{json,md,svg}.')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[options...]', 'harness options: --quick --claims N --duration S --partitions 1,2,4 --rate R --batch-size N --anchor-claims N --cpu-prof --out DIR (--help for details)')
    .action(async (args: string[]) => {
      process.exitCode = await runBench(args);
    });
}
