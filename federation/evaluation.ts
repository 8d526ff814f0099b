/**
 * Federated vs local-only vs centralized, measured on the provider table of
 * `shared/datasets/healthcare-provider-fraud/provider_features_70col.csv` (5,410 providers x 68
 * numeric aggregates, label `PotentialFraud`) and on generated labelled claims. For each seed: one
 * common stratified held-out test part (`testFraction`); the rest split across k simulated
 * insurers, either at random (equal sizes) or non-IID (unequal sizes, fraud prevalence skewed the
 * other way: the smallest insurer holds the most fraud), optionally each cut down to
 * `insurerRows` rows (scarce local data). On the same test rows: each insurer's local-only model,
 * the federated model (secure aggregation in process, the same code the Kafka transport runs) and
 * the pooled (centralized) model on the union of the insurers' rows, all the same RF + MLP
 * ensemble. Means over seeds with 95 % t-intervals.
 */
import { readFile } from 'node:fs/promises';
import { loadavg, cpus } from 'node:os';
import { Rng } from '../core/random.ts';
import { scoreMatrix } from '../scoring/ensemble.ts';
import { Forest } from '../scoring/forest.ts';
import { fitNormalizer, normalizeInto } from '../scoring/normalizer.ts';
import { initTf } from '../scoring/tf.ts';
import { prAuc, rocAuc } from '../training/evaluation/metrics.ts';
import { trainForest } from '../training/forest-trainer.ts';
import { trainMlp } from '../training/mlp.ts';
import { fitStacker } from '../training/stacker.ts';
import { stratifiedSplit } from '../training/train.ts';
import { InProcessAggregator } from './aggregator.ts';
import { trainFederated } from './federated-trainer.ts';
import { LocalParty } from './local-party.ts';
import type { ForestShares, UpdateWeights } from './tasks.ts';
import type { FedAvgStop } from './lineage.ts';
import { claimFeatureRows } from './federated-bundle.ts';
import { generateClaims } from '../fixtures/generator.ts';
import { FEATURE_NAMES } from '../scoring/features.ts';
import { generateIdentity, ParticipantRegistry } from './secure-aggregation/identity.ts';

/** Labelled feature rows to evaluate on. */
export interface Dataset {
  readonly rows: Float64Array[];
  readonly labels: Uint8Array;
  /** One markdown sentence: where the rows come from. */
  readonly description: string;
}

export interface EvaluationOptions {
  readonly seeds: readonly number[];
  readonly insurerCounts: readonly number[];
  readonly trees: number;
  readonly hidden: readonly number[];
  readonly maxRounds: number;
  readonly localEpochs: number;
  readonly centralEpochs: number;
  /** Share of each dataset held out as the common test part (stratified), e.g. 0.2. */
  readonly testFraction: number;
  /**
   * At most this many training rows per insurer (a stratified sample of its share, so a non-IID
   * insurer keeps its fraud prevalence): a setting where local data is scarce. Absent: all rows.
   */
  readonly insurerRows?: number;
  /** What each insurer's share of the federated forest's trees follows (federated-trainer.ts). Default `positives`. */
  readonly forestShares?: ForestShares;
  /** FedProx mu of the federated network's local training (federated-trainer.ts). Default 0. */
  readonly proximalMu?: number;
  /** What each insurer's FedAvg update is weighted by (federated-trainer.ts). Default `balanced`. */
  readonly updateWeights?: UpdateWeights;
  /** FedAvg's early-stopping metric (federated-trainer.ts `stopOn`). Default `loss`. */
  readonly stopOn?: FedAvgStop;
  /** FedAvg rounds without a better validation metric before stopping. Default 2. */
  readonly patience?: number;
  /** Optimizer steps per local epoch for every insurer (federated-trainer.ts; `mean-party`: those of an insurer of the mean size; `fixed`: batches of 128 rows). Default `mean-party`. */
  readonly stepsPerEpoch?: number | 'mean-party' | 'fixed';
  readonly onProgress?: (line: string) => void;
}

export interface Metric {
  readonly rocAuc: number;
  readonly prAuc: number;
}

export interface RunResult {
  readonly seed: number;
  readonly insurers: number;
  readonly split: 'random' | 'non-iid';
  readonly local: readonly (Metric & { rows: number; frauds: number })[];
  readonly federated: Metric;
  readonly centralized: Metric;
  readonly rounds: number;
  readonly fedavgRounds: number;
  readonly bytesPerRound: number;
  readonly bytesTotal: number;
  readonly treeBytes: number;
  readonly msPerRound: number;
  readonly msTotal: number;
}

export async function readProviderTable(csv: string): Promise<{ rows: Float64Array[]; labels: Uint8Array; features: string[] }> {
  const lines = (await readFile(csv, 'utf8')).split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0]!.split(',');
  const labelAt = header.indexOf('PotentialFraud');
  const featureCols = header.map((_, i) => i).filter((i) => i !== 0 && i !== labelAt);
  const rows: Float64Array[] = [];
  const labels: number[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    rows.push(Float64Array.from(featureCols, (i) => {
      const v = Number(cells[i]);
      return Number.isFinite(v) ? v : 0;
    }));
    labels.push(Number(cells[labelAt]) === 1 ? 1 : 0);
  }
  return { rows, labels: Uint8Array.from(labels), features: featureCols.map((i) => header[i]!) };
}

/** Insurer index of each training row. */
export function splitInsurers(labels: ArrayLike<number>, rowIdx: readonly number[], k: number, mode: 'random' | 'non-iid', rng: Rng): number[][] {
  const parts: number[][] = Array.from({ length: k }, () => []);
  if (mode === 'random') {
    const order = [...rowIdx];
    rng.shuffle(order);
    order.forEach((r, i) => parts[i % k]!.push(r));
    return parts;
  }
  // Sizes decreasing geometrically; fraud allotted in the reverse order.
  const weights = Array.from({ length: k }, (_, i) => 0.6 ** i);
  const sum = weights.reduce((a, b) => a + b, 0);
  const share = weights.map((w) => w / sum);
  const pos = rowIdx.filter((r) => labels[r] === 1);
  const neg = rowIdx.filter((r) => labels[r] !== 1);
  rng.shuffle(pos);
  rng.shuffle(neg);
  const deal = (list: number[], shares: number[]) => {
    let at = 0;
    shares.forEach((s, i) => {
      const n = i === shares.length - 1 ? list.length - at : Math.round(s * list.length);
      parts[i]!.push(...list.slice(at, at + n));
      at += n;
    });
  };
  deal(neg, share);
  deal(pos, [...share].reverse());
  return parts;
}

/**
 * An insurer's share cut down to at most `max` rows, stratified (its fraud prevalence kept, at
 * least one row of each class it holds; all frauds when it holds nothing else); the share itself
 * when it is no larger.
 */
export function capRows(labels: ArrayLike<number>, part: readonly number[], max: number | undefined, rng: Rng): number[] {
  if (max === undefined || part.length <= max) return [...part];
  const pos = part.filter((r) => labels[r] === 1);
  const neg = part.filter((r) => labels[r] !== 1);
  rng.shuffle(pos);
  rng.shuffle(neg);
  const keepPos = pos.length === 0 ? 0 : neg.length === 0 ? max : Math.min(pos.length, max - 1, Math.max(1, Math.round((pos.length / part.length) * max)));
  return [...pos.slice(0, keepPos), ...neg.slice(0, max - keepPos)].sort((a, b) => a - b);
}

/** The pooled / local-only ensemble: balanced RF + class-weighted MLP, stacker weights on a validation split. */
async function trainPlain(rows: Float64Array[], y: Uint8Array, seed: number, o: EvaluationOptions): Promise<(m: Float64Array, n: number) => Float64Array> {
  const width = rows[0]!.length;
  const { train, validation } = stratifiedSplit(y, 0.2, new Rng(seed));
  const tr = train.map((i) => rows[i]!);
  const ty = Uint8Array.from(train, (i) => y[i]!);
  const forest = Forest.fromJson(trainForest(tr, ty, { nTrees: o.trees, seed }));
  const normalizer = fitNormalizer(tr);
  const x = new Float32Array(tr.length * width);
  tr.forEach((r, i) => normalizeInto(normalizer, r, x, i * width));
  const nn = await trainMlp(x, ty, tr.length, width, { epochs: o.centralEpochs, hidden: o.hidden, seed });
  const vm = new Float64Array(validation.length * width);
  validation.forEach((i, r) => vm.set(rows[i]!, r * width));
  const identity = { method: 'platt' as const, a: 1, b: 0 };
  const v = scoreMatrix({ forest, nn, normalizer, weights: { rf: 0.5, nn: 0.5 }, calibration: identity }, vm, validation.length, width);
  let weights = { rf: 0.5, nn: 0.5 };
  try {
    weights = fitStacker(v.rf, v.nn, Uint8Array.from(validation, (i) => y[i]!)).weights;
  } catch {
    // a validation part with one class: keep the even mix
  }
  return (m, n) => {
    const s = scoreMatrix({ forest, nn, normalizer, weights, calibration: identity }, m, n, width).score;
    return s;
  };
}

/** The provider table as a dataset. */
export async function providerDataset(csv: string): Promise<Dataset> {
  const { rows, labels } = await readProviderTable(csv);
  const frauds = labels.reduce((a, b) => a + b, 0);
  return { rows, labels, description: `the provider table \`healthcare-provider-fraud/provider_features_70col.csv\` (${rows.length} providers, ${frauds} fraudulent, ${rows[0]!.length} numeric features)` };
}

/** Generated labelled claims (fixtures/generator.ts) with the features the pipeline scores: a claims model. */
export function claimsDataset(count: number, seed: number): Dataset {
  const { claims, labels } = generateClaims({ count, seed });
  const byId = new Map(labels.map((l) => [l.claimId, l.fraud ? 1 : 0]));
  const y = Uint8Array.from(claims, (c) => byId.get(c.claimId) ?? 0);
  const frauds = y.reduce((a, b) => a + b, 0);
  return { rows: claimFeatureRows(claims), labels: y, description: `${count} generated labelled claims (\`fixtures/generator.ts\`, seed ${seed}; ${frauds} fraudulent, ${FEATURE_NAMES.length} claim features as the pipeline scores them)` };
}

export interface EvaluationOutcome {
  readonly results: RunResult[];
  readonly dataset: Dataset;
  /** The per-insurer cap the outcome was measured with (absent: all rows). */
  readonly insurerRows?: number;
}

export async function runEvaluation(o: EvaluationOptions, dataset: Dataset): Promise<EvaluationOutcome> {
  await initTf();
  const { rows, labels } = dataset;
  const width = rows[0]!.length;
  const results: RunResult[] = [];
  for (const seed of o.seeds) {
    const { train: pool, validation: test } = stratifiedSplit(labels, o.testFraction, new Rng(seed));
    const testMatrix = new Float64Array(test.length * width);
    test.forEach((i, r) => testMatrix.set(rows[i]!, r * width));
    const testY = Uint8Array.from(test, (i) => labels[i]!);
    const metric = (s: Float64Array): Metric => ({ rocAuc: rocAuc(s, testY), prAuc: prAuc(s, testY) });
    // The pooled model sees the union of the insurers' rows: the whole pool, or the capped shares.
    const pooled = async (idx: readonly number[]) => metric((await trainPlain(idx.map((i) => rows[i]!), Uint8Array.from(idx, (i) => labels[i]!), seed, o))(testMatrix, test.length));
    const wholePool = o.insurerRows === undefined ? await pooled(pool) : undefined;
    for (const k of o.insurerCounts) {
      for (const split of ['random', 'non-iid'] as const) {
        const capRng = new Rng(seed * 97 + k);
        const parts = splitInsurers(labels, pool, k, split, new Rng(seed * 31 + k)).map((part) => capRows(labels, part, o.insurerRows, capRng));
        const centralized = wholePool ?? (await pooled(parts.flat()));
        const local: RunResult['local'][number][] = [];
        for (const [p, idx] of parts.entries()) {
          const model = await trainPlain(idx.map((i) => rows[i]!), Uint8Array.from(idx, (i) => labels[i]!), seed + p, o);
          local.push({ ...metric(model(testMatrix, test.length)), rows: idx.length, frauds: idx.filter((i) => labels[i] === 1).length });
        }
        const coordinator = generateIdentity('coordinator');
        const ids = parts.map((_, p) => generateIdentity(`insurer-${p}`));
        const registry = new ParticipantRegistry(ids.map((i) => ({ id: i.id, publicKey: i.publicKey })));
        const parties = parts.map((idx, p) => ({ identity: ids[p]!, party: new LocalParty({ id: ids[p]!.id, rows: idx.map((i) => rows[i]!), labels: Uint8Array.from(idx, (i) => labels[i]!), hidden: o.hidden, seed: seed + p }) }));
        const aggregator = new InProcessAggregator({ federation: `eval-${seed}-${k}-${split}`, coordinator, registry, coordinatorRegistry: new ParticipantRegistry([{ id: 'coordinator', publicKey: coordinator.publicKey }]), parties });
        const started = performance.now();
        const fed = await trainFederated({ aggregator, federation: `eval-${seed}-${k}-${split}`, participantKeys: ids, width, seed, hidden: o.hidden, maxRounds: o.maxRounds, localEpochs: o.localEpochs, trees: o.trees, forestShares: o.forestShares ?? 'positives', proximalMu: o.proximalMu ?? 0, updateWeights: o.updateWeights ?? 'balanced', stopOn: o.stopOn ?? 'loss', patience: o.patience ?? 2, stepsPerEpoch: o.stepsPerEpoch ?? 'mean-party' });
        const msTotal = performance.now() - started;
        // Federated bundles carry no boosted trees (docs/federation.md): score forest + network.
        const { booster: _noBooster, ...fedParts } = fed.parts;
        const federated = metric(scoreMatrix({ ...fedParts, forest: Forest.fromJson(fed.parts.forest) }, testMatrix, test.length, width).score);
        fed.parts.nn.dispose();
        const rounds = fed.lineage.rounds;
        const fedavg = rounds.filter((r) => r.task === 'fedavg');
        results.push({
          seed, insurers: k, split, local, federated, centralized,
          rounds: rounds.length,
          fedavgRounds: fedavg.length,
          bytesPerRound: fedavg.reduce((s, r) => s + r.bytes, 0) / Math.max(1, fedavg.length),
          bytesTotal: rounds.reduce((s, r) => s + r.bytes, 0),
          treeBytes: fed.treesBytes,
          msPerRound: fedavg.reduce((s, r) => s + r.ms, 0) / Math.max(1, fedavg.length),
          msTotal,
        });
        o.onProgress?.(`seed ${seed} k=${k} ${split}: federated ${federated.rocAuc.toFixed(4)} central ${centralized.rocAuc.toFixed(4)} local ${local.map((l) => l.rocAuc.toFixed(3)).join(' ')} (load ${loadavg()[0]!.toFixed(2)})`);
      }
    }
  }
  return { results, dataset, ...(o.insurerRows === undefined ? {} : { insurerRows: o.insurerRows }) };
}

/** Mean and half-width of the 95 % t-interval. */
export function meanCi(values: readonly number[]): { mean: number; half: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, half: NaN };
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const t = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262][n - 2] ?? 1.96;
  return { mean, half: (t * sd) / Math.sqrt(n) };
}

const fmt = (m: { mean: number; half: number }, d = 3) => `${m.mean.toFixed(d)} ± ${Number.isFinite(m.half) ? m.half.toFixed(d) : 'n/a'}`;

/** The markdown report (and an SVG dot plot) of the results. */
/** The markdown report over every dataset's section, and one SVG plot per section (file name -> content). */
export function renderReport(sections: readonly { title: string; svgFile: string; outcome: EvaluationOutcome }[], o: EvaluationOptions, command: string, elapsedS: number, load: string): { markdown: string; svgs: Record<string, string> } {
  const lines: string[] = ['# Federated training: local-only vs federated vs centralized', ''];
  lines.push(`Generated by \`${command}\` (${elapsedS.toFixed(0)} s on ${cpus().length} cores, load average ${load}). Seeds: ${o.seeds.join(', ')}; per seed a common stratified ${Math.round(o.testFraction * 100)} % held-out test part; every model of a section is scored on those same test rows.`);
  lines.push('');
  const svgs: Record<string, string> = {};
  for (const section of sections) {
    const { markdown, svg } = renderSection(section.title, section.svgFile, section.outcome, o);
    lines.push(markdown);
    svgs[section.svgFile] = svg;
  }
  return { markdown: `${lines.join('\n')}\n`, svgs };
}

function renderSection(title: string, svgFile: string, e: EvaluationOutcome, o: EvaluationOptions): { markdown: string; svg: string } {
  const groups = new Map<string, RunResult[]>();
  for (const r of e.results) groups.set(`${r.insurers}|${r.split}`, [...(groups.get(`${r.insurers}|${r.split}`) ?? []), r]);
  const lines: string[] = [];
  lines.push(`## ${title}`);
  lines.push('');
  lines.push(`Data: ${e.dataset.description}.`);
  lines.push('');
  lines.push(`Models: the same ensemble everywhere (balanced random forest of ${o.trees} trees + MLP ${o.hidden.join('x')}, stacker weights on a 20 % validation part). ${e.insurerRows === undefined ? 'Insurers: every training row (the rest of the dataset) dealt to them.' : `Insurers: **scarce data**, each keeps at most ${e.insurerRows} rows of its share (a stratified sample, so a non-IID insurer keeps its fraud prevalence).`} Local-only and centralized: trained on the insurer's rows / on the union of all insurers' rows (${o.centralEpochs} epochs). ${federatedSetup(o)} Splits: **random** (equal sizes) and **non-IID** (sizes 0.6^i, fraud dealt in the reverse order, so prevalence ranges from about 3 % to over 25 %).`);
  lines.push('');
  lines.push(`Means over ${o.seeds.length} seeds with 95 % t-intervals (the seed changes the test part, the insurer split and every model's initialisation, so the interval holds all three sources of variation).`);
  lines.push('');
  lines.push('| insurers | split | best local ROC-AUC | mean local ROC-AUC | federated ROC-AUC | centralized ROC-AUC | fed - central | mean local PR-AUC | federated PR-AUC | centralized PR-AUC | fed above every local? |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [key, rs] of groups) {
    const [k, split] = key.split('|');
    const bestLocal = meanCi(rs.map((r) => Math.max(...r.local.map((l) => l.rocAuc))));
    const meanLocal = meanCi(rs.map((r) => r.local.reduce((s, l) => s + l.rocAuc, 0) / r.local.length));
    const fed = meanCi(rs.map((r) => r.federated.rocAuc));
    const cen = meanCi(rs.map((r) => r.centralized.rocAuc));
    const gap = meanCi(rs.map((r) => r.federated.rocAuc - r.centralized.rocAuc));
    const lpr = meanCi(rs.map((r) => r.local.reduce((s, l) => s + l.prAuc, 0) / r.local.length));
    const fpr = meanCi(rs.map((r) => r.federated.prAuc));
    const cpr = meanCi(rs.map((r) => r.centralized.prAuc));
    const above = rs.filter((r) => r.local.every((l) => r.federated.rocAuc > l.rocAuc)).length;
    lines.push(`| ${k} | ${split} | ${fmt(bestLocal)} | ${fmt(meanLocal)} | ${fmt(fed)} | ${fmt(cen)} | ${fmt(gap)} | ${fmt(lpr)} | ${fmt(fpr)} | ${fmt(cpr)} | ${above} of ${rs.length} seeds |`);
  }
  lines.push('');
  lines.push('### Each insurer, local-only (ROC-AUC / PR-AUC on the common test rows, mean over seeds)');
  lines.push('');
  lines.push('| insurers | split | insurer | training rows | frauds | local ROC-AUC | local PR-AUC |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const [key, rs] of groups) {
    const [k, split] = key.split('|');
    rs[0]!.local.forEach((_, p) => {
      const roc = meanCi(rs.map((r) => r.local[p]!.rocAuc));
      const pr = meanCi(rs.map((r) => r.local[p]!.prAuc));
      lines.push(`| ${k} | ${split} | insurer-${p} | ${Math.round(rs.reduce((s, r) => s + r.local[p]!.rows, 0) / rs.length)} | ${Math.round(rs.reduce((s, r) => s + r.local[p]!.frauds, 0) / rs.length)} | ${fmt(roc)} | ${fmt(pr)} |`);
    });
  }
  lines.push('');
  lines.push('### Rounds, bytes and time');
  lines.push('');
  lines.push('Bytes: every signed protocol message of a secure-aggregation round (canonical JSON, as the Kafka transport carries it). Time: in process on this machine, including each party\'s local training.');
  lines.push('');
  lines.push('| insurers | split | secure-aggregation rounds | FedAvg rounds | bytes per FedAvg round | total bytes (sums) | trees shared in clear (bytes) | ms per FedAvg round | federated training s |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const [key, rs] of groups) {
    const [k, split] = key.split('|');
    const avg = (f: (r: RunResult) => number) => rs.reduce((s, r) => s + f(r), 0) / rs.length;
    lines.push(`| ${k} | ${split} | ${avg((r) => r.rounds).toFixed(1)} | ${avg((r) => r.fedavgRounds).toFixed(1)} | ${Math.round(avg((r) => r.bytesPerRound))} | ${Math.round(avg((r) => r.bytesTotal))} | ${Math.round(avg((r) => r.treeBytes))} | ${Math.round(avg((r) => r.msPerRound))} | ${(avg((r) => r.msTotal) / 1000).toFixed(1)} |`);
  }
  lines.push('');
  lines.push(`![ROC-AUC per setting](${svgFile})`);
  lines.push('');
  lines.push('### Target and what the figures say');
  lines.push('');
  lines.push('Target: federated within 0.01 ROC-AUC of centralized and above every local-only model, on both splits.');
  lines.push('');
  for (const [key, rs] of groups) {
    const [k, split] = key.split('|');
    const gap = meanCi(rs.map((r) => r.federated.rocAuc - r.centralized.rocAuc));
    const above = rs.filter((r) => r.local.every((l) => r.federated.rocAuc > l.rocAuc)).length;
    const aboveMeanBest = meanCi(rs.map((r) => r.federated.rocAuc - Math.max(...r.local.map((l) => l.rocAuc))));
    // The same test for the pooled model: whether pooling itself beats every insurer on this data and seed.
    const centralAbove = rs.filter((r) => r.local.every((l) => r.centralized.rocAuc > l.rocAuc)).length;
    // Against each insurer's local model as a procedure (its mean over seeds) rather than per seed.
    const insurerMeans = rs[0]!.local.map((_, p) => rs.reduce((s, r) => s + r.local[p]!.rocAuc, 0) / rs.length);
    const fedMean = rs.reduce((s, r) => s + r.federated.rocAuc, 0) / rs.length;
    const beaten = insurerMeans.filter((m) => fedMean > m).length;
    lines.push(
      `- ${k} insurers, ${split}: gap to centralized ${gap.mean.toFixed(4)} (95 % CI ${(gap.mean - gap.half).toFixed(4)} .. ${(gap.mean + gap.half).toFixed(4)}): ` +
        `${gap.mean - gap.half >= -0.01 ? 'at most 0.01 below centralized over the whole interval' : gap.mean >= -0.01 ? 'at most 0.01 below centralized on average, not over the whole interval' : '**more than 0.01 below centralized**'}; ` +
        `above every local-only model in ${above} of ${rs.length} seeds (federated minus best local ${aboveMeanBest.mean.toFixed(4)} ± ${aboveMeanBest.half.toFixed(4)})${above === rs.length ? '' : ': **not met on every seed**'}; ` +
        `the centralized model is above every local-only model in ${centralAbove} of ${rs.length} seeds; the federated mean is above ${beaten} of ${insurerMeans.length} insurers' mean local ROC-AUC.`,
    );
  }
  lines.push('');
  return { markdown: lines.join('\n'), svg: dotPlot([...groups.entries()]) };
}

/** The federated training of a report section, as one sentence of its "Models" line. */
function federatedSetup(o: EvaluationOptions): string {
  const steps = o.stepsPerEpoch ?? 'mean-party';
  const batches =
    steps === 'mean-party'
      ? ", each insurer in batches of 128 times its rows over the mean insurer's, so every insurer takes the steps per epoch of an insurer of the mean size in batches of 128"
      : steps === 'fixed'
        ? ' in batches of 128 rows'
        : ` of ${steps} optimizer steps each for every insurer (batch size its rows / ${steps})`;
  const updates = (o.updateWeights ?? 'balanced') === 'balanced' ? "each insurer's update weighted by its share of the class-balanced loss" : "each insurer's update weighted by its share of the training rows";
  const stop = (o.stopOn ?? 'loss') === 'loss' ? 'lower validation loss' : 'higher validation ROC-AUC (from summed per-class histograms)';
  const fedavg = `${o.proximalMu ? `FedProx (mu ${o.proximalMu}; ` : 'FedAvg ('}at most ${o.maxRounds} rounds of ${o.localEpochs} local epochs${batches}, ${updates}, stop after ${o.patience ?? 2} rounds without a ${stop} and keep the best round)`;
  const trees = (o.forestShares ?? 'positives') === 'rows' ? 'each insurer grows trees in proportion to its training rows' : 'each insurer grows trees in proportion to its training fraud count';
  return `Federated: \`federation/\` with secure aggregation (every sum double-masked, Shamir threshold > n/2), normalizer from sums, ${fedavg}, union forest (${trees}), stacker and Platt by federated Newton steps.`;
}

function dotPlot(groups: [string, RunResult[]][]): string {
  const W = 560;
  const H = 70 + groups.length * 46;
  const series: [string, string, (r: RunResult) => number][] = [
    ['local (mean)', '#ff7f0e', (r) => r.local.reduce((s, l) => s + l.rocAuc, 0) / r.local.length],
    ['federated', '#1f77b4', (r) => r.federated.rocAuc],
    ['centralized', '#2ca02c', (r) => r.centralized.rocAuc],
  ];
  // Per group, each series' mean and interval; the axis spans every interval shown (at least 0.90 .. 0.98), in steps of 0.02.
  const intervals = groups.map(([, rs]) => series.map(([, , f]) => meanCi(rs.map(f))));
  const ends = intervals.flat().flatMap((m) => (Number.isFinite(m.half) ? [m.mean - m.half, m.mean + m.half] : [m.mean]));
  const lo = Math.min(0.9, Math.floor(Math.min(...ends) / 0.02) * 0.02);
  const hi = Math.min(1, Math.max(0.98, Math.ceil(Math.max(...ends) / 0.02) * 0.02));
  const X = (v: number) => 150 + ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (W - 170);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">ROC-AUC on the common test rows (mean, 95 % CI over seeds)</text>`];
  for (let t = 0; t <= 4; t++) {
    const v = lo + (t / 4) * (hi - lo);
    out.push(`<line x1="${X(v).toFixed(1)}" y1="44" x2="${X(v).toFixed(1)}" y2="${H - 20}" stroke="#ddd"/><text x="${X(v).toFixed(1)}" y="${H - 6}" text-anchor="middle">${v.toFixed(2)}</text>`);
  }
  groups.forEach(([key], g) => {
    const y0 = 50 + g * 46;
    out.push(`<text x="8" y="${y0 + 16}">${key.replace('|', ' insurers, ')}</text>`);
    series.forEach(([, color], s) => {
      const m = intervals[g]![s]!;
      const y = y0 + 6 + s * 12;
      if (Number.isFinite(m.half)) out.push(`<line x1="${X(m.mean - m.half).toFixed(1)}" y1="${y}" x2="${X(m.mean + m.half).toFixed(1)}" y2="${y}" stroke="${color}"/>`);
      out.push(`<circle cx="${X(m.mean).toFixed(1)}" cy="${y}" r="3.5" fill="${color}"/>`);
    });
  });
  series.forEach(([name, color], s) => out.push(`<circle cx="${160 + s * 120}" cy="32" r="3.5" fill="${color}"/><text x="${168 + s * 120}" y="36">${name}</text>`));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
