import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { StackError } from '../core/errors.ts';
import { scrubbedEnv } from './child-env.ts';

/**
 * Process plumbing for the local stack: start a daemon detached with its output in a log file
 * and a pidfile next to it, recognise our own processes again later, wait with deadlines, and
 * stop by pid (SIGTERM, then SIGKILL). Linux-first: /proc is used to tell our daemon from an
 * unrelated process that reused the pid; without /proc a live pid is trusted.
 */

/** Contents of a pidfile (JSON). */
export interface PidRecord {
  readonly pid: number;
  /** The executable and arguments, for humans reading the file. */
  readonly command: string;
  /** ISO time the daemon was spawned. */
  readonly startedAt: string;
}

/** Finds `name` on PATH (or in `extraDirs` first); null when absent or not executable. */
export function findExecutable(name: string, extraDirs: readonly string[] = []): string | null {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here (ENOENT) or not executable: keep looking along PATH.
      continue;
    }
  }
  return null;
}

/**
 * True when `pid` is a live process. A zombie (exited, not yet reaped: common in containers
 * whose PID 1 does not reap) counts as dead, since it holds no port and cannot be stopped.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = readProc(pid, 'stat');
  if (stat === null) return true;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** The NUL-separated command line of `pid` joined with spaces, or null without /proc. */
export function commandLine(pid: number): string | null {
  const raw = readProc(pid, 'cmdline');
  return raw === null ? null : raw.split('\0').filter(Boolean).join(' ');
}

function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    // No /proc (macOS) or the process just went away: callers treat null as "unknown".
    return null;
  }
}

/** Reads a pidfile; null when missing or unreadable (a torn write identifies no process we may signal). */
export function readPidFile(path: string): PidRecord | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const record = JSON.parse(text) as Partial<PidRecord>;
    return Number.isInteger(record.pid) && (record.pid as number) > 0 ? (record as PidRecord) : null;
  } catch {
    return null;
  }
}

/**
 * True when live process `pid` looks like one the stack started under `marker` (the service's
 * state folder): the folder is on its command line or is its working directory. Both are
 * checked because some daemons rewrite their title (redis-server shows only `host:port`), and
 * every daemon we start runs in its state folder. Without /proc the live pid is trusted.
 */
export function isOurProcess(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  const cmdline = commandLine(pid);
  let cwd: string | null = null;
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    // Another user's process, or no /proc: judged by the command line alone.
    cwd = null;
  }
  if (cmdline === null && cwd === null) return true;
  return (cmdline?.includes(marker) ?? false) || (cwd?.startsWith(marker) ?? false);
}

/**
 * The pid in `pidFile` when that process is alive and ours (see {@link isOurProcess}).
 * A stale pidfile (dead or reused pid, torn write) is removed.
 */
export function ownedPid(pidFile: string, marker: string): number | null {
  const record = readPidFile(pidFile);
  if (record !== null && isOurProcess(record.pid, marker)) return record.pid;
  if (existsSync(pidFile)) rmSync(pidFile, { force: true });
  return null;
}

/** How the daemon's process ended, if it did while we were watching. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface DaemonHandle {
  readonly pid: number;
  /** Non-null once the daemon exited (while this process was still alive to see it). */
  exited(): ExitInfo | null;
}

export interface SpawnDaemonOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** Working directory; created when missing. */
  readonly cwd: string;
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  readonly pidFile: string;
  /** Extra environment on top of the allow-listed part of this process's (child-env.ts: no secrets). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Starts a long-running process in its own session (it outlives this one, and a Ctrl-C in the
 * terminal that ran `stack up` does not reach it), stdin closed, output appended to `logFile`,
 * and records it in `pidFile`. Throws StackError when the executable cannot be spawned.
 */
export function spawnDaemon(service: string, options: SpawnDaemonOptions): DaemonHandle {
  mkdirSync(options.cwd, { recursive: true });
  mkdirSync(dirname(options.logFile), { recursive: true });
  rotateIfLarge(options.logFile);
  const out = openSync(options.logFile, 'a');
  let exit: ExitInfo | null = null;
  try {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      // Allow-listed: a daemon outlives this process with its environment in /proc/<pid>/environ.
      env: scrubbedEnv(options.env),
      detached: true,
      stdio: ['ignore', out, out],
    });
    if (child.pid === undefined) {
      throw new StackError(service, `cannot run ${options.command} (not found or not executable)`);
    }
    child.on('exit', (code, signal) => {
      exit = { code, signal };
    });
    // Spawn errors after the pid exists (rare) show up as an exit; keep them off the event loop's unhandled path.
    child.on('error', () => undefined);
    child.unref();
    const record: PidRecord = { pid: child.pid, command: [options.command, ...options.args].join(' '), startedAt: new Date().toISOString() };
    writeFileSync(options.pidFile, `${JSON.stringify(record)}\n`);
    return { pid: child.pid, exited: () => exit };
  } finally {
    closeSync(out);
  }
}

/** Daemon logs only grow while the daemon runs; on each start one over 50 MB becomes `<file>.1`. */
const MAX_LOG_BYTES = 50 * 1024 * 1024;

function rotateIfLarge(logFile: string): void {
  try {
    if (statSync(logFile).size > MAX_LOG_BYTES) renameSync(logFile, `${logFile}.1`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Outcome of {@link waitFor}: the value, or why waiting ended without one. */
export type WaitResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: 'timeout' | 'aborted'; readonly message: string };

export interface WaitOptions {
  /** Give up after this many milliseconds. */
  readonly timeoutMs: number;
  /** Pause between checks, milliseconds (default 250). */
  readonly intervalMs?: number;
  /** Called before each check; a non-null string ends the wait early (e.g. "process exited with code 1"). */
  readonly abortIf?: () => string | null;
}

/**
 * Polls `check` until it returns a value other than undefined, the deadline passes, or
 * `abortIf` says stop. A check that throws counts as "not yet"; its message is kept for the
 * timeout result so the caller can say what was last seen.
 */
export async function waitFor<T>(check: () => Promise<T | undefined>, options: WaitOptions): Promise<WaitResult<T>> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer';
  for (;;) {
    const abort = options.abortIf?.() ?? null;
    if (abort !== null) return { ok: false, reason: 'aborted', message: abort };
    try {
      const value = await check();
      if (value !== undefined) return { ok: true, value };
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) return { ok: false, reason: 'timeout', message: last };
    await sleep(Math.min(options.intervalMs ?? 250, Math.max(0, deadline - Date.now())));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How {@link stopPid} ended the process. */
export type StopOutcome = 'already-gone' | 'terminated' | 'killed';

/**
 * Sends `termSignal` (default SIGTERM) to `pid`, waits up to `termTimeoutMs` for it to exit,
 * then SIGKILL and waits up to 5 s more. Resolves once the pid is verified dead; throws
 * StackError if it survives.
 */
export async function stopPid(service: string, pid: number, termTimeoutMs: number, termSignal: NodeJS.Signals = 'SIGTERM'): Promise<StopOutcome> {
  if (!isAlive(pid)) return 'already-gone';
  signal(pid, termSignal);
  const gone = async () => (isAlive(pid) ? undefined : true);
  if ((await waitFor(gone, { timeoutMs: termTimeoutMs, intervalMs: 100 })).ok) return 'terminated';
  signal(pid, 'SIGKILL');
  if ((await waitFor(gone, { timeoutMs: 5_000, intervalMs: 100 })).ok) return 'killed';
  throw new StackError(service, `pid ${pid} survived SIGKILL; stop it by hand (kill -9 ${pid})`);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    // ESRCH: it exited between the liveness check and the signal, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a short-lived command to completion and captures its output, with the allow-listed
 * environment of child-env.ts plus `options.env` (pg_ctl's environment becomes the PostgreSQL
 * server's). Throws StackError when it
 * cannot be spawned or exceeds `timeoutMs` (it is killed then); a non-zero exit is returned,
 * not thrown, so the caller can word the error.
 */
export function runTool(service: string, command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: scrubbedEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new StackError(service, `${command} ${args.slice(0, 3).join(' ')} did not finish within ${Math.round(options.timeoutMs / 1000)} s`));
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new StackError(service, `cannot run ${command}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last `lines` non-empty lines of a text file (Java stack frames skipped), each indented; '' when it does not exist. */
export function tailFile(path: string, lines = 12): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
  return text
    .split('\n')
    // Java stack frames crowd out the lines that say what happened ("Caused by: ...").
    .filter((l) => l.trim() !== '' && !/^\s+(at |\.\.\. \d+ more)/.test(l))
    .slice(-lines)
    .map((l) => `    ${l}`)
    .join('\n');
}

/** `message`, followed by the tail of each existing log file (kept on separate, indented lines). */
export function withLogTail(message: string, logFiles: readonly string[], lines = 12): string {
  const parts = [message];
  for (const file of logFiles) {
    const tail = tailFile(file, lines);
    if (tail !== '') parts.push(`  last lines of ${file}:\n${tail}`);
  }
  return parts.join('\n');
}
