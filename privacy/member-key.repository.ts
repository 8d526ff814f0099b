import type { Pool } from 'pg';

/** One stored data key: the wrapped bytes only, never the key itself. */
export interface StoredDataKey {
  keyId: string;
  memberId: string;
  wrappedKey: Buffer;
  kms: string;
  masterKeyId: string;
}

/** All SQL over `member_data_keys` and `phi_keyring` (migration 1732900000000_phi-encryption.sql). */
export class MemberKeyRepository {
  readonly #pool: Pool;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /**
   * Records which master key this database's data keys are wrapped with (the first caller wins)
   * and returns the recorded one, so a process with another master key can refuse to start.
   */
  async claimKeyring(kms: string, masterKeyId: string): Promise<{ kms: string; masterKeyId: string }> {
    await this.#pool.query('INSERT INTO phi_keyring (kms, master_key_id) VALUES ($1, $2) ON CONFLICT (singleton) DO NOTHING', [kms, masterKeyId]);
    const { rows } = await this.#pool.query<{ kms: string; master_key_id: string }>('SELECT kms, master_key_id FROM phi_keyring');
    return { kms: rows[0]!.kms, masterKeyId: rows[0]!.master_key_id };
  }

  async byMembers(memberIds: readonly string[]): Promise<StoredDataKey[]> {
    const { rows } = await this.#pool.query<KeyRow>(`SELECT ${COLUMNS} FROM member_data_keys WHERE member_id = ANY($1::text[])`, [memberIds]);
    return rows.map(toStored);
  }

  async byKeyIds(keyIds: readonly string[]): Promise<StoredDataKey[]> {
    const { rows } = await this.#pool.query<KeyRow>(`SELECT ${COLUMNS} FROM member_data_keys WHERE key_id = ANY($1::uuid[])`, [keyIds]);
    return rows.map(toStored);
  }

  /**
   * Inserts new keys; a member that got a key meanwhile (another scoring process won the race)
   * keeps that one: read back with {@link byMembers}.
   */
  async insertIfAbsent(keys: readonly StoredDataKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#pool.query(
      `INSERT INTO member_data_keys (key_id, member_id, wrapped_key, kms, master_key_id)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::text[], $5::text[])
       ON CONFLICT (member_id) DO NOTHING`,
      [keys.map((k) => k.keyId), keys.map((k) => k.memberId), keys.map((k) => k.wrappedKey), keys.map((k) => k.kms), keys.map((k) => k.masterKeyId)],
    );
  }
}

const COLUMNS = 'key_id::text, member_id, wrapped_key, kms, master_key_id';
interface KeyRow {
  key_id: string;
  member_id: string;
  wrapped_key: Buffer;
  kms: string;
  master_key_id: string;
}
function toStored(r: KeyRow): StoredDataKey {
  return { keyId: r.key_id, memberId: r.member_id, wrappedKey: r.wrapped_key, kms: r.kms, masterKeyId: r.master_key_id };
}
