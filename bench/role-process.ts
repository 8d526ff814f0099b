/**
 * Pipeline roles as child processes (`claimtrail run --roles <role>`), the way a deployment runs
 * them: the soak (bench/soak.ts) and the bench's multi-process runs (bench/pipeline-run.ts) start
 * them here. Each child loads a tiny probe that reports its memory and GC pauses from inside;
 * RSS and CPU seconds are read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipelineRoleEnv } from '../stack/child-env.ts';
import { parsePidStat } from './machine-cpu.ts';
import { sleep } from './support.ts';

const REPO_ROOT = join(import.meta.dirname, '..');
const CLI = join(REPO_ROOT, 'cli', 'main.ts');
export type RoleName = 'scoring' | 'batching' | 'anchoring';

/**
 * Runs inside each child: its memoryUsage() and the garbage collector's main-thread pauses so far
 * (performance entries of type `gc`, summed, milliseconds; full mark-compacts also apart) as JSON
 * into $ROLE_PROBE_FILE every second.
 */
const PROBE = `data:text/javascript,${encodeURIComponent(
  "import { renameSync, writeFileSync } from 'node:fs';" +
    "import { PerformanceObserver } from 'node:perf_hooks';" +
    'const f = process.env.ROLE_PROBE_FILE;' +
    'let gcMs = 0; let gcMajorMs = 0;' +
    // detail.kind 4 is a full mark-compact (perf_hooks constants.NODE_PERFORMANCE_GC_MAJOR); the rest are scavenges and incremental steps.
    'if (f) new PerformanceObserver((list) => { for (const e of list.getEntries()) { gcMs += e.duration; if (e.detail?.kind === 4) gcMajorMs += e.duration; } }).observe({ entryTypes: ["gc"] });' +
    // Written aside and renamed: the sampler never reads a half-written file.
    "if (f) setInterval(() => { const m = process.memoryUsage(); writeFileSync(f + '.tmp', JSON.stringify({ at: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, gcMs, gcMajorMs })); renameSync(f + '.tmp', f); }, 1000).unref();",
)}`;

/** One `claimtrail run --roles <role>` child with the memory probe; output appended to a log file. */
export class RoleProcess {
  readonly role: RoleName;
  /** The role, numbered from the second process of a role on: `scoring`, `scoring-2`... */
  readonly name: string;
  readonly probeFile: string;
  readonly logFile: string;
  /** Variables of this process only (a scoring process's own transactional id). */
  readonly #extraEnv: NodeJS.ProcessEnv;
  #child: ChildProcess | undefined;
  #exit: Promise<void> = Promise.resolve();

  constructor(role: RoleName, dir: string, name: string = role, extraEnv: NodeJS.ProcessEnv = {}) {
    this.role = role;
    this.name = name;
    this.#extraEnv = extraEnv;
    this.probeFile = join(dir, `${name}.mem.json`);
    this.logFile = join(dir, `${name}.log`);
  }

  /** Starts the role with these Node / V8 flags ({@link roleNodeFlags}) and waits until it runs. */
  async start(env: NodeJS.ProcessEnv, nodeFlags: readonly string[], timeoutMs = 120_000): Promise<void> {
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', ...nodeFlags, '--import', PROBE, CLI, 'run', '--roles', this.role], {
      cwd: REPO_ROOT,
      // Only the anchoring role gets the signer's key (stack/child-env.ts).
      env: { ...pipelineRoleEnv(this.role, env), ...this.#extraEnv, ROLE_PROBE_FILE: this.probeFile },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.#child = child;
    this.#exit = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    while (!readFileSync(this.logFile, 'utf8').includes('"pipeline running"')) {
      if (!this.alive) throw new Error(`${this.name} exited before running; see ${this.logFile}`);
      if (Date.now() > deadline) throw new Error(`${this.name} not running after ${timeoutMs} ms; see ${this.logFile}`);
      await sleep(200);
    }
  }

  get alive(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** CPU seconds used so far (user + system, from /proc/<pid>/stat), 0 when not running. */
  cpuSeconds(): number {
    if (!this.alive || !this.#child?.pid) return 0;
    try {
      return parsePidStat(readFileSync(`/proc/${this.#child.pid}/stat`, 'utf8')).cpuSeconds;
    } catch {
      return 0;
    }
  }

  /** RSS from /proc (MiB), 0 when not running. */
  rssMiB(): number {
    if (!this.alive || !this.#child?.pid) return 0;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.#child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : 0;
    } catch {
      // The process ended between the alive check and the read.
      return 0;
    }
  }

  /**
   * What the probe last wrote: heapUsed (MiB) and the seconds the garbage collector paused this
   * process's main thread so far (all kinds, and full mark-compacts); zeros before its first write.
   */
  probe(): { heapMiB: number; gcSeconds: { all: number; major: number } } {
    let written: { heapUsed?: number; gcMs?: number; gcMajorMs?: number } = {};
    if (existsSync(this.probeFile)) {
      try {
        written = JSON.parse(readFileSync(this.probeFile, 'utf8')) as typeof written;
      } catch {
        // Read while the probe was rewriting the file (renamed over it): next sample.
      }
    }
    return { heapMiB: (written.heapUsed ?? 0) / 2 ** 20, gcSeconds: { all: (written.gcMs ?? 0) / 1000, major: (written.gcMajorMs ?? 0) / 1000 } };
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || !this.alive) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await this.#exit;
    clearTimeout(timer);
  }
}
