import type { AccessPseudonyms } from '../review/audit/access-pseudonyms.ts';
import type { AccessRecordRepository, DirectoryUser } from './access-record.repository.ts';

/**
 * Review users by their access pseudonym. An unknown pseudonym reloads the users once (a user
 * created since the last load), at most every `reloadMs`, so a flood of forged pseudonyms cannot
 * turn into a flood of queries.
 */
export class UserDirectory {
  readonly #records: AccessRecordRepository;
  readonly #pseudonyms: AccessPseudonyms;
  readonly #reloadMs: number;
  #byPseudonym = new Map<string, DirectoryUser>();
  #loadedAt = Number.NEGATIVE_INFINITY;

  constructor(records: AccessRecordRepository, pseudonyms: AccessPseudonyms, reloadMs = 5000) {
    this.#records = records;
    this.#pseudonyms = pseudonyms;
    this.#reloadMs = reloadMs;
  }

  /** The user behind `pseudonym`, or undefined when no review user has it. */
  async lookup(pseudonym: string): Promise<DirectoryUser | undefined> {
    const known = this.#byPseudonym.get(pseudonym);
    if (known || performance.now() - this.#loadedAt < this.#reloadMs) return known;
    await this.reload();
    return this.#byPseudonym.get(pseudonym);
  }

  async reload(): Promise<void> {
    const users = await this.#records.users();
    this.#byPseudonym = new Map(users.map((u) => [this.#pseudonyms.of('user', u.userId), u]));
    this.#loadedAt = performance.now();
  }
}
