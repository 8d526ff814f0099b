import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import { redactSecretsDeep, redactSecretsInText } from './redact.ts';

export type { Logger };

/** Keys whose values are secrets wherever they appear in a context object. */
const SECRET_KEYS = ['privateKey', 'signerKey', 'masterKeyHex', 'indexKeyHex', 'keySecretHex', 'salt', 'password', 'token', 'authorization', 'cookie', 'databaseUrl'];

/**
 * pino redact paths: each secret key at the top level and one or two objects down
 * (`{ config: { privacy: { masterKeyHex } } }`, `{ req: { headers: { authorization } } }`).
 */
export const REDACT_PATHS: readonly string[] = Object.freeze(SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]));

/**
 * Root pino logger (JSON to stdout, or to `destination`: see {@link logFileDestination}). Components take a child:
 * `logger.child({ component: 'ingest' })`. Stable keys: claimId, batchId, txHash, correlationId.
 * Log ids only, never claim contents; two lines of defence for secrets that might slip in:
 * `redact` censors the values of {@link REDACT_PATHS}, and every message, string field and
 * serialized error has URL credentials and RPC path keys replaced (core/redact.ts), so an RPC
 * URL with an API key, or a DATABASE_URL / REDIS_URL with a password, never reaches a log line.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'claimtrail' },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    // The standard serializer's result has its own prototype: copied to a plain object to be walked.
    serializers: { err: (error: Error) => redactSecretsDeep({ ...(stdSerializers.err(error) as unknown as Record<string, unknown>) }) },
    formatters: { log: (object) => redactSecretsDeep(object) },
    hooks: {
      logMethod(args, method) {
        // Messages and their printf arguments (`log.warn('chain at %s', url)`).
        const clean = args.map((a: unknown) => (typeof a === 'string' ? redactSecretsInText(a) : a));
        method.apply(this, clean as Parameters<typeof method>);
      },
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
