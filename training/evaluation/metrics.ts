/**
 * Ranking metrics for binary scores. Labels are 1 (fraud) / 0; higher score = more suspicious.
 */

/**
 * Area under the ROC curve: the probability that a random positive outscores a random negative,
 * ties counted as one half (Mann-Whitney U with mid-ranks). NaN when a class is missing.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1] as number] === scores[order[i] as number]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k] as number] === 1) {
        positives++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Area under the precision-recall curve as average precision: the mean, over positives, of the
 * precision at the threshold that first includes them (tied scores form one step, as in
 * scikit-learn). NaN without positives. A random ranking scores about the positive rate.
 */
export function prAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  let totalPositives = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) totalPositives++;
  if (totalPositives === 0) return NaN;
  let tp = 0;
  let seen = 0;
  let ap = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    let groupTp = 0;
    while (j < n && scores[order[j] as number] === scores[order[i] as number]) {
      if (labels[order[j] as number] === 1) groupTp++;
      j++;
    }
    tp += groupTp;
    seen = j;
    ap += (groupTp / totalPositives) * (tp / seen);
    i = j;
  }
  return ap;
}

export interface ThresholdStats {
  threshold: number;
  /** Share of all rows at or above the threshold. */
  share: number;
  /** Precision among rows at or above the threshold (NaN when none). */
  precision: number;
  /** Recall of positives at or above the threshold. */
  recall: number;
}

/** Precision, recall and share of rows with score >= threshold. */
export function statsAt(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): ThresholdStats {
  let selected = 0;
  let tp = 0;
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    const pos = labels[i] === 1;
    if (pos) positives++;
    if ((scores[i] as number) >= threshold) {
      selected++;
      if (pos) tp++;
    }
  }
  return { threshold, share: scores.length ? selected / scores.length : 0, precision: selected ? tp / selected : NaN, recall: positives ? tp / positives : NaN };
}

/** The score at which `share` of rows are at or above it (the (1 - share) quantile). */
export function topShareThreshold(scores: ArrayLike<number>, share: number): number {
  const sorted = Float64Array.from(scores).sort();
  if (sorted.length === 0) return 1;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.floor(sorted.length * (1 - share))));
  return sorted[k] as number;
}

/**
 * Precision among the top `share` of rows by score (the first ceil(share x n) rows, at least
 * one): what a review queue of that size finds. Tied scores at the cut are counted at their
 * mean fraud rate, so the figure does not depend on the row order. NaN for no rows.
 */
export function precisionAtTop(scores: ArrayLike<number>, labels: ArrayLike<number>, share: number): number {
  const n = scores.length;
  if (n === 0) return NaN;
  const k = Math.max(1, Math.ceil(share * n));
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  let tp = 0;
  let taken = 0;
  for (let i = 0; i < n && taken < k; ) {
    let j = i;
    let groupTp = 0;
    while (j < n && scores[order[j] as number] === scores[order[i] as number]) {
      if (labels[order[j] as number] === 1) groupTp++;
      j++;
    }
    const take = Math.min(j - i, k - taken);
    tp += (groupTp * take) / (j - i);
    taken += take;
    i = j;
  }
  return tp / k;
}
