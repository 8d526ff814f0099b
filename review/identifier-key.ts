import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ReviewConfig } from './config.ts';

/**
 * Where the key of the case identifier index (services/case-identifier-index.ts) comes from.
 * Production passes {@link configIndexKeySource}; the CLI next to the local stack passes the dev
 * source (cli/dev-sources.ts), which falls back to a generated key only for a database on this
 * machine.
 */
export interface IndexKeySource {
  /** The 32-byte HMAC key. @throws ConfigError when none is available. */
  indexKey(log: Logger): Buffer;
}

/**
 * REVIEW_INDEX_KEY or REVIEW_INDEX_KEY_FILE; nothing configured is a configuration error, never a
 * silent default.
 */
export function configIndexKeySource(review: Readonly<ReviewConfig>): IndexKeySource {
  return {
    indexKey() {
      if (review.indexKeyHex) return Buffer.from(review.indexKeyHex, 'hex');
      throw new ConfigError([
        'REVIEW_INDEX_KEY: no case index key configured: set REVIEW_INDEX_KEY (32 bytes, 64 hex digits or base64) or REVIEW_INDEX_KEY_FILE. ' +
          'The generated dev key is used only with CLAIMTRAIL_DEV_KEYS=1 and a database on this machine (the local stack).',
      ]);
    },
  };
}
