import pg from 'pg';

/**
 * A pg Pool whose connections use `schema` as search_path, so tests can run on a fresh schema
 * each and production on `public`. BIGINT columns come back as strings (pg's default): offsets
 * are int64 and must not lose precision.
 */
export function createPool(url: string, schema = 'public', max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, options: `-c search_path=${schema}` });
  // A client erroring (server restart) must not crash the process: the pool reports idle clients'
  // errors as pool 'error' events, and a checked-out client's error (pg-pool stops listening while
  // a client is out, e.g. inside a transaction) also rejects the query in flight, which the caller
  // handles. Without a listener on the client itself Node would throw the 'error' event
  // (seen: the batcher exiting on a PostgreSQL restart, tests/faults restart trials).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export type { Pool, PoolClient } from 'pg';
