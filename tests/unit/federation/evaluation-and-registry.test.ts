import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../core/random.ts';
import { capRows, meanCi, splitInsurers } from '../../../federation/evaluation.ts';
import { readRegistryFile } from '../../../federation/registry-file.ts';
import { generateIdentity } from '../../../federation/secure-aggregation/identity.ts';

describe('splitInsurers', () => {
  const labels = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 1 : 0));
  const idx = Array.from({ length: 1000 }, (_, i) => i);

  it('random: every row once, equal sizes', () => {
    const parts = splitInsurers(labels, idx, 3, 'random', new Rng(1));
    expect(parts.flat().sort((a, b) => a - b)).toEqual(idx);
    expect(parts.map((p) => p.length)).toEqual([334, 333, 333]);
  });

  it('non-IID: every row once, sizes decreasing, fraud prevalence increasing', () => {
    const parts = splitInsurers(labels, idx, 5, 'non-iid', new Rng(2));
    expect(parts.flat().sort((a, b) => a - b)).toEqual(idx);
    const sizes = parts.map((p) => p.length);
    const prevalence = parts.map((p) => p.filter((r) => labels[r] === 1).length / p.length);
    for (let i = 1; i < 5; i++) {
      expect(sizes[i]).toBeLessThan(sizes[i - 1]!);
      expect(prevalence[i]).toBeGreaterThan(prevalence[i - 1]!);
    }
  });
});

describe('capRows (scarce local data)', () => {
  const labels = Array.from({ length: 1000 }, (_, i) => (i % 4 === 0 ? 1 : 0));
  const part = Array.from({ length: 600 }, (_, i) => 200 + i);

  it('keeps at most the cap, rows of the share only, each once, prevalence kept', () => {
    const kept = capRows(labels, part, 200, new Rng(3));
    expect(kept).toHaveLength(200);
    expect(new Set(kept).size).toBe(200);
    expect(kept.every((r) => part.includes(r))).toBe(true);
    expect(kept.filter((r) => labels[r] === 1)).toHaveLength(50);
  });

  it('keeps one fraud of a share whose prevalence rounds to none, and the whole share under the cap', () => {
    const rare = [...Array.from({ length: 500 }, (_, i) => 1 + i * 4 + 1), 0];
    const kept = capRows(labels, rare, 100, new Rng(4));
    expect(kept).toHaveLength(100);
    expect(kept.filter((r) => labels[r] === 1)).toEqual([0]);
    expect(capRows(labels, part, undefined, new Rng(5))).toEqual(part);
    const frauds = part.filter((r) => labels[r] === 1);
    expect(capRows(labels, frauds, 100, new Rng(6))).toHaveLength(100);
    expect(capRows(labels, part.slice(0, 50), 100, new Rng(5))).toEqual(part.slice(0, 50));
  });
});

describe('meanCi', () => {
  it('gives the t-interval half-width (n = 3: t = 4.303)', () => {
    const { mean, half } = meanCi([1, 2, 3]);
    expect(mean).toBe(2);
    expect(half).toBeCloseTo((4.303 * 1) / Math.sqrt(3), 10);
    expect(Number.isNaN(meanCi([5]).half)).toBe(true);
  });
});

describe('registry file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-fedreg-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a valid registry and refuses a bad one with the path of the problem', async () => {
    const [c, a, b] = ['coordinator', 'insurer-a', 'insurer-b'].map((id) => generateIdentity(id));
    const good = path.join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ format: 'claimtrail-federation-registry-v1', coordinator: { id: c!.id, publicKey: c!.publicKey }, participants: [a, b].map((p) => ({ id: p!.id, publicKey: p!.publicKey })) }));
    const reg = await readRegistryFile(good);
    expect(reg.participants.ids()).toEqual(['insurer-a', 'insurer-b']);
    expect(reg.coordinator.has('coordinator')).toBe(true);
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ format: 'claimtrail-federation-registry-v1', coordinator: { id: 'c', publicKey: 'zz' }, participants: [] }));
    await expect(readRegistryFile(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/coordinator\.publicKey/) });
  });
});
