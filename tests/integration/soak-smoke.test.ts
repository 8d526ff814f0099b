import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { SoakResult } from '../../bench/soak.ts';

const run = promisify(execFile);

/**
 * The soak harness at CI size: `node bench/soak.ts --minutes 2 --rate 30 --sample-seconds 20`
 * runs the three pipeline roles as child processes on the real stack (own topics, groups, queue,
 * schema and state, removed afterwards) and must pass its own criteria: every claim decided and
 * anchored, RSS growth and lag bounded over the second half, on its own anvil with 2 s blocks. The full run (30 minutes at
 * 200 claims/s) and its reading are in docs/soak.md.
 */
describe('soak (CI size)', () => {
  const out = mkdtempSync(join(tmpdir(), 'claimtrail-soak-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('samples RSS, heap, lag and progress, and stays within its bounds', async () => {
    const args = ['--disable-warning=TimeoutNegativeWarning', 'bench/soak.ts', '--minutes', '2', '--rate', '30', '--sample-seconds', '20', '--drain-seconds', '240', '--max-rss-growth-mib', '128', '--results-dir', out];
    const done: { code?: number | string; stdout?: string; stderr?: string } = await run(process.execPath, args, { timeout: 600_000, maxBuffer: 16 * 2 ** 20, env: { ...process.env, LOG_LEVEL: 'error', BATCH_MAX_AGE_MS: '10000' } }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (error: { code?: number | string; stdout?: string; stderr?: string }) => error,
    );
    const file = readdirSync(out).find((f) => f.endsWith('.json'));
    expect(file, `no result; output:\n${done.stdout ?? ''}\n${done.stderr ?? ''}`).toBeDefined();
    expect(readdirSync(out).some((f) => /^soak-.*\.md$/.test(f))).toBe(true);
    const result = JSON.parse(readFileSync(join(out, file!), 'utf8')) as SoakResult;
    const summary = result.checks.map((c) => `${c.ok ? 'ok' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n');

    // 2 minutes at 30/s: about 3,600 claims, a steady sample every 20 s, then the drain sample.
    expect(result.produced).toBeGreaterThan(3000);
    const steady = result.samples.filter((s) => s.phase === 'steady');
    expect(steady.length).toBeGreaterThanOrEqual(6);
    expect(result.samples.at(-1)!.phase).toBe('drain');
    for (const s of steady.slice(1)) {
      for (const role of ['scoring', 'batching', 'anchoring'] as const) {
        expect(s.rssMiB[role], `${role} RSS at t=${s.t}`).toBeGreaterThan(50);
        expect(s.heapMiB[role], `${role} heap at t=${s.t}`).toBeGreaterThan(5);
      }
    }
    expect(result.checks.map((c) => c.name)).toEqual([
      'every claim decided', 'every batch anchored', 'RSS batching bounded', 'RSS anchoring bounded', 'RSS scoring bounded', 'RSS of every process under the limit', 'lag scoring bounded', 'lag batching bounded', 'anchoring backlog bounded',
    ]);
    // Anchoring on the soak's own chain (2 s blocks): what it cost and how long it took.
    expect(result.anchoring!.epochs).toBeGreaterThan(0);
    expect(result.anchoring!.epochGas).toBeGreaterThan(0);
    expect(result.anchoring!.epochLagMs.p99).toBeGreaterThan(0);
    expect(result.ok, summary).toBe(true);
    expect(done.code, summary).toBe(0);
  }, 660_000);
});
