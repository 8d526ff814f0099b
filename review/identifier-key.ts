import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMasterKey, type Config } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { ensureDevMasterKey, isLocalDatabase } from '../stack/dev-master-key.ts';
import { resolveStateDir } from '../stack/paths.ts';
import type { ReviewConfig } from './config.ts';

/** Dev key file of the case identifier index, relative to the state folder. */
export const DEV_INDEX_KEY_FILE = join('review', 'dev-index.key');

/**
 * The key of the case identifier index (services/case-identifier-index.ts), the way
 * privacy/master-key.ts finds the PHI master key: REVIEW_INDEX_KEY or REVIEW_INDEX_KEY_FILE when
 * set; with neither, only a database on this machine — the local stack — may use a generated dev
 * key (`<state>/review/dev-index.key`, 0600, created when missing); anything else is a
 * configuration error, never a silent default.
 *
 * WARNING: as for the PHI master key, "a database on this machine" is the whole test for dev
 * mode: a production database behind a local proxy must set REVIEW_INDEX_KEY_FILE.
 * @throws ConfigError when no key is configured and the database is not local.
 */
export function openIndexKey(config: Readonly<Config>, review: Readonly<ReviewConfig>, log: Logger): Buffer {
  if (review.indexKeyHex) return Buffer.from(review.indexKeyHex, 'hex');
  if (!isLocalDatabase(config.database.url)) {
    throw new ConfigError([
      'REVIEW_INDEX_KEY: no case index key configured: set REVIEW_INDEX_KEY (32 bytes, 64 hex digits or base64) or REVIEW_INDEX_KEY_FILE. ' +
        'The generated dev key is used only with a database on this machine (the local stack).',
    ]);
  }
  const keyFile = ensureDevMasterKey(join(resolveStateDir(config.stateDir), DEV_INDEX_KEY_FILE), log);
  const key = decodeMasterKey(readFileSync(keyFile, 'utf8'));
  if (!key) throw new ConfigError([`REVIEW_INDEX_KEY_FILE: the dev key ${keyFile} does not hold 64 hex digits; delete it (the index is rebuilt at the next start)`]);
  log.warn({ keyFile }, 'no case index key configured: using the local stack dev key (development only)');
  return key;
}
