import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseBenchOptions } from '../../../bench/options.ts';

describe('bench options', () => {
  it('runs the anchoring on its own anvil with 2 s blocks unless told otherwise', () => {
    expect(parseBenchOptions([])?.blockTime).toBe(2);
    expect(parseBenchOptions(['--block-time', '12'])?.blockTime).toBe(12);
    expect(parseBenchOptions(['--block-time', '0'])?.blockTime).toBe(0);
  });

  it('refuses a block time that is not a whole number of seconds from 0 to 60', () => {
    for (const bad of ['-1', '1.5', 'x', '61']) expect(() => parseBenchOptions([`--block-time=${bad}`]), bad).toThrow(BenchUsageError);
  });
});
