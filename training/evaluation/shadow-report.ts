import { OUTCOMES, type Outcome } from '../../domain/decision.ts';
import type { ShadowRecord } from '../../scoring/shadow.ts';
import { prAuc, rocAuc } from './metrics.ts';

/**
 * The champion / challenger comparison over shadow records (scoring/shadow.ts, `claimtrail-shadow-v1`):
 * outcome agreement, score differences and correlations, flag overlap and, with labels, each
 * model's ranking metrics. What `claimtrail shadow report` prints.
 */

export interface ShadowComparison {
  records: number;
  models: { champion: string[]; challenger: string[] };
  /** `agreement[champion][challenger]` = records with that pair of outcomes. */
  agreement: Record<Outcome, Record<Outcome, number>>;
  /** Share of records where both outcomes are equal. */
  outcomeAgreement: number;
  shares: { champion: Record<Outcome, number>; challenger: Record<Outcome, number> };
  /** Mean and largest |challenger score - champion score|. */
  scoreDifference: { mean: number; max: number };
  /** Pearson correlation of the scores; Spearman (rank) correlation, ties at mean rank. */
  correlation: { pearson: number; spearman: number };
  /** Of the claims the champion flagged, the share the challenger flagged too (NaN if none). */
  flagOverlap: number;
  /** With labels: ROC-AUC / PR-AUC of each model's score on the labeled records. */
  labeled?: { records: number; frauds: number; champion: { rocAuc: number; prAuc: number }; challenger: { rocAuc: number; prAuc: number } };
}

function emptyByOutcome(): Record<Outcome, number> {
  return { approve: 0, review: 0, flag: 0 };
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : NaN;
}

/** Ranks 1..n, ties sharing their mean rank. */
function ranks(x: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: x.length }, (_, i) => i).sort((i, j) => (x[i] as number) - (x[j] as number));
  const out = new Float64Array(x.length);
  for (let k = 0; k < order.length; ) {
    let e = k;
    while (e + 1 < order.length && x[order[e + 1] as number] === x[order[k] as number]) e++;
    const rank = (k + e) / 2 + 1;
    for (let q = k; q <= e; q++) out[order[q] as number] = rank;
    k = e + 1;
  }
  return out;
}

/**
 * Compares champion and challenger over shadow records (each decision once: later copies of a
 * decision id are ignored). `labels` (claim id -> fraud) adds ranking metrics on the labeled ones.
 */
export function compareShadow(input: readonly ShadowRecord[], labels?: ReadonlyMap<string, boolean>): ShadowComparison {
  const seen = new Set<string>();
  const records = input.filter((r) => !seen.has(r.decisionId) && seen.add(r.decisionId));
  const agreement = { approve: emptyByOutcome(), review: emptyByOutcome(), flag: emptyByOutcome() };
  const champion = emptyByOutcome();
  const challenger = emptyByOutcome();
  const a = new Float64Array(records.length);
  const b = new Float64Array(records.length);
  let same = 0;
  let diffSum = 0;
  let diffMax = 0;
  let flaggedBoth = 0;
  records.forEach((r, i) => {
    agreement[r.champion.outcome][r.challenger.outcome]++;
    champion[r.champion.outcome]++;
    challenger[r.challenger.outcome]++;
    if (r.champion.outcome === r.challenger.outcome) same++;
    if (r.champion.outcome === 'flag' && r.challenger.outcome === 'flag') flaggedBoth++;
    a[i] = r.champion.score;
    b[i] = r.challenger.score;
    const d = Math.abs(r.challenger.score - r.champion.score);
    diffSum += d;
    diffMax = Math.max(diffMax, d);
  });
  const n = records.length;
  const share = (c: Record<Outcome, number>) => ({ approve: n ? c.approve / n : NaN, review: n ? c.review / n : NaN, flag: n ? c.flag / n : NaN });
  const out: ShadowComparison = {
    records: n,
    models: { champion: [...new Set(records.map((r) => r.champion.modelHash))], challenger: [...new Set(records.map((r) => r.challenger.modelHash))] },
    agreement,
    outcomeAgreement: n ? same / n : NaN,
    shares: { champion: share(champion), challenger: share(challenger) },
    scoreDifference: { mean: n ? diffSum / n : NaN, max: diffMax },
    correlation: { pearson: pearson(a, b), spearman: pearson(ranks(a), ranks(b)) },
    flagOverlap: champion.flag ? flaggedBoth / champion.flag : NaN,
  };
  if (labels) {
    const withLabel = records.filter((r) => labels.has(r.claimId));
    const y = Uint8Array.from(withLabel, (r) => (labels.get(r.claimId) ? 1 : 0));
    const frauds = y.reduce((s, v) => s + v, 0);
    if (frauds > 0 && frauds < y.length) {
      const ca = withLabel.map((r) => r.champion.score);
      const cb = withLabel.map((r) => r.challenger.score);
      out.labeled = {
        records: withLabel.length,
        frauds,
        champion: { rocAuc: rocAuc(ca, y), prAuc: prAuc(ca, y) },
        challenger: { rocAuc: rocAuc(cb, y), prAuc: prAuc(cb, y) },
      };
    }
  }
  return out;
}

/** The comparison as a plain-text report (what `claimtrail shadow report` prints). */
export function formatShadowComparison(c: ShadowComparison): string {
  const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(x * 100).toFixed(1)} %`);
  const f3 = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(3));
  const lines = [
    `shadow records: ${c.records}`,
    `champion:   ${c.models.champion.join(', ') || '-'}`,
    `challenger: ${c.models.challenger.join(', ') || '-'}`,
    '',
    'outcomes (rows: champion, columns: challenger)',
    `${''.padEnd(10)}${OUTCOMES.map((o) => o.padStart(9)).join('')}`,
    ...OUTCOMES.map((o) => `${o.padEnd(10)}${OUTCOMES.map((p) => String(c.agreement[o][p]).padStart(9)).join('')}`),
    '',
    `same outcome: ${pct(c.outcomeAgreement)}; champion flags also flagged by the challenger: ${pct(c.flagOverlap)}`,
    `share flag / review: champion ${pct(c.shares.champion.flag)} / ${pct(c.shares.champion.review)}, challenger ${pct(c.shares.challenger.flag)} / ${pct(c.shares.challenger.review)}`,
    `score |difference|: mean ${f3(c.scoreDifference.mean)}, max ${f3(c.scoreDifference.max)}; correlation: Pearson ${f3(c.correlation.pearson)}, Spearman ${f3(c.correlation.spearman)}`,
  ];
  if (c.labeled) {
    lines.push(
      '',
      `on ${c.labeled.records} labeled claims (${c.labeled.frauds} fraud):`,
      `  champion   ROC-AUC ${f3(c.labeled.champion.rocAuc)}  PR-AUC ${f3(c.labeled.champion.prAuc)}`,
      `  challenger ROC-AUC ${f3(c.labeled.challenger.rocAuc)}  PR-AUC ${f3(c.labeled.challenger.prAuc)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
