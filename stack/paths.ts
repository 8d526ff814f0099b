import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding `stack/`), independent of the working directory. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * Absolute state folder for the local stack. `stateDir` comes from STATE_DIR (default `.state`);
 * a relative value is taken from the repository root, not the working directory, so
 * `stack up` run from a sub-folder finds the same pidfiles as one run from the root.
 */
export function resolveStateDir(stateDir: string): string {
  return isAbsolute(stateDir) ? stateDir : join(REPO_ROOT, stateDir);
}

/** Where one service keeps its files: `<state>/<service>/`, with a pidfile and a daemon log. */
export interface ServicePaths {
  /** `<state>/<service>`; every process we start has this path on its command line. */
  readonly dir: string;
  /** JSON pidfile written by spawnDaemon (see process.ts). */
  readonly pidFile: string;
  /** stdout + stderr of the daemon. */
  readonly logFile: string;
}

export function servicePaths(stateDir: string, service: string): ServicePaths {
  const dir = join(stateDir, service);
  return { dir, pidFile: join(dir, `${service}.pid`), logFile: join(dir, `${service}.log`) };
}
