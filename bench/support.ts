import { randomBytes } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { loadConfig, type Config, isolatedEnv } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { deleteConfiguredData } from '../cli/stack-reset.ts';

/**
 * Bench-local copy of tests/support/env.ts's idea (bench must not import tests/): every run gets
 * its own topics, consumer groups, queue name, transactional id and PostgreSQL schema, so a bench
 * never reads another engineer's data, and `cleanupRun` removes all of it afterwards.
 */
export function benchConfig(overrides: Record<string, string> = {}): Readonly<Config> {
  return loadConfig(benchEnv(overrides));
}

/**
 * The environment {@link benchConfig} loads its configuration from: a child process started with
 * it (bench/role-process.ts) loads the same configuration.
 */
export function benchEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const id = `bench_${randomBytes(4).toString('hex')}`;
  return { ...process.env, ...isolatedEnv(id), LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...overrides };
}

/**
 * Deletes a run's topics, consumer groups, PostgreSQL schema, BullMQ queue and entity aggregate
 * keys (a run of 100,000 claims leaves ~300,000 keys in a Redis that others share), as
 * `claimtrail stack reset` does for the installation. Best effort: failures are logged.
 */
export async function cleanupRun(config: Readonly<Config>, log: Logger, extraGroups: readonly string[] = []): Promise<void> {
  for (const step of await deleteConfiguredData(config, log, extraGroups)) {
    if (!step.ok) log.warn({ step: step.step, detail: step.detail }, 'bench: cleaning up the run failed');
  }
}

/** Latency summary in milliseconds. */
export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of `values` (sorted in place). Zeros when empty. */
export function percentiles(values: number[] | Float64Array): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { count: n, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[n - 1]!, mean: sum / n };
}

/** One sample of this process's footprint. */
export interface FootprintSample {
  /** Seconds since the sampler started. */
  t: number;
  rssMb: number;
  heapUsedMb: number;
  /** CPU (user + system) since the previous sample, in percent of ONE core (2 cores = up to 200). */
  cpuPct: number;
}

/** Samples RSS and CPU of this process every `intervalMs` until stopped. */
export class FootprintSampler {
  readonly samples: FootprintSample[] = [];
  readonly #started = performance.now();
  readonly #cpuStart = process.cpuUsage();
  #lastCpu = process.cpuUsage();
  #lastAt = performance.now();
  readonly #timer: NodeJS.Timeout;

  constructor(intervalMs = 1000) {
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    const now = performance.now();
    const cpu = process.cpuUsage(this.#lastCpu);
    const mem = process.memoryUsage();
    const elapsedUs = (now - this.#lastAt) * 1000;
    this.samples.push({
      t: (now - this.#started) / 1000,
      rssMb: mem.rss / 2 ** 20,
      heapUsedMb: mem.heapUsed / 2 ** 20,
      cpuPct: elapsedUs > 0 ? ((cpu.user + cpu.system) / elapsedUs) * 100 : 0,
    });
    this.#lastCpu = process.cpuUsage();
    this.#lastAt = now;
  }

  /** Stops sampling; returns peak RSS and average CPU (percent of one core) over the whole period. */
  stop(): { peakRssMb: number; avgCpuPct: number; cpuSeconds: number; samples: FootprintSample[] } {
    clearInterval(this.#timer);
    this.sample();
    const cpu = process.cpuUsage(this.#cpuStart);
    const seconds = (performance.now() - this.#started) / 1000;
    return {
      peakRssMb: Math.max(...this.samples.map((s) => s.rssMb)),
      avgCpuPct: seconds > 0 ? ((cpu.user + cpu.system) / 1e6 / seconds) * 100 : 0,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      samples: this.samples,
    };
  }
}

/** Progress lines on stderr (stdout stays for the table). */
export function progress(message: string): void {
  const stamp = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[bench ${stamp}] ${message}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `fn` repeatedly for at least `minMs` (and at least once); returns items per second. */
export function rate(items: number, fn: () => void, minMs = 1000): { perSecond: number; runs: number; ms: number } {
  fn(); // warm-up: JIT, caches
  let runs = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    fn();
    runs++;
    elapsed = performance.now() - started;
  } while (elapsed < minMs);
  return { perSecond: (items * runs) / (elapsed / 1000), runs, ms: elapsed };
}

/**
 * Retries `fn` while PostgreSQL migrations of someone else hold node-pg-migrate's lock: that lock
 * is one advisory lock for the whole database, not per schema, so another engineer's test run
 * migrating its own schema makes ours fail with "Another migration is already running".
 */
export async function retryWhileMigrating<T>(what: string, fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || !/Another migration is already running/.test(String((error as Error).message))) throw error;
      progress(`${what}: another migration holds the database-wide lock; retrying (${attempt})`);
      await sleep(500 + Math.random() * 1500);
    }
  }
}

/** Sum over partitions of topic end offset - the group's committed offset (low watermark when none). */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  let lag = 0n;
  for (const end of ends) {
    const c = at.get(end.partition) ?? -1n;
    lag += BigInt(end.high) - (c < 0n ? BigInt(end.low) : c);
  }
  return Number(lag);
}
