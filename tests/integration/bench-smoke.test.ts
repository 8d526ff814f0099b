import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Every number anywhere under `value`, with its JSON path. */
function numbers(value: unknown, path = '$'): Array<[string, number]> {
  if (typeof value === 'number') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => numbers(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numbers(v, `${path}.${k}`));
  return [];
}

/**
 * The harness cannot rot: `node bench/run.ts --quick` runs against the real stack as a child
 * process (its own topics, groups, queue and schema, removed afterwards) and its JSON holds every
 * section with positive measurements. Figures are not compared with targets here: CI machines vary.
 */
describe('bench --quick', () => {
  const out = mkdtempSync(join(tmpdir(), 'claimtrail-bench-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes a JSON result with every section measured', async () => {
    const started = Date.now();
    await run(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'bench/run.ts', '--quick', '--out', out], { timeout: 240_000, maxBuffer: 16 * 2 ** 20, env: { ...process.env, LOG_LEVEL: 'error' } });
    const seconds = (Date.now() - started) / 1000;
    const file = readdirSync(out).find((f) => f.endsWith('.json'));
    expect(file).toBeDefined();
    expect(readdirSync(out).filter((f) => /\.(md|svg)$/.test(f))).toHaveLength(2);
    const result = JSON.parse(readFileSync(join(out, file!), 'utf8'));
    expect(result.format).toBe('claimtrail-bench-v1');

    const { ceilings, endToEnd, anchoring, stageTimings } = result;
    for (const c of [ceilings.decode, ceilings.scoring.features, ceilings.scoring.scoreBatch]) {
      expect(c.perSecond).toBeGreaterThan(0);
      expect(c.perCpuSecond).toBeGreaterThan(0);
    }
    expect(ceilings.merkle.map((m: { builder: string }) => m.builder)).toEqual(expect.arrayContaining(['fast', 'openzeppelin']));
    for (const m of ceilings.merkle) expect(m.leavesPerSecond).toBeGreaterThan(0);
    expect(ceilings.kafka.length).toBeGreaterThan(0);
    for (const k of ceilings.kafka) {
      expect(k.kafkajs.perSecond).toBeGreaterThan(0);
      expect(k.java?.fetchPerSecond).toBeGreaterThan(0);
    }

    for (const r of [endToEnd.main, ...endToEnd.drains, endToEnd.fixedRate, endToEnd.saturation, anchoring.pipeline, anchoring.atDefaultPartitions, anchoring.asProcesses]) {
      expect(r.decisions).toBeGreaterThan(0);
      expect(r.decisionsPerSecond).toBeGreaterThan(0);
      expect(r.indexedPerSecond).toBeGreaterThan(0);
      expect(r.footprint.peakRssMb).toBeGreaterThan(0);
      expect(r.footprint.cpuSeconds).toBeGreaterThan(0);
      expect(r.timeline.length).toBeGreaterThan(0);
    }
    for (const r of [endToEnd.fixedRate, endToEnd.saturation]) {
      expect(r.latencyMs.count).toBe(r.decisions);
      for (const q of ['p50', 'p95', 'p99', 'max'] as const) expect(r.latencyMs[q]).toBeGreaterThan(0);
    }

    // v2 anchoring: epochs and flagged roots, whose gas does not depend on how many decisions they commit.
    const gasOf = (method: string) => anchoring.direct.gas.filter((g: { method: string }) => g.method === method).map((g: { gasUsed: number }) => g.gasUsed);
    for (const method of ['anchorEpoch', 'anchorFlaggedRoot']) {
      const gas = gasOf(method);
      expect(gas.length, method).toBeGreaterThanOrEqual(2);
      expect(Math.max(...gas) - Math.min(...gas), `${method} gas varies with the count: ${gas.join(', ')}`).toBeLessThan(100);
    }
    expect(anchoring.direct.epochsPerSecond).toBeGreaterThan(0);
    // With anchoring at the main run's partitions (1 in the quick run) and at the default (4).
    // And with each role its own process at the default partitions: every process did work.
    expect([anchoring.pipeline.partitions, anchoring.atDefaultPartitions.partitions, anchoring.asProcesses.partitions]).toEqual([1, 4, 4]);
    for (const run of [anchoring.pipeline, anchoring.atDefaultPartitions, anchoring.asProcesses]) {
      expect(run.anchoring.batches).toBeGreaterThan(0);
      expect(run.anchoring.lagMs.p99).toBeGreaterThan(0);
      expect(run.machineCpu.busySeconds).toBeGreaterThan(0);
    }
    expect(anchoring.asProcesses.processes.map((p: { name: string }) => p.name).sort()).toEqual(['anchoring', 'batching', 'scoring']);
    for (const p of anchoring.asProcesses.processes) expect(p.cpuSeconds, p.name).toBeGreaterThan(0);
    expect(result.targets.find((t: { target: string }) => t.target.startsWith('end to end with anchoring')).target).toContain('roles as processes');

    for (const [path, v] of numbers(stageTimings)) expect(v, path).toBeGreaterThan(0);
    expect(result.targets).toHaveLength(7);
    // No NaN or infinity anywhere (JSON would hold null for them, so only finite numbers survive).
    for (const [path, v] of numbers(result)) expect(Number.isFinite(v), path).toBe(true);
    expect(seconds).toBeLessThan(180);
  }, 300_000);
});
