import { createHmac } from 'node:crypto';
import { InvalidArgumentError } from '../../core/errors.ts';
import { secretKeyObject } from '../../core/secret-key-cache.ts';
import type { CaseIndexRepository } from '../repositories/case-index.repository.ts';
import { casePriority } from './queue-routing.ts';

/** Rows hashed per round trip when filling the index. */
const BATCH = 500;

/**
 * Keyed-hash (HMAC-SHA256) search index of the member id and billing NPI of cases, so the case
 * filters never compare clear identifiers in SQL and a copy of the table (a backup, a replica, a
 * SQL console) cannot be searched for a person without the key. Values are domain-separated by
 * kind and versioned (`claimtrail-case-member-v1`); the key id (an HMAC of a fixed label) tells
 * which key a row was hashed under, so a new key re-hashes every row at the next start.
 *
 * WARNING: member ids and NPIs are low-entropy; whoever holds the key can test guesses. The key
 * is a secret like the PHI master key: REVIEW_INDEX_KEY / REVIEW_INDEX_KEY_FILE from a secret
 * store in production (review/identifier-key.ts).
 */
export class CaseIdentifierIndex {
  readonly #key: Buffer;
  readonly #repo: CaseIndexRepository;
  /** Id of the key (16 hex digits), stored with every hashed row. */
  readonly keyId: string;

  /** @throws InvalidArgumentError for a key shorter than 32 bytes. */
  constructor(key: Buffer, repo: CaseIndexRepository) {
    if (key.length < 32) throw new InvalidArgumentError('the case index key must be at least 32 bytes');
    this.#key = Buffer.from(key);
    this.#repo = repo;
    this.keyId = createHmac('sha256', secretKeyObject(this.#key)).update('claimtrail-case-index-key-id').digest('hex').slice(0, 16);
  }

  /** The keyed hash of a member id as stored in `cases.member_hmac` (hex). */
  memberHash(memberId: string): string {
    return this.#hash('member', memberId.trim());
  }

  /** The keyed hash of an NPI as stored in `cases.provider_hmac` (hex). */
  providerHash(npi: string): string {
    return this.#hash('provider', npi.trim());
  }

  /**
   * Hashes every case not hashed yet (and, with `rehash`, every case hashed under another key).
   * Run at start (with `rehash`) and before each identifier search, so cases opened since are
   * found. The identifiers hashed are those of the case's `claim_payloads` row (lookup columns
   * `member_id` / `provider_npi`), never `cases`' own columns; a case opened by an older release
   * that still holds a clear member id, NPI or amount is hashed again and those columns are set
   * to NULL (its score x amount priority becomes score x amount band). Idempotent: a hashed,
   * cleared case is not read again. @returns the number of cases hashed.
   */
  async fill(options: { rehash?: boolean } = {}): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await this.#repo.unindexed(this.keyId, BATCH, options.rehash ?? false);
      if (rows.length === 0) return total;
      await this.#repo.setHashes(
        rows.map((r) => ({
          caseId: r.caseId,
          memberHmac: r.memberId === null ? null : this.memberHash(r.memberId),
          providerHmac: r.providerNpi === null ? null : this.providerHash(r.providerNpi),
          priority: r.legacyAmount === null ? null : casePriority(r.score, Number(r.legacyAmount)),
        })),
        this.keyId,
      );
      total += rows.length;
      if (rows.length < BATCH) return total;
    }
  }

  #hash(kind: 'member' | 'provider', value: string): string {
    return createHmac('sha256', secretKeyObject(this.#key)).update(`claimtrail-case-${kind}-v1\u0000${value}`).digest('hex');
  }
}
