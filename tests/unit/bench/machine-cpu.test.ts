import { describe, expect, it } from 'vitest';
import { cpuBetween, parsePidStat, parseProcStat, readMachineCpu } from '../../../bench/machine-cpu.ts';
import { machineLine, type SoakSample } from '../../../bench/soak.ts';

describe('machine CPU readings for the soak', () => {
  it('reads busy and total seconds from /proc/stat (idle and iowait are not busy)', () => {
    // user nice system idle iowait irq softirq steal guest guest_nice
    const text = 'cpu  1000 50 300 8000 100 10 40 0 200 0\ncpu0 500 25 150 4000 50 5 20 0 100 0\n';
    expect(parseProcStat(text)).toEqual({ busySeconds: 14, totalSeconds: 95 });
  });

  it('reads the command and user + system time of a process, whatever its name holds', () => {
    const fields = ['S', '1', '2', '3', '0', '-1', '4194560', '100', '0', '0', '0', '250', '130', '0', '0', '20', '0', '1', '0', '100'];
    expect(parsePidStat(`4242 (redis-server) ${fields.join(' ')}`)).toEqual({ command: 'redis-server', cpuSeconds: 3.8, startedSeconds: 1 });
    expect(parsePidStat(`7 (a (b) c) ${fields.join(' ')}`)).toEqual({ command: 'a (b) c', cpuSeconds: 3.8, startedSeconds: 1 });
  });

  it('counts a service over the processes present in both readings', () => {
    const first = { busySeconds: 10, totalSeconds: 100, services: { postgres: { '1': 5, '2': 1 }, redis: { '9': 3 } } };
    const last = { busySeconds: 70, totalSeconds: 220, services: { postgres: { '1': 9, '3': 50 }, redis: { '9': 13 } } };
    expect(cpuBetween(first, last)).toEqual({ busySeconds: 60, totalSeconds: 120, services: { postgres: 4, redis: 10 } });
  });

  it('counts all the CPU of a process that started after the first reading, not of one that was only missed', () => {
    const first = { busySeconds: 10, totalSeconds: 100, services: { postgres: { '1': 5 } }, uptimeSeconds: 1000, startedSeconds: { '1': 10 } };
    // pid 3: a backend opened during the run; pid 4: running before the first reading (its read failed then).
    const last = { busySeconds: 70, totalSeconds: 220, services: { postgres: { '1': 9, '3': 2.5, '4': 40 } }, uptimeSeconds: 1060, startedSeconds: { '1': 10, '3': 1030, '4': 900 } };
    expect(cpuBetween(first, last).services).toEqual({ postgres: 6.5 });
  });

  it('says where the cores went, the rest being what no named process accounts for', () => {
    const sample = (t: number, busy: number, total: number, pg: number, driver: number): SoakSample => ({
      t, phase: 'steady', produced: 0, indexed: 0, batches: 0, anchored: 0, scoringLag: 0, batchingLag: 0, rssMiB: {}, heapMiB: {}, driverRssMiB: 0, load1: 0,
      machineCpu: { busySeconds: busy, totalSeconds: total, services: { postgres: { '1': pg } } }, driverCpuSeconds: driver,
    });
    const line = machineLine(sample(0, 0, 0, 0, 0), sample(60, 108, 120, 12, 6), { scoring: 60, batching: 12 });
    expect(line).toBe('- machine, cores busy on average (of 2): **1.80** = role processes 1.20 + driver 0.10 + postgres 0.20 + rest 0.30 (rest: other work on the machine and processes that came and went)');
  });

  it('reads this machine', () => {
    const reading = readMachineCpu();
    expect(reading.totalSeconds).toBeGreaterThan(reading.busySeconds);
    expect(reading.busySeconds).toBeGreaterThan(0);
  });
});
