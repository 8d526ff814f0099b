/**
 * Fault-injection suite (issue 7): kill -9 of the scoring and anchor worker processes at seeded
 * random moments against the real stack, invariants checked after each trial, a table printed.
 *
 *   node tests/faults/run.ts [--trials 5] [--claims 1000] [--malformed 20] [--seed 1] [--kill-window-ms 3000]
 *                            [--anchor-kill-every 1] [--keep-temp]
 *
 * Exit 0 when every trial holds every invariant, 1 on any violation. Details: docs/faults.md.
 */
import { parseArgs } from 'node:util';
import { formatTable, runFaultSuite } from './suite.ts';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '5' },
    claims: { type: 'string', default: '1000' },
    malformed: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    'kill-window-ms': { type: 'string', default: '3000' },
    'anchor-kill-every': { type: 'string', default: '1' },
    'keep-temp': { type: 'boolean', default: false },
  },
});

function wholeNumber(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    process.stderr.write(`--${name}: expected a whole number >= 0, got ${value}\n`);
    process.exit(2);
  }
  return n;
}

const started = Date.now();
const results = await runFaultSuite({
  trials: wholeNumber('trials', values.trials),
  claims: wholeNumber('claims', values.claims),
  malformed: wholeNumber('malformed', values.malformed),
  seed: wholeNumber('seed', values.seed),
  killWindowMs: wholeNumber('kill-window-ms', values['kill-window-ms']),
  anchorKillEvery: wholeNumber('anchor-kill-every', values['anchor-kill-every']),
  keepTemp: values['keep-temp'],
  onProgress: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
});
process.stdout.write(`\nclaimtrail fault injection: ${results.length} trials, seed ${values.seed}, ${((Date.now() - started) / 1000).toFixed(0)} s\n${formatTable(results)}\n`);
process.exit(results.every((r) => r.failures.length === 0) ? 0 : 1);
