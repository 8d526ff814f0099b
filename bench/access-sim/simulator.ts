import { Rng } from '../../core/random.ts';
import { ACCESS_EVENT_FORMAT, type AccessEvent } from '../../monitoring/access-event.ts';
import type { AccessPseudonyms } from '../../review/audit/access-pseudonyms.ts';
import { SIM_PARAMS, type ScenarioName } from './params.ts';

/** A simulated review user (the ids are review_users ids created for the run). */
export interface SimUser {
  userId: string;
  role: 'investigator' | 'supervisor';
}

interface SimCase {
  id: string;
  member: string;
  provider: string;
  queue: string;
  status: 'open' | 'assigned' | 'escalated' | 'closed';
  assignee: string | null;
}

/** What a planned action does; resolved against the case state when it runs. */
type ActionKind =
  | 'login' | 'queues' | 'take' | 'viewMine' | 'attachList' | 'attachDownload' | 'note' | 'dispose'
  | 'drill' | 'oversight' | 'list' | 'legitOpen' | 'closedReview' | 'identSearch'
  | 'curious' | 'snoop' | 'bulkList' | 'bulkDownload';

interface Action {
  at: number;
  user: SimUser;
  kind: ActionKind;
  ip: string;
  /** For snooping: the member looked up. */
  member?: string;
}

/** One simulated run: the events in time order and the label of every active user-day. */
export interface Simulation {
  events: AccessEvent[];
  days: string[];
  /** `${userId}:${day}` -> the scenario injected that day, or null (an ordinary day). */
  labels: Map<string, ScenarioName | null>;
}

const P = SIM_PARAMS;
const DAY_MS = 86_400_000;
/** The simulation starts on Monday 2026-01-05 (UTC). */
const START = Date.UTC(2026, 0, 5);

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(0, items.length - 1)]!;
const between = (rng: Rng, [lo, hi]: readonly [number, number]) => rng.int(lo, hi);

/**
 * Simulates investigator and supervisor work over SIM_PARAMS.weeks working weeks with the
 * scenarios injected into random user-days, as the access events the relay would publish (keyed
 * pseudonyms, simulated times). Pure function of the seed and the users.
 */
export function simulate(seed: number, users: readonly SimUser[], source: string, pseudonyms: AccessPseudonyms): Simulation {
  const rng = new Rng(seed);
  const investigators = users.filter((u) => u.role === 'investigator');
  const supervisors = users.filter((u) => u.role === 'supervisor');
  // Members drawn with a skew: a few members have many claims (the ones worth snooping on).
  const member = () => `m${Math.floor(P.members * rng.next() ** 2)}`;
  const cases: SimCase[] = [];
  let caseSeq = 0;
  const newCase = (status: SimCase['status'] = 'open', assignee: string | null = null): SimCase => {
    const c: SimCase = { id: String(++caseSeq), member: member(), provider: `p${rng.int(0, P.providers - 1)}`, queue: pick(rng, P.queues), status, assignee };
    cases.push(c);
    return c;
  };
  for (let i = 0; i < 900; i++) newCase(rng.chance(0.4) ? 'closed' : 'open', null).assignee = null;
  for (const c of cases.filter((x) => x.status === 'closed')) c.assignee = pick(rng, investigators).userId;

  const days: string[] = [];
  for (let w = 0; w < P.weeks; w++) for (let d = 0; d < 5; d++) days.push(new Date(START + (w * 7 + d) * DAY_MS).toISOString().slice(0, 10));

  // Scenario user-days, drawn up front.
  const labels = new Map<string, ScenarioName | null>();
  const scenarioDays: Array<{ user: SimUser; day: string; scenario: ScenarioName }> = [];
  const taken = new Set<string>();
  const claim = (pool: readonly SimUser[], scenario: ScenarioName, dayIndex?: number) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const user = pick(rng, pool);
      const day = days[dayIndex ?? rng.int(3, days.length - 1)]!;
      const key = `${user.userId}:${day}`;
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
      const key = `${user.userId}:${days[first + d]}`;
      if (taken.has(key)) continue;
      taken.add(key);
      scenarioDays.push({ user, day: days[first + d]!, scenario: 'slowDrip' });
    }
  }
  const scenarioOf = new Map(scenarioDays.map((s) => [`${s.user.userId}:${s.day}`, s.scenario]));

  const events: AccessEvent[] = [];
  let auditId = 0;
  const worked = new Map<string, Set<string>>();
  const mine = new Map<string, string[]>();
  const lastViewed = new Map<string, SimCase>();
  let newIpSeq = 0;

  for (const day of days) {
    const dayStart = Date.parse(`${day}T00:00:00Z`);
    for (let i = 0; i < 150; i++) newCase();
    const actions: Action[] = [];
    for (const user of users) {
      const scenario = scenarioOf.get(`${user.userId}:${day}`) ?? null;
      labels.set(`${user.userId}:${day}`, scenario);
      const home = `ip-${user.userId}-${rng.chance(P.pSecondKnownIp) ? 1 : 0}`;
      const start = dayStart + (P.dayStart[0] + rng.next() * (P.dayStart[1] - P.dayStart[0])) * 3_600_000;
      const length = (P.dayLength[0] + rng.next() * (P.dayLength[1] - P.dayLength[0])) * 3_600_000;
      const at = () => start + rng.next() * length;
      const plan = (kind: ActionKind, when = at(), ip = home, extra: Partial<Action> = {}) => actions.push({ at: when, user, kind, ip, ...extra });
      plan('login', start);
      plan('queues', start + 60_000);
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
          // The target: a member with several cases.
          const counts = new Map<string, number>();
          for (const c of cases) counts.set(c.member, (counts.get(c.member) ?? 0) + 1);
          const target = [...counts.entries()].filter(([, n]) => n >= 3).map(([m]) => m);
          const m = target.length > 0 ? pick(rng, target) : member();
          const t = at();
          plan('identSearch', t, home, { member: m });
          for (let k = between(rng, S.oneMemberSnooping.cases); k > 0; k--) plan('snoop', t + k * 40_000, home, { member: m });
          break;
        }
        case 'bulkExport': {
          const t = at();
          const pages = between(rng, S.bulkExport.listPages);
          for (let k = 0; k < pages; k++) plan('bulkList', t + k * 5_000);
          for (let k = between(rng, S.bulkExport.downloads); k > 0; k--) plan('bulkDownload', t + pages * 5_000 + k * 3_000);
          break;
        }
        case 'offHoursSpree': {
          const t = dayStart + 22 * 3_600_000 + rng.next() * 3_600_000;
          for (let k = between(rng, S.offHoursSpree.accesses); k > 0; k--) plan(user.role === 'investigator' ? (k % 3 === 0 ? 'take' : 'viewMine') : 'oversight', t + k * 20_000);
          break;
        }
        case 'sharedAccount': {
          const ips = Array.from({ length: between(rng, S.sharedAccount.newIps) }, () => `ip-new-${seed}-${++newIpSeq}`);
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
    for (const a of actions) {
      const emit = (action: string, c: SimCase | null, detail: AccessEvent['detail'] = {}) => {
        events.push({
          format: ACCESS_EVENT_FORMAT,
          source,
          auditId: String(++auditId),
          at: new Date(Math.floor(a.at)).toISOString().replace('Z', '000Z'),
          user: pseudonyms.of('user', a.user.userId),
          role: a.user.role,
          action,
          targetType: c ? 'case' : null,
          case: c ? { id: c.id, queue: c.queue, assignee: c.assignee ? pseudonyms.of('user', c.assignee) : null, status: c.status, member: pseudonyms.of('member', c.member), provider: pseudonyms.of('provider', c.provider) } : null,
          ip: pseudonyms.of('ip', a.ip),
          detail,
        });
        if (c && action === 'case.view') lastViewed.set(a.user.userId, c);
      };
      const myCases = mine.get(a.user.userId) ?? [];
      const myCase = () => cases.find((c) => c.id === myCases.at(-1) && c.assignee === a.user.userId) ?? null;
      const others = (pred: (c: SimCase) => boolean) => {
        for (let t = 0; t < 50; t++) {
          const c = cases[rng.int(0, cases.length - 1)]!;
          if (pred(c)) return c;
        }
        return null;
      };
      switch (a.kind) {
        case 'login': emit('auth.login', null); break;
        case 'queues': emit('queues.view', null); break;
        case 'take': {
          const c = others((x) => x.status === 'open');
          if (!c) break;
          c.status = 'assigned';
          c.assignee = a.user.userId;
          myCases.push(c.id);
          mine.set(a.user.userId, myCases);
          (worked.get(a.user.userId) ?? worked.set(a.user.userId, new Set()).get(a.user.userId)!).add(c.queue);
          emit('case.take', c, { queue: null });
          break;
        }
        case 'viewMine': { const c = myCase(); if (c) emit('case.view', c); break; }
        case 'attachList': { const c = myCase(); if (c) emit('case.attachment.list', c); break; }
        case 'attachDownload': { const c = myCase(); if (c) emit('case.attachment.download', c); break; }
        case 'note': { const c = myCase(); if (c) emit('case.note', c); break; }
        case 'dispose': {
          const c = myCase();
          if (!c) break;
          const escalate = rng.chance(P.pEscalate);
          c.status = escalate ? 'escalated' : 'closed';
          if (escalate) c.assignee = null;
          emit('case.dispose', c, { disposition: escalate ? 'escalated' : pick(rng, ['confirmed_fraud', 'false_positive', 'needs_information']) });
          break;
        }
        case 'oversight': {
          const c = others((x) => (x.status === 'assigned' && x.assignee !== a.user.userId) || x.status === 'escalated');
          if (c) emit('case.view', c);
          if (c && rng.chance(P.pDrillDown)) {
            const related = others((x) => x.member === c.member && x.id !== c.id);
            if (related) emit('case.view', related);
          }
          break;
        }
        case 'list': emit('cases.list', null, { returned: 50 }); break;
        case 'legitOpen': {
          const w = worked.get(a.user.userId) ?? new Set();
          const c = others((x) => x.status === 'open' && !w.has(x.queue)) ?? others((x) => x.status === 'closed');
          if (c) emit('case.view', c);
          break;
        }
        case 'closedReview': { const c = others((x) => x.status === 'closed' && x.assignee !== a.user.userId); if (c) emit('case.view', c); break; }
        case 'identSearch': {
          const target = a.member ?? others(() => true)?.member;
          const theirs = cases.filter((c) => c.member === target);
          emit('cases.list', null, { returned: theirs.length, identifierSearch: true });
          if (!a.member && theirs[0]) emit('case.view', theirs[0]);
          break;
        }
        case 'snoop': {
          const theirs = cases.filter((c) => c.member === a.member);
          const seen = events.filter((e) => e.user === pseudonyms.of('user', a.user.userId) && e.action === 'case.view').map((e) => e.case?.id);
          const c = theirs.find((x) => !seen.includes(x.id)) ?? theirs[0];
          if (c) emit('case.view', c);
          break;
        }
        case 'curious': { const c = others(() => true); if (c && c.assignee !== a.user.userId) emit('case.view', c); break; }
        case 'bulkList': emit('cases.list', null, { returned: 50 }); break;
        case 'bulkDownload': { const c = others((x) => x.assignee !== a.user.userId); if (c) emit('case.attachment.download', c); break; }
        default: break;
      }
    }
  }
  void lastViewed;
  return { events, days, labels };
}
