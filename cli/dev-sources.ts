import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configRoleKeySource, configSignerSource, type RoleKeySource, type SignerSource } from '../anchoring/chain/signer-source.ts';
import { decodeMasterKey, type Config } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { LocalKeyWrapper } from '../privacy/key-wrapper.ts';
import { configMasterKeySource, type MasterKeySource } from '../privacy/master-key.ts';
import type { ReviewConfig } from '../review/config.ts';
import { configAggregateKeySource, type AggregateKeySource } from '../scoring/aggregate-key.ts';
import { configIndexKeySource, type IndexKeySource } from '../review/identifier-key.ts';
import { DEV_ADMIN_KEY_FILE, DEV_REGISTRAR_KEY_FILE, DEV_SIGNER_KEY_FILE } from '../stack/chain.ts';
import { DEV_MASTER_KEY_FILE, ensureDevMasterKey, isLocalDatabase } from '../stack/dev-master-key.ts';
import { DEV_CHAIN_ID, ensureDevSigner } from '../stack/dev-signer.ts';
import { resolveStateDir } from '../stack/paths.ts';

/**
 * The key sources of commands run next to the local stack. Each is the production source
 * (anchoring/chain/signer-source.ts, privacy/master-key.ts) with one fallback for when nothing is
 * configured: the stack's generated dev key, and only where that key can belong, a dev chain or,
 * for the data keys, the explicit opt-in CLAIMTRAIL_DEV_KEYS=1 (set by `claimtrail start` and the
 * test projects) together with a database on this machine. Anywhere else the production error
 * stands, so a command pointed at real services without keys fails exactly as a production
 * process would (ConfigError, exit 2).
 */

/**
 * True when a data-key source may fall back to a generated dev key: CLAIMTRAIL_DEV_KEYS=1 and a
 * database on this machine. A loopback DATABASE_URL alone is not dev mode: a cloud SQL proxy or
 * pgbouncer in front of production listens on 127.0.0.1 too.
 */
export function devKeysAllowed(config: Readonly<Config>): boolean {
  return config.devKeys && isLocalDatabase(config.database.url);
}

/**
 * SIGNER_PRIVATE_KEY / SIGNER_KEY_FILE when set; otherwise, on the dev chain (id 31337) only, the
 * stack's dev signer (`<state>/chain/dev-signer.key`, created and funded when needed).
 */
export function devSignerSource(config: Readonly<Config>): SignerSource {
  const configured = configSignerSource(config);
  return {
    async signerKey(chainId, log) {
      if (config.chain.signerKey || chainId !== BigInt(DEV_CHAIN_ID)) return configured.signerKey(chainId, log);
      const dev = await ensureDevSigner(join(config.stateDir, DEV_SIGNER_KEY_FILE), config.chain.rpcUrl, DEV_CHAIN_ID, log);
      return readFileSync(dev.keyFile, 'utf8').trim();
    },
  };
}

/**
 * DecisionAnchorV2's admin and registrar keys: on the dev chain (id 31337) only, the stack's dev
 * keys (`<state>/chain/dev-admin.key`, `<state>/chain/dev-registrar.key`, created and funded when
 * needed), so the runtime can deploy a dev contract with three distinct role holders. A configured
 * registrar key (MODEL_REGISTRAR_PRIVATE_KEY / _KEY_FILE) wins; anywhere else the production
 * source stands (no admin key, ever).
 */
export function devRoleKeySource(config: Readonly<Config>): RoleKeySource {
  const configured = configRoleKeySource(config);
  const devKey = async (file: string, log: Parameters<RoleKeySource['adminKey']>[1]) => {
    const dev = await ensureDevSigner(join(config.stateDir, file), config.chain.rpcUrl, DEV_CHAIN_ID, log);
    return readFileSync(dev.keyFile, 'utf8').trim();
  };
  return {
    adminKey: async (chainId, log) => (chainId === BigInt(DEV_CHAIN_ID) ? devKey(DEV_ADMIN_KEY_FILE, log) : configured.adminKey(chainId, log)),
    registrarKey: async (chainId, log) =>
      config.chain.registrarKey || chainId !== BigInt(DEV_CHAIN_ID) ? configured.registrarKey(chainId, log) : devKey(DEV_REGISTRAR_KEY_FILE, log),
  };
}

/**
 * PHI_MASTER_KEY / PHI_MASTER_KEY_FILE when set; otherwise, with CLAIMTRAIL_DEV_KEYS=1 and a
 * database on this machine only ({@link devKeysAllowed}), the stack's dev key
 * (`<state>/privacy/dev-master.key`, created when missing).
 *
 * WARNING: never set CLAIMTRAIL_DEV_KEYS in production. A production process sets
 * PHI_MASTER_KEY_FILE; the `phi_keyring` check (MemberKeyService.open) then refuses any other
 * key, dev key included.
 */
export function devMasterKeySource(config: Readonly<Config>): MasterKeySource {
  const configured = configMasterKeySource(config);
  return {
    keyWrapper(log) {
      if (config.privacy.masterKeyHex || !devKeysAllowed(config)) return configured.keyWrapper(log);
      const keyFile = ensureDevMasterKey(join(resolveStateDir(config.stateDir), DEV_MASTER_KEY_FILE), log);
      const key = decodeMasterKey(readFileSync(keyFile, 'utf8'));
      if (!key) throw new ConfigError([`PHI_MASTER_KEY_FILE: the dev key ${keyFile} does not hold 64 hex digits; delete it only if no data was encrypted with it`]);
      const wrapper = new LocalKeyWrapper(key);
      log.warn({ keyFile, masterKeyId: wrapper.masterKeyId }, 'no PHI master key configured: using the local stack dev key (development only)');
      return wrapper;
    },
  };
}

/** Dev key file of the review app's case identifier index, relative to the state folder. */
export const DEV_INDEX_KEY_FILE = join('review', 'dev-index.key');

/**
 * REVIEW_INDEX_KEY / REVIEW_INDEX_KEY_FILE when set; otherwise, with CLAIMTRAIL_DEV_KEYS=1 and a
 * database on this machine only, a generated dev key (`<state>/review/dev-index.key`, 0600,
 * created when missing). Same WARNING as {@link devMasterKeySource}.
 */
export function devIndexKeySource(config: Readonly<Config>, review: Readonly<ReviewConfig>): IndexKeySource {
  const configured = configIndexKeySource(review);
  return {
    indexKey(log) {
      if (review.indexKeyHex || !devKeysAllowed(config)) return configured.indexKey(log);
      const keyFile = ensureDevMasterKey(join(resolveStateDir(config.stateDir), DEV_INDEX_KEY_FILE), log);
      const key = decodeMasterKey(readFileSync(keyFile, 'utf8'));
      if (!key) throw new ConfigError([`REVIEW_INDEX_KEY_FILE: the dev key ${keyFile} does not hold 64 hex digits; delete it (the index is rebuilt at the next start)`]);
      log.warn({ keyFile }, 'no case index key configured: using the local stack dev key (development only)');
      return key;
    },
  };
}

/** Dev key file of the aggregates' duplicate-key HMAC, relative to the state folder. */
export const DEV_AGGREGATE_KEY_FILE = join('scoring', 'dev-aggregate.key');

/**
 * AGGREGATE_KEY_SECRET / AGGREGATE_KEY_SECRET_FILE when set; otherwise, with CLAIMTRAIL_DEV_KEYS=1
 * and a database on this machine only, a generated dev key (`<state>/scoring/dev-aggregate.key`,
 * 0600, created when missing). Same WARNING as {@link devMasterKeySource}.
 */
export function devAggregateKeySource(config: Readonly<Config>): AggregateKeySource {
  const configured = configAggregateKeySource(config);
  return {
    aggregateKey(log) {
      if (config.aggregates.keySecretHex || !devKeysAllowed(config)) return configured.aggregateKey(log);
      const keyFile = ensureDevMasterKey(join(resolveStateDir(config.stateDir), DEV_AGGREGATE_KEY_FILE), log);
      const key = decodeMasterKey(readFileSync(keyFile, 'utf8'));
      if (!key) throw new ConfigError([`AGGREGATE_KEY_SECRET_FILE: the dev key ${keyFile} does not hold 64 hex digits; delete it (duplicate detection starts afresh)`]);
      return key;
    },
  };
}

/** The dev sources, in the shape the pipeline runtime and the review server take. */
export function devKeySources(config: Readonly<Config>): { signer: SignerSource; masterKey: MasterKeySource; aggregateKey: AggregateKeySource; roles: RoleKeySource } {
  return { signer: devSignerSource(config), masterKey: devMasterKeySource(config), aggregateKey: devAggregateKeySource(config), roles: devRoleKeySource(config) };
}
