import { isIP } from 'node:net';
import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { decodeMasterKey } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';

/**
 * The review app's own settings, read once from the environment next to core/config.ts (which
 * holds the shared database, Kafka and chain settings). Every bad variable is reported together.
 */
export interface ReviewConfig {
  /** Interface to bind. Default 127.0.0.1 (put a TLS-terminating proxy in front in production). */
  host: string;
  /** TCP port. Default 8080. */
  port: number;
  /** Browser session lifetime in hours. Default 12 (one working day). */
  sessionHours: number;
  /**
   * Whether the session cookie is `Secure` (HTTPS only). Default: true unless the app binds a
   * loopback address, where browsers talk plain HTTP to it.
   */
  cookieSecure: boolean;
  /** Send Strict-Transport-Security: true unless the app binds a loopback address (local http). */
  hsts: boolean;
  /**
   * Which proxies' X-Forwarded-For / -Proto / -Host to believe (fastify `trustProxy`), so the
   * audit log and the rate limits see the client's address rather than the proxy's: false
   * (default, direct clients), true (any: only behind a proxy that overwrites the header), a hop
   * count, or a list of proxy addresses / CIDR ranges.
   */
  trustProxy: boolean | number | string[];
  /** Sign-in attempts per client address per minute (429 beyond). Default 20. */
  loginPerIpPerMinute: number;
  /** Sign-in attempts per minute over all addresses (429 beyond). Default 300. */
  loginGlobalPerMinute: number;
  /** Password checks (scrypt) running at once; 16x as many may wait, more get 429. Default 4. */
  loginConcurrency: number;
  /**
   * Key of the case identifier index (HMAC of member ids and NPIs) as 64 hex digits, from
   * REVIEW_INDEX_KEY or REVIEW_INDEX_KEY_FILE; absent when neither is set (only the local stack
   * may then use its dev key, review/identifier-key.ts). A secret: never log it.
   */
  indexKeyHex: string | undefined;
  /** Lifetime of an API token minted without one, in days. Default 30. */
  tokenDefaultDays: number;
  /** Longest lifetime an API token may be minted with, in days. Default 90. */
  tokenMaxDays: number;
  /** Kafka topic the verdicts of dispositions go to. Default `verdicts`. */
  verdictsTopic: string;
  /** Seconds between audit seals (Merkle batch + anchor job). Default 60; 0 disables sealing. */
  auditSealSeconds: number;
  /** Audit entries younger than this many seconds wait for the next seal. Default 30. */
  auditSealMinAgeSeconds: number;
}

const ReviewEnvSchema = z.object({
  REVIEW_HOST: z.string().min(1).default('127.0.0.1'),
  REVIEW_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  REVIEW_SESSION_HOURS: z.coerce.number().min(0.1).max(24 * 30).default(12),
  REVIEW_COOKIE_SECURE: z.enum(['true', 'false']).optional(),
  REVIEW_AUDIT_SEAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  REVIEW_AUDIT_SEAL_MIN_AGE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  REVIEW_TRUST_PROXY: z
    .string()
    .default('false')
    .refine((v) => /^(true|false|\d{1,2})$/.test(v) || v.split(',').every((p) => isIP(p.trim().split('/')[0] ?? '') !== 0), 'false, true, a hop count or a comma-separated list of proxy addresses / CIDR ranges'),
  REVIEW_LOGIN_PER_IP_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(20),
  REVIEW_LOGIN_GLOBAL_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(300),
  REVIEW_LOGIN_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  REVIEW_INDEX_KEY: z.string().refine((s) => decodeMasterKey(s) !== null, 'expected 32 bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)').optional(),
  REVIEW_INDEX_KEY_FILE: z.string().min(1).optional(),
  REVIEW_TOKEN_DEFAULT_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  REVIEW_TOKEN_MAX_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  VERDICTS_TOPIC: z.string().min(1).max(249).regex(/^[A-Za-z0-9._-]+$/, 'Kafka topic name').default('verdicts'),
});

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Parses the review app's variables. @throws ConfigError listing every bad variable. */
export function loadReviewConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ReviewConfig> {
  const parsed = ReviewEnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const e = parsed.data;
  const issues: string[] = [];
  if (e.REVIEW_TOKEN_DEFAULT_DAYS > e.REVIEW_TOKEN_MAX_DAYS) issues.push(`REVIEW_TOKEN_DEFAULT_DAYS: ${e.REVIEW_TOKEN_DEFAULT_DAYS} exceeds REVIEW_TOKEN_MAX_DAYS (${e.REVIEW_TOKEN_MAX_DAYS})`);
  let indexKey = e.REVIEW_INDEX_KEY === undefined ? undefined : (decodeMasterKey(e.REVIEW_INDEX_KEY) ?? undefined);
  if (e.REVIEW_INDEX_KEY !== undefined && e.REVIEW_INDEX_KEY_FILE) {
    issues.push('REVIEW_INDEX_KEY_FILE: set REVIEW_INDEX_KEY or REVIEW_INDEX_KEY_FILE, not both');
  } else if (e.REVIEW_INDEX_KEY_FILE) {
    try {
      indexKey = decodeMasterKey(readFileSync(e.REVIEW_INDEX_KEY_FILE, 'utf8')) ?? undefined;
      if (!indexKey) issues.push(`REVIEW_INDEX_KEY_FILE: ${e.REVIEW_INDEX_KEY_FILE} does not hold 32 bytes as 64 hex digits or base64`);
    } catch (error) {
      issues.push(`REVIEW_INDEX_KEY_FILE: cannot read ${e.REVIEW_INDEX_KEY_FILE} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({
    host: e.REVIEW_HOST,
    port: e.REVIEW_PORT,
    sessionHours: e.REVIEW_SESSION_HOURS,
    cookieSecure: e.REVIEW_COOKIE_SECURE === undefined ? !LOOPBACK.has(e.REVIEW_HOST) : e.REVIEW_COOKIE_SECURE === 'true',
    hsts: !LOOPBACK.has(e.REVIEW_HOST),
    trustProxy: parseTrustProxy(e.REVIEW_TRUST_PROXY),
    loginPerIpPerMinute: e.REVIEW_LOGIN_PER_IP_PER_MINUTE,
    loginGlobalPerMinute: e.REVIEW_LOGIN_GLOBAL_PER_MINUTE,
    loginConcurrency: e.REVIEW_LOGIN_CONCURRENCY,
    indexKeyHex: indexKey?.toString('hex'),
    tokenDefaultDays: e.REVIEW_TOKEN_DEFAULT_DAYS,
    tokenMaxDays: e.REVIEW_TOKEN_MAX_DAYS,
    verdictsTopic: e.VERDICTS_TOPIC,
    auditSealSeconds: e.REVIEW_AUDIT_SEAL_SECONDS,
    auditSealMinAgeSeconds: e.REVIEW_AUDIT_SEAL_MIN_AGE_SECONDS,
  });
}

/** REVIEW_TRUST_PROXY (already validated) as fastify's `trustProxy` option. */
function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((p) => p.trim());
}
