import { prAuc, rocAuc } from './metrics.ts';

/**
 * Evaluation metrics beyond ranking (metrics.ts): F1, precision / recall at a review capacity,
 * calibration (Brier score, reliability bins), score histograms and the curves the report plots.
 * Labels are 1 (fraud) / 0; higher score = more suspicious.
 */

export interface TopK {
  /** Share of rows reviewed (the top-scored ones). */
  share: number;
  rows: number;
  precision: number;
  recall: number;
}

export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  meanScore: number;
  /** Observed fraud rate in the bin (NaN when empty). */
  fraudRate: number;
}

export interface ComponentMetrics {
  rocAuc: number;
  prAuc: number;
  /** Best F1 over all thresholds, and the threshold reaching it. */
  bestF1: { f1: number; threshold: number; precision: number; recall: number };
  topK: TopK[];
}

/** Rows sorted by descending score (ties in row order). */
function descending(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
}

function positivesOf(labels: ArrayLike<number>): number {
  let p = 0;
  for (let i = 0; i < labels.length; i++) p += labels[i] === 1 ? 1 : 0;
  return p;
}

/** Best F1 over thresholds "score >= t" for every distinct score t. */
export function bestF1(scores: ArrayLike<number>, labels: ArrayLike<number>): ComponentMetrics['bestF1'] {
  const order = descending(scores);
  const positives = positivesOf(labels);
  let best = { f1: 0, threshold: 1, precision: NaN, recall: 0 };
  let tp = 0;
  for (let k = 0; k < order.length; ) {
    const s = scores[order[k] as number] as number;
    while (k < order.length && scores[order[k] as number] === s) tp += labels[order[k++] as number] === 1 ? 1 : 0;
    const precision = tp / k;
    const recall = positives ? tp / positives : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (f1 > best.f1) best = { f1, threshold: s, precision, recall };
  }
  return best;
}

/** Precision and recall when the top `share` of rows (rounded up, at least 1) is reviewed. */
export function topK(scores: ArrayLike<number>, labels: ArrayLike<number>, share: number): TopK {
  const order = descending(scores);
  const rows = Math.max(1, Math.ceil(order.length * share));
  let tp = 0;
  for (let k = 0; k < rows; k++) tp += labels[order[k] as number] === 1 ? 1 : 0;
  const positives = positivesOf(labels);
  return { share, rows, precision: tp / rows, recall: positives ? tp / positives : NaN };
}

/** Mean squared error of probabilities against 0/1 labels. */
export function brierScore(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) sum += ((probabilities[i] as number) - (labels[i] === 1 ? 1 : 0)) ** 2;
  return probabilities.length ? sum / probabilities.length : NaN;
}

/** `bins` equal-width bins over [0, 1]: mean predicted probability vs observed fraud rate. */
export function reliability(probabilities: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): ReliabilityBin[] {
  const count = new Array<number>(bins).fill(0);
  const sum = new Array<number>(bins).fill(0);
  const pos = new Array<number>(bins).fill(0);
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i] as number;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b] = (count[b] as number) + 1;
    sum[b] = (sum[b] as number) + p;
    pos[b] = (pos[b] as number) + (labels[i] === 1 ? 1 : 0);
  }
  return count.map((n, b) => ({ lo: b / bins, hi: (b + 1) / bins, count: n, meanScore: n ? (sum[b] as number) / n : NaN, fraudRate: n ? (pos[b] as number) / n : NaN }));
}

/** Counts per class in `bins` equal-width score bins over [0, 1]. */
export function histogramByClass(scores: ArrayLike<number>, labels: ArrayLike<number>, bins = 20): { fraud: number[]; legitimate: number[] } {
  const fraud = new Array<number>(bins).fill(0);
  const legitimate = new Array<number>(bins).fill(0);
  for (let i = 0; i < scores.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor((scores[i] as number) * bins)));
    const target = labels[i] === 1 ? fraud : legitimate;
    target[b] = (target[b] as number) + 1;
  }
  return { fraud, legitimate };
}

/** ROC curve points (false positive rate, true positive rate), one per distinct score. */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): [number, number][] {
  const order = descending(scores);
  const positives = positivesOf(labels);
  const negatives = order.length - positives;
  const points: [number, number][] = [[0, 0]];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; ) {
    const s = scores[order[k] as number] as number;
    while (k < order.length && scores[order[k] as number] === s) {
      if (labels[order[k] as number] === 1) tp++;
      else fp++;
      k++;
    }
    points.push([negatives ? fp / negatives : 0, positives ? tp / positives : 0]);
  }
  return points;
}

/** Precision-recall curve points (recall, precision), one per distinct score. */
export function prCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): [number, number][] {
  const order = descending(scores);
  const positives = positivesOf(labels);
  const points: [number, number][] = [];
  let tp = 0;
  for (let k = 0; k < order.length; ) {
    const s = scores[order[k] as number] as number;
    while (k < order.length && scores[order[k] as number] === s) tp += labels[order[k++] as number] === 1 ? 1 : 0;
    points.push([positives ? tp / positives : 0, tp / k]);
  }
  return points;
}

export const TOP_SHARES = [0.01, 0.05, 0.1, 0.2] as const;

/** Ranking metrics of one score column. */
export function componentMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>, shares: readonly number[] = TOP_SHARES): ComponentMetrics {
  return { rocAuc: rocAuc(scores, labels), prAuc: prAuc(scores, labels), bestF1: bestF1(scores, labels), topK: shares.map((s) => topK(scores, labels, s)) };
}
