import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Root pino logger (JSON to stdout, or to `destination`: see {@link logFileDestination}). Components take a child: `logger.child({ component: 'ingest' })`.
 * Stable keys: claimId, batchId, txHash, correlationId. Log ids only, never claim contents;
 * `redact` is a second line of defence for secrets that might slip into a context object.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'claimtrail' },
    redact: {
      paths: ['privateKey', '*.privateKey', 'signerKey', '*.signerKey', 'password', '*.password', 'databaseUrl', '*.databaseUrl'],
      censor: '[redacted]',
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/**
 * An append-only JSON log file (folders made when missing). Written synchronously, so the lines
 * before a `process.exit` are on disk.
 */
export function logFileDestination(path: string): DestinationStream {
  return pino.destination({ dest: path, mkdir: true, sync: true, append: true });
}
