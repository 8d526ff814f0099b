import { finished } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** A value COPY can carry: text, numbers, null; Buffers go to bytea columns. */
export type CopyValue = string | number | bigint | boolean | Buffer | null | undefined;

/**
 * Bulk insert with `COPY ... FROM STDIN` (`pg-copy-streams`), in PostgreSQL's text format: one
 * round trip and no per-row parameter parsing, against `INSERT ... SELECT FROM unnest(...)` whose
 * array literals cost the client and the server more per value (bench/run.ts "STAGE TIMINGS").
 * Runs on the caller's client, so inside its transaction. COPY has no ON CONFLICT: callers use it
 * where a conflict is an error anyway, or copy into a staging table first.
 * @returns the number of rows copied.
 */
export async function copyRows(client: PoolClient, table: string, columns: readonly string[], rows: Iterable<readonly CopyValue[]>): Promise<number> {
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  const done = finished(stream);
  // Rows are written in chunks of ~256 KiB: one string per row would cost a stream write each.
  let chunk = '';
  let count = 0;
  for (const row of rows) {
    chunk += copyLine(row);
    count++;
    if (chunk.length >= 256 * 1024) {
      if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve));
      chunk = '';
    }
  }
  stream.end(chunk);
  await done;
  return count;
}

/** One row of COPY text format: tab-separated, `\N` for null, newline-terminated. */
export function copyLine(row: readonly CopyValue[]): string {
  let line = '';
  for (let i = 0; i < row.length; i++) {
    if (i > 0) line += '\t';
    line += copyField(row[i]);
  }
  return `${line}\n`;
}

const SPECIAL = /[\\\t\n\r]/;

/** A field in COPY text format (https://www.postgresql.org/docs/current/sql-copy.html, "Text Format"). */
export function copyField(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`COPY: ${value} is not a finite number`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 't' : 'f';
  // bytea in hex form, its backslash escaped for the text format.
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`;
  if (!SPECIAL.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}
