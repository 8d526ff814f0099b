import { beforeAll, describe, expect, it } from 'vitest';
import { InProcessAggregator, type Aggregator } from '../../../federation/aggregator.ts';
import { trainFederated } from '../../../federation/federated-trainer.ts';
import { LocalParty } from '../../../federation/local-party.ts';
import { buildMlp } from '../../../training/mlp.ts';
import { flatWeights } from '../../../federation/mlp-weights.ts';
import type { Task } from '../../../federation/tasks.ts';
import { initTf } from '../../../scoring/tf.ts';
import { consortium, FEDERATION } from './secure-aggregation.fixtures.ts';

/** `n` rows of 3 features; row i is a fraud when i % every === 0. */
function party(id: string, n: number, every: number, seed: number): LocalParty {
  const rows = Array.from({ length: n }, (_, i) => Float64Array.of(i % 17, (i * 7) % 13, (i % every === 0 ? 3 : 0) + (i % 5)));
  const labels = rows.map((_, i) => (i % every === 0 ? 1 : 0));
  return new LocalParty({ id, rows, labels, hidden: [4], seed });
}

/** The global network weights every local-update test starts from, and a normalizer for the rows above. */
const initialWeights = (): number[] => {
  const m = buildMlp(3, [4], 5);
  const w = Array.from(flatWeights(m));
  m.dispose();
  return w;
};
const normalizer = { means: [8, 6, 2.6], stds: [5, 4, 1.8], clip: 8 };

const stats = (p: LocalParty, positives: boolean) => p.contribution(positives ? { kind: 'stats', positives: true } : { kind: 'stats' });

beforeAll(async () => {
  await initTf();
});

describe('forest tree shares', () => {
  const forestTask = { kind: 'forest' as const, totalTrees: 20, seed: 9, maxDepth: 3, leafNoise: 0 };

  it('stats with positives: [n, training frauds, Σx ...], the same sums otherwise', async () => {
    const p = party('insurer-0', 300, 6, 3);
    const plain = await stats(p, false);
    const withPos = await stats(p, true);
    expect(withPos).toHaveLength(plain.length + 1);
    expect(withPos[0]).toBe(plain[0]);
    expect(Array.from(withPos.subarray(2))).toEqual(Array.from(plain.subarray(1)));
    // Training rows are 80 % of 300 (stratified), of which a sixth are frauds.
    expect(withPos[0]).toBe(240);
    expect(withPos[1]).toBe(40);
  });

  it('rows (the default): trees in proportion to training rows; positives: to training frauds', async () => {
    const p = party('insurer-0', 300, 6, 3);
    const [n, frauds] = Array.from((await stats(p, true)).subarray(0, 2));
    const rows = p.trees({ ...forestTask, totalExamples: 4 * n! });
    expect(rows.baseModel.estimators).toHaveLength(5);
    const explicitRows = p.trees({ ...forestTask, totalExamples: 4 * n!, shares: 'rows', totalPositives: frauds! });
    expect(explicitRows.baseModel.estimators).toHaveLength(5);
    const byFrauds = p.trees({ ...forestTask, totalExamples: 4 * n!, shares: 'positives', totalPositives: 2 * frauds! });
    expect(byFrauds.baseModel.estimators).toHaveLength(10);
    // At least one tree, however small the share.
    expect(p.trees({ ...forestTask, totalExamples: n!, shares: 'positives', totalPositives: 1000 * frauds! }).baseModel.estimators).toHaveLength(1);
  });

  it('refuses shares by positives without a positive total', () => {
    const p = party('insurer-0', 120, 6, 3);
    expect(() => p.trees({ ...forestTask, totalExamples: 96, shares: 'positives' })).toThrow(expect.objectContaining({ code: 'FEDERATION_PROTOCOL_VIOLATION' }));
    expect(() => p.trees({ ...forestTask, totalExamples: 96, shares: 'positives', totalPositives: 0 })).toThrow(expect.objectContaining({ code: 'FEDERATION_PROTOCOL_VIOLATION' }));
  });

  it('trainFederated (default forestShares positives): the first sum carries the fraud total, each party grows trees by its frauds, the lineage says so', async () => {
    const c = consortium(2);
    // A large party with few frauds and a small one with many.
    const parties = [party('insurer-0', 500, 25, 1), party('insurer-1', 150, 3, 2)].map((p, k) => ({ identity: c.participantIds[k]!, party: p }));
    const inner = new InProcessAggregator({ federation: FEDERATION, coordinator: c.coordinatorId, registry: c.registry, coordinatorRegistry: c.coordinatorRegistry, parties });
    const seen: { sums: Exclude<Task, { kind: 'forest' }>[]; forest?: Extract<Task, { kind: 'forest' }>; trees: number[] } = { sums: [], trees: [] };
    const spy: Aggregator = {
      participants: inner.participants,
      sum: (task, spec) => {
        seen.sums.push(task);
        return inner.sum(task, spec);
      },
      trees: async (task) => {
        seen.forest = task;
        const out = await inner.trees(task);
        seen.trees = out.forests.map((f) => f.baseModel.estimators.length);
        return out;
      },
    };
    const frauds = await Promise.all(parties.map(async ({ party: p }) => (await stats(p, true))[1]!));
    // forestShares positives is the default.
    const model = await trainFederated({ aggregator: spy, federation: FEDERATION, participantKeys: c.participantIds, width: 3, seed: 4, hidden: [4], maxRounds: 1, trees: 20 });
    try {
      expect(seen.sums[0]).toEqual({ kind: 'stats', positives: true });
      expect(seen.forest?.shares).toBe('positives');
      expect(seen.forest?.totalPositives).toBe(frauds[0]! + frauds[1]!);
      expect(seen.trees).toEqual(frauds.map((f) => Math.max(1, Math.round((20 * f) / (frauds[0]! + frauds[1]!)))));
      // The small party holds most frauds, so it grows most trees (by rows it would grow the fewest).
      expect(seen.trees[1]).toBeGreaterThan(seen.trees[0]!);
      expect(model.lineage.forest.shares).toBe('positives');
      expect(model.lineage.forest.trees).toBe(seen.trees[0]! + seen.trees[1]!);
      expect(model.lineage.fedavg.proximalMu).toBe(0);
    } finally {
      model.parts.nn.dispose();
    }
  }, 60_000);
});

describe('forestShares rows', () => {
  it('keeps the first sum without the fraud total and grows trees by training rows', async () => {
    const c = consortium(2);
    const parties = [party('insurer-0', 500, 25, 1), party('insurer-1', 150, 3, 2)].map((p, k) => ({ identity: c.participantIds[k]!, party: p }));
    const inner = new InProcessAggregator({ federation: FEDERATION, coordinator: c.coordinatorId, registry: c.registry, coordinatorRegistry: c.coordinatorRegistry, parties });
    let first: Task | undefined;
    let trees: number[] = [];
    const spy: Aggregator = {
      participants: inner.participants,
      sum: (task, spec) => {
        first ??= task;
        return inner.sum(task, spec);
      },
      trees: async (task) => {
        const out = await inner.trees(task);
        trees = out.forests.map((f) => f.baseModel.estimators.length);
        return out;
      },
    };
    // Balanced update weights need the fraud total too; with example weights nothing does.
    const model = await trainFederated({ aggregator: spy, federation: FEDERATION, participantKeys: c.participantIds, width: 3, seed: 4, hidden: [4], maxRounds: 1, trees: 20, forestShares: 'rows', updateWeights: 'examples', proximalMu: 0.01 });
    try {
      expect(first).toEqual({ kind: 'stats' });
      expect(trees).toEqual([Math.round((20 * 400) / 520), Math.round((20 * 120) / 520)]);
      expect(model.lineage.forest.shares).toBe('rows');
      expect(model.lineage.fedavg.proximalMu).toBe(0.01);
      expect(model.lineage.fedavg.updateWeights).toBe('examples');
    } finally {
      model.parts.nn.dispose();
    }
  }, 60_000);
});

describe('FedProx in the local update', () => {
  const p = party('insurer-0', 400, 5, 7);
  const fedavg = (over: Partial<Extract<Task, { kind: 'fedavg' }>> = {}) => p.contribution({ kind: 'fedavg', weights: initialWeights(), normalizer, epochs: 3, learningRate: 0.05, batchSize: 32, seed: 11, totalExamples: 320, ...over });
  const norm = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

  it('a larger proximal mu keeps the local weights closer to the global ones', async () => {
    const tiny = norm(await fedavg({ proximalMu: 1e-9 }));
    const strong = norm(await fedavg({ proximalMu: 5 }));
    expect(tiny).toBeGreaterThan(0);
    expect(strong).toBeLessThan(0.5 * tiny);
  });

  it('the proximal loop trains like model.fit when mu is negligible (same loss, same data order)', async () => {
    const fit = norm(await fedavg());
    const prox = norm(await fedavg({ proximalMu: 1e-9 }));
    expect(prox).toBeGreaterThan(0.5 * fit);
    expect(prox).toBeLessThan(2 * fit);
  });

  it('a negative mu is refused', async () => {
    await expect(fedavg({ proximalMu: -1 })).rejects.toMatchObject({ code: 'FEDERATION_PROTOCOL_VIOLATION' });
  });
});

describe('FedAvg update weights', () => {
  // A large party with few frauds (480 training rows, 19 frauds) and a small one with many (120, 40).
  const big = party('insurer-0', 600, 25, 1);
  const small = party('insurer-1', 150, 3, 2);
  const total = 600;
  const totalPositives = 59;
  const fedavg = (p: LocalParty, over: Partial<Extract<Task, { kind: 'fedavg' }>> = {}) => p.contribution({ kind: 'fedavg', weights: initialWeights(), normalizer, epochs: 1, learningRate: 0.01, batchSize: 32, seed: 11, totalExamples: total, ...over });

  it("balanced: the same local training, weighted by the party's share of the class-balanced loss instead of its share of the examples", async () => {
    const [nBig, pBig] = Array.from((await stats(big, true)).subarray(0, 2));
    const [nSmall, pSmall] = Array.from((await stats(small, true)).subarray(0, 2));
    expect([nBig, pBig, nSmall, pSmall]).toEqual([480, 19, 120, 40]);
    const share = (n: number, p: number) => ((n - p) / (total - totalPositives) + p / totalPositives) / 2;
    // The shares of the two parties sum to 1, as the example shares do.
    expect(share(480, 19) + share(120, 40)).toBeCloseTo(1, 12);
    for (const [p, n, frauds] of [[big, 480, 19], [small, 120, 40]] as const) {
      const byExamples = await fedavg(p);
      const balanced = await fedavg(p, { updateWeights: 'balanced', totalPositives });
      const ratio = share(n, frauds) / (n / total);
      expect(byExamples.some((v) => v !== 0)).toBe(true);
      byExamples.forEach((v, i) => expect(balanced[i]).toBeCloseTo(v * ratio, 12));
    }
    // The small party holds two thirds of the frauds: balanced, its update's weight doubles, from 0.2 of the examples to (80 / 541 + 40 / 59) / 2.
    expect(share(120, 40)).toBeCloseTo(0.4129, 4);
    expect(120 / total).toBe(0.2);
  });

  it('balanced weights without a valid fraud total are refused', async () => {
    for (const bad of [undefined, 0, total, 1.5]) {
      await expect(fedavg(big, { updateWeights: 'balanced', ...(bad === undefined ? {} : { totalPositives: bad }) })).rejects.toMatchObject({ code: 'FEDERATION_PROTOCOL_VIOLATION' });
    }
  });

  it('trainFederated (default balanced): every FedAvg task carries the summed fraud total, the lineage records the weighting', async () => {
    const c = consortium(2);
    const parties = [big, small].map((p, k) => ({ identity: c.participantIds[k]!, party: p }));
    const inner = new InProcessAggregator({ federation: FEDERATION, coordinator: c.coordinatorId, registry: c.registry, coordinatorRegistry: c.coordinatorRegistry, parties });
    const tasks: Extract<Task, { kind: 'fedavg' }>[] = [];
    const spy: Aggregator = {
      participants: inner.participants,
      sum: (task, spec) => {
        if (task.kind === 'fedavg') tasks.push(task);
        return inner.sum(task, spec);
      },
      trees: (task) => inner.trees(task),
    };
    const model = await trainFederated({ aggregator: spy, federation: FEDERATION, participantKeys: c.participantIds, width: 3, seed: 4, hidden: [4], maxRounds: 2, patience: 5, trees: 10, forestShares: 'rows' });
    try {
      expect(tasks).toHaveLength(2);
      for (const t of tasks) expect({ updateWeights: t.updateWeights, totalPositives: t.totalPositives, totalExamples: t.totalExamples }).toEqual({ updateWeights: 'balanced', totalPositives, totalExamples: total });
      expect(model.lineage.fedavg.updateWeights).toBe('balanced');
    } finally {
      model.parts.nn.dispose();
    }
  }, 60_000);
});
