import type { FieldError } from '../../domain/claim.schema.ts';
import type { DlqReason } from '../claim-reasons.ts';
import { claimUnits, type ClaimUnit } from './x837-claims.ts';
import { type Mapped837, map837Claim } from './x837-map.ts';
import { type EnvelopeIssue, type GroupEnvelope, type InterchangeEnvelope, type TransactionSetEnvelope, readEnvelopes } from './x12-envelope.ts';
import { formatPosition } from './x12-position.ts';
import { type SegmentTable, type X12ReadError, readSegments } from './x12-segments.ts';

/** One claim of an interchange, as the message that carries it to the `claims` topic. */
export interface X12ClaimMessage {
  /** CLM01 as sent. */
  claimId: string;
  /** The claim slice (docs/formats.md): the bytes the commitment covers. */
  slice: Buffer;
  /** Positions in the original transaction set of the slice's segments from ST on (`1-2,5-12,30-41`). */
  positions: string;
  interchange: string;
  group: string;
  st: string;
  /** The mapping result: what ingest will decide for this slice (used for the 277CA). */
  mapped: Mapped837;
}

/** Something rejected before it became claim messages: an interchange, group or transaction set. */
export interface X12Rejection {
  level: 'input' | 'interchange' | 'group' | 'set';
  reason: DlqReason;
  errors: FieldError[];
  /** The original bytes of the rejected unit (whole input, ISA..IEA, GS..GE or ST..SE). */
  bytes: Buffer;
}

/** What an interchange became: claim messages, rejections, and the envelope for acknowledgements. */
export interface X12Split {
  table: SegmentTable | null;
  readError: X12ReadError | null;
  interchanges: InterchangeEnvelope[];
  messages: X12ClaimMessage[];
  rejections: X12Rejection[];
  /** Set-level issues per transaction set (for the 999), keyed by the set's ST index. */
  setIssues: Map<number, EnvelopeIssue[]>;
}

const toErrors = (issues: readonly EnvelopeIssue[]): FieldError[] => issues.map((i) => ({ code: i.code, path: formatPosition(i.position), message: i.message }));

/**
 * Splits X12 bytes into one message per claim (a claim slice each) and rejects, with the
 * clearinghouse's rule, what is broken at the interchange, group or set level. Pure; never throws.
 * Claim-level validation runs too (`mapped` of each message), but a claim that fails it is still
 * a message: ingest dead-letters it with the same result, so each claim has one outcome, decided
 * where every claim is decided.
 */
export function splitX12(bytes: Buffer): X12Split {
  const { table, error } = readSegments(bytes);
  const split: X12Split = { table, readError: error, interchanges: [], messages: [], rejections: [], setIssues: new Map() };
  if (!table || error) {
    const e = error!;
    split.rejections.push({ level: 'input', reason: e.code, errors: [{ code: e.code, path: `byte=${e.offset}`, message: e.message }], bytes });
    if (table && table.count > 0) split.interchanges = readEnvelopes(table).interchanges;
    return split;
  }
  const { interchanges, stray } = readEnvelopes(table);
  split.interchanges = interchanges;
  const bytesOf = (from: number, toInclusive: number) => bytes.subarray(table.starts[from]!, table.ends[toInclusive]! + 1);
  if (stray.length > 0) split.rejections.push({ level: 'input', reason: stray[0]!.code as DlqReason, errors: toErrors(stray), bytes: sliceBytes(table, stray.map((i) => i.segmentIndex!)) });
  for (const ix of interchanges) {
    const ixEnd = ix.iea ?? table.count - 1;
    if (ix.issues.length > 0) {
      split.rejections.push({ level: 'interchange', reason: ix.issues[0]!.code as DlqReason, errors: toErrors(ix.issues), bytes: bytesOf(ix.isa, ixEnd) });
      continue;
    }
    for (const group of ix.groups) {
      const groupEnd = group.ge ?? (group.sets.at(-1)?.end ?? group.gs + 1) - 1;
      if (group.issues.length > 0) {
        split.rejections.push({ level: 'group', reason: group.issues[0]!.code as DlqReason, errors: toErrors(group.issues.map((i) => ({ ...i, position: { interchange: ix.control, ...i.position } }))), bytes: bytesOf(group.gs, groupEnd) });
        continue;
      }
      for (const set of group.sets) {
        const walked = set.issues.length === 0 ? claimUnits(table, set) : { units: [], issues: set.issues };
        if (walked.issues.length > 0) {
          split.setIssues.set(set.st, walked.issues);
          split.rejections.push({ level: 'set', reason: walked.issues[0]!.code as DlqReason, errors: toErrors(walked.issues), bytes: bytesOf(set.st, set.end - 1) });
          continue;
        }
        for (const unit of walked.units) split.messages.push(claimMessage(table, ix, group, set, unit));
      }
    }
  }
  return split;
}

/** The indices of a claim slice's segments, in file order (docs/formats.md). */
export function sliceIndices(table: SegmentTable, ix: Pick<InterchangeEnvelope, 'isa'>, group: Pick<GroupEnvelope, 'gs'>, set: Pick<TransactionSetEnvelope, 'st'>, unit: ClaimUnit): number[] {
  const out = [ix.isa, group.gs, set.st];
  if (table.id(set.st + 1) === 'BHT') out.push(set.st + 1);
  const ranges = [unit.billing, unit.subscriber, ...(unit.patient ? [unit.patient] : []), unit.claim];
  for (const [from, to] of ranges) for (let i = from; i < to; i++) out.push(i);
  return out;
}

/** Joins segments' own bytes, each followed by the interchange's segment terminator. */
export function sliceBytes(table: SegmentTable, indices: readonly number[]): Buffer {
  // Copied from the input bytes (latin1 text offsets are byte offsets): no string is built.
  const { starts, ends, bytes } = table;
  const term = table.delimiters.segment.charCodeAt(0);
  let length = 0;
  for (const i of indices) length += ends[i]! - starts[i]! + 1;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const i of indices) {
    at += bytes.copy(out, at, starts[i]!, ends[i]!);
    out[at++] = term;
  }
  return out;
}

/** `1-2,5-12`: compact list of 1-based positions. */
function ranges(positions: readonly number[]): string {
  const out: string[] = [];
  for (let k = 0; k < positions.length; ) {
    let j = k;
    while (j + 1 < positions.length && positions[j + 1] === positions[j]! + 1) j++;
    out.push(j === k ? String(positions[k]) : `${positions[k]}-${positions[j]}`);
    k = j + 1;
  }
  return out.join(',');
}

/** Parses {@link ranges} back; null when malformed. */
export function parseRanges(value: string): number[] | null {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)) return null;
  const out: number[] = [];
  for (const part of value.split(',')) {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    const to = b ?? a;
    if (to < a || to - a > 1_000_000 || out.length > 1_000_000) return null;
    for (let p = a; p <= to; p++) out.push(p);
  }
  return out;
}

function claimMessage(table: SegmentTable, ix: InterchangeEnvelope, group: GroupEnvelope, set: TransactionSetEnvelope, unit: ClaimUnit): X12ClaimMessage {
  const indices = sliceIndices(table, ix, group, set, unit);
  const mapped = map837Claim(table, unit, { st: set.control, positionOf: (i) => i - set.st + 1 });
  return {
    claimId: mapped.claimId,
    slice: sliceBytes(table, indices),
    positions: ranges(indices.slice(2).map((i) => i - set.st + 1)),
    interchange: ix.control,
    group: group.control,
    st: set.control,
    mapped,
  };
}
