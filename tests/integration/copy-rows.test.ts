import fc from 'fast-check';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyField, copyRows } from '../../infra/db/copy.ts';
import { createPool } from '../../infra/db/pool.ts';
import { withTransaction } from '../../infra/db/transaction.ts';
import { isolatedConfig, migratedSchema } from '../support/env.ts';

/**
 * COPY text format on real PostgreSQL: whatever a text, number or bytea holds (tabs, newlines,
 * backslashes, \N lookalikes, non-ASCII), it reads back exactly as written, and nulls stay null.
 */
describe('copyRows', () => {
  const config = isolatedConfig();
  let pool: Pool;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    drop = await migratedSchema(config);
    pool = createPool(config.database.url, config.database.schema, 2);
    await pool.query('CREATE TABLE copy_probe (id int PRIMARY KEY, t text, f float8, b bytea, n bigint, j jsonb)');
  });

  afterAll(async () => {
    await pool?.end();
    await drop?.();
  });

  it('round-trips arbitrary text, doubles, bytes and bigints, nulls included', async () => {
    const samples = fc.sample(
      fc.tuple(
        fc.option(fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replaceAll('\u0000', ''))),
        fc.option(fc.double({ noNaN: true, noDefaultInfinity: true })),
        fc.option(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b))),
        fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      ),
      { numRuns: 300, seed: 42 },
    );
    const fixed: Array<[string | null, number | null, Buffer | null, bigint | null]> = [
      ['\\N', 0, Buffer.alloc(0), 0n],
      ['tab\there\nnew\rline\\back', -0.1, Buffer.from([0, 92, 9, 10]), -1n],
      ['ünïcödé ✓ 𝔘', 1e-300, null, null],
    ];
    const rows = [...fixed, ...samples];
    await withTransaction(pool, (client) => copyRows(client, 'copy_probe', ['id', 't', 'f', 'b', 'n', 'j'], rows.map((r, i) => [i, r[0], r[1], r[2], r[3], JSON.stringify({ i, t: r[0] })])));
    const { rows: back } = await pool.query<{ id: number; t: string | null; f: number | null; b: Buffer | null; n: string | null; j: { i: number; t: string | null } }>('SELECT id, t, f, b, n::text, j FROM copy_probe ORDER BY id');
    expect(back).toHaveLength(rows.length);
    back.forEach((b, i) => {
      const [t, f, bytes, n] = rows[i]!;
      expect(b.t).toBe(t);
      expect(b.f).toBe(f === null ? null : f === 0 ? 0 : f); // -0 reads back as 0 or -0: both equal 0
      expect(b.b === null ? null : Buffer.from(b.b)).toEqual(bytes);
      expect(b.n).toBe(n === null ? null : n.toString());
      expect(b.j).toEqual({ i, t });
    });
  });

  it('refuses a non-finite number instead of writing a text PostgreSQL would read differently', () => {
    expect(() => copyField(Number.NaN)).toThrow(RangeError);
    expect(() => copyField(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});
