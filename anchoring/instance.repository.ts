import type { Pool } from 'pg';
import { invariant } from '../core/errors.ts';

/**
 * This installation's identity (`claimtrail_instance`, one row made by the migration): the
 * random 32-byte `instanceId` every decision id v2, batch id v2 and epoch id derives from
 * (docs/proof-format-v2.md, "Identifiers"). It never changes once created; read it once per
 * process.
 */
export class InstanceRepository {
  readonly #pool: Pool;
  #instanceId: Promise<string> | undefined;
  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /**
   * `0x` + 64 lowercase hex digits; cached after the first read.
   * @throws InvariantError when the migration's row is missing (the schema is not migrated).
   */
  instanceId(): Promise<string> {
    this.#instanceId ??= this.#pool.query<{ instance_id: string }>('SELECT instance_id FROM claimtrail_instance').then(({ rows }) => {
      invariant(rows.length === 1 && /^0x[0-9a-f]{64}$/.test(rows[0]!.instance_id), 'claimtrail_instance must hold exactly one instance id (run the migrations)');
      return rows[0]!.instance_id;
    });
    this.#instanceId.catch(() => (this.#instanceId = undefined));
    return this.#instanceId;
  }
}
