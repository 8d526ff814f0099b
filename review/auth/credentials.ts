import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt (node:crypto; no native argon2 here) and random secrets for
 * sessions and API tokens. Only hashes are stored: a password as `scrypt$N$r$p$salt$hash`, a
 * session or token as its sha256 (the secret has 256 bits, so a plain hash is enough).
 */

/** scrypt cost: N = 2^15, r = 8, p = 1 (OWASP's minimum recommendation), 32-byte key. */
const PARAMS = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 };

function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, { ...options, maxmem: 128 * options.N! * options.r! * 2 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Hashes a password with a fresh 16-byte salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, PARAMS.keyLength, { N: PARAMS.N, r: PARAMS.r, p: PARAMS.p });
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('hex'), key.toString('hex')].join('$');
}

/** True when `password` matches `stored` (constant-time compare); false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4]!, 'hex');
  const expected = Buffer.from(parts[5]!, 'hex');
  if (!N || !r || !p || salt.length === 0 || expected.length === 0) return false;
  const key = await scryptAsync(password, salt, expected.length, { N, r, p });
  return timingSafeEqual(key, expected);
}

/** A new secret: `prefix` + 32 random bytes base64url (prefix tells tokens and sessions apart in logs and scanners). */
export function newSecret(prefix: 'ctr_tok_' | 'ctr_ses_'): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** A generated password for a new user: 18 random bytes, base64url (24 characters). */
export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** The stored form of a session or token secret. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
