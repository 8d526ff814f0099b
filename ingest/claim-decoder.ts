import type { IHeaders, KafkaMessage } from 'kafkajs';
import { type Claim, type FieldError, MAX_CLAIM_BYTES, parseClaim } from '../domain/claim.schema.ts';


/** Why a message went to the dead-letter topic. Stable values, also in the `x-dlq-reason` header. */
export type DlqReason = 'EMPTY_MESSAGE' | 'TOO_LARGE' | 'NOT_UTF8' | 'NOT_JSON' | 'SCHEMA_INVALID';

export type DecodedClaim =
  | { ok: true; claim: Claim; bytes: Buffer }
  | { ok: false; reason: DlqReason; errors: FieldError[] };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes and validates one `claims` message (own JSON format). Never throws: whatever is wrong
 * comes back as a reason and a list of precise field errors, for the DLQ.
 */
export function decodeClaim(value: Buffer | null): DecodedClaim {
  if (!value || value.length === 0) return { ok: false, reason: 'EMPTY_MESSAGE', errors: [{ path: '(root)', message: 'message has no value' }] };
  if (value.length > MAX_CLAIM_BYTES) {
    return { ok: false, reason: 'TOO_LARGE', errors: [{ path: '(root)', message: `message is ${value.length} bytes; the limit is ${MAX_CLAIM_BYTES}` }] };
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return { ok: false, reason: 'NOT_UTF8', errors: [{ path: '(root)', message: 'message is not valid UTF-8' }] };
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
