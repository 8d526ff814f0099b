import { createHmac } from 'node:crypto';
import { InvalidArgumentError } from '../../core/errors.ts';

/** What a pseudonym stands for; each kind is hashed under its own label. */
export type PseudonymKind = 'user' | 'member' | 'provider' | 'ip';

/**
 * Keyed pseudonyms (HMAC-SHA256, 64 hex digits) of the people and addresses an access event
 * names: the review user, the member and provider of the case, the client address. The access
 * events topic carries only these, so a consumer can count distinct members or spot a new address
 * without being able to read one; the monitor and the review app's accounting of disclosures
 * compute the same pseudonym from the same key. Domain-separated by kind and versioned
 * (`claimtrail-access-member-v1`), never equal to the case search index's hashes.
 *
 * WARNING: member ids, NPIs and IPv4 addresses are low-entropy: whoever holds the key can test
 * guesses. The key is the review index key (REVIEW_INDEX_KEY), a secret like the PHI master key.
 */
export class AccessPseudonyms {
  readonly #key: Buffer;

  /** @throws InvalidArgumentError for a key shorter than 32 bytes. */
  constructor(key: Buffer) {
    if (key.length < 32) throw new InvalidArgumentError('the access pseudonym key must be at least 32 bytes');
    this.#key = Buffer.from(key);
  }

  /** The pseudonym of `value` as `kind`; the value is trimmed first (ids are compared trimmed everywhere). */
  of(kind: PseudonymKind, value: string): string {
    return createHmac('sha256', this.#key).update(`claimtrail-access-${kind}-v1\u0000${value.trim()}`).digest('hex');
  }

  /** {@link of}, or null for a null value. */
  maybe(kind: PseudonymKind, value: string | null | undefined): string | null {
    return value === null || value === undefined || value.trim() === '' ? null : this.of(kind, value);
  }
}
