import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { InvalidArgumentError } from '../../core/errors.ts';

/**
 * Reads a claim-like table for training: CSV with a header row, or NDJSON (one JSON object per
 * line), chosen by the file extension (`.ndjson` / `.jsonl` are NDJSON, anything else CSV). Cells
 * are kept as read (strings for CSV); the feature spec decides how to interpret them.
 */

/** One table row: column name -> raw cell. */
export type TableRow = Readonly<Record<string, unknown>>;

export interface Table {
  /** Column names in file order (CSV header, or keys of the first NDJSON object). */
  columns: string[];
  rows: TableRow[];
}

/** @throws InvalidArgumentError when the file cannot be read or parsed, or is empty. */
export async function readTable(file: string): Promise<Table> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  const table = /\.(nd)?jsonl?$/i.test(file) && !/\.json$/i.test(file) ? parseNdjson(text, file) : parseCsv(text, file);
  if (table.rows.length === 0) throw new InvalidArgumentError(`${file} holds no data rows`);
  return table;
}

function parseCsv(text: string, file: string): Table {
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  } catch (error) {
    throw new InvalidArgumentError(`${file} is not valid CSV: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return { columns: Object.keys(records[0] ?? {}), rows: records };
}

function parseNdjson(text: string, file: string): Table {
  const rows: TableRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InvalidArgumentError(`${file} line ${i + 1} is not JSON`, { cause: error });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError(`${file} line ${i + 1} is not a JSON object`);
    rows.push(value as TableRow);
  });
  return { columns: Object.keys(rows[0] ?? {}), rows };
}

const POSITIVE = new Set(['1', 'y', 'yes', 'true', 't', 'fraud']);
const NEGATIVE = new Set(['0', 'n', 'no', 'false', 'f', 'legit', 'legitimate']);

/**
 * Binary labels from a column: 1 / Y / yes / true / fraud are positive, 0 / N / no / false
 * negative (case-insensitive; numbers and booleans as such).
 * @throws InvalidArgumentError naming the first rows whose label is missing or not binary.
 */
export function readLabels(rows: readonly TableRow[], column: string): Uint8Array {
  const y = new Uint8Array(rows.length);
  const bad: string[] = [];
  rows.forEach((row, i) => {
    const v = row[column];
    const s = typeof v === 'string' ? v.trim().toLowerCase() : typeof v === 'number' || typeof v === 'boolean' ? String(Number(v)) : '';
    if (POSITIVE.has(s)) y[i] = 1;
    else if (!NEGATIVE.has(s)) bad.push(`row ${i + 1}: ${JSON.stringify(v)}`);
  });
  if (bad.length > 0) throw new InvalidArgumentError(`label column ${column}: ${bad.length} rows without a binary label (${bad.slice(0, 3).join(', ')})`);
  return y;
}
