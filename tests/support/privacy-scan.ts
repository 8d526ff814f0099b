/**
 * The privacy scanner of tests/e2e/privacy.e2e.test.ts: needles for every claim field value, and
 * a matcher over text sinks (topics, table dumps, bundles, log lines) that finds a needle only as
 * a whole token, so a 3-character ICD-10 category or a 4-digit amount in cents can be searched
 * without matching inside hashes, ids or longer numbers.
 *
 * Token rule: a match may not continue an alphanumeric run on either side; a numeric needle may
 * also not sit right after a `.` (the fraction of another number) or before `.digit`.
 */
import type { Claim } from '../../domain/claim.schema.ts';

/** One value to look for. */
export interface TextNeedle {
  /** The claim and field it comes from, for the report. */
  what: string;
  /** The exact text. */
  text: string;
  /** All digits (with separators): numbers are exempt in coordinate fields (see {@link COORDINATE_KEYS}). */
  numeric: boolean;
}

/** A piece of a sink: where it is, the field (column, JSON key) it sits in, and its text. */
export interface SinkText {
  sink: string;
  where: string;
  key: string;
  text: string;
}

/** A needle found in a sink. */
export interface Finding {
  sink: string;
  where: string;
  key: string;
  needle: string;
  what: string;
}

/**
 * Fields that hold numbers claimtrail makes itself (log and chain coordinates, counts, row ids,
 * timings, pino's own fields), never copied from a claim: a purely numeric needle (an amount in
 * cents, a CPT code, a day count) found there is a coincidence of small integers, not a leak. Text
 * needles are searched there too.
 */
export const COORDINATE_KEYS: ReadonlySet<string> = new Set([
  // Kafka and decisions-log coordinates
  'offset', 'partition', 'firstOffset', 'lastOffset', 'first_offset', 'last_offset', 'input_offset', 'input_partition', 'log_offset', 'log_partition',
  'highWatermark', 'lowWatermark', 'fetchedOffset', 'committed', 'lag', 'records', 'messages', 'batchSize', 'generationId', 'producerId', 'producerEpoch',
  // batches, epochs, trees
  'leafCount', 'leaf_count', 'leafIndex', 'leaf_index', 'leaves', 'batchCount', 'batch_count', 'count', 'position', 'sequence', 'decisions', 'batches', 'anchored', 'pending',
  // chain coordinates and gas
  'blockNumber', 'block_number', 'flagged_block', 'chainId', 'chain_id', 'nonce', 'attempt', 'gas_limit', 'gas_used', 'gasUsed', 'gasLimit', 'max_fee_per_gas', 'max_priority_fee_per_gas',
  'confirmations', 'confirmationsAtExport', 'head',
  // row ids and housekeeping (numbers only: a case id is a serial, not a claim amount)
  'id', 'caseId', 'dispositionId', 'target_id', 'leafCounts', 'audit_id', 'first_audit_id', 'last_audit_id', 'user_id', 'case_id', 'disposition_id', 'note_id', 'attachment_id', 'token_id', 'rule_id', 'rank', 'sla_hours', 'size_bytes', 'jobs',
  // kafkajs's own log fields: request correlation ids, response sizes, retry counts and back-off delays
  'correlationId', 'size', 'retryCount', 'retryTime',
  // pino and timings
  'time', 'pid', 'level', 'ms', 'durationMs', 'elapsedMs', 'tookMs', 'delayMs', 'retryInMs', 'timeoutMs', 'attempts', 'retries',
]);

/** Every claim field value as text needles, in the forms a leak would take. */
export function claimNeedles(claims: readonly Claim[]): TextNeedle[] {
  const out = new Map<string, TextNeedle>();
  const add = (what: string, text: string | undefined, numeric = /^[0-9$.,]+$/.test(text ?? '')) => {
    if (text === undefined || text === '') return;
    if (!out.has(text)) out.set(text, { what, text, numeric });
  };
  const money = (what: string, v: number | undefined) => {
    // Zero (a deductible of 0) is every count and flag in the system: not a needle.
    if (v === undefined || v === 0) return;
    const fixed = v.toFixed(2);
    add(`${what} $`, `$${Number(fixed).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`);
    add(`${what} (en-US)`, Number(fixed).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
    add(`${what} (fixed)`, fixed);
    add(`${what} (number)`, String(v));
    add(`${what} (cents)`, String(Math.round(v * 100)));
  };
  const date = (what: string, v: string | undefined) => {
    if (!v) return;
    add(what, v);
    const day = v.slice(0, 10);
    add(`${what} (ISO day)`, day);
    const [y, m, d] = day.split('-');
    add(`${what} (US)`, `${m}/${d}/${y}`);
    add(`${what} (US, no zero)`, `${Number(m)}/${Number(d)}/${y}`);
    add(`${what} (compact)`, `${y}${m}${d}`);
  };
  for (const c of claims) {
    const of = (field: string) => `${c.claimId}.${field}`;
    add(of('memberId'), c.memberId);
    for (const [field, npi] of [['billingProviderNpi', c.billingProviderNpi], ['attendingProviderNpi', c.attendingProviderNpi]] as const) add(of(field), npi, false);
    add(of('providerSpecialty'), c.providerSpecialty);
    for (const code of c.diagnosisCodes) {
      add(of('diagnosis (full)'), code);
      add(of('diagnosis (no dot)'), code.replace('.', ''));
      add(of('diagnosis (category)'), code.slice(0, 3));
    }
    for (const [field, v] of [['serviceFrom', c.serviceFrom], ['serviceTo', c.serviceTo], ['admissionDate', c.admissionDate], ['dischargeDate', c.dischargeDate], ['memberDateOfBirth', c.memberDateOfBirth], ['memberDateOfDeath', c.memberDateOfDeath], ['submittedAt', c.submittedAt]] as const) {
      date(of(field), v);
    }
    for (const [field, v] of [['totalCharged', c.totalCharged], ['totalAllowed', c.totalAllowed], ['totalPaid', c.totalPaid], ['deductible', c.deductible]] as const) money(of(field), v);
    c.lines.forEach((line, i) => {
      add(of(`lines[${i}].procedureCode`), line.procedureCode, false);
      money(of(`lines[${i}].chargedAmount`), line.chargedAmount);
      date(of(`lines[${i}].serviceDate`), line.serviceDate);
    });
  }
  return [...out.values()];
}

const ALNUM = /[A-Za-z0-9]/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * A whole text that is one timestamp claimtrail or a service wrote (ISO 8601 `2026-12-06T15:04:05.123Z`,
 * PostgreSQL's `2026-12-06 15:04:05.123+00`): its hour, minute and second are the clock at the
 * time of the run, so a small claim amount equal to one of them is a coincidence. Only numeric
 * needles are exempt there; text needles are still searched.
 */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

/** Finds needles as whole tokens (see the module comment); one finding per (needle, text). */
export class TokenScanner {
  /** Needles by their first alphanumeric run. */
  readonly #byRun = new Map<string, Array<{ needle: TextNeedle; prefix: number }>>();

  constructor(needles: readonly TextNeedle[]) {
    for (const needle of needles) {
      const m = /[A-Za-z0-9]+/.exec(needle.text);
      if (!m) continue;
      const list = this.#byRun.get(m[0]) ?? [];
      list.push({ needle, prefix: m.index });
      this.#byRun.set(m[0], list);
    }
  }

  scan(piece: SinkText, out: Finding[]): void {
    const { text } = piece;
    // A UUID (correlation ids) has all-digit 4-character groups by chance: opaque, not numbers;
    // a timestamp's time of day is the clock's, not a claim's.
    const exempt = COORDINATE_KEYS.has(piece.key) || UUID.test(text) || TIMESTAMP.test(text);
    for (const run of text.matchAll(/[A-Za-z0-9]+/g)) {
      const candidates = this.#byRun.get(run[0]);
      if (!candidates) continue;
      for (const { needle, prefix } of candidates) {
        if (needle.numeric && exempt) continue;
        const start = run.index - prefix;
        if (start < 0 || text.slice(start, start + needle.text.length) !== needle.text) continue;
        const before = text[start - 1] ?? '';
        const after = text[start + needle.text.length] ?? '';
        const afterNext = text[start + needle.text.length + 1] ?? '';
        if (ALNUM.test(before) || ALNUM.test(after)) continue;
        if (/^[0-9]/.test(needle.text) && (before === '.' || (after === '.' && /[0-9]/.test(afterNext)))) continue;
        out.push({ sink: piece.sink, where: piece.where, key: piece.key, needle: needle.text, what: needle.what });
      }
    }
  }
}

/**
 * A JSON value as (key, text) pieces: every string and number under the key that holds it
 * (array items under their array's key), object keys under `(key)` so a claim value used as a key
 * is seen too.
 */
export function jsonPieces(sink: string, where: string, value: unknown, key = '(root)'): SinkText[] {
  const out: SinkText[] = [];
  const walk = (v: unknown, k: string) => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) return v.forEach((x) => walk(x, k));
    if (typeof v === 'object') {
      for (const [name, x] of Object.entries(v as Record<string, unknown>)) {
        out.push({ sink, where, key: '(key)', text: name });
        walk(x, name);
      }
      return;
    }
    out.push({ sink, where, key: k, text: String(v) });
  };
  walk(value, key);
  return out;
}

/** Text that may be JSON: its pieces when it parses, else the text itself under `key`. */
export function textPieces(sink: string, where: string, text: string, key: string): SinkText[] {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) return jsonPieces(sink, where, parsed, key);
  } catch {
    // not JSON: scanned as plain text
  }
  return [{ sink, where, key, text }];
}
