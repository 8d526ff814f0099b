import { Rng } from '../../core/random.ts';
import { SIM_PARAMS, type ScenarioName } from './params.ts';

/** A simulated review user; the driver creates it (review user `name`) before the run. */
export interface SimUser {
  /** Review user name, e.g. `sim-inv-03`. */
  name: string;
  role: 'investigator' | 'supervisor';
  /** Position in {@link SimPlan.users}; addresses are derived from it. */
  index: number;
}

/** A case of the simulated workload: the claim behind it and where it is routed. */
export interface SimCase {
  /** Position in {@link SimPlan.cases}. */
  index: number;
  /** Member id of the claim (synthetic, e.g. `MS001234`). */
  member: string;
  /** Billing NPI of the claim (synthetic, 10 digits). */
  provider: string;
  /** The queue the claim is routed to (the driver shapes the decision so routing picks it). */
  queue: (typeof SIM_PARAMS.queues)[number];
  /** Decision score, which orders take-next within a queue. */
  score: number;
  /**
   * When the case opens: -1 for the starting pool (opened before the simulated weeks), else the
   * index of the simulated day whose morning it arrives.
   */
  arrives: number;
  /** Part of the starting pool that investigators closed in the prehistory (see {@link SimPlan.prehistory}). */
  closedBefore: boolean;
}

/**
 * What a planned action does; the driver resolves its target against the app's state when it
 * runs and performs it through the review API (bench/access-sim/driver.ts).
 */
export type ActionKind =
  | 'login' | 'queues' | 'take' | 'viewMine' | 'attachList' | 'attachDownload' | 'note' | 'dispose'
  | 'oversight' | 'list' | 'legitOpen' | 'closedReview' | 'identSearch'
  | 'curious' | 'snoop' | 'bulkList' | 'bulkDownload';

/** One planned action of one user at one virtual time. */
export interface Action {
  /** Virtual time, ms since the epoch. */
  at: number;
  user: SimUser;
  kind: ActionKind;
  /** Client address (an IPv4 address: 10.x home / known addresses, 198.51.100.x new ones). */
  ip: string;
  /** Snooping and a member who called in: the member looked up. */
  member?: string;
  /** bulkList: the page. */
  page?: number;
  /** dispose: this disposition rather than one drawn by the driver (the prehistory closes cases). */
  disposition?: 'false_positive';
}

/** One simulated run, planned: users, cases, actions per day and the label of every user-day. */
export interface SimPlan {
  users: SimUser[];
  cases: SimCase[];
  /** The simulated working days, `YYYY-MM-DD` (UTC). */
  days: string[];
  /** The actions of each day, in time order. */
  actions: Action[][];
  /**
   * The prehistory: a working day 35 days before the first simulated day (outside the monitor's
   * 30-day history and queue windows), when investigators closed the starting pool's closed cases.
   */
  prehistory: { day: string; actions: Action[] };
  /** `${userName}:${day}` -> the scenario injected that day, or null (an ordinary day). */
  labels: Map<string, ScenarioName | null>;
}

const P = SIM_PARAMS;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Size of the starting pool and the share of it closed before the simulated weeks. */
const STARTING_POOL = 900;
const STARTING_CLOSED = 0.4;
/** Cases arriving every simulated morning. */
const DAILY_ARRIVALS = 150;

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(0, items.length - 1)]!;
const between = (rng: Rng, [lo, hi]: readonly [number, number]) => rng.int(lo, hi);

/** A user's home address (variant 0) and second known address (variant 1: home office, VPN). */
export function knownIp(user: SimUser, variant: 0 | 1): string {
  return `10.${20 + variant}.${user.index >> 8}.${(user.index & 255) + 1}`;
}

/**
 * The Monday 00:00 UTC three weeks before the Monday of `now`'s week: the simulated weeks end
 * before `now`, so no simulated event is ahead of the monitor's clock.
 */
export function simulationStart(now: Date, weeks = P.weeks): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const monday = midnight - ((now.getUTCDay() + 6) % 7) * DAY_MS;
  return monday - weeks * 7 * DAY_MS;
}

/**
 * Plans investigator and supervisor work over SIM_PARAMS.weeks working weeks from `start` (a
 * Monday, 00:00 UTC) with the scenarios injected into random user-days: the users, the cases and
 * when they arrive, and every user's actions (sign-in, queue, take, views, attachments, notes,
 * dispositions, supervisor oversight and drill-downs, the legitimate unexplained share, and the
 * scenarios' actions). Pure function of the seed and `start`; the targets of actions (which case)
 * are resolved by the driver against the app's state.
 */
export function planSimulation(seed: number, start: number): SimPlan {
  const rng = new Rng(seed);
  const users: SimUser[] = [];
  for (let i = 0; i < P.investigators + P.supervisors; i++) {
    const role = i < P.investigators ? 'investigator' : 'supervisor';
    users.push({ name: `sim-${role.slice(0, 3)}-${String(i).padStart(2, '0')}`, role, index: i });
  }
  const investigators = users.filter((u) => u.role === 'investigator');
  const supervisors = users.filter((u) => u.role === 'supervisor');
  // Members drawn with a skew: a few members have many claims (the ones worth snooping on).
  const member = () => `MS${String(Math.floor(P.members * rng.next() ** 2)).padStart(6, '0')}`;
  const cases: SimCase[] = [];
  const newCase = (arrives: number, closedBefore = false) => {
    cases.push({ index: cases.length, member: member(), provider: `1${String(rng.int(0, P.providers - 1)).padStart(9, '0')}`, queue: pick(rng, P.queues), score: 0.5 + rng.next() * 0.49, arrives, closedBefore });
  };
  for (let i = 0; i < STARTING_POOL; i++) newCase(-1, rng.chance(STARTING_CLOSED));

  const days: string[] = [];
  for (let w = 0; w < P.weeks; w++) for (let d = 0; d < 5; d++) days.push(new Date(start + (w * 7 + d) * DAY_MS).toISOString().slice(0, 10));
  for (let d = 0; d < days.length; d++) for (let i = 0; i < DAILY_ARRIVALS; i++) newCase(d);

  // The prehistory: each investigator signs in and closes their share of the closed pool.
  const prehistoryStart = start - 35 * DAY_MS;
  const prehistory: Action[] = [];
  const closedBefore = cases.filter((c) => c.closedBefore).length;
  investigators.forEach((user, i) => {
    const t = prehistoryStart + 9 * HOUR_MS + i * 60_000;
    prehistory.push({ at: t, user, kind: 'login', ip: knownIp(user, 0) });
    const share = Math.floor(closedBefore / investigators.length) + (i < closedBefore % investigators.length ? 1 : 0);
    for (let k = 0; k < share; k++) {
      const at = t + 30_000 + k * 600_000;
      prehistory.push({ at, user, kind: 'take', ip: knownIp(user, 0) }, { at: at + 300_000, user, kind: 'dispose', ip: knownIp(user, 0), disposition: 'false_positive' });
    }
  });
  prehistory.sort((a, b) => a.at - b.at);

  // Scenario user-days, drawn up front.
  const labels = new Map<string, ScenarioName | null>();
  const scenarioDays: Array<{ user: SimUser; day: string; scenario: ScenarioName }> = [];
  const taken = new Set<string>();
  const claim = (pool: readonly SimUser[], scenario: ScenarioName) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const user = pick(rng, pool);
      const day = days[rng.int(3, days.length - 1)]!;
      const key = `${user.name}:${day}`;
      if (taken.has(key)) continue;
      taken.add(key);
      scenarioDays.push({ user, day, scenario });
      return;
    }
  };
  const S = P.scenarios;
  for (let i = 0; i < S.curiousBrowsing.userDays; i++) claim(supervisors, 'curiousBrowsing');
  for (let i = 0; i < S.oneMemberSnooping.userDays; i++) claim(supervisors, 'oneMemberSnooping');
  for (let i = 0; i < S.bulkExport.userDays; i++) claim(supervisors, 'bulkExport');
  for (let i = 0; i < S.offHoursSpree.userDays; i++) claim(users, 'offHoursSpree');
  for (let i = 0; i < S.sharedAccount.userDays; i++) claim(users, 'sharedAccount');
  for (let u = 0; u < S.slowDrip.users; u++) {
    const user = supervisors[(u * 2 + seed) % supervisors.length]!;
    const first = rng.int(3, days.length - S.slowDrip.days);
    for (let d = 0; d < S.slowDrip.days; d++) {
      const key = `${user.name}:${days[first + d]}`;
      if (taken.has(key)) continue;
      taken.add(key);
      scenarioDays.push({ user, day: days[first + d]!, scenario: 'slowDrip' });
    }
  }
  const scenarioOf = new Map(scenarioDays.map((s) => [`${s.user.name}:${s.day}`, s.scenario]));

  // Members with several cases (the snooping targets), among the cases open by the scenario's day.
  const casesOf = new Map<string, number>();
  const byDay: Action[][] = [];
  let newIpSeq = 0;
  for (const [d, day] of days.entries()) {
    for (const c of cases) if (c.arrives === d || (d === 0 && c.arrives === -1)) casesOf.set(c.member, (casesOf.get(c.member) ?? 0) + 1);
    const dayStart = Date.parse(`${day}T00:00:00Z`);
    const actions: Action[] = [];
    for (const user of users) {
      const scenario = scenarioOf.get(`${user.name}:${day}`) ?? null;
      labels.set(`${user.name}:${day}`, scenario);
      const home = knownIp(user, rng.chance(P.pSecondKnownIp) ? 1 : 0);
      const begin = dayStart + (P.dayStart[0] + rng.next() * (P.dayStart[1] - P.dayStart[0])) * HOUR_MS;
      const length = (P.dayLength[0] + rng.next() * (P.dayLength[1] - P.dayLength[0])) * HOUR_MS;
      const at = () => begin + rng.next() * length;
      const plan = (kind: ActionKind, when = at(), ip = home, extra: Partial<Action> = {}) => actions.push({ at: when, user, kind, ip, ...extra });
      plan('login', begin);
      plan('queues', begin + 60_000);
      const ordinary = (ip: string) => {
        if (user.role === 'investigator') {
          for (let k = between(rng, P.casesPerInvestigatorDay); k > 0; k--) {
            const t = at();
            plan('take', t, ip);
            for (let v = 1 + between(rng, P.extraViews); v > 0; v--) plan('viewMine', t + rng.next() * 1_800_000 + 1000, ip);
            if (rng.chance(P.pAttachmentList)) plan('attachList', t + 2_000_000, ip);
            if (rng.chance(P.pAttachmentDownload)) plan('attachDownload', t + 2_100_000, ip);
            if (rng.chance(P.pNote)) plan('note', t + 2_400_000, ip);
            if (rng.chance(P.pDispose)) plan('dispose', t + 2_700_000, ip);
          }
        } else {
          for (let k = between(rng, P.supervisorOversightViews); k > 0; k--) plan('oversight', at(), ip);
          for (let k = between(rng, P.supervisorLists); k > 0; k--) plan('list', at(), ip);
          for (let k = between(rng, P.supervisorTakes); k > 0; k--) {
            const t = at();
            plan('take', t, ip);
            plan('viewMine', t + 60_000, ip);
            plan('dispose', t + 1_200_000, ip);
          }
          for (let k = between(rng, P.legitUnexplainedViews); k > 0; k--) plan('legitOpen', at(), ip);
          for (let k = between(rng, P.legitClosedReviews); k > 0; k--) plan('closedReview', at(), ip);
          if (rng.chance(P.pLegitIdentifierSearch)) plan('identSearch', at(), ip);
        }
      };
      ordinary(home);
      switch (scenario) {
        case 'curiousBrowsing':
          for (let k = between(rng, S.curiousBrowsing.views); k > 0; k--) plan('curious');
          break;
        case 'oneMemberSnooping': {
          // The target: a member with several cases (any member when none has three yet).
          const targets = [...casesOf.entries()].filter(([, n]) => n >= 3).map(([m]) => m);
          const m = targets.length > 0 ? pick(rng, targets) : member();
          const t = at();
          plan('identSearch', t, home, { member: m });
          for (let k = between(rng, S.oneMemberSnooping.cases); k > 0; k--) plan('snoop', t + k * 40_000, home, { member: m });
          break;
        }
        case 'bulkExport': {
          const t = at();
          const pages = between(rng, S.bulkExport.listPages);
          for (let k = 0; k < pages; k++) plan('bulkList', t + k * 5_000, home, { page: k });
          for (let k = between(rng, S.bulkExport.downloads); k > 0; k--) plan('bulkDownload', t + pages * 5_000 + k * 3_000);
          break;
        }
        case 'offHoursSpree': {
          const t = dayStart + 22 * HOUR_MS + rng.next() * HOUR_MS;
          for (let k = between(rng, S.offHoursSpree.accesses); k > 0; k--) plan(user.role === 'investigator' ? (k % 3 === 0 ? 'take' : 'viewMine') : 'oversight', t + k * 20_000);
          break;
        }
        case 'sharedAccount': {
          const ips = Array.from({ length: between(rng, S.sharedAccount.newIps) }, () => `198.51.100.${++newIpSeq}`);
          const extra = S.sharedAccount.extraVolume[0] + rng.next() * (S.sharedAccount.extraVolume[1] - S.sharedAccount.extraVolume[0]) - 1;
          for (let r = 0; r < Math.max(1, Math.round(extra)); r++) ordinary(pick(rng, ips));
          break;
        }
        case 'slowDrip':
          for (let k = between(rng, S.slowDrip.perDay); k > 0; k--) plan('curious');
          break;
        default:
          break;
      }
    }
    actions.sort((a, b) => a.at - b.at);
    byDay.push(actions);
  }
  return { users, cases, days, actions: byDay, prehistory: { day: new Date(prehistoryStart).toISOString().slice(0, 10), actions: prehistory }, labels };
}
