/**
 * The behaviour of one user over one day (UTC) as numbers, from their access records. Pure.
 * Off hours are outside 07:00-19:00 UTC on weekdays, and all of Saturday and Sunday: an
 * installation in another time zone shifts WORK_HOURS_UTC.
 */
export const WORK_HOURS_UTC = Object.freeze({ start: 7, end: 19 });

/**
 * Working days (Monday-Friday, UTC) the multi-day window covers, the scored day included: a slow
 * drip of a few unexplained views a day stays inside one day's legitimate share, but not inside
 * a week's.
 */
export const WINDOW_WORKING_DAYS = 5;

/** Feature names. */
export const FEATURES = [
  'phi_accesses',
  'unexplained',
  'unexplained_share',
  'distinct_members',
  'volume_vs_own',
  'off_hours_share',
  'views_without_disposition',
  'max_burst_5m',
  'downloads',
  'new_ips',
  'member_repeat',
  'identifier_searches',
  'listed_cases',
  /** Distinct members of the user's unexplained PHI accesses over the last WINDOW_WORKING_DAYS working days. */
  'unexplained_members_window',
] as const;
export type FeatureName = (typeof FEATURES)[number];
export type Features = Record<FeatureName, number>;

/** One access of the day, as the monitor recorded it. */
export interface DayAccess {
  at: Date;
  phi: boolean;
  explanation: string | null;
  action: string;
  caseId: string | null;
  member: string | null;
  ip: string | null;
  identifierSearch: boolean;
  /** Cases a list returned (0 for anything else). */
  returned: number;
}

/** What the user did before the day. */
export interface UserHistory {
  /** PHI accesses per earlier active day (up to 30 days back). */
  priorDailyPhi: readonly number[];
  /** Client address pseudonyms seen in those days. */
  knownIps: ReadonlySet<string>;
  /**
   * Member pseudonyms of the user's unexplained PHI accesses on the WINDOW_WORKING_DAYS - 1
   * working days before the day ({@link windowStart} up to the day, exclusive).
   */
  recentUnexplainedMembers: ReadonlySet<string>;
}

/**
 * The first day of the multi-day window ending on `day` (`YYYY-MM-DD`, UTC): WINDOW_WORKING_DAYS - 1
 * working days (Monday-Friday) before it, so the window holds the day and the working days before.
 */
export function windowStart(day: string): string {
  let t = Date.parse(`${day}T00:00:00Z`);
  for (let n = WINDOW_WORKING_DAYS - 1; n > 0; ) {
    t -= 86_400_000;
    const weekday = new Date(t).getUTCDay();
    if (weekday !== 0 && weekday !== 6) n--;
  }
  return new Date(t).toISOString().slice(0, 10);
}

const BURST_MS = 5 * 60_000;

function offHours(at: Date): boolean {
  const day = at.getUTCDay();
  const hour = at.getUTCHours();
  return day === 0 || day === 6 || hour < WORK_HOURS_UTC.start || hour >= WORK_HOURS_UTC.end;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The features of one user-day. */
export function userDayFeatures(accesses: readonly DayAccess[], history: UserHistory): Features {
  const phi = accesses.filter((a) => a.phi);
  const unexplained = phi.filter((a) => a.explanation === null);
  const members = new Set(phi.map((a) => a.member).filter((m): m is string => m !== null));
  // Views of cases the user neither noted nor disposed that day.
  const worked = new Set(accesses.filter((a) => a.action === 'case.note' || a.action === 'case.dispose').map((a) => a.caseId));
  const viewed = new Set(accesses.filter((a) => a.action === 'case.view' && a.caseId !== null).map((a) => a.caseId));
  const withoutDisposition = [...viewed].filter((c) => !worked.has(c)).length;
  // Most PHI accesses inside any 5-minute window.
  const times = phi.map((a) => a.at.getTime()).sort((a, b) => a - b);
  let burst = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! > BURST_MS) i++;
    burst = Math.max(burst, j - i + 1);
  }
  // One member's distinct cases the user had no case-level reason for (not assigned to them, not
  // their own escalation), beyond the first: oversight and queue work cover a case, not a person.
  const casesByMember = new Map<string, Set<string>>();
  for (const a of phi.filter((x) => x.explanation !== 'E_ASSIGNED' && x.explanation !== 'E_OWN_ESCALATION')) {
    if (a.member === null || a.caseId === null) continue;
    const set = casesByMember.get(a.member) ?? new Set<string>();
    set.add(a.caseId);
    casesByMember.set(a.member, set);
  }
  const memberRepeat = Math.max(0, ...[...casesByMember.values()].map((s) => s.size - 1));
  const ips = new Set(accesses.map((a) => a.ip).filter((ip): ip is string => ip !== null));
  const windowMembers = new Set(history.recentUnexplainedMembers);
  for (const a of unexplained) if (a.member !== null) windowMembers.add(a.member);
  const ownMedian = median(history.priorDailyPhi);
  return {
    phi_accesses: phi.length,
    unexplained: unexplained.length,
    unexplained_share: phi.length === 0 ? 0 : unexplained.length / phi.length,
    distinct_members: members.size,
    volume_vs_own: history.priorDailyPhi.length < 3 ? 1 : (phi.length + 1) / (ownMedian + 1),
    off_hours_share: phi.length === 0 ? 0 : phi.filter((a) => offHours(a.at)).length / phi.length,
    views_without_disposition: withoutDisposition,
    max_burst_5m: burst,
    downloads: accesses.filter((a) => a.action === 'case.attachment.download').length,
    new_ips: history.priorDailyPhi.length < 3 ? 0 : [...ips].filter((ip) => !history.knownIps.has(ip)).length,
    member_repeat: memberRepeat,
    identifier_searches: accesses.filter((a) => a.identifierSearch).length,
    listed_cases: accesses.filter((a) => a.phi && a.action === 'cases.list').reduce((n, a) => n + a.returned, 0),
    unexplained_members_window: windowMembers.size,
  };
}

/**
 * The features the isolation forest reads: one day's behaviour. The window feature feeds a rule
 * reason only (and user-days stored before it existed lack it).
 */
export const DAY_FEATURES: readonly FeatureName[] = FEATURES.filter((name) => name !== 'unexplained_members_window');

/** The vector of a feature record, in DAY_FEATURES order, log-scaled counts (the isolation forest's input). */
export function featureVector(f: Features): number[] {
  return DAY_FEATURES.map((name) => (name.endsWith('_share') || name === 'volume_vs_own' ? f[name] : Math.log1p(f[name])));
}
