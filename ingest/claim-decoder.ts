import type { IHeaders, KafkaMessage } from 'kafkajs';
import { type Claim, type FieldError, MAX_CLAIM_BYTES, parseClaim } from '../domain/claim.schema.ts';
import type { DlqReason } from './claim-reasons.ts';
import { FHIR_CONTENT_TYPE, decodeFhirClaim } from './fhir/fhir-claim.ts';
import { JsonSpanError, MAX_JSON_DEPTH, topLevelSpan } from './fhir/json-spans.ts';
import { X12_CONTENT_TYPE, X12_POSITIONS_HEADER, decodeX12Slice } from './x12/x12-slice.ts';

export type { DlqReason } from './claim-reasons.ts';

/** Header naming the format of a `claims` message; absent means claimtrail's own JSON. */
export const CONTENT_TYPE_HEADER = 'content-type';
/** Media type of claimtrail's own JSON claim (the default when the header is absent). */
export const JSON_CONTENT_TYPE = 'application/json';

export type DecodedClaim =
  | { ok: true; claim: Claim; bytes: Buffer }
  | { ok: false; reason: DlqReason; errors: FieldError[] };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes and validates one `claims` message, by its `content-type` header: claimtrail's own JSON
 * (absent header or `application/json`), an X12 837 claim slice (`application/edi-x12`) or a FHIR
 * R4 Claim / ExplanationOfBenefit (`application/fhir+json`); docs/formats.md. Never throws:
 * whatever is wrong comes back as a reason and a list of precise field errors, for the DLQ.
 * `bytes` of a valid claim are the message value as received: what the commitment covers.
 */
export function decodeClaim(value: Buffer | null, headers?: IHeaders): DecodedClaim {
  if (!value || value.length === 0) return { ok: false, reason: 'EMPTY_MESSAGE', errors: [{ path: '(root)', message: 'message has no value' }] };
  if (value.length > MAX_CLAIM_BYTES) {
    return { ok: false, reason: 'TOO_LARGE', errors: [{ path: '(root)', message: `message is ${value.length} bytes; the limit is ${MAX_CLAIM_BYTES}` }] };
  }
  // Media type parameters (`; charset=...`) do not change the format.
  const contentType = headerString(headers, CONTENT_TYPE_HEADER)?.split(';')[0]!.trim().toLowerCase();
  if (contentType === X12_CONTENT_TYPE) {
    const decoded = decodeX12Slice(value, headerString(headers, X12_POSITIONS_HEADER));
    return decoded.ok ? { ok: true, claim: decoded.claim, bytes: value } : decoded;
  }
  if (contentType === FHIR_CONTENT_TYPE) {
    const decoded = decodeFhirClaim(value);
    return decoded.ok ? { ok: true, claim: decoded.claim, bytes: value } : decoded;
  }
  if (contentType !== undefined && contentType !== JSON_CONTENT_TYPE) {
    return { ok: false, reason: 'CONTENT_TYPE_UNKNOWN', errors: [{ path: '(header)', code: 'CONTENT_TYPE_UNKNOWN', message: `content-type '${contentType.slice(0, 100)}' is not ${JSON_CONTENT_TYPE}, ${X12_CONTENT_TYPE} or ${FHIR_CONTENT_TYPE}` }] };
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return { ok: false, reason: 'NOT_UTF8', errors: [{ path: '(root)', message: 'message is not valid UTF-8' }] };
  }
  // Depth first, without building anything: a claim is a few levels deep, and a value nested
  // thousands deep would only cost the parser, the store and every later JSON.stringify.
  try {
    topLevelSpan(value);
  } catch (error) {
    if (!(error instanceof JsonSpanError)) throw error;
    if (error.tooDeep) return { ok: false, reason: 'JSON_TOO_DEEP', errors: [{ code: 'JSON_TOO_DEEP', path: `byte=${error.offset}`, message: `the JSON nests deeper than ${MAX_JSON_DEPTH} levels` }] };
    // Other defects: JSON.parse below names them.
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'NOT_JSON', errors: [{ path: '(root)', message: `not JSON: ${(error as Error).message}` }] };
  }
  const parsed = parseClaim(json);
  if (!parsed.ok) return { ok: false, reason: 'SCHEMA_INVALID', errors: parsed.errors };
  return { ok: true, claim: parsed.claim, bytes: value };
}

/** Header names on dead-lettered messages. */
export const DLQ_HEADERS = {
  reason: 'x-dlq-reason',
  errors: 'x-dlq-errors',
  sourceTopic: 'x-dlq-source-topic',
  sourcePartition: 'x-dlq-source-partition',
  sourceOffset: 'x-dlq-source-offset',
  failedAt: 'x-dlq-failed-at',
} as const;

/**
 * The DLQ copy of a rejected message: original key, value bytes and headers intact, plus the
 * reason and the field errors (JSON) in `x-dlq-*` headers.
 */
export function toDlqMessage(
  message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>,
  source: { topic: string; partition: number; offset: string },
  rejected: { reason: DlqReason; errors: FieldError[] },
  now: Date = new Date(),
): { key: Buffer | null; value: Buffer | null; headers: IHeaders } {
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...(message.headers ?? {}),
      [DLQ_HEADERS.reason]: rejected.reason,
      [DLQ_HEADERS.errors]: JSON.stringify(rejected.errors.slice(0, 50)),
      [DLQ_HEADERS.sourceTopic]: source.topic,
      [DLQ_HEADERS.sourcePartition]: String(source.partition),
      [DLQ_HEADERS.sourceOffset]: source.offset,
      [DLQ_HEADERS.failedAt]: now.toISOString(),
    },
  };
}

/** Reads a header as a string (kafkajs gives Buffers), or undefined. */
export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
