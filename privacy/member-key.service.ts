import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { KEY_BYTES } from './envelope.ts';
import { PrivacyError } from './errors.ts';
import type { KeyWrapper } from './key-wrapper.ts';
import { LruCache } from './lru-cache.ts';
import { MemberKeyRepository, type StoredDataKey } from './member-key.repository.ts';

/** A member's unwrapped data key. Lives only in memory (the LRU below), never logged. */
export interface DataKey {
  readonly keyId: string;
  readonly key: Buffer;
}

export interface MemberKeyServiceOptions {
  /** Unwrapped keys kept in memory, per index (by member and by key id). Default 10,000 (~1 MiB). */
  cacheSize?: number;
}

/**
 * One data key per member: created on first use, stored wrapped by the {@link KeyWrapper}, kept
 * unwrapped in a bounded LRU. Concurrency-safe across processes: two scoring processes racing to
 * create a member's key both insert with ON CONFLICT DO NOTHING and both read back the winner.
 * Erasure deletes the stored key (privacy/erasure.service.ts); a process still holding it in its
 * cache is caught by the foreign key of `claim_payloads.key_id` and calls {@link forgetMembers}.
 */
export class MemberKeyService {
  readonly #repo: MemberKeyRepository;
  readonly #wrapper: KeyWrapper;
  readonly #byMember: LruCache<string, DataKey>;
  readonly #byKeyId: LruCache<string, DataKey>;

  private constructor(repo: MemberKeyRepository, wrapper: KeyWrapper, options: MemberKeyServiceOptions) {
    this.#repo = repo;
    this.#wrapper = wrapper;
    const size = options.cacheSize ?? 10_000;
    this.#byMember = new LruCache(size);
    this.#byKeyId = new LruCache(size);
  }

  /**
   * Opens the service over a migrated schema. The first process records the master key's
   * fingerprint in `phi_keyring`; later ones must present the same master key.
   * @throws PrivacyError `PHI_MASTER_KEY_MISMATCH` when the database's keys are wrapped with another master key.
   */
  static async open(pool: Pool, wrapper: KeyWrapper, options: MemberKeyServiceOptions = {}): Promise<MemberKeyService> {
    const repo = new MemberKeyRepository(pool);
    const recorded = await repo.claimKeyring(wrapper.kind, wrapper.masterKeyId);
    if (recorded.kms !== wrapper.kind || recorded.masterKeyId !== wrapper.masterKeyId) {
      throw new PrivacyError(
        'PHI_MASTER_KEY_MISMATCH',
        `this database's PHI data keys are wrapped by ${recorded.kms} master key ${recorded.masterKeyId}, but the configured one is ${wrapper.kind} ${wrapper.masterKeyId}: ` +
          'set PHI_MASTER_KEY / PHI_MASTER_KEY_FILE to the key this database was set up with' +
          (wrapper.kind === 'local' ? ' (data of the local stack only: `claimtrail stack reset --yes` starts over)' : ''),
      );
    }
    return new MemberKeyService(repo, wrapper, options);
  }

  /** The key wrapper, for keyed hashes (erasure references). */
  get wrapper(): KeyWrapper {
    return this.#wrapper;
  }

  /** Each member's data key, creating the missing ones. */
  async keysForMembers(memberIds: readonly string[]): Promise<Map<string, DataKey>> {
    const out = new Map<string, DataKey>();
    const missing: string[] = [];
    for (const m of new Set(memberIds)) {
      const cached = this.#byMember.get(m);
      if (cached) out.set(m, cached);
      else missing.push(m);
    }
    if (missing.length === 0) return out;
    let stored = await this.#repo.byMembers(missing);
    const found = new Set(stored.map((s) => s.memberId));
    const created: StoredDataKey[] = [];
    for (const memberId of missing) {
      if (found.has(memberId)) continue;
      const keyId = randomUUID();
      const key = randomBytes(KEY_BYTES);
      created.push({ keyId, memberId, wrappedKey: await this.#wrapper.wrap(key, keyId), kms: this.#wrapper.kind, masterKeyId: this.#wrapper.masterKeyId });
      key.fill(0);
    }
    if (created.length > 0) {
      await this.#repo.insertIfAbsent(created);
      // Read back: where another process won the race, its key is the member's key.
      stored = [...stored, ...(await this.#repo.byMembers(created.map((c) => c.memberId)))];
    }
    for (const s of stored) {
      const dataKey = await this.#unwrap(s);
      this.#byMember.set(s.memberId, dataKey);
      this.#byKeyId.set(s.keyId, dataKey);
      out.set(s.memberId, dataKey);
    }
    return out;
  }

  /** The data key stored under `keyId`; null once it was deleted (the member was erased). */
  async keyById(keyId: string): Promise<DataKey | null> {
    const cached = this.#byKeyId.get(keyId);
    if (cached) return cached;
    const [stored] = await this.#repo.byKeyIds([keyId]);
    if (!stored) return null;
    const dataKey = await this.#unwrap(stored);
    this.#byKeyId.set(keyId, dataKey);
    return dataKey;
  }

  /** Drops members' keys from this process's cache (after an erasure was detected). */
  forgetMembers(memberIds: readonly string[]): void {
    for (const m of memberIds) {
      const k = this.#byMember.get(m);
      this.#byMember.delete(m);
      if (k) this.#byKeyId.delete(k.keyId);
    }
  }

  async #unwrap(s: StoredDataKey): Promise<DataKey> {
    if (s.kms !== this.#wrapper.kind || s.masterKeyId !== this.#wrapper.masterKeyId) {
      throw new PrivacyError('PHI_MASTER_KEY_MISMATCH', `data key ${s.keyId} is wrapped by ${s.kms} master key ${s.masterKeyId}, not the configured ${this.#wrapper.kind} ${this.#wrapper.masterKeyId}`);
    }
    return { keyId: s.keyId, key: await this.#wrapper.unwrap(s.wrappedKey, s.keyId) };
  }
}
