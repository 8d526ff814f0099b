import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Root pino logger (JSON to stdout). Components take a child: `logger.child({ component: 'ingest' })`.
 * Stable keys: claimId, batchId, txHash, correlationId. Log ids only, never claim contents;
 * `redact` is a second line of defence for secrets that might slip into a context object.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'claimtrail' },
    redact: {
      paths: ['privateKey', '*.privateKey', 'signerKey', '*.signerKey', 'password', '*.password', 'databaseUrl', '*.databaseUrl'],
      censor: '[redacted]',
    },
  });
}
