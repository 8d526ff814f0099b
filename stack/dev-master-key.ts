import { chmodSync, existsSync, linkSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Logger } from '../core/logger.ts';

/**
 * The development PHI master key of the local stack, the counterpart of dev-signer.ts: claimtrail
 * has no default keys (core/config.ts), so `stack up` (and a pipeline on a database of this
 * machine, wired in by cli/dev-sources.ts) writes a fresh random 32-byte key, hex, to
 * `<state>/privacy/dev-master.key` (mode 0600) the first time and reuses it afterwards.
 *
 * WARNING: a development key for development data. Losing the file makes every payload encrypted
 * under it unreadable (which is what erasure means, not what a reset of `.state` should do to
 * real data); production sets PHI_MASTER_KEY or PHI_MASTER_KEY_FILE from a secret store.
 */

/** Key file of the dev master key, relative to the state folder. */
export const DEV_MASTER_KEY_FILE = join('privacy', 'dev-master.key');

/**
 * Creates the key file when missing and returns its path. Safe when several processes start at
 * once: the key is written to a private temporary file and hard-linked into place, so a reader
 * never sees a partial file and the first writer wins.
 */
export function ensureDevMasterKey(keyFile: string, log: Logger): string {
  if (existsSync(keyFile)) {
    chmodSync(keyFile, 0o600);
    return keyFile;
  }
  mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
  const temp = `${keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, keyFile);
    log.info({ keyFile }, 'wrote a new dev PHI master key');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temp);
  }
  chmodSync(keyFile, 0o600);
  return keyFile;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '']);

/** True when `host` (a URL's hostname, `[::1]` form included) names this machine. */
export function isLoopbackHost(host: string): boolean {
  return host !== '' && LOOPBACK_HOSTS.has(host);
}

/** True when a PostgreSQL URL points at this machine (loopback host or a Unix socket). */
export function isLocalDatabase(databaseUrl: string): boolean {
  const url = new URL(databaseUrl);
  const socketHost = url.searchParams.get('host');
  return LOOPBACK_HOSTS.has(url.hostname) && (socketHost === null || socketHost.startsWith('/'));
}
