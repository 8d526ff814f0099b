import type { InvariantReport } from './invariants.ts';
import type { TrialResult } from './trial-types.ts';

const ms = (n: number | null | undefined) => (n === null || n === undefined ? '-' : `${n} ms`);
const s = (n: number | null | undefined) => (n === null || n === undefined ? '-' : `${(n / 1000).toFixed(1)} s`);

/** The fault of a row, in a few words: `scoring kill -9`, `kafka kill9`, `review kill -9 x2`. */
function fault(r: TrialResult): string {
  if (r.kind === 'kill') return r.anchorKillAtMs === null ? 'scoring kill -9' : 'scoring+anchor kill -9';
  if (r.kind === 'kill-review') return `review kill -9 x${r.review?.kills.length ?? 0}`;
  return `${r.kind.slice('restart-'.length)} ${r.restart?.mode ?? '?'}`;
}

/** The trials table, one line per trial, totals, a PASS count per kind, then each failure. */
export function formatTable(results: readonly TrialResult[]): string {
  const head = [
    'trial', 'fault', 'at', 'indexed@fault', 'anchor kill', 'open tx', 'down+start', 'self-exits', 'settled', 'log', 'index', 'lost', 'dup', 'dup leaves', 'unbatched',
    'double-anchored', 'cases missing', 'dlq Δ', 'handed twice', 'verdicts lost', 'verdicts doubled', 'audit', 'result',
  ];
  const rows = results.map((r) => {
    const x = r.report;
    const v = r.review;
    const at = r.kind === 'kill' ? r.scoringKillAtMs : r.kind === 'kill-review' ? (v?.kills[0]?.atMs ?? null) : (r.restart?.atMs ?? null);
    const indexed = r.kind === 'kill' ? r.indexedAtScoringKill : r.kind === 'kill-review' ? (v?.kills[0]?.disposedBefore ?? null) : (r.restart?.indexedAtStop ?? null);
    return [
      String(r.trial), fault(r), ms(at), indexed === null ? '-' : String(indexed),
      ms(r.anchorKillAtMs), r.openAnchorTxAtKill === null ? '-' : String(r.openAnchorTxAtKill),
      r.restart ? `${s(r.restart.downMs)}+${s(r.restart.startMs)}` : '-', r.kind.startsWith('restart-') ? String(r.selfExits.length) : '-',
      s(r.settledMs),
      x ? String(x.decisionsInLog) : '-', x ? String(x.decisionsInIndex) : '-',
      x ? String(x.lostInLog + x.lostInIndex) : '-', x ? String(x.duplicatedInLog + x.duplicatedInIndex) : '-',
      x ? String(x.duplicateLeaves) : '-', x ? String(x.decisionsNotInOneAnchoredBatch + x.overlappingBatches) : '-',
      x ? String(x.doubleAnchoredBatches) : '-', x ? String(x.flaggedMissingFromQueue) : '-', x ? String(x.dlqDelta) : '-',
      v ? String(v.handedTwice) : '-', v ? String(v.verdictsLost) : '-', v ? String(v.verdictsDoubled) : '-',
      r.auditExit === null ? '-' : String(r.auditExit), r.failures.length === 0 ? 'PASS' : 'FAIL',
    ];
  });
  const sum = (f: (x: InvariantReport) => number) => String(results.reduce((n, r) => n + (r.report ? f(r.report) : 0), 0));
  const sumReview = (f: (v: NonNullable<TrialResult['review']>) => number) => String(results.reduce((n, r) => n + (r.review ? f(r.review) : 0), 0));
  const totals = [
    'total', '', '', '', '', '', '', String(results.reduce((n, r) => n + r.selfExits.length, 0)), '', '', '',
    sum((x) => x.lostInLog + x.lostInIndex), sum((x) => x.duplicatedInLog + x.duplicatedInIndex), sum((x) => x.duplicateLeaves),
    sum((x) => x.decisionsNotInOneAnchoredBatch + x.overlappingBatches), sum((x) => x.doubleAnchoredBatches), sum((x) => x.flaggedMissingFromQueue),
    sum((x) => Math.abs(x.dlqDelta)), sumReview((v) => v.handedTwice), sumReview((v) => v.verdictsLost), sumReview((v) => v.verdictsDoubled),
    '', `${results.filter((r) => r.failures.length === 0).length}/${results.length} PASS`,
  ];
  const all = [head, ...rows, totals];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padStart(widths[i]!)).join('  ');
  const kinds = [...new Set(results.map((r) => r.kind))];
  const perKind = kinds.map((k) => {
    const of = results.filter((r) => r.kind === k);
    return `${k}: ${of.filter((r) => r.failures.length === 0).length}/${of.length} PASS`;
  });
  const exits = results.filter((r) => r.selfExits.length > 0).map((r) => `trial ${r.trial} self-exits (restarted by the supervisor): ${r.selfExits.join(', ')}`);
  const failures = results.filter((r) => r.failures.length > 0).map((r) => `trial ${r.trial}: ${r.failures.join('; ')}`);
  return [line(head), ...rows.map(line), line(totals), perKind.join(' · '), ...exits, ...failures].join('\n');
}
