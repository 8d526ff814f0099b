import kafkajs from 'kafkajs';
import { ClaimtrailError } from '../../core/errors.ts';
import type { Config } from '../../core/config.ts';
import { kafkaConnectionOptions } from './connection-options.ts';

// kafkajs is CommonJS and spreads its error classes into module.exports, which Node's ESM loader
// cannot see as named exports: take them from the default export.
const { Kafka, logLevel, KafkaJSSASLAuthenticationError, KafkaJSConnectionError, KafkaJSProtocolError } = kafkajs;

/**
 * The brokers refused us for a reason retrying cannot fix: SASL credentials or mechanism
 * (`KAFKA_AUTH_FAILED`), or TLS verification either way (`KAFKA_TLS_FAILED`). The message is one
 * line naming the broker, the cause and the variables to check; never the password.
 */
export class KafkaAccessError extends ClaimtrailError {
  readonly broker: string;
  constructor(code: 'KAFKA_AUTH_FAILED' | 'KAFKA_TLS_FAILED', broker: string, message: string, cause: unknown) {
    super(code, message, { cause });
    this.broker = broker;
  }
}

/**
 * Node's certificate verification codes (tls / OpenSSL X509_V_ERR_*), and OpenSSL's handshake
 * alerts (`ERR_SSL_*`: the broker refused our client certificate, or the listener speaks no TLS).
 */
const TLS_VERIFY_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Protocol errors of the SASL handshake that no retry fixes. */
const SASL_PROTOCOL_TYPES = new Set(['UNSUPPORTED_SASL_MECHANISM', 'ILLEGAL_SASL_STATE', 'SASL_AUTHENTICATION_FAILED']);

/** The error and its causes, outermost first (kafkajs wraps retried errors in `cause` / `originalError`). */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  let e: unknown = error;
  while (e !== undefined && e !== null && out.length < 10 && !out.includes(e)) {
    out.push(e);
    const next = e as { cause?: unknown; originalError?: unknown };
    e = next.cause ?? next.originalError;
  }
  return out;
}

/**
 * The {@link KafkaAccessError} an error of a kafkajs connect means, or null when it may pass by
 * itself (refused connection, timeout, broker starting): those stay kafkajs' retries' business.
 */
export function classifyKafkaAccessError(error: unknown, config: Readonly<Config>): KafkaAccessError | null {
  const broker = config.kafka.brokers.join(',');
  for (const e of chain(error)) {
    const protocolType = e instanceof KafkaJSProtocolError ? (e as { type?: string }).type : undefined;
    if (e instanceof KafkaJSSASLAuthenticationError || (protocolType !== undefined && SASL_PROTOCOL_TYPES.has(protocolType))) {
      const sasl = config.kafka.sasl;
      const who = sasl === undefined ? 'no SASL configured' : `${sasl.mechanism}, user ${sasl.username}`;
      return new KafkaAccessError('KAFKA_AUTH_FAILED', broker, `Kafka ${broker} refused SASL authentication (${who}): ${(e as Error).message}; check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD(_FILE)`, error);
    }
    const code = e instanceof KafkaJSConnectionError ? (e as { code?: string }).code : undefined;
    if (code !== undefined && (TLS_VERIFY_CODES.has(code) || code.startsWith('ERR_SSL_'))) {
      const ca = config.kafka.ssl?.ca === undefined ? 'the system CAs' : 'KAFKA_SSL_CA_FILE';
      const hint = code.startsWith('ERR_SSL_')
        ? 'check that the listener speaks TLS and accepts our client certificate (KAFKA_SSL_CERT_FILE / KAFKA_SSL_KEY_FILE)'
        : `the broker's certificate is not trusted by ${ca} or does not name the host; set KAFKA_SSL_CA_FILE to the CA that signed it`;
      return new KafkaAccessError('KAFKA_TLS_FAILED', broker, `TLS to Kafka ${broker} failed (${code}): ${(e as Error).message.replace(/^Connection error: /, '')}; ${hint}`, error);
    }
  }
  return null;
}

/**
 * Connects once (no retries) with the configured TLS and SASL settings and throws a
 * {@link KafkaAccessError} when the brokers refuse us for good. kafkajs treats a certificate
 * failure like a lost connection and retries it for minutes; a refused password it reports at
 * once but wrapped in its retry errors: this turns both into one clear line within seconds. Any
 * other failure (broker down or starting) is left to the callers' own retrying clients.
 */
export async function checkKafkaAccess(config: Readonly<Config>): Promise<void> {
  const kafka = new Kafka({
    ...kafkaConnectionOptions(config, '-access-check'),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    authenticationTimeout: 10_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
  } catch (error) {
    const fatal = classifyKafkaAccessError(error, config);
    if (fatal !== null) throw fatal;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
