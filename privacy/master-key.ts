import type { Pool } from 'pg';
import type { Config } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { LocalKeyWrapper, type KeyWrapper } from './key-wrapper.ts';
import { MemberKeyService, type MemberKeyServiceOptions } from './member-key.service.ts';

/**
 * Where the PHI master key comes from: a source hands out the key wrapper that wraps and unwraps
 * members' data keys. Composition roots choose the source; privacy code only uses it.
 */
export interface MasterKeySource {
  /**
   * The key wrapper over the master key.
   * @throws ConfigError when no master key is available.
   */
  keyWrapper(log: Logger): KeyWrapper;
}

/** The error of a process that has no PHI master key. */
export function masterKeyMissingError(): ConfigError {
  return new ConfigError([
    'PHI_MASTER_KEY: no PHI master key configured: set PHI_MASTER_KEY (32 bytes, 64 hex digits or base64) or PHI_MASTER_KEY_FILE. ' +
      'The generated dev key is used only with CLAIMTRAIL_DEV_KEYS=1 and a database on this machine (the local stack).',
  ]);
}

/**
 * The production master-key source: the configured key (PHI_MASTER_KEY or PHI_MASTER_KEY_FILE,
 * validated when the config was loaded). Without one it throws {@link masterKeyMissingError}.
 */
export function configMasterKeySource(config: Readonly<Config>): MasterKeySource {
  const hex = config.privacy.masterKeyHex;
  return {
    keyWrapper: () => {
      if (!hex) throw masterKeyMissingError();
      return new LocalKeyWrapper(Buffer.from(hex, 'hex'));
    },
  };
}

/** The source's key wrapper + {@link MemberKeyService.open} over a migrated schema. */
export async function openMemberKeys(pool: Pool, keys: MasterKeySource, log: Logger, options: MemberKeyServiceOptions = {}): Promise<MemberKeyService> {
  return MemberKeyService.open(pool, keys.keyWrapper(log), options);
}
