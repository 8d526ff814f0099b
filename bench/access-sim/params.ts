/**
 * FROZEN parameters of the access-monitoring simulator (docs/evaluation/access-monitoring.md).
 * Committed before the detector was tuned; changing anything here invalidates the report's
 * figures. Tuning used TUNING_SEEDS only; the report's figures come from EVALUATION_SEEDS, never
 * used while tuning.
 */
export const SIM_PARAMS = Object.freeze({
  investigators: 16,
  supervisors: 6,
  /** Working weeks simulated (Monday-Friday; a few weekend logins happen through scenarios only). */
  weeks: 3,
  members: 4000,
  providers: 600,
  queues: ['rule-hits', 'flagged', 'review'] as const,
  /** Working hours (UTC) of ordinary days: start uniform in [7, 9), length uniform in [7, 9) h. */
  dayStart: [7, 9] as const,
  dayLength: [7, 9] as const,
  /** Cases an investigator takes per day: uniform integer in this range. */
  casesPerInvestigatorDay: [4, 12] as const,
  /** Views of a taken case (1 + extra uniform in this range). */
  extraViews: [0, 3] as const,
  pAttachmentList: 0.3,
  pAttachmentDownload: 0.15,
  pNote: 0.6,
  pDispose: 0.85,
  pEscalate: 0.06,
  /** Supervisors: oversight views of assigned / escalated cases per day, list calls, takes from a queue. */
  supervisorOversightViews: [6, 18] as const,
  supervisorLists: [2, 6] as const,
  supervisorTakes: [0, 3] as const,
  /** Drill-downs: after an explained view, chance of opening another case of the same member. */
  pDrillDown: 0.15,
  /**
   * Legitimate but unexplained accesses (the realistic share nothing in the work context explains):
   * per supervisor-day, views of open cases in queues they did not take from (a colleague asks),
   * QA reviews of closed cases, and identifier searches for a member who called in.
   */
  legitUnexplainedViews: [0, 4] as const,
  legitClosedReviews: [0, 2] as const,
  pLegitIdentifierSearch: 0.35,
  /** Fraction of a user's days from a second, known address (home office, VPN). */
  pSecondKnownIp: 0.2,
  /** Injected scenarios: per seed, how many user-days of each (slow drip: per affected user, over consecutive days). */
  scenarios: {
    curiousBrowsing: { userDays: 4, views: [8, 16] as const },
    oneMemberSnooping: { userDays: 5, cases: [3, 5] as const },
    bulkExport: { userDays: 3, listPages: [20, 50] as const, downloads: [10, 40] as const },
    offHoursSpree: { userDays: 3, accesses: [25, 45] as const },
    sharedAccount: { userDays: 3, newIps: [1, 2] as const, extraVolume: [1.5, 2.5] as const },
    slowDrip: { users: 2, days: 5, perDay: [2, 3] as const },
  },
});

export const TUNING_SEEDS = Object.freeze([1, 2]);
export const EVALUATION_SEEDS = Object.freeze([101, 102, 103]);

export type ScenarioName = keyof typeof SIM_PARAMS.scenarios;
