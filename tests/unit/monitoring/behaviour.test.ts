import { describe, expect, it } from 'vitest';
import { Rng } from '../../../core/random.ts';
import { type DayAccess, userDayFeatures, WINDOW_WORKING_DAYS, windowStart } from '../../../monitoring/behaviour-features.ts';
import { scoreUserDays, SCORER_THRESHOLDS, type UserDay } from '../../../monitoring/behaviour-scorer.ts';
import { IsolationForest } from '../../../monitoring/isolation-forest.ts';

describe('IsolationForest', () => {
  const rng = new Rng(7);
  const inliers = Array.from({ length: 300 }, () => [rng.normal(), rng.normal(), rng.normal()]);
  const outliers = [[6, 6, 6], [-7, 0, 5], [0, 9, 0]];

  it('scores planted outliers above every inlier, deterministically for a seed', () => {
    const forest = IsolationForest.fit([...inliers, ...outliers], { seed: 3 });
    const inlierScores = inliers.map((p) => forest.score(p));
    const outlierScores = outliers.map((p) => forest.score(p));
    expect(Math.min(...outlierScores)).toBeGreaterThan(Math.max(...inlierScores.slice().sort((a, b) => a - b).slice(0, 295)));
    expect(Math.min(...outlierScores)).toBeGreaterThan(0.6);
    expect(inlierScores.reduce((a, b) => a + b, 0) / inlierScores.length).toBeLessThan(0.5);
    const again = IsolationForest.fit([...inliers, ...outliers], { seed: 3 });
    expect(outliers.map((p) => again.score(p))).toEqual(outlierScores);
  });

  it('refuses empty, ragged or non-finite input', () => {
    expect(() => IsolationForest.fit([], { seed: 1 })).toThrow(/at least one point/);
    expect(() => IsolationForest.fit([[1, 2], [1]], { seed: 1 })).toThrow(/features/);
    expect(() => IsolationForest.fit([[1, Number.NaN]], { seed: 1 })).toThrow(/finite/);
    expect(() => IsolationForest.fit([[1, 2]], { seed: 1 }).score([1])).toThrow(/expected 2/);
  });
});

const at = (h: number, m = 0) => new Date(Date.UTC(2026, 11, 2, h, m)); // a Wednesday
const view = (h: number, m: number, caseId: string, member: string, explanation: string | null, extra: Partial<DayAccess> = {}): DayAccess =>
  ({ at: at(h, m), phi: true, explanation, action: 'case.view', caseId, member, ip: 'ip-1', identifierSearch: false, returned: 0, ...extra });

describe('userDayFeatures', () => {
  it('counts unexplained accesses, one member across unrelated cases, off hours, bursts and new addresses', () => {
    const day: DayAccess[] = [
      view(9, 0, '1', 'm1', 'E_ASSIGNED'),
      { ...view(9, 5, '1', 'm1', 'E_ASSIGNED'), action: 'case.dispose' },
      view(22, 0, '2', 'm9', null),
      view(22, 1, '3', 'm9', null),
      view(22, 2, '4', 'm9', null, { ip: 'ip-new' }),
      { ...view(10, 0, '5', 'm5', 'E_ASSIGNED'), action: 'case.attachment.download' },
    ];
    const f = userDayFeatures(day, { priorDailyPhi: [5, 6, 4, 5], knownIps: new Set(['ip-1']), recentUnexplainedMembers: new Set() });
    expect(f).toMatchObject({ phi_accesses: 6, unexplained: 3, unexplained_share: 0.5, distinct_members: 3, member_repeat: 2, views_without_disposition: 3, max_burst_5m: 3, downloads: 1, new_ips: 1, off_hours_share: 0.5 });
    expect(f.volume_vs_own).toBeCloseTo(7 / 6);
  });

  it('counts the distinct members of unexplained accesses over the working-day window, earlier days included', () => {
    const day = [view(10, 0, '7', 'm7', null), view(11, 0, '8', 'm2', null), view(12, 0, '9', 'm3', 'E_OVERSIGHT')];
    const f = userDayFeatures(day, { priorDailyPhi: [], knownIps: new Set(), recentUnexplainedMembers: new Set(['m1', 'm2']) });
    // m1 and m2 from earlier days, m7 today (m2 again today counts once, m3 was explained).
    expect(f.unexplained_members_window).toBe(3);
    expect(f.unexplained).toBe(2);
  });

  it('starts the window four working days back, skipping the weekend', () => {
    expect(WINDOW_WORKING_DAYS).toBe(5);
    expect(windowStart('2026-12-04')).toBe('2026-11-30'); // Friday: Monday to Friday
    expect(windowStart('2026-12-02')).toBe('2026-11-26'); // Wednesday: from the Thursday before
    expect(windowStart('2026-12-07')).toBe('2026-12-01'); // Monday: from the Tuesday before
  });

  it('does not judge new addresses or volume without three earlier days', () => {
    const f = userDayFeatures([view(9, 0, '1', 'm1', 'E_ASSIGNED', { ip: 'ip-x' })], { priorDailyPhi: [3], knownIps: new Set(), recentUnexplainedMembers: new Set() });
    expect(f.new_ips).toBe(0);
    expect(f.volume_vs_own).toBe(1);
  });
});

describe('scoreUserDays', () => {
  const ordinary = (userId: string, phi: number): UserDay => ({
    userId, role: 'supervisor', day: '2026-12-02',
    features: { phi_accesses: phi, unexplained: 0, unexplained_share: 0, distinct_members: phi, volume_vs_own: 1, off_hours_share: 0, views_without_disposition: 2, max_burst_5m: 3, downloads: 0, new_ips: 0, member_repeat: 0, identifier_searches: 0, listed_cases: 20, unexplained_members_window: 0 },
  });

  it('alerts a snooping day with its reasons and leaves ordinary days under the threshold', () => {
    const peers = ['1', '2', '3', '4', '5', '6'].map((u, i) => ordinary(u, 20 + i));
    const snoop: UserDay = { ...ordinary('9', 24), features: { ...ordinary('9', 24).features, unexplained: 6, unexplained_share: 0.25, member_repeat: 4, distinct_members: 19 } };
    const history = Array.from({ length: 40 }, (_, i) => ({ ...ordinary(String(i % 6), 18 + (i % 7)), day: '2026-11-30' }));
    const scored = scoreUserDays([...peers, snoop], history);
    const s = scored.find((d) => d.userId === '9')!;
    expect(s.score).toBeGreaterThanOrEqual(SCORER_THRESHOLDS.alert);
    expect(s.reasons.map((r) => r.code).slice(0, 2)).toEqual(['A_MEMBER_REPEAT', 'A_UNEXPLAINED']);
    for (const p of scored.filter((d) => d.userId !== '9')) expect(p.score).toBeLessThan(SCORER_THRESHOLDS.alert);
  });

  it('alerts a slow drip: many members of unexplained accesses over the working-day window against role peers, while the drip runs', () => {
    const withWindow = (u: string, window: number, unexplained: number): UserDay => {
      const d = ordinary(u, 22);
      return { ...d, features: { ...d.features, unexplained, unexplained_share: unexplained / 22, unexplained_members_window: window } };
    };
    const peers = [18, 20, 21, 22, 23, 24].map((w, i) => withWindow(String(i + 1), w, 3));
    const scored = scoreUserDays([...peers, withWindow('7', 34, 4), withWindow('8', 34, 2)], []);
    const drip = scored.find((d) => d.userId === '7')!;
    expect(drip.reasons[0]).toMatchObject({ code: 'A_UNEXPLAINED_WINDOW', value: 34 });
    expect(drip.score).toBeGreaterThanOrEqual(SCORER_THRESHOLDS.alert);
    // The same window with fewer unexplained accesses today: the drip has stopped, no reason.
    expect(scored.find((d) => d.userId === '8')!.reasons.map((r) => r.code)).not.toContain('A_UNEXPLAINED_WINDOW');
    for (const p of scored.filter((d) => Number(d.userId) <= 6)) expect(p.reasons.map((r) => r.code)).not.toContain('A_UNEXPLAINED_WINDOW');
  });

  it('reads user-days stored before the window feature existed as a window of 0', () => {
    const legacy = ['1', '2', '3'].map((u) => {
      const { unexplained_members_window: _dropped, ...features } = ordinary(u, 20).features;
      return { ...ordinary(u, 20), features: features as UserDay['features'] };
    });
    const scored = scoreUserDays(legacy, legacy.map((d) => ({ ...d, day: '2026-11-30' })));
    expect(scored.every((d) => Number.isFinite(d.score) && !d.reasons.some((r) => r.code === 'A_UNEXPLAINED_WINDOW'))).toBe(true);
  });

  it('flags a bulk export spree against role peers', () => {
    const peers = ['1', '2', '3', '4'].map((u, i) => ordinary(u, 20 + i));
    const bulk: UserDay = { ...ordinary('8', 400), features: { ...ordinary('8', 400).features, listed_cases: 2500, max_burst_5m: 120 } };
    const s = scoreUserDays([...peers, bulk], []).find((d) => d.userId === '8')!;
    expect(s.reasons.map((r) => r.code)).toEqual(expect.arrayContaining(['A_BULK', 'A_BURST', 'A_PEER_DEVIATION']));
    expect(s.score).toBeGreaterThanOrEqual(SCORER_THRESHOLDS.alert);
  });
});
