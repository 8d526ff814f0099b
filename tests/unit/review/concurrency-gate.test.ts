import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../../review/auth/concurrency-gate.ts';
import { RateLimitedError } from '../../../review/errors.ts';

describe('ConcurrencyGate (cap on concurrent scrypt computations)', () => {
  it('runs at most `concurrency` tasks at once, queues up to `maxQueued`, and refuses the rest at once with RATE_LIMITED', async () => {
    const gate = new ConcurrencyGate({ concurrency: 2, maxQueued: 3 });
    let running = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    const task = () =>
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return 'done';
      });
    const admitted = Array.from({ length: 5 }, task);
    const refusedAt = performance.now();
    const refused = await task().catch((e: unknown) => e);
    expect(performance.now() - refusedAt).toBeLessThan(50);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).code).toBe('RATE_LIMITED');
    expect(gate.queued).toBe(3);
    while (releases.length > 0 || running > 0) {
      releases.splice(0).forEach((r) => r());
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(await Promise.all(admitted)).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(peak).toBe(2);
    expect(gate.queued).toBe(0);
  });

  it('releases its slot when a task throws', async () => {
    const gate = new ConcurrencyGate({ concurrency: 1, maxQueued: 0 });
    await expect(gate.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await gate.run(async () => 7)).toBe(7);
  });
});
