import { describe, expect, it } from 'vitest';
import { SIM_PARAMS, TUNING_SEEDS } from '../../../bench/access-sim/params.ts';
import { planSimulation, simulationStart } from '../../../bench/access-sim/simulator.ts';

/** The access-monitoring simulator's plan (bench/access-sim/simulator.ts): pure, seeded, inside the frozen parameters. */
describe('access simulator plan', () => {
  const now = new Date('2026-12-06T01:00:00Z'); // a Sunday
  const start = simulationStart(now);

  it('starts on the Monday three weeks before the run\'s week, so the simulated weeks end before now', () => {
    expect(new Date(start).toISOString()).toBe('2026-11-09T00:00:00.000Z');
    expect(new Date(simulationStart(new Date('2026-11-30T06:00:00Z'))).toISOString()).toBe('2026-11-09T00:00:00.000Z'); // a Monday
    const plan = planSimulation(TUNING_SEEDS[0]!, start);
    const last = Math.max(...plan.actions.flat().map((a) => a.at));
    expect(last).toBeLessThan(now.getTime());
  });

  it('is a pure function of the seed and the start', () => {
    const a = planSimulation(1, start);
    const b = planSimulation(1, start);
    expect(JSON.stringify(a.actions)).toBe(JSON.stringify(b.actions));
    expect([...a.labels]).toEqual([...b.labels]);
    expect(JSON.stringify(planSimulation(2, start).actions)).not.toBe(JSON.stringify(a.actions));
  });

  it('plans working days only, every user every day, and the scenarios the frozen parameters ask for', () => {
    const plan = planSimulation(1, start);
    expect(plan.users).toHaveLength(SIM_PARAMS.investigators + SIM_PARAMS.supervisors);
    expect(plan.days).toHaveLength(SIM_PARAMS.weeks * 5);
    for (const day of plan.days) expect([1, 2, 3, 4, 5]).toContain(new Date(`${day}T00:00:00Z`).getUTCDay());
    expect(plan.labels.size).toBe(plan.users.length * plan.days.length);
    const count = (s: string) => [...plan.labels.values()].filter((v) => v === s).length;
    expect(count('curiousBrowsing')).toBe(SIM_PARAMS.scenarios.curiousBrowsing.userDays);
    expect(count('bulkExport')).toBe(SIM_PARAMS.scenarios.bulkExport.userDays);
    // Every day's actions are in time order, each user signs in first.
    for (const actions of plan.actions) {
      expect(actions.map((a) => a.at)).toEqual([...actions.map((a) => a.at)].sort((x, y) => x - y));
      for (const u of plan.users) expect(actions.find((a) => a.user.name === u.name)?.kind).toBe('login');
    }
    // The prehistory lies outside the monitor's 30-day windows.
    expect(Date.parse(`${plan.days[0]}T00:00:00Z`) - Date.parse(`${plan.prehistory.day}T00:00:00Z`)).toBe(35 * 86_400_000);
    expect(plan.prehistory.actions.filter((a) => a.kind === 'dispose')).toHaveLength(plan.cases.filter((c) => c.closedBefore).length);
  });
});
