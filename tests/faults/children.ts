import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineRole } from '../../pipeline/runtime.ts';
import { pipelineRoleEnv } from '../../stack/child-env.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(REPO_ROOT, 'cli', 'main.ts');

/** What a child runs when it is not a pipeline role: `args` after `cli/main.ts`, ready once `readyText` is in its output. */
export interface ChildCommand {
  args: readonly string[];
  readyText: string;
}

/**
 * One `claimtrail run --roles <role>` child process (or another long-running `claimtrail`
 * command, e.g. `review serve`) with its stdout/stderr appended to a log file.
 * The harness kills it with SIGKILL (the fault) or stops it with SIGTERM (the clean end of a trial).
 */
export class PipelineChild {
  readonly role: PipelineRole | 'review';
  readonly logFile: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #command: ChildCommand;
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> = Promise.resolve(null);
  /** Byte length of the log file when the current incarnation started (readiness is searched after it). */
  #logStart = 0;
  /** How many times this role was started (1 + restarts). */
  starts = 0;
  /** How the last incarnation ended (`code 1`, `SIGKILL`), undefined while none has. */
  lastExit: string | undefined;

  constructor(role: PipelineRole | 'review', env: NodeJS.ProcessEnv, logFile: string, command?: ChildCommand) {
    this.role = role;
    this.#env = env;
    this.logFile = logFile;
    this.#command = command ?? { args: ['run', '--roles', role], readyText: '"pipeline running"' };
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Spawns the process (again); resolves once it logged `pipeline running` (or its `readyText`), rejects if it exits first. */
  async start(timeoutMs = 90_000): Promise<void> {
    this.#logStart = this.#logLength();
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', CLI, ...this.#command.args], {
      cwd: REPO_ROOT,
      // Only the anchoring role gets the signer's key (stack/child-env.ts).
      env: pipelineRoleEnv(this.role, this.#env),
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.#child = child;
    this.starts++;
    let exitCode: number | null | undefined;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exitCode = code;
        this.lastExit = signal ?? `code ${code}`;
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
    return readFileSync(this.logFile).subarray(this.#logStart).includes(this.#command.readyText);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One exit of a child that the harness did not ask for. */
export interface SelfExit {
  role: PipelineChild['role'];
  /** `code 1`, `SIGABRT`... */
  how: string;
  /** Milliseconds after the supervisor started. */
  atMs: number;
}

/**
 * Restarts children that exit on their own, one second after the exit (what systemd's
 * `Restart=on-failure`, `RestartSec=1` or a Kubernetes pod restart does), and records every such
 * exit. Used in service-restart trials: a process that gives up while its database or broker is
 * down is restarted without a manual step, and the table counts how often that happened.
 * Never use it together with harness kills of the same children (it would race their restart).
 */
export class Supervisor {
  readonly exits: SelfExit[] = [];
  readonly #children: readonly PipelineChild[];
  readonly #t0 = Date.now();
  readonly #restarting = new Set<PipelineChild>();
  #timer: NodeJS.Timeout | undefined;

  constructor(children: readonly PipelineChild[]) {
    this.#children = children;
  }

  start(): void {
    this.#timer = setInterval(() => {
      for (const child of this.#children) {
        if (child.alive || this.#restarting.has(child)) continue;
        this.exits.push({ role: child.role, how: child.lastExit ?? 'unknown', atMs: Date.now() - this.#t0 });
        this.#restarting.add(child);
        // A start that fails (the service still down) leaves the child dead: the next tick restarts it again.
        void sleep(1000)
          .then(() => child.start())
          .catch(() => undefined)
          .finally(() => this.#restarting.delete(child));
      }
    }, 200);
  }

  /** Stops supervising and waits for a restart in progress to end. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#restarting.size > 0) await sleep(100);
  }
}
