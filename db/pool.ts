import pg from 'pg';

/**
 * A pg Pool whose connections use `schema` as search_path, so tests can run on a fresh schema
 * each and production on `public`. BIGINT columns come back as strings (pg's default): offsets
 * are int64 and must not lose precision.
 */
export function createPool(url: string, schema = 'public', max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, options: `-c search_path=${schema}` });
  // An idle client erroring (server restart) must not crash the process; queries will surface it.
  pool.on('error', () => undefined);
  return pool;
}

export type { Pool, PoolClient } from 'pg';
