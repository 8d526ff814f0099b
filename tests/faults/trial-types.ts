import type { PrivateServiceKind, StopMode } from '../support/private-services.ts';
import type { InvariantReport } from './invariants.ts';

/**
 * The kinds of trial.
 * - `kill`: kill -9 of the scoring process at a seeded moment (and of the anchor worker, see
 *   `anchorKillEvery`), each restarted at once.
 * - `restart-<service>`: a PRIVATE instance of that service (never the shared stack) is stopped
 *   mid-run, kept down `downMs`, and started again on the same port with the same data; the
 *   pipeline children are supervised (restarted 1 s after exiting on their own, counted).
 * - `kill-review`: kill -9 of `claimtrail review serve` while investigators take and dispose cases.
 */
export const TRIAL_KINDS = ['kill', 'restart-kafka', 'restart-redis', 'restart-postgres', 'restart-chain', 'kill-review'] as const;
export type TrialKind = (typeof TRIAL_KINDS)[number];

/** Options of a fault-injection run. */
export interface FaultSuiteOptions {
  /** Trials of each kind; each gets fresh topics, groups, queue and schema. Default 5. */
  trials?: number;
  /** Kinds to run, in this order, `trials` of each. Default `['kill']`. */
  kinds?: readonly TrialKind[];
  /** Valid claims produced per trial. Default 1,000. */
  claims?: number;
  /** Malformed messages produced per trial (must all end in the DLQ, once). Default 20. */
  malformed?: number;
  /** Seed of the fault moments and the claims. Default 1. */
  seed?: number;
  /**
   * Fault moment, uniform in [0, killWindowMs]: the scoring kill after the first claim is produced;
   * a service stop after the first decision is indexed (the chain: after the first batch is stored),
   * so claims are flowing. Default 3,000 ms.
   */
  killWindowMs?: number;
  /** Also kill -9 the anchor worker process mid-run in every `anchorKillEvery`-th `kill` trial (0: never). Default 1 (every trial). */
  anchorKillEvery?: number;
  /**
   * How restart trials take their service down; with both, the trials of a kind alternate (first
   * `clean`, second `kill9`, ...). Default both. The chain is always stopped `clean`: see docs/faults.md.
   */
  restartModes?: readonly StopMode[];
  /** How long a restarted service stays down, milliseconds. Default 5,000. */
  downMs?: number;
  /** kill -9 of the review server per `kill-review` trial. Default 2. */
  reviewKills?: number;
  /** Time a trial may take after its faults to reach the finished state (all decided, all anchored). Default 180,000 ms. */
  settleTimeoutMs?: number;
  /** Keeps the temp dir (child logs) for inspection. Default false. */
  keepTemp?: boolean;
  /** Progress lines (one per trial step); default silent. */
  onProgress?(line: string): void;
}

export type ResolvedOptions = Required<Omit<FaultSuiteOptions, 'onProgress'>> & Pick<FaultSuiteOptions, 'onProgress'>;

/** A service restart in one trial. */
export interface RestartRecord {
  service: PrivateServiceKind;
  mode: StopMode;
  /** When it was stopped, ms after produce began, and how many decisions were indexed then. */
  atMs: number;
  indexedAtStop: number;
  /** How long it was kept down, and how long its start took until healthy, ms. */
  downMs: number;
  startMs: number;
}

/** One row of the trials table. */
export interface TrialResult {
  trial: number;
  kind: TrialKind;
  /** When scoring was killed, ms after produce began, and how many decisions were indexed then (`kill` trials). */
  scoringKillAtMs: number | null;
  indexedAtScoringKill: number | null;
  /** When the anchor worker was killed (ms after produce began), null when not in this trial. */
  anchorKillAtMs: number | null;
  /** Anchor transactions not yet confirmed at the anchor kill (a kill mid-transaction when > 0). */
  openAnchorTxAtKill: number | null;
  /** The service restart of a `restart-*` trial. */
  restart: RestartRecord | null;
  /** Pipeline children that exited on their own and were restarted by the supervisor (restart trials). */
  selfExits: string[];
  /** What a `kill-review` trial found. */
  review: ReviewReport | null;
  /** Time from produce to the finished state (every decision indexed, every batch and flagged leaf anchored). */
  settledMs: number | null;
  /** `claimtrail audit --all` exit code after the trial (0: log, index and chain agree). */
  auditExit: number | null;
  report: InvariantReport | null;
  /** Broken invariants and harness errors; empty when the trial passed. */
  failures: string[];
}

export function emptyResult(trial: number, kind: TrialKind): TrialResult {
  return {
    trial, kind, scoringKillAtMs: null, indexedAtScoringKill: null, anchorKillAtMs: null, openAnchorTxAtKill: null, restart: null, selfExits: [], review: null,
    settledMs: null, auditExit: null, report: null, failures: [],
  };
}


/** A review-server kill, as the `kill-review` trial saw it. */
export interface ReviewKill {
  /** ms after the investigators started, and how many cases were disposed before it. */
  atMs: number;
  disposedBefore: number;
  /** Client requests in flight when the server died. */
  inFlight: number;
}

/** What a `kill-review` trial found; the counts but `cases` / `dispositions` must be 0. */
export interface ReviewReport {
  kills: ReviewKill[];
  cases: number;
  dispositions: number;
  /** Cases taken (`case.take` in the audit log) more than once, or by two investigators. */
  handedTwice: number;
  /** Cases left without a disposition (not closed), plus dispositions never published to the verdicts topic. */
  verdictsLost: number;
  /** Cases with more than one disposition. */
  verdictsDoubled: number;
  /** Verdicts on the topic more than once for one disposition id (allowed: the outbox is at least once; consumers dedupe). */
  verdictsRedelivered: number;
  /** Client requests that got no answer (refused while the server was down, or cut by a kill); each was started over. */
  answersLost: number;
}
