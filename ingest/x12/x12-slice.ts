import type { Claim, FieldError } from '../../domain/claim.schema.ts';
import type { DlqReason } from '../claim-reasons.ts';
import { claimUnits } from './x837-claims.ts';
import { map837Claim } from './x837-map.ts';
import { type TransactionSetEnvelope, guideKind } from './x12-envelope.ts';
import { parseRanges, splitX12 } from './x12-interchange.ts';
import { readSegments } from './x12-segments.ts';

/** Media type of a claim slice on the `claims` topic (the `content-type` header). */
export const X12_CONTENT_TYPE = 'application/edi-x12';
/** Header carrying the slice segments' positions in the original transaction set (not committed to). */
export const X12_POSITIONS_HEADER = 'x-x12-positions';

const ENVELOPE_TRAILERS = new Set(['SE', 'GE', 'IEA', 'ISA', 'GS', 'ST']);

/**
 * Decodes one `application/edi-x12` claim message: a claim slice (ISA, GS, ST, [BHT], the parent
 * HL loops and one claim; docs/formats.md). Positions in errors are those of the original
 * transaction set when `positions` (the {@link X12_POSITIONS_HEADER}) is given, else of the slice.
 * Pure; never throws.
 */
export function decodeX12Slice(bytes: Buffer, positions?: string): { ok: true; claim: Claim } | { ok: false; reason: DlqReason; errors: FieldError[] } {
  const bad = (reason: DlqReason, message: string, path = '(slice)') => ({ ok: false as const, reason, errors: [{ code: reason, path, message }] });
  const { table, error } = readSegments(bytes);
  if (error || !table) return bad(error?.code ?? 'X12_NOT_X12', error?.message ?? 'not X12', `byte=${error?.offset ?? 0}`);
  if (table.count < 4 || table.id(1) !== 'GS' || table.id(2) !== 'ST') return bad('X12_SLICE_INVALID', 'a claim slice starts ISA, GS, ST');
  for (let i = 3; i < table.count; i++) if (ENVELOPE_TRAILERS.has(table.id(i))) return bad('X12_SLICE_INVALID', `a claim slice holds no ${table.id(i)} (segment ${i + 1})`);
  const gs = table.elements(1);
  const st = table.elements(2);
  const set: TransactionSetEnvelope = { st: 2, se: null, end: table.count, control: st[2] ?? '', setId: st[1] ?? '', guide: st[3] ?? '', issues: [] };
  if (set.setId !== '837' || guideKind(set.guide) === null) return bad('X12_GUIDE_NOT_SUPPORTED', `ST '${set.setId}' '${set.guide}' is not an 837P/I/D 5010 set`);
  if (guideKind(set.guide) !== guideKind(gs[8] ?? '')) return bad('X12_VERSION_MISMATCH', `ST03 '${set.guide}' disagrees with GS08 '${gs[8] ?? ''}'`);
  // Positions only name errors: the header is read the first time one needs it.
  let original: number[] | null | undefined;
  const positionOf = (i: number) => {
    if (original === undefined) original = positions === undefined ? null : parseRanges(positions);
    return original && original.length === table.count - 2 ? original[i - 2]! : i - 1;
  };
  const walked = claimUnits(table, set, { slice: true });
  if (walked.issues.length > 0) {
    const first = walked.issues[0]!;
    return { ok: false, reason: first.code as DlqReason, errors: walked.issues.map((i) => ({ code: i.code, path: `ST=${set.control}/seg=${positionOf(i.segmentIndex ?? 2)}`, message: i.message })) };
  }
  if (walked.units.length !== 1) return bad('X12_SLICE_INVALID', `a claim slice holds exactly one CLM; this one holds ${walked.units.length}`);
  const mapped = map837Claim(table, walked.units[0]!, { st: set.control, positionOf });
  if (mapped.ok) return { ok: true, claim: mapped.claim };
  return { ok: false, reason: mapped.errors[0]!.code as DlqReason, errors: mapped.errors };
}

/**
 * Recomputes, from the original interchange file, the claim slice(s) of a claim id (CLM01): what
 * `claimtrail verify --original` hashes with the salt to check a commitment. More than one slice
 * comes back when the file holds the claim id more than once (a replacement in the same file).
 */
export function recomputeSlices(original: Buffer, claimId: string): Buffer[] {
  return splitX12(original).messages.filter((m) => m.claimId === claimId).map((m) => m.slice);
}
