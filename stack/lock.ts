import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from '../core/errors.ts';
import { isAlive, sleep } from './process.ts';

/**
 * One `stack up` / `stack down` at a time per state folder: several engineers (and the test
 * suite's global setup) share one machine, and two concurrent `up`s would both start a Kafka.
 * The lock is a file created with O_EXCL holding the owner's pid; a lock whose owner died is
 * taken over.
 */

/** Default wait for another holder: a cold Kafka start (Maven download + boot) fits in it. */
export const DEFAULT_LOCK_WAIT_MS = 6 * 60_000;

export async function withStackLock<T>(stateDir: string, fn: () => Promise<T>, waitMs = DEFAULT_LOCK_WAIT_MS): Promise<T> {
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, 'stack.lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readOwner(path);
    // An empty lock is either being written right now or was left by a crash mid-write.
    if ((owner === null && lockAgeMs(path) > 5_000) || (owner !== null && !isAlive(owner))) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new StackError('stack', `another stack up/down (pid ${owner ?? 'unknown'}) still holds ${path} after ${Math.round(waitMs / 1000)} s; wait for it or stop it`);
    }
    await sleep(500);
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

function lockAgeMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Number.POSITIVE_INFINITY;
    throw error;
  }
}

function readOwner(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
