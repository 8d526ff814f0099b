import { generateClaims } from '../../fixtures/generator.ts';
import { aggregateFeatureNames, OfflineClaimAggregates } from '../../scoring/aggregates.ts';
import { extractFeatures, FEATURE_NAMES } from '../../scoring/features.ts';
import { Forest } from '../../scoring/forest.ts';
import { trainForest } from '../forest-trainer.ts';
import { prAuc, rocAuc, topShareThreshold } from '../evaluation/metrics.ts';
import { Rng } from '../../core/random.ts';
import { stratifiedSplit } from '../train.ts';

/**
 * Per-pattern recall of the random forest on generated fixtures, without and with the offline
 * entity aggregates (point-in-time over the claims in submission order, the same spec and values
 * the Redis path gives online). Same split, same forest options, same seed; the operating points
 * are the top `shares` of validation scores. The duplicate-claim rule is reported separately
 * (it is deterministic, not learned).
 *
 * Run: node training/studies/aggregate-study.ts [count] [seed]
 */
export interface StudyResult {
  claims: number;
  validation: { claims: number; frauds: number };
  features: { before: number; after: number };
  rocAuc: { before: number; after: number };
  prAuc: { before: number; after: number };
  /** pattern -> { count, before/after recall at each share } */
  byPattern: Record<string, { count: number; recall: Record<string, { before: number; after: number }> }>;
  duplicateRule: { recall: number; falseHitsOnLegitimate: number };
}

export function runAggregateStudy(count: number, seed: number, shares: readonly number[] = [0.05, 0.12]): StudyResult {
  const { claims, labels } = generateClaims({ count, seed });
  const agg = new OfflineClaimAggregates();
  const observed = claims.map((c, i) => agg.observe(`e${i}`, c));
  const stateless = claims.map((c) => extractFeatures(c));
  const withAgg = stateless.map((row, i) => Float64Array.from([...row, ...(observed[i]!.features)]));
  const y = Uint8Array.from(labels, (l) => (l.fraud ? 1 : 0));
  const { train, validation } = stratifiedSplit(y, 0.2, new Rng(seed));
  const trainY = Uint8Array.from(train, (i) => y[i]!);
  const validY = Uint8Array.from(validation, (i) => y[i]!);

  const score = (rows: Float64Array[]): Float64Array => {
    const forest = Forest.fromJson(trainForest(train.map((i) => rows[i]!), trainY, { seed }));
    return Float64Array.from(validation, (i) => forest.predict(rows[i]!));
  };
  const before = score(stateless);
  const after = score(withAgg);

  const byPattern: StudyResult['byPattern'] = {};
  const cut = shares.map((s) => ({ s, b: topShareThreshold(before, s), a: topShareThreshold(after, s) }));
  validation.forEach((i, r) => {
    const pattern = labels[i]!.pattern;
    if (!pattern) return;
    const e = (byPattern[pattern] ??= { count: 0, recall: Object.fromEntries(shares.map((s) => [`top${Math.round(s * 100)}%`, { before: 0, after: 0 }])) });
    e.count++;
    for (const { s, b, a } of cut) {
      const k = e.recall[`top${Math.round(s * 100)}%`]!;
      if (before[r]! >= b) k.before++;
      if (after[r]! >= a) k.after++;
    }
  });
  for (const e of Object.values(byPattern)) for (const k of Object.values(e.recall)) {
    k.before = Math.round((k.before / e.count) * 1000) / 1000;
    k.after = Math.round((k.after / e.count) * 1000) / 1000;
  }
  const dups = labels.flatMap((l, i) => (l.pattern === 'duplicate' ? [i] : []));
  const legit = labels.flatMap((l, i) => (l.fraud ? [] : [i]));
  return {
    claims: count,
    validation: { claims: validation.length, frauds: validY.reduce((s, v) => s + v, 0) },
    features: { before: FEATURE_NAMES.length, after: FEATURE_NAMES.length + aggregateFeatureNames().length },
    rocAuc: { before: rocAuc(before, validY), after: rocAuc(after, validY) },
    prAuc: { before: prAuc(before, validY), after: prAuc(after, validY) },
    byPattern,
    duplicateRule: { recall: dups.filter((i) => observed[i]!.duplicate).length / dups.length, falseHitsOnLegitimate: legit.filter((i) => observed[i]!.duplicate).length },
  };
}

if (process.argv[1]?.endsWith('aggregate-study.ts')) {
  const started = performance.now();
  const result = runAggregateStudy(Number(process.argv[2] ?? 40_000), Number(process.argv[3] ?? 1));
  console.log(JSON.stringify({ ...result, ms: Math.round(performance.now() - started) }, null, 2));
}
