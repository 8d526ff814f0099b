import { accessSync, constants, createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { InvalidArgumentError } from '../core/errors.ts';

/** One claim message as it will be produced: raw bytes and the partition key. */
export interface OutgoingClaim {
  /** Member id when it can be read (keeps one member's claims in order), else null. */
  key: string | null;
  value: Buffer;
}

/** Member id of a JSON claim text, or null when the text is not a JSON object with one. */
export function memberKey(text: string): string | null {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && typeof (value as { memberId?: unknown }).memberId === 'string') return (value as { memberId: string }).memberId;
  } catch {
    // Not JSON: it is still sent as-is, and ingest dead-letters it with the reason.
  }
  return null;
}

/**
 * Claims from an NDJSON file, one per non-empty line, bytes exactly as in the file: the producer
 * does not validate (ingest does, and dead-letters what is wrong).
 */
export async function* readNdjson(path: string): AsyncGenerator<OutgoingClaim> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    yield { key: memberKey(line), value: Buffer.from(line, 'utf8') };
  }
}

const CSV_NUMBER_FIELDS = new Set(['totalCharged', 'totalAllowed', 'totalPaid', 'deductible']);

/**
 * The parser's records; a malformed file (csv-parse's CsvError, e.g. a row with the wrong number
 * of cells) or a read error leaves as InvalidArgumentError naming the file: the input's fault.
 */
async function* csvRecords(parser: AsyncIterable<Record<string, string>>, path: string): AsyncGenerator<Record<string, string>> {
  try {
    for await (const record of parser) yield record;
  } catch (error) {
    if (typeof (error as { code?: unknown }).code === 'string') throw new InvalidArgumentError(`${path}: ${(error as Error).message}`, { cause: error });
    throw error;
  }
}

/**
 * Claims from a CSV file with a header row: one row per claim, columns named like the claim's
 * fields. Two columns carry lists: `diagnosisCodes` (codes separated by `;`) and `lines`
 * (`CODE:UNITS:CHARGED[:SERVICE_DATE]` items separated by `;`). Empty cells are left out.
 * Unknown columns are kept as string fields.
 */
export async function* readCsv(path: string): AsyncGenerator<OutgoingClaim> {
  const parser = parse({ columns: true, skip_empty_lines: true, trim: true });
  // pipe() does not forward a read error (missing file): hand it to the parser, or the loop hangs.
  createReadStream(path).on('error', (error) => parser.destroy(error)).pipe(parser);
  let row = 1;
  for await (const record of csvRecords(parser as AsyncIterable<Record<string, string>>, path)) {
    row++;
    const claim: Record<string, unknown> = {};
    for (const [column, cell] of Object.entries(record)) {
      if (cell === '') continue;
      if (column === 'diagnosisCodes') claim[column] = cell.split(';').map((c) => c.trim()).filter(Boolean);
      else if (column === 'lines') {
        claim[column] = cell.split(';').filter(Boolean).map((item) => {
          const [procedureCode, units, chargedAmount, serviceDate] = item.split(':').map((p) => p.trim());
          return { procedureCode, units: Number(units), chargedAmount: Number(chargedAmount), ...(serviceDate ? { serviceDate } : {}) };
        });
      } else if (CSV_NUMBER_FIELDS.has(column)) claim[column] = Number(cell);
      else claim[column] = cell;
    }
    const text = JSON.stringify(claim);
    yield { key: typeof claim.memberId === 'string' ? claim.memberId : null, value: Buffer.from(text, 'utf8') };
  }
  if (row === 1) throw new InvalidArgumentError(`${path}: CSV has no data rows`);
}

/**
 * Picks the reader by file extension (.ndjson/.jsonl or .csv).
 * @throws InvalidArgumentError when the file cannot be read or its type is unknown (checked now,
 *   before any message is sent).
 */
export function readClaimsFile(path: string): AsyncGenerator<OutgoingClaim> {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new InvalidArgumentError(`cannot read claims file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  // A directory passes the access check and fails only when read (EISDIR, mid-produce).
  if (!statSync(path).isFile()) throw new InvalidArgumentError(`claims file ${path} is not a regular file`);
  if (/\.(nd)?jsonl?$/i.test(path) || /\.ndjson$/i.test(path)) return readNdjson(path);
  if (/\.csv$/i.test(path)) return readCsv(path);
  throw new InvalidArgumentError(`${path}: unknown file type; expected .ndjson, .jsonl or .csv`);
}
