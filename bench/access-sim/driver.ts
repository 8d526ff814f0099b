import { Rng } from '../../core/random.ts';
import type { Clock } from '../../review/clock.ts';
import { SIM_PARAMS } from './params.ts';
import type { Action, ActionKind, SimCase } from './simulator.ts';

/** The simulation's virtual clock, injected into the review server (review/clock.ts); the driver sets it before each request. */
export class SimClock implements Clock {
  #ms = 0;
  /** @param ms virtual time, ms since the epoch. */
  set(ms: number): void {
    this.#ms = Math.floor(ms);
  }
  now(): Date {
    return new Date(this.#ms);
  }
}

/** A case as the driver knows it: the simulator's case and what the API last said about it. */
export interface DrivenCase {
  caseId: string;
  sim: SimCase;
  status: 'open' | 'assigned' | 'snoozed' | 'escalated' | 'closed';
  /** Review user id of the assignee, or null. */
  assigneeId: string | null;
  /** The attachment the claim's documents arrived as (bench/access-sim/cases.ts). */
  attachmentId: string;
}

/** A review user the driver signs in as. */
export interface DrivenUser {
  userId: string;
  password: string;
}

export interface SimDriverOptions {
  /** Base URL of the running review server, e.g. http://127.0.0.1:41234. */
  baseUrl: string;
  /** The clock the review server was started with. */
  clock: SimClock;
  /** Seeds the choice of targets (which case a supervisor looks at, which disposition). */
  seed: number;
  /** By review user name. */
  users: ReadonlyMap<string, DrivenUser>;
}

/** What the driver did: requests by status, and planned actions that had no target to act on. */
export interface DriverStats {
  requests: number;
  byStatus: Record<string, number>;
  /** Answers 403 / 404 / 409 by action kind: the app refused the action (nothing is audited for a refusal). */
  refused: Record<string, number>;
  /** Planned actions with nothing to act on (no case of theirs left to view, no open case), by kind. */
  noTarget: Record<string, number>;
  /** Sign-ins the driver added: a session expired or the user came from an address they had no session on. */
  extraLogins: number;
}

const DISPOSITIONS = ['confirmed_fraud', 'false_positive', 'needs_information'] as const;

/**
 * Performs planned actions through the real review HTTP API, as a browser would: sign-in with
 * name and password (session cookie per user and address), then JSON calls with the cookie,
 * `Sec-Fetch-Site: same-origin` on writes, and the simulated client address in
 * `X-Forwarded-For` (the server trusts it from loopback only: REVIEW_TRUST_PROXY=127.0.0.1).
 * Before each request the virtual clock is set to the action's time, so the app records that
 * time. Targets are resolved against the cases as the API last returned them. One request at a
 * time, in time order.
 */
export class SimDriver {
  readonly stats: DriverStats = { requests: 0, byStatus: {}, refused: {}, noTarget: {}, extraLogins: 0 };
  readonly #o: SimDriverOptions;
  readonly #rng: Rng;
  readonly #cases = new Map<string, DrivenCase>();
  /** Case ids by member id. */
  readonly #byMember = new Map<string, string[]>();
  readonly #sessions = new Map<string, string>();
  /** Cases each user took, newest last. */
  readonly #mine = new Map<string, string[]>();
  /** Queues each user took from. */
  readonly #worked = new Map<string, Set<string>>();
  /** Cases each user viewed (snooping goes to the member's next unseen case). */
  readonly #seen = new Map<string, Set<string>>();

  constructor(options: SimDriverOptions) {
    this.#o = options;
    this.#rng = new Rng(options.seed * 7919 + 17);
  }

  /** Registers cases as opened (bench/access-sim/cases.ts). */
  addCases(cases: readonly DrivenCase[]): void {
    for (const c of cases) {
      this.#cases.set(c.caseId, c);
      this.#byMember.set(c.sim.member, [...(this.#byMember.get(c.sim.member) ?? []), c.caseId]);
    }
  }

  /** Performs one action through the API at its virtual time. */
  async perform(a: Action): Promise<void> {
    this.#o.clock.set(a.at);
    const user = this.#user(a);
    const mine = () => {
      const id = this.#mine.get(a.user.name)?.at(-1);
      const c = id === undefined ? undefined : this.#cases.get(id);
      return c && c.assigneeId === user.userId ? c : null;
    };
    // What one disposes: the latest of one's cases still assigned (one never disposes a closed case twice).
    const mineAssigned = () => {
      for (const id of [...(this.#mine.get(a.user.name) ?? [])].reverse()) {
        const c = this.#cases.get(id)!;
        if (c.assigneeId === user.userId && c.status === 'assigned') return c;
      }
      return null;
    };
    const random = (pred: (c: DrivenCase) => boolean): DrivenCase | null => {
      const all = [...this.#cases.values()];
      for (let t = 0; t < 50; t++) {
        const c = all[this.#rng.int(0, all.length - 1)]!;
        if (pred(c)) return c;
      }
      return null;
    };
    const onCase = async (c: DrivenCase | null, fn: (c: DrivenCase) => Promise<unknown>) => (c ? fn(c) : this.#noTarget(a.kind));
    switch (a.kind) {
      case 'login': await this.#login(a); break;
      case 'queues': await this.#call(a, 'GET', '/api/queues'); break;
      case 'take': await this.#take(a, user.userId); break;
      case 'viewMine': await onCase(mine(), (c) => this.#view(a, c)); break;
      case 'attachList': await onCase(mine(), (c) => this.#call(a, 'GET', `/api/cases/${c.caseId}/attachments`)); break;
      case 'attachDownload': await onCase(mine(), (c) => this.#download(a, c)); break;
      case 'note': await onCase(mine(), (c) => this.#call(a, 'POST', `/api/cases/${c.caseId}/notes`, { body: 'reviewed the claim lines and the documents' })); break;
      case 'dispose': await onCase(mineAssigned(), (c) => this.#dispose(a, c)); break;
      case 'oversight': {
        const c = random((x) => (x.status === 'assigned' && x.assigneeId !== user.userId) || x.status === 'escalated');
        if (!c) { this.#noTarget(a.kind); break; }
        const detail = await this.#view(a, c);
        if (detail && this.#rng.chance(SIM_PARAMS.pDrillDown)) {
          // A drill-down: another case of the same member, from the case view's related claims.
          const related = (detail.related as Array<{ relation: string; caseId: string | null }>).find((r) => r.relation !== 'provider' && r.caseId !== null && r.caseId !== c.caseId);
          const next = related?.caseId ? this.#cases.get(related.caseId) : undefined;
          if (next) await this.#view(a, next);
        }
        break;
      }
      case 'list': await this.#call(a, 'GET', '/api/cases?limit=50'); break;
      case 'legitOpen': {
        const worked = this.#worked.get(a.user.name) ?? new Set();
        await onCase(random((x) => x.status === 'open' && !worked.has(x.sim.queue)) ?? random((x) => x.status === 'closed'), (c) => this.#view(a, c));
        break;
      }
      case 'closedReview': await onCase(random((x) => x.status === 'closed' && x.assigneeId !== user.userId), (c) => this.#view(a, c)); break;
      case 'identSearch': {
        const member = a.member ?? random(() => true)?.sim.member;
        if (member === undefined) { this.#noTarget(a.kind); break; }
        const found = await this.#call(a, 'GET', `/api/cases?member=${encodeURIComponent(member)}&limit=50`);
        // A member who called in: the first case found is opened.
        const first = a.member === undefined ? (found?.items as Array<{ caseId: string }> | undefined)?.[0] : undefined;
        if (first) await onCase(this.#cases.get(first.caseId) ?? null, (c) => this.#view(a, c));
        break;
      }
      case 'snoop': {
        const theirs = (this.#byMember.get(a.member ?? '') ?? []).map((id) => this.#cases.get(id)!);
        const seen = this.#seen.get(a.user.name) ?? new Set();
        await onCase(theirs.find((x) => !seen.has(x.caseId)) ?? theirs[0] ?? null, (c) => this.#view(a, c));
        break;
      }
      case 'curious': await onCase(random((x) => x.assigneeId !== user.userId), (c) => this.#view(a, c)); break;
      case 'bulkList': await this.#call(a, 'GET', `/api/cases?limit=50&offset=${(a.page ?? 0) * 50}`); break;
      case 'bulkDownload': await onCase(random((x) => x.assigneeId !== user.userId), (c) => this.#download(a, c)); break;
      default: break;
    }
  }

  #user(a: Action): DrivenUser {
    const user = this.#o.users.get(a.user.name);
    if (!user) throw new Error(`simulated user ${a.user.name} was not created`);
    return user;
  }

  #noTarget(kind: ActionKind): void {
    this.stats.noTarget[kind] = (this.stats.noTarget[kind] ?? 0) + 1;
  }

  async #take(a: Action, userId: string): Promise<void> {
    // A queue at random (the simulator's queues are equally likely), the whole list when it is empty.
    let body = await this.#call(a, 'POST', '/api/cases/take-next', { queue: SIM_PARAMS.queues[this.#rng.int(0, SIM_PARAMS.queues.length - 1)] });
    if (body && body.case === null) body = await this.#call(a, 'POST', '/api/cases/take-next', {});
    const taken = body?.case as { caseId: string; queue: string; status: DrivenCase['status']; assigneeId: string | null } | null | undefined;
    if (!taken) { this.#noTarget(a.kind); return; }
    const c = this.#cases.get(taken.caseId);
    if (!c) throw new Error(`take-next handed out case ${taken.caseId}, which the simulation did not open`);
    c.status = taken.status;
    c.assigneeId = taken.assigneeId ?? userId;
    this.#mine.set(a.user.name, [...(this.#mine.get(a.user.name) ?? []), c.caseId]);
    (this.#worked.get(a.user.name) ?? this.#worked.set(a.user.name, new Set()).get(a.user.name)!).add(taken.queue);
  }

  async #view(a: Action, c: DrivenCase): Promise<Record<string, unknown> | null> {
    const detail = await this.#call(a, 'GET', `/api/cases/${c.caseId}`);
    if (detail) (this.#seen.get(a.user.name) ?? this.#seen.set(a.user.name, new Set()).get(a.user.name)!).add(c.caseId);
    return detail;
  }

  async #download(a: Action, c: DrivenCase): Promise<void> {
    await this.#call(a, 'GET', `/api/cases/${c.caseId}/attachments/${c.attachmentId}`, undefined, false);
  }

  async #dispose(a: Action, c: DrivenCase): Promise<void> {
    const escalate = a.disposition === undefined && this.#rng.chance(SIM_PARAMS.pEscalate);
    const disposition = a.disposition ?? (escalate ? 'escalated' : DISPOSITIONS[this.#rng.int(0, DISPOSITIONS.length - 1)]!);
    const updated = await this.#call(a, 'POST', `/api/cases/${c.caseId}/disposition`, { disposition, note: 'disposition recorded after review' });
    if (updated) {
      c.status = updated.status as DrivenCase['status'];
      c.assigneeId = (updated.assigneeId as string | null) ?? null;
    }
  }

  /** Signs in as the action's user from its address: a fresh session for that user and address. */
  async #login(a: Action): Promise<void> {
    const { password } = this.#user(a);
    const res = await this.#fetch(a, 'POST', '/api/auth/login', { name: a.user.name, password }, null);
    if (res.status !== 200) throw new Error(`sign-in of ${a.user.name} answered ${res.status}: ${await res.text()}`);
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('ctr_session='));
    if (!cookie) throw new Error('sign-in set no ctr_session cookie');
    this.#sessions.set(`${a.user.name}|${a.ip}`, cookie);
    await res.arrayBuffer();
  }

  /**
   * One API call as the action's user from its address. Without a session there (another
   * address, or the day's session expired: 401), signs in first, as a person would. Returns the
   * JSON answer, or null for a refusal (403 / 404 / 409, counted) or a binary body.
   */
  async #call(a: Action, method: string, path: string, body?: unknown, json = true): Promise<Record<string, any> | null> { // eslint-disable-line @typescript-eslint/no-explicit-any -- answers are read field by field
    for (let attempt = 0; ; attempt++) {
      let cookie = this.#sessions.get(`${a.user.name}|${a.ip}`);
      if (cookie === undefined) {
        this.stats.extraLogins++;
        await this.#login(a);
        cookie = this.#sessions.get(`${a.user.name}|${a.ip}`)!;
      }
      const res = await this.#fetch(a, method, path, body, cookie);
      if (res.status === 401 && attempt === 0) {
        await res.arrayBuffer();
        this.#sessions.delete(`${a.user.name}|${a.ip}`);
        continue;
      }
      if (res.status === 403 || res.status === 404 || res.status === 409) {
        this.stats.refused[a.kind] = (this.stats.refused[a.kind] ?? 0) + 1;
        await res.arrayBuffer();
        return null;
      }
      if (res.status !== 200) throw new Error(`${method} ${path.split('?')[0]} as ${a.user.name} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      if (!json) {
        await res.arrayBuffer();
        return null;
      }
      return (await res.json()) as Record<string, unknown>;
    }
  }

  async #fetch(a: Action, method: string, path: string, body: unknown, cookie: string | null): Promise<Response> {
    this.stats.requests++;
    const headers: Record<string, string> = { 'x-forwarded-for': a.ip };
    if (cookie !== null) headers.cookie = cookie;
    if (method !== 'GET') headers['sec-fetch-site'] = 'same-origin';
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.#o.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    this.stats.byStatus[res.status] = (this.stats.byStatus[res.status] ?? 0) + 1;
    return res;
  }
}

