import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineRole } from '../../pipeline/runtime.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(REPO_ROOT, 'cli', 'main.ts');

/**
 * One `claimtrail run --roles <role>` child process with its stdout/stderr appended to a log file.
 * The harness kills it with SIGKILL (the fault) or stops it with SIGTERM (the clean end of a trial).
 */
export class PipelineChild {
  readonly role: PipelineRole;
  readonly logFile: string;
  readonly #env: NodeJS.ProcessEnv;
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> = Promise.resolve(null);
  /** Byte length of the log file when the current incarnation started (readiness is searched after it). */
  #logStart = 0;
  /** How many times this role was started (1 + restarts). */
  starts = 0;

  constructor(role: PipelineRole, env: NodeJS.ProcessEnv, logFile: string) {
    this.role = role;
    this.#env = env;
    this.logFile = logFile;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Spawns the process (again); resolves once it logged `pipeline running`, rejects if it exits first. */
  async start(timeoutMs = 90_000): Promise<void> {
    this.#logStart = this.#logLength();
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', CLI, 'run', '--roles', this.role], {
      cwd: REPO_ROOT,
      env: this.#env,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.#child = child;
    this.starts++;
    let exitCode: number | null | undefined;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        exitCode = code;
        resolve(code);
      });
    });
    const deadline = Date.now() + timeoutMs;
    while (!this.#runningLogged()) {
      if (exitCode !== undefined) throw new Error(`${this.role} child exited with ${exitCode} before running; see ${this.logFile}`);
      if (Date.now() > deadline) throw new Error(`${this.role} child not running after ${timeoutMs} ms; see ${this.logFile}`);
      await sleep(100);
    }
  }

  /** kill -9: no shutdown hooks, no flush, in-flight Kafka transaction and chain transaction left as they are. */
  async kill9(): Promise<void> {
    if (!this.#child || this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGKILL');
    await this.#exited;
  }

  /** Graceful stop (SIGTERM), SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** True when the running incarnation is alive. */
  get alive(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  #logLength(): number {
    try {
      return readFileSync(this.logFile).length;
    } catch {
      // No log file yet: the first incarnation starts at byte 0.
      return 0;
    }
  }

  #runningLogged(): boolean {
    return readFileSync(this.logFile).subarray(this.#logStart).includes('"pipeline running"');
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
