import { describe, expect, it } from 'vitest';
import { gcLine, parseSoakOptions, roleNodeFlags, type SoakSample } from '../../../bench/soak.ts';

const sample = (t: number, gcSeconds: Record<string, { all: number; major: number }>): SoakSample => ({
  t, phase: 'steady', produced: 0, indexed: 0, batches: 0, anchored: 0, scoringLag: 0, batchingLag: 0, rssMiB: {}, heapMiB: {}, driverRssMiB: 0, load1: 0, gcSeconds,
});

describe('soak report: garbage collection and node flags', () => {
  it('gives each process its GC pauses between the first and the last sample, as a share of its CPU', () => {
    const line = gcLine(sample(0, { scoring: { all: 4, major: 1 }, batching: { all: 1, major: 0 } }), sample(600, { scoring: { all: 124, major: 31 }, batching: { all: 7, major: 2 } }), { scoring: 400, batching: 60 });
    expect(line).toBe('- garbage collection, main-thread pauses first to last sample: scoring 120 s (30 % of its CPU) of which mark-compact 30 s, batching 6 s (10 % of its CPU) of which mark-compact 2 s');
  });

  it('takes --node-flags as separate --flag[=value] words and refuses anything else', () => {
    expect(parseSoakOptions(['--node-flags=--max-semi-space-size=32  --single-threaded-gc ']).nodeFlags).toEqual(['--max-semi-space-size=32', '--single-threaded-gc']);
    expect(parseSoakOptions([]).nodeFlags).toEqual([]);
    expect(() => parseSoakOptions(['--node-flags=--max-semi-space-size=32 rm'])).toThrow("--node-flags: 'rm' is not a --flag or --flag=value");
  });

  it('gives each role its heap limits (the batcher its own old space) and then the extra flags', () => {
    const options = parseSoakOptions(['--node-flags=--single-threaded-gc']);
    expect(roleNodeFlags(options, 'scoring')).toEqual(['--max-old-space-size=160', '--max-semi-space-size=16', '--single-threaded-gc']);
    expect(roleNodeFlags(options, 'batching')).toEqual(['--max-old-space-size=256', '--max-semi-space-size=16', '--single-threaded-gc']);
    expect(roleNodeFlags(parseSoakOptions(['--max-old-space-mib', '0', '--batching-old-space-mib', '0', '--max-semi-space-mib', '0']), 'anchoring')).toEqual([]);
  });
});
