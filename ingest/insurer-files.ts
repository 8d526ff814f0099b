import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../core/errors.ts';
import { MAX_CLAIM_BYTES } from '../domain/claim.schema.ts';
import { CONTENT_TYPE_HEADER, DLQ_HEADERS, decodeClaim } from './claim-decoder.ts';
import type { DlqReason } from './claim-reasons.ts';
import type { FieldError } from '../domain/claim.schema.ts';
import { FHIR_CONTENT_TYPE } from './fhir/fhir-claim.ts';
import { JsonSpanError, bundleResourceSpans, topLevelSpan } from './fhir/json-spans.ts';
import { acknowledgements } from './x12/x12-acks.ts';
import { splitX12 } from './x12/x12-interchange.ts';
import { X12_CONTENT_TYPE, X12_POSITIONS_HEADER, recomputeSlices } from './x12/x12-slice.ts';
import { looksLikeX12 } from './x12/x12-segments.ts';

/**
 * Insurer files (X12 837 interchanges, FHIR Claims / Bundles) -> messages: one per claim for the
 * `claims` topic, DLQ entries for what is rejected before it is a claim (envelope, structure), and
 * X12 acknowledgements. Splitting never re-encodes a claim: each message is the claim slice or
 * resource span the commitment covers (docs/formats.md).
 */
export interface InsurerMessage {
  route: 'claims' | 'dlq' | 'acks';
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/** Largest DLQ part: a rejected interchange bigger than this is dead-lettered in parts (`x-dlq-part`). */
const DLQ_PART_BYTES = 960 * 1024;

function dlqMessages(unit: string, reason: DlqReason, errors: FieldError[], bytes: Buffer, source: string): InsurerMessage[] {
  const parts = Math.max(1, Math.ceil(bytes.length / DLQ_PART_BYTES));
  const out: InsurerMessage[] = [];
  for (let k = 0; k < parts; k++) {
    out.push({
      route: 'dlq',
      key: unit,
      value: bytes.subarray(k * DLQ_PART_BYTES, (k + 1) * DLQ_PART_BYTES),
      headers: {
        [DLQ_HEADERS.reason]: reason,
        [DLQ_HEADERS.errors]: JSON.stringify(errors.slice(0, 50)),
        [DLQ_HEADERS.sourceTopic]: source,
        'x-dlq-unit': unit,
        'x-dlq-part': `${k + 1}/${parts}`,
      },
    });
  }
  return out;
}

/** Messages of an X12 file: claim slices, envelope rejections, and one acknowledgement interchange per interchange. */
export function x12Messages(bytes: Buffer, source: string, now = new Date()): InsurerMessage[] {
  const split = splitX12(bytes);
  const out: InsurerMessage[] = [];
  for (const m of split.messages) {
    out.push({ route: 'claims', key: m.mapped.ok ? m.mapped.claim.memberId : null, value: m.slice, headers: { [CONTENT_TYPE_HEADER]: X12_CONTENT_TYPE, [X12_POSITIONS_HEADER]: m.positions } });
  }
  split.rejections.forEach((r, k) => out.push(...dlqMessages(`${source}#${r.level}-${k + 1}`, r.reason, r.errors, r.bytes, source)));
  const control = Number(String(now.getTime()).slice(-9));
  for (const ack of acknowledgements(split, { control, now })) out.push({ route: 'acks', key: null, value: Buffer.from(ack, 'latin1'), headers: { [CONTENT_TYPE_HEADER]: X12_CONTENT_TYPE } });
  return out;
}

/**
 * Messages of a FHIR JSON file: a Claim or ExplanationOfBenefit is one message (the bytes of the
 * top-level object), a Bundle one message per Claim / EOB entry (the bytes of `entry[i].resource`
 * as received); other entries (Patient, Coverage ...) are not claims and are not sent.
 */
export function fhirMessages(bytes: Buffer, source: string): InsurerMessage[] {
  const headers = { [CONTENT_TYPE_HEADER]: FHIR_CONTENT_TYPE };
  let span: [number, number];
  try {
    span = topLevelSpan(bytes);
  } catch (error) {
    const e = error as JsonSpanError;
    const reason: DlqReason = e.tooDeep ? 'FHIR_JSON_TOO_DEEP' : 'NOT_JSON';
    return dlqMessages(`${source}#input`, reason, [{ code: reason, path: `byte=${e.offset}`, message: e.message }], bytes, source);
  }
  const head = bytes.subarray(span[0], Math.min(span[1], span[0] + 4096)).toString('utf8');
  const isBundle = /"resourceType"\s*:\s*"Bundle"/.test(head) || resourceType(bytes.subarray(span[0], span[1])) === 'Bundle';
  if (!isBundle) return [{ route: 'claims', key: null, value: bytes.subarray(span[0], span[1]), headers }];
  const out: InsurerMessage[] = [];
  for (const [s, e] of bundleResourceSpans(bytes, span)) {
    const value = bytes.subarray(s, e);
    const type = resourceType(value);
    if (type === 'Claim' || type === 'ExplanationOfBenefit') out.push({ route: 'claims', key: null, value, headers });
  }
  if (out.length === 0) return dlqMessages(`${source}#bundle`, 'FHIR_BUNDLE_EMPTY', [{ code: 'FHIR_BUNDLE_EMPTY', path: 'Bundle.entry', message: 'the Bundle holds no Claim or ExplanationOfBenefit' }], bytes, source);
  return out;
}

/** resourceType of a JSON object's bytes (top-level member only), or undefined. */
function resourceType(value: Buffer): string | undefined {
  if (value.length > MAX_CLAIM_BYTES * 64) return undefined;
  try {
    const parsed: unknown = JSON.parse(value.toString('utf8'));
    return typeof (parsed as { resourceType?: unknown })?.resourceType === 'string' ? (parsed as { resourceType: string }).resourceType : undefined;
  } catch {
    return undefined;
  }
}

/** Header of an `interchanges` message naming the file it came from (DLQ units, logs); optional. */
export const SOURCE_NAME_HEADER = 'x-source-name';

/**
 * Messages of one whole insurer file received as a message (the `interchanges` topic): X12 when
 * `contentType` is `application/edi-x12`, FHIR for `application/fhir+json`; without a content
 * type the bytes decide (an ISA header is X12, anything else is read as FHIR JSON). Another
 * content type is dead-lettered whole (`CONTENT_TYPE_UNKNOWN`), an empty value `EMPTY_MESSAGE`.
 * Pure; never throws.
 */
export function interchangeMessages(bytes: Buffer | null, contentType: string | undefined, source: string, now = new Date()): InsurerMessage[] {
  if (!bytes || bytes.length === 0) return dlqMessages(`${source}#input`, 'EMPTY_MESSAGE', [{ code: 'EMPTY_MESSAGE', path: '(root)', message: 'the interchange message has no value' }], bytes ?? Buffer.alloc(0), source);
  const type = contentType?.split(';')[0]!.trim().toLowerCase();
  if (type === X12_CONTENT_TYPE || (type === undefined && looksLikeX12(bytes))) return x12Messages(bytes, source, now);
  if (type === FHIR_CONTENT_TYPE || type === undefined) return fhirMessages(bytes, source);
  return dlqMessages(`${source}#input`, 'CONTENT_TYPE_UNKNOWN', [{ code: 'CONTENT_TYPE_UNKNOWN', path: '(header)', message: `content-type '${type.slice(0, 100)}' is not ${X12_CONTENT_TYPE} or ${FHIR_CONTENT_TYPE}` }], bytes, source);
}

/**
 * The bytes the commitment of claim `claimId` covers, recomputed from the insurer's original file
 * (docs/formats.md "What the commitment covers"): the X12 claim slice(s) of CLM01 = `claimId`, or
 * the FHIR resource span(s) whose claim id (identifier[0].value, else id) is `claimId`. Several
 * when the file holds the claim more than once; empty when it does not hold it. `x12` chooses
 * the format (by file name: {@link isX12FileName}). Pure; never throws.
 */
export function recomputeClaimBytes(original: Buffer, claimId: string, x12: boolean): Buffer[] {
  if (x12) return recomputeSlices(original, claimId);
  return fhirMessages(original, 'original')
    .filter((m) => m.route === 'claims')
    // Only a resource that maps was ever decided (a rejected one has no commitment to check).
    .filter((m) => {
      const decoded = decodeClaim(m.value, m.headers);
      return decoded.ok && decoded.claim.claimId === claimId;
    })
    .map((m) => m.value);
}

/** True for file names read as X12 (.837, .x12, .edi, .txt). */
export const isX12FileName = (path: string) => /\.(837|x12|edi|txt)$/i.test(path);
/** True for file names read as FHIR JSON (.json). */
export const isFhirFileName = (path: string) => /\.json$/i.test(path);

/**
 * Reads an insurer file whole (interchanges of tens of MiB fit in memory; the segment index is
 * two typed arrays) and splits it.
 * @throws InvalidArgumentError when the file cannot be read.
 */
export function readInsurerFile(path: string, now = new Date()): InsurerMessage[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new InvalidArgumentError(`cannot read claims file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const source = path.split('/').pop() ?? path;
  return isX12FileName(path) ? x12Messages(bytes, source, now) : fhirMessages(bytes, source);
}
