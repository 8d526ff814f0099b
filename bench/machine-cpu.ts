import { readdirSync, readFileSync } from 'node:fs';

/**
 * Where a machine's CPU goes during a run, from /proc (Linux): the whole machine's busy and total
 * time (/proc/stat), and the CPU time of the local services by process name (/proc/<pid>/stat), so
 * a benchmark can say how much of the cores Kafka, PostgreSQL, Redis and the chain took beside
 * claimtrail's own processes.
 */

/** Clock ticks per second of /proc's CPU fields (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The services of the local stack, by the command name /proc reports. */
export const SERVICE_COMMANDS: Readonly<Record<string, string>> = Object.freeze({ java: 'kafka', postgres: 'postgres', 'redis-server': 'redis', anvil: 'anvil' });

export interface MachineCpu {
  /** CPU seconds the machine spent busy (every state but idle and iowait), all cores. */
  busySeconds: number;
  /** CPU seconds in all, all cores (wall seconds x cores). */
  totalSeconds: number;
  /** CPU seconds (user + system) per service, per pid, since each process started. */
  services: Record<string, Record<string, number>>;
  /** Seconds since boot at this reading (/proc/uptime); absent in readings made before it was recorded. */
  uptimeSeconds?: number;
  /** Per pid of `services`, when the process started, seconds since boot. */
  startedSeconds?: Record<string, number>;
}

/** Busy and total CPU seconds from the first line of /proc/stat (`cpu  user nice system idle iowait irq softirq steal ...`). */
export function parseProcStat(text: string): { busySeconds: number; totalSeconds: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no aggregate cpu line in /proc/stat');
  // guest and guest_nice are already counted in user and nice.
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busySeconds: (total - idle) / TICKS_PER_SECOND, totalSeconds: total / TICKS_PER_SECOND };
}

/**
 * Command name, user + system CPU seconds and start time (seconds after boot) from one
 * /proc/<pid>/stat line (the name may hold spaces and parentheses).
 */
export function parsePidStat(text: string): { command: string; cpuSeconds: number; startedSeconds: number } {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  // After the name: state is field 3; utime and stime are fields 14 and 15 (rest[11], rest[12]);
  // starttime is field 22 (rest[19]), in clock ticks after boot.
  return { command: text.slice(open + 1, close), cpuSeconds: (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SECOND, startedSeconds: Number(rest[19]) / TICKS_PER_SECOND };
}

/** A reading of the machine and of every process of the local services. */
export function readMachineCpu(): MachineCpu {
  const uptimeSeconds = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const { busySeconds, totalSeconds } = parseProcStat(readFileSync('/proc/stat', 'utf8'));
  const services: Record<string, Record<string, number>> = {};
  const startedSeconds: Record<string, number> = {};
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = parsePidStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      const service = SERVICE_COMMANDS[stat.command];
      if (service) {
        (services[service] ??= {})[pid] = stat.cpuSeconds;
        startedSeconds[pid] = stat.startedSeconds;
      }
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return { busySeconds, totalSeconds, services, uptimeSeconds, startedSeconds };
}

/**
 * CPU seconds used between two readings: the machine's busy time and cores, and per service the
 * sum over processes present in both, plus all the CPU of processes that started after the first
 * reading (a PostgreSQL backend a pool opened during the run). A process that ended in between is
 * not counted; it shows in the machine's total.
 */
export function cpuBetween(first: MachineCpu, last: MachineCpu): { busySeconds: number; totalSeconds: number; services: Record<string, number> } {
  const services: Record<string, number> = {};
  for (const [service, pids] of Object.entries(last.services)) {
    let used = 0;
    for (const [pid, seconds] of Object.entries(pids)) {
      const before = first.services[service]?.[pid];
      if (before !== undefined) used += seconds - before;
      else if (first.uptimeSeconds !== undefined && (last.startedSeconds?.[pid] ?? -Infinity) >= first.uptimeSeconds) used += seconds;
    }
    services[service] = used;
  }
  return { busySeconds: last.busySeconds - first.busySeconds, totalSeconds: last.totalSeconds - first.totalSeconds, services };
}
