import { beforeAll, describe, expect, it } from 'vitest';
import { InProcessAggregator, type Aggregator } from '../../../federation/aggregator.ts';
import { rocAucFromHistogram, trainFederated } from '../../../federation/federated-trainer.ts';
import { LocalParty } from '../../../federation/local-party.ts';
import { flatWeights } from '../../../federation/mlp-weights.ts';
import type { Task } from '../../../federation/tasks.ts';
import { initTf } from '../../../scoring/tf.ts';
import { rocAuc } from '../../../training/evaluation/metrics.ts';
import { buildMlp } from '../../../training/mlp.ts';
import { consortium, FEDERATION } from './secure-aggregation.fixtures.ts';

/** `n` rows of 3 features; row i is a fraud when i % every === 0. */
function party(id: string, n: number, every: number, seed: number): LocalParty {
  const rows = Array.from({ length: n }, (_, i) => Float64Array.of(i % 17, (i * 7) % 13, (i % every === 0 ? 3 : 0) + (i % 5)));
  const labels = rows.map((_, i) => (i % every === 0 ? 1 : 0));
  return new LocalParty({ id, rows, labels, hidden: [4], seed });
}

const normalizer = { means: [8, 6, 2.6], stds: [5, 4, 1.8], clip: 8 };
const init = (): number[] => {
  const m = buildMlp(3, [4], 5);
  const w = Array.from(flatWeights(m));
  m.dispose();
  return w;
};

beforeAll(async () => {
  await initTf();
});

describe('rocAucFromHistogram', () => {
  it('equals the exact ROC-AUC when every score has its own bin, and counts a shared bin as half', () => {
    const bins = 10;
    const scores = [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65];
    const labels = [0, 1, 0, 0, 1, 0, 1];
    const hist = new Float64Array(2 * bins);
    scores.forEach((s, i) => (hist[(labels[i] === 1 ? bins : 0) + Math.floor(s * bins)]! += 1));
    expect(rocAucFromHistogram(hist, bins)).toBeCloseTo(rocAuc(scores, labels), 12);
    // One fraud and one non-fraud in the same bin: a tie.
    const tie = new Float64Array(4);
    tie[1] = 1;
    tie[3] = 1;
    expect(rocAucFromHistogram(tie, 2)).toBe(0.5);
  });

  it('is NaN when a class is missing', () => {
    expect(rocAucFromHistogram(Float64Array.of(3, 2, 0, 0), 2)).toBeNaN();
  });
});

describe('validate with bins', () => {
  const p = party('insurer-0', 300, 6, 3);

  it('appends per-class histograms of the validation scores to the same [Σ loss, n]', async () => {
    const weights = init();
    const plain = await p.contribution({ kind: 'validate', weights, normalizer });
    const binned = await p.contribution({ kind: 'validate', weights, normalizer, bins: 50 });
    expect(plain).toHaveLength(2);
    expect(binned).toHaveLength(2 + 100);
    expect(binned[0]).toBeCloseTo(plain[0]!, 9);
    expect(binned[1]).toBe(plain[1]);
    // 60 validation rows (20 % of 300, stratified): 10 frauds, 50 non-frauds.
    const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
    expect(sum(binned.subarray(2, 52))).toBe(50);
    expect(sum(binned.subarray(52))).toBe(10);
  });

  it('refuses a bin count that is not a whole number in range', async () => {
    await expect(p.contribution({ kind: 'validate', weights: init(), normalizer, bins: 2.5 })).rejects.toMatchObject({ code: 'FEDERATION_PROTOCOL_VIOLATION' });
    await expect(p.contribution({ kind: 'validate', weights: init(), normalizer, bins: -1 })).rejects.toMatchObject({ code: 'FEDERATION_PROTOCOL_VIOLATION' });
  });
});

describe('stepsPerEpoch in the local update', () => {
  const p = party('insurer-0', 400, 5, 7);
  const lr = 0.01;
  const fedavg = (over: Partial<Extract<Task, { kind: 'fedavg' }>> = {}) =>
    p.contribution({ kind: 'fedavg', weights: init(), normalizer, epochs: 1, learningRate: lr, batchSize: 32, seed: 11, totalExamples: 320, ...over });
  const largest = (v: Float64Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

  it('one step per epoch moves no weight further than one Adam step (about the learning rate); batches of 32 take ten', async () => {
    // Contribution = (320 / 320) * (w_k - w): the party's own change.
    const oneStep = largest(await fedavg({ stepsPerEpoch: 1 }));
    const batches = largest(await fedavg());
    expect(oneStep).toBeGreaterThan(0);
    expect(oneStep).toBeLessThanOrEqual(lr * 1.001);
    expect(batches).toBeGreaterThan(2 * lr);
  });

  it('a step count of n / 128 trains exactly as batches of 128 (equal-sized parties under mean-party)', async () => {
    const fixed = await fedavg({ batchSize: 128 });
    const steps = await fedavg({ stepsPerEpoch: 320 / 128 });
    expect(Array.from(steps)).toEqual(Array.from(fixed));
  });

  it('refuses a step count that is not a positive finite number', async () => {
    await expect(fedavg({ stepsPerEpoch: 0 })).rejects.toMatchObject({ code: 'FEDERATION_PROTOCOL_VIOLATION' });
    await expect(fedavg({ stepsPerEpoch: -2 })).rejects.toMatchObject({ code: 'FEDERATION_PROTOCOL_VIOLATION' });
    await expect(fedavg({ stepsPerEpoch: Number.NaN })).rejects.toMatchObject({ code: 'FEDERATION_PROTOCOL_VIOLATION' });
  });
});

describe('trainFederated early stopping and steps per epoch', () => {
  const run = async (over: Record<string, unknown>) => {
    const c = consortium(2);
    const parties = [party('insurer-0', 500, 25, 1), party('insurer-1', 150, 3, 2)].map((p, k) => ({ identity: c.participantIds[k]!, party: p }));
    const inner = new InProcessAggregator({ federation: FEDERATION, coordinator: c.coordinatorId, registry: c.registry, coordinatorRegistry: c.coordinatorRegistry, parties });
    const tasks: Exclude<Task, { kind: 'forest' }>[] = [];
    const spy: Aggregator = {
      participants: inner.participants,
      sum: (task, spec) => {
        tasks.push(task);
        return inner.sum(task, spec);
      },
      trees: (task) => inner.trees(task),
    };
    const model = await trainFederated({ aggregator: spy, federation: FEDERATION, participantKeys: c.participantIds, width: 3, seed: 4, hidden: [4], trees: 4, ...over });
    model.parts.nn.dispose();
    return { model, tasks };
  };

  it('default: stops on the summed loss with patience 2, no histograms, steps of the mean-sized party; the lineage says so', async () => {
    const { model, tasks } = await run({ maxRounds: 3 });
    const f = model.lineage.fedavg;
    expect(f.stopOn).toBe('loss');
    expect(f.patience).toBe(2);
    expect(f.validationRocAuc).toBeUndefined();
    expect(tasks.filter((t) => t.kind === 'validate').every((t) => t.kind === 'validate' && t.bins === undefined)).toBe(true);
    // Training rows 400 + 120 (80 % of 500 and 150): 520 / (2 * 128) steps.
    expect(tasks.filter((t) => t.kind === 'fedavg').every((t) => t.kind === 'fedavg' && t.stepsPerEpoch === 520 / 256)).toBe(true);
    const best = f.validationLoss.indexOf(Math.min(...f.validationLoss)) + 1;
    expect(f.bestRound).toBe(best);
    expect(f.stepsPerEpoch).toBe(520 / 256);
  }, 60_000);

  it('stepsPerEpoch fixed: batches of batchSize, no step count sent, null in the lineage', async () => {
    const { model, tasks } = await run({ maxRounds: 1, stepsPerEpoch: 'fixed' });
    expect(tasks.filter((t) => t.kind === 'fedavg').every((t) => t.kind === 'fedavg' && t.stepsPerEpoch === undefined && t.batchSize === 128)).toBe(true);
    expect(model.lineage.fedavg.stepsPerEpoch).toBeNull();
  }, 60_000);

  it('stopOn roc-auc: every validate sum carries histograms, the best round has the highest validation ROC-AUC, patience bounds the rounds after it', async () => {
    const { model, tasks } = await run({ maxRounds: 6, stopOn: 'roc-auc', patience: 1, stepsPerEpoch: 3 });
    const f = model.lineage.fedavg;
    expect(f.stopOn).toBe('roc-auc');
    expect(f.patience).toBe(1);
    expect(f.validationRocAuc).toHaveLength(f.rounds);
    expect(f.validationLoss).toHaveLength(f.rounds);
    for (const a of f.validationRocAuc!) expect(a).toBeGreaterThanOrEqual(0);
    expect(f.validationRocAuc![f.bestRound - 1]).toBe(Math.max(...f.validationRocAuc!));
    expect(f.rounds === 6 || f.rounds === f.bestRound + 1).toBe(true);
    const validates = tasks.filter((t) => t.kind === 'validate');
    expect(validates).toHaveLength(f.rounds);
    expect(validates.every((t) => t.kind === 'validate' && t.bins === 1000)).toBe(true);
    expect(tasks.filter((t) => t.kind === 'fedavg').every((t) => t.kind === 'fedavg' && t.stepsPerEpoch === 3)).toBe(true);
    expect(f.stepsPerEpoch).toBe(3);
  }, 60_000);

  it('stopOn roc-auc refuses validation histograms with a single class instead of keeping the initial weights', async () => {
    const c = consortium(2);
    const parties = [party('insurer-0', 500, 25, 1), party('insurer-1', 150, 3, 2)].map((p, k) => ({ identity: c.participantIds[k]!, party: p }));
    const inner = new InProcessAggregator({ federation: FEDERATION, coordinator: c.coordinatorId, registry: c.registry, coordinatorRegistry: c.coordinatorRegistry, parties });
    // The validation sums as if no validation row were a fraud: the fraud half of the histograms emptied.
    const noFrauds: Aggregator = {
      participants: inner.participants,
      sum: async (task, spec) => {
        const out = await inner.sum(task, spec);
        if (task.kind === 'validate' && task.bins) out.sum.fill(0, 2 + task.bins);
        return out;
      },
      trees: (task) => inner.trees(task),
    };
    await expect(trainFederated({ aggregator: noFrauds, federation: FEDERATION, participantKeys: c.participantIds, width: 3, seed: 4, hidden: [4], trees: 2, maxRounds: 2, stopOn: 'roc-auc' })).rejects.toMatchObject({ code: 'FEDERATION_AGGREGATE_REJECTED' });
  }, 60_000);

  it('refuses a patience below 1 and a step count that is not positive', async () => {
    await expect(run({ maxRounds: 2, patience: 0 })).rejects.toMatchObject({ code: 'FEDERATION_PROTOCOL_VIOLATION' });
    await expect(run({ maxRounds: 2, stepsPerEpoch: 0 })).rejects.toMatchObject({ code: 'FEDERATION_PROTOCOL_VIOLATION' });
  });
});
