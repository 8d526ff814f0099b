import { describe, expect, it } from 'vitest';
import { secureRandomBytes } from '../../../core/secure-random.ts';

describe('secureRandomBytes', () => {
  it('never hands out the same bytes twice across pool refills (100,000 nonces)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(secureRandomBytes(12).toString('hex'));
    expect(seen.size).toBe(100_000);
  });

  it('gives copies of the requested size, large ones straight from the RNG', () => {
    const a = secureRandomBytes(32);
    const b = secureRandomBytes(32);
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(false);
    a.fill(0);
    expect(b.some((x) => x !== 0)).toBe(true);
    expect(secureRandomBytes(1 << 20)).toHaveLength(1 << 20);
    expect(secureRandomBytes(0)).toHaveLength(0);
    expect(() => secureRandomBytes(-1)).toThrow(RangeError);
  });

  it('bytes look uniform (each byte value within 20 % of its expected count over 1 MiB)', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 32_768; i++) for (const x of secureRandomBytes(32)) counts[x]!++;
    const expected = (32_768 * 32) / 256;
    for (const c of counts) expect(Math.abs(c - expected) / expected).toBeLessThan(0.2);
  });
});
