import type { AlertReason } from './alert.repository.ts';
import { featureVector, type FeatureName, type Features, WINDOW_WORKING_DAYS } from './behaviour-features.ts';
import { IsolationForest } from './isolation-forest.ts';

/** One user-day to score, with its role (peers are the same role on the same day). */
export interface UserDay {
  userId: string;
  role: string;
  day: string;
  features: Features;
}

/** A scored user-day: score in [0, 1] and its reasons, most important first. */
export interface ScoredUserDay extends UserDay {
  score: number;
  reasons: AlertReason[];
  /** Isolation forest score (0.5 ordinary, towards 1 anomalous). */
  anomaly: number;
}

/**
 * Thresholds of the reason codes and the alert, tuned on the simulator's TUNING seeds only
 * (bench/access-sim/params.ts; figures on the held-out seeds in docs/evaluation/access-monitoring.md).
 */
export const SCORER_THRESHOLDS = Object.freeze({
  unexplained: 6,
  unexplainedShare: 0.1,
  memberRepeat: 2,
  listedCases: 1000,
  downloads: 10,
  volumeVsOwn: 4,
  volumeFloor: 40,
  /** PHI accesses off hours in one day. */
  offHoursCount: 15,
  burst5m: 30,
  /** Today's PHI volume over the user's own median day: with a new address, a second person on the account. */
  volumeWithNewIp: 1.6,
  peerZ: 4,
  /**
   * The multi-day window (a slow drip): distinct members of unexplained accesses over the last
   * WINDOW_WORKING_DAYS working days as a robust z among the day's role peers, on a day with at
   * least `windowUnexplainedToday` unexplained accesses (the drip must still be running).
   */
  windowPeerZ: 2.5,
  windowUnexplainedToday: 4,
  anomaly: 0.7,
  /** A user-day at or above this score is alerted. */
  alert: 0.6,
});

/** Weight of each reason code in the score (probability-like: combined as 1 - prod(1 - w)). */
const WEIGHTS: Record<string, number> = {
  A_MEMBER_REPEAT: 0.7,
  A_BULK: 0.7,
  A_OFF_HOURS: 0.65,
  A_BURST: 0.35,
  A_NEW_IP: 0.45,
  A_VOLUME: 0.3,
  A_PEER_DEVIATION: 0.3,
  A_UNEXPLAINED_WINDOW: 0.6,
  A_ANOMALY: 0.2,
};

/** A_UNEXPLAINED weighs more with every unexplained access (capped at 0.9): a few are a legitimate day's share, many are browsing. */
const UNEXPLAINED_WEIGHT_PER_ACCESS = 0.075;
/** Reason codes weighted by their value (a reason code, not an error code). */
const GRADED: ReadonlySet<string> = new Set(['A_UNEXPLAINED']);

/** Features whose deviation from role peers is a reason (counts where more is worse). */
const PEER_FEATURES: readonly FeatureName[] = ['phi_accesses', 'unexplained', 'distinct_members', 'downloads', 'listed_cases', 'identifier_searches', 'views_without_disposition'];

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Robust z of x among values: (x - median) / (1.4826 MAD), with a floor of 1 on the spread. */
function robustZ(x: number, values: readonly number[]): number {
  const m = median(values);
  const mad = median(values.map((v) => Math.abs(v - m)));
  return (x - m) / Math.max(1, 1.4826 * mad);
}

/**
 * Scores user-days: rule reasons on the features, the largest deviation from role peers that
 * day, and an isolation forest fitted on `history` (earlier user-days, all users) plus the days
 * scored, combined into a score in [0, 1] with reason codes (values are non-identifying numbers).
 */
export function scoreUserDays(days: readonly UserDay[], history: readonly UserDay[], seed = 20): ScoredUserDay[] {
  if (days.length === 0) return [];
  const training = [...history, ...days].map((d) => featureVector(d.features));
  const forest = IsolationForest.fit(training, { seed, trees: 100 });
  const T = SCORER_THRESHOLDS;
  return days.map((d) => {
    const f = d.features;
    const reasons: AlertReason[] = [];
    if (f.member_repeat >= T.memberRepeat) reasons.push({ code: 'A_MEMBER_REPEAT', value: f.member_repeat + 1, note: 'cases of one member without a case-level reason' });
    if (f.unexplained >= T.unexplained && f.unexplained_share >= T.unexplainedShare) reasons.push({ code: 'A_UNEXPLAINED', value: f.unexplained, note: `${Math.round(f.unexplained_share * 100)}% of PHI accesses unexplained` });
    if (f.listed_cases >= T.listedCases || f.downloads >= T.downloads || (f.volume_vs_own >= T.volumeVsOwn && f.phi_accesses >= T.volumeFloor)) {
      reasons.push({ code: 'A_BULK', value: f.phi_accesses, note: `listed ${f.listed_cases}, downloads ${f.downloads}, ${f.volume_vs_own.toFixed(1)}x own median` });
    }
    const offHours = Math.round(f.off_hours_share * f.phi_accesses);
    if (offHours >= T.offHoursCount) reasons.push({ code: 'A_OFF_HOURS', value: offHours, note: 'PHI accesses off hours' });
    if (f.max_burst_5m >= T.burst5m) reasons.push({ code: 'A_BURST', value: f.max_burst_5m, note: 'PHI accesses in 5 minutes' });
    if (f.new_ips > 0) {
      reasons.push({ code: 'A_NEW_IP', value: f.new_ips, note: 'client addresses not seen in 30 days' });
      if (f.volume_vs_own >= T.volumeWithNewIp) reasons.push({ code: 'A_VOLUME', value: Math.round(f.volume_vs_own * 10) / 10, note: 'x own median day, with a new address' });
    }
    const peers = days.filter((p) => p.role === d.role && p.day === d.day);
    if (peers.length >= 3) {
      const worst = PEER_FEATURES.map((name) => ({ name, z: robustZ(f[name], peers.map((p) => p.features[name])) })).sort((a, b) => b.z - a.z)[0]!;
      if (worst.z >= T.peerZ) reasons.push({ code: 'A_PEER_DEVIATION', value: Math.round(worst.z * 10) / 10, note: `${worst.name} vs ${peers.length} ${d.role} peers` });
      // User-days stored before the window feature existed lack it: they count as 0.
      const windowZ = robustZ(f.unexplained_members_window ?? 0, peers.map((p) => p.features.unexplained_members_window ?? 0));
      if (windowZ >= T.windowPeerZ && f.unexplained >= T.windowUnexplainedToday) {
        reasons.push({ code: 'A_UNEXPLAINED_WINDOW', value: f.unexplained_members_window, note: `members of unexplained accesses over ${WINDOW_WORKING_DAYS} working days, z ${windowZ.toFixed(1)} vs ${peers.length} ${d.role} peers` });
      }
    }
    const anomaly = forest.score(featureVector(f));
    if (anomaly >= T.anomaly) reasons.push({ code: 'A_ANOMALY', value: Math.round(anomaly * 100) / 100, note: 'isolation forest score' });
    const weight = (r: AlertReason) => (GRADED.has(r.code) ? Math.min(0.9, UNEXPLAINED_WEIGHT_PER_ACCESS * (r.value ?? 0)) : (WEIGHTS[r.code] ?? 0));
    const score = 1 - reasons.reduce((p, r) => p * (1 - weight(r)), 1);
    reasons.sort((a, b) => weight(b) - weight(a));
    return { ...d, score: Math.round(score * 1000) / 1000, reasons, anomaly };
  });
}

