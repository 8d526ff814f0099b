import { accessSync, constants, createReadStream, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import { InvalidArgumentError } from '../core/errors.ts';
import type { Claim, FieldError } from '../domain/claim.schema.ts';
import { decodeClaim, type DlqReason } from './claim-decoder.ts';

/** One claim message as it will be produced: raw bytes and the partition key. */
export interface OutgoingClaim {
  /** Member id when it can be read (keeps one member's claims in order), else null. */
  key: string | null;
  value: Buffer;
  /** 1-based line of the file it came from (NDJSON line, or CSV row counting the header). */
  line?: number;
  /** Extra headers (e.g. `content-type` of an insurer format, DLQ headers of a rejected envelope). */
  headers?: Record<string, string>;
  /** Where it goes: the claims topic (default), the DLQ (rejected before it was a claim) or the acks topic. */
  route?: 'claims' | 'dlq' | 'acks';
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
 * Claims from an NDJSON file, one per non-empty line, bytes exactly as in the file (lines are
 * split on the byte 0x0A, a trailing CR dropped, nothing decoded): the producer does not validate,
 * so a line that is not UTF-8 or too large reaches ingest as it is and is dead-lettered there with
 * the reason.
 */
export async function* readNdjson(path: string): AsyncGenerator<OutgoingClaim> {
  let line = 0;
  for await (const bytes of byteLines(path)) {
    line++;
    if (bytes.toString('latin1').trim() === '') continue;
    yield { key: memberKey(bytes.toString('utf8')), value: bytes, line };
  }
}

/** The file's lines as raw bytes, without the line break. */
async function* byteLines(path: string): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a)) {
      yield withoutCr(data.subarray(0, nl));
      data = data.subarray(nl + 1);
    }
    rest = Buffer.from(data);
  }
  if (rest.length > 0) yield withoutCr(rest);
}

function withoutCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
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
    yield { key: typeof claim.memberId === 'string' ? claim.memberId : null, value: Buffer.from(text, 'utf8'), line: row };
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

/** A record of a claims file that is not a valid claim, with the reason ingest would give. */
export interface RejectedClaim {
  /** 1-based line (NDJSON) or row (CSV, counting the header). */
  line: number;
  reason: DlqReason;
  errors: FieldError[];
}

/**
 * Reads a claims file (NDJSON or CSV) for offline use (training, evaluation) with exactly the
 * checks the scoring stage applies to a `claims` message ({@link decodeClaim}: size, UTF-8, JSON,
 * schema). Invalid records come back in `rejected`, never thrown.
 * @throws InvalidArgumentError when the file cannot be read or its type is unknown.
 */
export async function readValidClaims(path: string): Promise<{ claims: Claim[]; rejected: RejectedClaim[] }> {
  const claims: Claim[] = [];
  const rejected: RejectedClaim[] = [];
  let record = 0;
  for await (const message of readClaimsFile(path)) {
    record++;
    const decoded = decodeClaim(message.value);
    if (decoded.ok) claims.push(decoded.claim);
    else rejected.push({ line: message.line ?? record, reason: decoded.reason, errors: decoded.errors });
  }
  return { claims, rejected };
}
