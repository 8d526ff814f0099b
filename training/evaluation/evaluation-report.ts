import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brierScore, componentMetrics, histogramByClass, prCurve, reliability, rocCurve, TOP_SHARES, type ComponentMetrics, type ReliabilityBin } from './evaluation.ts';
import { histogramChart, lineChart } from './svg-plots.ts';

/**
 * The evaluation report: `report.md`, `metrics.json` and SVG plots (ROC, precision-recall,
 * reliability, score histograms by class) in one directory. Used by the end of `claimtrail train`
 * and by `claimtrail evaluate`.
 */

export interface EvaluationInput {
  title: string;
  /** Free lines under the title: data, protocol (e.g. "5-fold stratified CV, out-of-fold scores"). */
  notes: readonly string[];
  labels: ArrayLike<number>;
  /** Score columns to compare (e.g. forest, network, ensemble); the last one is the headline. */
  components: readonly { name: string; scores: ArrayLike<number> }[];
  /** Calibrated probabilities for the Brier score and the reliability plot (usually the ensemble). */
  probabilities: ArrayLike<number>;
  /** Optional fraud pattern per row (null for none): per-pattern recall at the top-k shares. */
  patterns?: readonly (string | null | undefined)[];
  /** Optional decision thresholds on `probabilities`: precision / recall / share at each. */
  thresholds?: Readonly<Record<string, number>>;
  /**
   * Optional per-fold figures of a (repeated) cross-validation, summarised as mean ± sd in the
   * report's headline table. F1, precision and recall are at thresholds chosen without the fold.
   */
  perFold?: {
    /** How the folds came about, e.g. "5 outer folds x 3 seeds of the fold assignment". */
    protocol: string;
    components: readonly { name: string; folds: readonly FoldFigures[] }[];
  };
}

/** One component's figures on one held-out fold. */
export interface FoldFigures {
  rocAuc: number;
  prAuc: number;
  f1: number;
  precision: number;
  recall: number;
}

/** Mean and sample standard deviation (0 for a single value) over `n` folds. */
export interface MeanSd {
  mean: number;
  sd: number;
}

export type FoldSummary = { n: number } & Record<keyof FoldFigures, MeanSd>;

export interface EvaluationMetrics {
  rows: number;
  frauds: number;
  components: Record<string, ComponentMetrics>;
  brier: number;
  reliability: ReliabilityBin[];
  byPattern?: Record<string, { count: number; recallAtTop: Record<string, number> }>;
  thresholds?: Record<string, { threshold: number; share: number; precision: number; recall: number }>;
  perFold?: { protocol: string; components: Record<string, FoldSummary> };
}

/** Mean and sample standard deviation of `values` (NaN entries are skipped). */
export function meanSd(values: readonly number[]): MeanSd {
  const v = values.filter((x) => !Number.isNaN(x));
  if (v.length === 0) return { mean: NaN, sd: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd };
}

const FOLD_KEYS = ['rocAuc', 'prAuc', 'f1', 'precision', 'recall'] as const;

function summarise(folds: readonly FoldFigures[]): FoldSummary {
  return { n: folds.length, ...(Object.fromEntries(FOLD_KEYS.map((k) => [k, meanSd(folds.map((f) => f[k]))])) as Record<keyof FoldFigures, MeanSd>) };
}

const pct = (v: number): string => (Number.isNaN(v) ? 'n/a' : `${(100 * v).toFixed(1)}%`);
const num = (v: number): string => (Number.isNaN(v) ? 'n/a' : v.toFixed(4));

/** Computes the metrics of `input`. Pure. */
export function evaluate(input: EvaluationInput): EvaluationMetrics {
  const { labels } = input;
  let frauds = 0;
  for (let i = 0; i < labels.length; i++) frauds += labels[i] === 1 ? 1 : 0;
  const components = Object.fromEntries(input.components.map((c) => [c.name, componentMetrics(c.scores, labels)]));
  const metrics: EvaluationMetrics = { rows: labels.length, frauds, components, brier: brierScore(input.probabilities, labels), reliability: reliability(input.probabilities, labels) };
  if (input.patterns) {
    const headline = input.components.at(-1)?.scores ?? input.probabilities;
    const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => (headline[b] as number) - (headline[a] as number) || a - b);
    const rank = new Int32Array(labels.length);
    order.forEach((row, k) => (rank[row] = k));
    const byPattern: NonNullable<EvaluationMetrics['byPattern']> = {};
    input.patterns.forEach((p, i) => {
      if (!p) return;
      const e = (byPattern[p] ??= { count: 0, recallAtTop: Object.fromEntries(TOP_SHARES.map((s) => [pct(s), 0])) });
      e.count++;
      for (const s of TOP_SHARES) if ((rank[i] as number) < Math.max(1, Math.ceil(labels.length * s))) e.recallAtTop[pct(s)] = (e.recallAtTop[pct(s)] as number) + 1;
    });
    for (const e of Object.values(byPattern)) for (const k of Object.keys(e.recallAtTop)) e.recallAtTop[k] = (e.recallAtTop[k] as number) / e.count;
    metrics.byPattern = byPattern;
  }
  if (input.thresholds) {
    metrics.thresholds = {};
    for (const [name, t] of Object.entries(input.thresholds)) {
      let selected = 0;
      let tp = 0;
      for (let i = 0; i < labels.length; i++) {
        if ((input.probabilities[i] as number) >= t) {
          selected++;
          if (labels[i] === 1) tp++;
        }
      }
      metrics.thresholds[name] = { threshold: t, share: selected / labels.length, precision: selected ? tp / selected : NaN, recall: frauds ? tp / frauds : NaN };
    }
  }
  if (input.perFold) metrics.perFold = { protocol: input.perFold.protocol, components: Object.fromEntries(input.perFold.components.map((c) => [c.name, summarise(c.folds)])) };
  return metrics;
}

const pm = (x: MeanSd, digits = 4): string => (Number.isNaN(x.mean) ? 'n/a' : `${x.mean.toFixed(digits)} ± ${x.sd.toFixed(digits)}`);

/** Writes report.md, metrics.json and the SVG plots into `dir` (created). Returns the metrics. */
export async function writeEvaluationReport(dir: string, input: EvaluationInput): Promise<EvaluationMetrics> {
  const m = evaluate(input);
  await mkdir(dir, { recursive: true });
  const { labels } = input;
  const headline = input.components.at(-1) ?? { name: 'score', scores: input.probabilities };
  await writeFile(path.join(dir, 'roc.svg'), lineChart('ROC curve', 'false positive rate', 'true positive rate', input.components.map((c) => ({ name: `${c.name} (${num(m.components[c.name]?.rocAuc ?? NaN)})`, points: rocCurve(c.scores, labels) })), true));
  await writeFile(path.join(dir, 'pr.svg'), lineChart('Precision-recall curve', 'recall', 'precision', input.components.map((c) => ({ name: `${c.name} (${num(m.components[c.name]?.prAuc ?? NaN)})`, points: prCurve(c.scores, labels) }))));
  await writeFile(path.join(dir, 'reliability.svg'), lineChart(`Reliability (Brier ${num(m.brier)})`, 'mean predicted probability', 'observed fraud rate', [{ name: 'calibrated score', points: m.reliability.filter((b) => b.count > 0).map((b) => [b.meanScore, b.fraudRate] as const) }], true));
  const hist = histogramByClass(input.probabilities, labels);
  await writeFile(path.join(dir, 'histogram.svg'), histogramChart('Calibrated score by class', { name: 'fraud', counts: hist.fraud }, { name: 'legitimate', counts: hist.legitimate }));

  const lines: string[] = [`# ${input.title}`, '', ...input.notes.map((n) => `- ${n}`), `- rows: ${m.rows}, fraudulent: ${m.frauds} (${pct(m.frauds / m.rows)})`, ''];
  if (m.perFold) {
    lines.push(`## Per fold (mean ± sd over ${m.perFold.protocol})`, '', 'F1, precision and recall at the threshold chosen without the fold (inner cross-validation).', '', '| model | folds | ROC-AUC | PR-AUC | F1 | precision | recall |', '|---|---|---|---|---|---|---|');
    for (const [name, x] of Object.entries(m.perFold.components)) lines.push(`| ${name} | ${x.n} | ${pm(x.rocAuc)} | ${pm(x.prAuc)} | ${pm(x.f1)} | ${pm(x.precision, 3)} | ${pm(x.recall, 3)} |`);
    lines.push('', '## Pooled out-of-fold scores', '', 'All held-out scores of one run pooled; "best F1" picks its threshold on these very scores, so it is optimistic.', '');
  }
  lines.push('## Ranking', '', '| model | ROC-AUC | PR-AUC | best F1 | precision @ best F1 | recall @ best F1 |', '|---|---|---|---|---|---|');
  for (const c of input.components) {
    const x = m.components[c.name] as ComponentMetrics;
    lines.push(`| ${c.name} | ${num(x.rocAuc)} | ${num(x.prAuc)} | ${num(x.bestF1.f1)} | ${pct(x.bestF1.precision)} | ${pct(x.bestF1.recall)} |`);
  }
  lines.push('', `## Review capacity (${headline.name}: the top k % of rows by score are reviewed)`, '', '| top k | rows | precision | recall |', '|---|---|---|---|');
  for (const t of (m.components[headline.name] as ComponentMetrics).topK) lines.push(`| ${pct(t.share)} | ${t.rows} | ${pct(t.precision)} | ${pct(t.recall)} |`);
  if (m.thresholds) {
    lines.push('', '## Decision thresholds', '', '| threshold | score | share | precision | recall |', '|---|---|---|---|---|');
    for (const [name, t] of Object.entries(m.thresholds)) lines.push(`| ${name} | ${num(t.threshold)} | ${pct(t.share)} | ${pct(t.precision)} | ${pct(t.recall)} |`);
  }
  lines.push('', '## Calibration', '', `Brier score ${num(m.brier)} (lower is better; always predicting the base rate gives ${num((m.frauds / m.rows) * (1 - m.frauds / m.rows))}).`, '', '| bin | rows | mean score | fraud rate |', '|---|---|---|---|');
  for (const b of m.reliability) if (b.count > 0) lines.push(`| ${b.lo.toFixed(1)}-${b.hi.toFixed(1)} | ${b.count} | ${num(b.meanScore)} | ${num(b.fraudRate)} |`);
  if (m.byPattern) {
    lines.push('', '## Recall per fraud pattern (share of the pattern\'s rows in the top k %)', '', `| pattern | rows | ${TOP_SHARES.map((s) => `top ${pct(s)}`).join(' | ')} |`, `|---|---|${TOP_SHARES.map(() => '---').join('|')}|`);
    for (const [p, e] of Object.entries(m.byPattern).sort((a, b) => a[0].localeCompare(b[0]))) lines.push(`| ${p} | ${e.count} | ${TOP_SHARES.map((s) => pct(e.recallAtTop[pct(s)] as number)).join(' | ')} |`);
  }
  lines.push('', '## Plots', '', '![ROC](roc.svg) ![PR](pr.svg)', '', '![Reliability](reliability.svg) ![Histogram](histogram.svg)', '');
  await writeFile(path.join(dir, 'report.md'), lines.join('\n'));
  await writeFile(path.join(dir, 'metrics.json'), `${JSON.stringify(m, null, 2)}\n`);
  return m;
}
