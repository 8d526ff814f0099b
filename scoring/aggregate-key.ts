import type { Config } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

/**
 * Where the HMAC key of the entity aggregates' duplicate-claim keys comes from
 * (scoring/aggregates.ts: `<prefix>:dup:<HMAC of member, provider, codes, dates>` and the
 * member's index `<prefix>:md:<HMAC of member>`). Without the key, a duplicate key's name can
 * neither be guessed from a claim nor tied to a member. Composition roots choose the source:
 * production the configured key ({@link configAggregateKeySource}), commands next to the local
 * stack the dev source (cli/dev-sources.ts).
 *
 * Changing the key starts duplicate detection afresh: claims seen under the old key are not
 * found under the new names (the old keys expire after AGGREGATE_TTL_DAYS).
 */
export interface AggregateKeySource {
  /** The 32-byte HMAC key. @throws ConfigError when none is available. */
  aggregateKey(log: Logger): Buffer;
}

/** AGGREGATE_KEY_SECRET or AGGREGATE_KEY_SECRET_FILE; nothing configured is a ConfigError, never a default. */
export function configAggregateKeySource(config: Readonly<Config>): AggregateKeySource {
  return {
    aggregateKey() {
      const hex = config.aggregates.keySecretHex;
      if (hex) return Buffer.from(hex, 'hex');
      throw new ConfigError([
        'AGGREGATE_KEY_SECRET: no aggregate key configured: set AGGREGATE_KEY_SECRET (32 bytes, 64 hex digits or base64) or AGGREGATE_KEY_SECRET_FILE. ' +
          'The generated dev key is used only with CLAIMTRAIL_DEV_KEYS=1 and a database on this machine (the local stack).',
      ]);
    },
  };
}
