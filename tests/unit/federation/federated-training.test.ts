import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClaims } from '../../../fixtures/generator.ts';
import { InProcessAggregator, type RoundRecord } from '../../../federation/aggregator.ts';
import { claimFeatureRows, saveFederatedBundle } from '../../../federation/federated-bundle.ts';
import { thresholdsFromHistogram, trainFederated, unionForest, type FederatedModel } from '../../../federation/federated-trainer.ts';
import { lineageDigest, roundDigest } from '../../../federation/lineage.ts';
import { LocalParty } from '../../../federation/local-party.ts';
import { offlineObservations } from '../../../scoring/aggregates.ts';
import type { TreeNodeJson } from '../../../scoring/forest-model.ts';
import { FEATURE_NAMES } from '../../../scoring/features.ts';
import { Scorer } from '../../../scoring/scorer.ts';
import { initTf } from '../../../scoring/tf.ts';
import { rocAuc } from '../../../training/evaluation/metrics.ts';
import { trainForest } from '../../../training/forest-trainer.ts';
import { consortium, FEDERATION } from './secure-aggregation.fixtures.ts';

const data = generateClaims({ count: 3000, seed: 2025 });
const fresh = generateClaims({ count: 800, seed: 78 });
const labelOf = new Map(data.labels.map((l) => [l.claimId, l.fraud ? 1 : 0]));
let dir: string;
let model: FederatedModel;
const records: RoundRecord[] = [];

beforeAll(async () => {
  await initTf();
  dir = await mkdtemp(path.join(tmpdir(), 'claimtrail-fed-'));
  const c = consortium(3);
  const rows = claimFeatureRows(data.claims);
  const labels = data.claims.map((cl) => labelOf.get(cl.claimId)!);
  // Three insurers of unequal size: 50 %, 30 %, 20 % of the claims.
  const cuts = [0, 1500, 2400, 3000];
  const parties = c.participantIds.map((identity, k) => ({
    identity,
    party: new LocalParty({ id: identity.id, rows: rows.slice(cuts[k], cuts[k + 1]), labels: labels.slice(cuts[k], cuts[k + 1]), hidden: [16, 8], seed: 11 + k }),
  }));
  const aggregator = new InProcessAggregator({ federation: FEDERATION, coordinator: c.coordinatorId, registry: c.registry, coordinatorRegistry: c.coordinatorRegistry, parties, dropout: { participant: 'insurer-2', roundIndex: 4 } });
  model = await trainFederated({ aggregator, federation: FEDERATION, participantKeys: c.participantIds, width: FEATURE_NAMES.length, seed: 5, hidden: [16, 8], maxRounds: 4, localEpochs: 2, trees: 30, onRound: (r) => records.push(r) });
}, 240_000);

afterAll(async () => {
  model?.parts.nn.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('federated training (3 insurers, in process, secure aggregation)', () => {
  it('learns a model that ranks unseen claims well (ROC-AUC > 0.8) and Scorer.load serves as a normal bundle', async () => {
    const saved = await saveFederatedBundle(path.join(dir, 'bundle'), model);
    const scorer = await Scorer.load(saved.dir);
    expect(scorer.modelHash).toBe(saved.modelHash);
    const results = scorer.scoreBatch(fresh.claims, offlineObservations(fresh.claims, scorer.aggregates));
    expect(results).toHaveLength(fresh.claims.length);
    const freshLabels = new Map(fresh.labels.map((l) => [l.claimId, l.fraud ? 1 : 0]));
    const auc = rocAuc(results.map((r) => r.score), fresh.claims.map((c) => freshLabels.get(c.claimId)!));
    expect(auc).toBeGreaterThan(0.8);
    for (const r of results) expect(['approve', 'review', 'flag']).toContain(r.outcome);

    const manifest = JSON.parse(await readFile(path.join(saved.dir, 'manifest.json'), 'utf8'));
    const fed = manifest.training.federation;
    expect(fed.format).toBe('claimtrail-federation-lineage-v1');
    expect(fed.participants.map((p: { id: string }) => p.id)).toEqual(['insurer-0', 'insurer-1', 'insurer-2']);
    expect(fed.lineageDigest).toBe(lineageDigest(model.lineage));
    expect(fed.rounds).toHaveLength(records.length);
  });

  it('runs stats, variance, FedAvg + validation, stacker, Platt and histogram rounds, each recorded with commitments', () => {
    const tasks = records.map((r) => r.task);
    expect(tasks.slice(0, 2)).toEqual(['stats', 'variance']);
    expect(tasks.filter((t) => t === 'fedavg').length).toBe(model.lineage.fedavg.rounds);
    expect(tasks).toContain('logistic');
    expect(tasks.at(-1)).toBe('histogram');
    for (const r of records) {
      expect(r.aggregateHash).toMatch(/^[0-9a-f]{64}$/);
      for (const id of r.survivors) expect(r.commitments[id]).toMatch(/^[0-9a-f]{64}$/);
      expect(roundDigest(FEDERATION, r)).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('survives insurer-2 dropping out after masking in round 4 (a FedAvg round)', () => {
    const r = records[4]!;
    expect(r.task).toBe('fedavg');
    expect(r.dropped).toEqual(['insurer-2']);
    expect(r.survivors).toEqual(['insurer-0', 'insurer-1']);
  });

  it('the union forest has the requested trees (each party a share by its training frauds), a stacker mix, Platt and ordered thresholds', () => {
    expect(model.lineage.forest.trees).toBe(30);
    expect(model.parts.weights.rf + model.parts.weights.nn).toBeCloseTo(1, 9);
    expect(model.parts.calibration.a).toBeGreaterThan(0);
    expect(model.parts.thresholds.review).toBeLessThanOrEqual(model.parts.thresholds.flag);
  });
});

describe('federated pieces', () => {
  it('noised-leaves trees keep the shape but not the exact local class counts', () => {
    const rows = Array.from({ length: 400 }, (_, i) => Float64Array.of(i % 17, (i * 7) % 13, i % 5));
    const labels = rows.map((_, i) => (i % 6 === 0 ? 1 : 0));
    const party = new LocalParty({ id: 'insurer-0', rows, labels, hidden: [4], seed: 3 });
    const task = { kind: 'forest' as const, totalTrees: 4, totalExamples: party.trainingExamples, seed: 9, maxDepth: 4, leafNoise: 0 };
    const clear = party.trees(task);
    const noised = party.trees({ ...task, leafNoise: 0.2 });
    type Leaf = { distribution: number[][]; numberSamples?: number };
    const leaves = (n: TreeNodeJson): Leaf[] => ('distribution' in n ? [n] : [...leaves(n.left), ...leaves(n.right)]);
    const a = clear.baseModel.estimators.flatMap((e) => leaves(e.root));
    const b = noised.baseModel.estimators.flatMap((e) => leaves(e.root));
    expect(b).toHaveLength(a.length);
    expect(b.every((l) => l.numberSamples === undefined)).toBe(true);
    expect(b.some((l, i) => Math.abs(l.distribution[0]![1]! - a[i]!.distribution[0]![1]!) > 1e-6)).toBe(true);
    expect(b.every((l) => l.distribution[0]![1]! >= 0 && l.distribution[0]![1]! <= 1)).toBe(true);
  });


  it('unionForest keeps every tree', () => {
    const rows = Array.from({ length: 60 }, (_, i) => Float64Array.of(i % 7, i % 3));
    const y = rows.map((_, i) => (i % 5 === 0 ? 1 : 0));
    const a = trainForest(rows, y, { nTrees: 3, seed: 1 });
    const b = trainForest(rows, y, { nTrees: 2, seed: 2 });
    const u = unionForest([a, b]);
    expect(u.baseModel.estimators).toHaveLength(5);
    expect(u.baseModel.nEstimators).toBe(5);
  });

  it('thresholdsFromHistogram: review at the top share, flag where precision holds', () => {
    const bins = 10;
    const hist = new Float64Array(20);
    hist.set([50, 20, 10, 5, 3, 2, 1, 0, 0, 0], 0);
    hist.set([0, 0, 0, 0, 0, 1, 1, 2, 3, 2], 10);
    const t = thresholdsFromHistogram(hist, bins, 0.12, 0.9, 0.1);
    expect(t.flag).toBeCloseTo(0.7, 9); // 7 positives, 0 negatives at >= 0.7: 7 % of 100 rows
    expect(t.review).toBeLessThanOrEqual(t.flag);
  });
});
