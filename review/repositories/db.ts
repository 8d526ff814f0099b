import type { Pool, PoolClient } from 'pg';

/** A pool or a client inside a transaction: repositories accept either. */
export type Queryable = Pool | PoolClient;

export { withTransaction } from '../../infra/db/transaction.ts';
