import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { decodeMasterKey, type Config } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { DEV_MASTER_KEY_FILE, ensureDevMasterKey, isLocalDatabase } from '../stack/dev-master-key.ts';
import { resolveStateDir } from '../stack/paths.ts';
import { LocalKeyWrapper, type KeyWrapper } from './key-wrapper.ts';
import { MemberKeyService, type MemberKeyServiceOptions } from './member-key.service.ts';

/**
 * The key wrapper of this process: the configured master key (PHI_MASTER_KEY or
 * PHI_MASTER_KEY_FILE, through the PHI_KMS wrapper). With neither set, only a database on this
 * machine — the local stack — may use the stack's dev key (`<state>/privacy/dev-master.key`,
 * created when missing); anything else is a configuration error, never a silent default.
 *
 * WARNING: "a database on this machine" is the whole test for dev mode. A production database
 * reached through a local proxy (pgbouncer on 127.0.0.1) must set PHI_MASTER_KEY_FILE; the
 * `phi_keyring` check (MemberKeyService.open) then refuses any other key, dev key included.
 * @throws ConfigError when no key is configured and the database is not local.
 */
export function openKeyWrapper(config: Readonly<Config>, log: Logger): KeyWrapper {
  if (config.privacy.masterKeyHex) return new LocalKeyWrapper(Buffer.from(config.privacy.masterKeyHex, 'hex'));
  if (!isLocalDatabase(config.database.url)) {
    throw new ConfigError([
      'PHI_MASTER_KEY: no PHI master key configured: set PHI_MASTER_KEY (32 bytes, 64 hex digits or base64) or PHI_MASTER_KEY_FILE. ' +
        'The generated dev key is used only with a database on this machine (the local stack).',
    ]);
  }
  const keyFile = ensureDevMasterKey(join(resolveStateDir(config.stateDir), DEV_MASTER_KEY_FILE), log);
  const key = decodeMasterKey(readFileSync(keyFile, 'utf8'));
  if (!key) throw new ConfigError([`PHI_MASTER_KEY_FILE: the dev key ${keyFile} does not hold 64 hex digits; delete it only if no data was encrypted with it`]);
  const wrapper = new LocalKeyWrapper(key);
  log.warn({ keyFile, masterKeyId: wrapper.masterKeyId }, 'no PHI master key configured: using the local stack dev key (development only)');
  return wrapper;
}

/** {@link openKeyWrapper} + {@link MemberKeyService.open} over a migrated schema. */
export async function openMemberKeys(pool: Pool, config: Readonly<Config>, log: Logger, options: MemberKeyServiceOptions = {}): Promise<MemberKeyService> {
  return MemberKeyService.open(pool, openKeyWrapper(config, log), options);
}
