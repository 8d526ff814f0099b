import type { SegmentTable } from './x12-segments.ts';
import { type X12Position, elementRef } from './x12-position.ts';

/**
 * The envelope of an X12 input: interchanges (ISA/IEA) holding functional groups (GS/GE) holding
 * transaction sets (ST/SE), checked the way a clearinghouse does. The level of a defect decides
 * what it rejects and which acknowledgement says so:
 * - interchange (ISA/IEA control numbers, group count, missing IEA): the whole interchange, TA1;
 * - functional group (GS/GE control numbers, set count, missing GE): every set of the group, 999 AK9;
 * - transaction set (ST/SE control numbers, segment count, guide, HL chain): that set, 999 IK5.
 */

/** One envelope defect. `code` is a stable DLQ reason; `ack` the code the TA1 / 999 carries. */
export interface EnvelopeIssue {
  code: string;
  message: string;
  position: X12Position;
  /** TA1 I18 note code, 999 AK905 or IK502 code, 999 IK304 segment syntax code. */
  ack: string;
  /** For set-level issues found at a segment: the 999 IK3 segment it names. */
  segmentIndex?: number;
}

export interface TransactionSetEnvelope {
  /** Index (in the SegmentTable) of ST, and of SE (null when missing). */
  st: number;
  se: number | null;
  /** Exclusive end of the set's segments: SE + 1, or where the next envelope segment starts. */
  end: number;
  control: string;
  /** ST01 (837 expected) and ST03 implementation guide (005010X222A1 ...). */
  setId: string;
  guide: string;
  issues: EnvelopeIssue[];
}

export interface GroupEnvelope {
  gs: number;
  ge: number | null;
  control: string;
  functionalId: string;
  /** GS08 version / release / industry identifier. */
  version: string;
  sets: TransactionSetEnvelope[];
  issues: EnvelopeIssue[];
}

export interface InterchangeEnvelope {
  isa: number;
  iea: number | null;
  control: string;
  /** ISA05-08 qualifiers and ids, for the TA1 and the acknowledgement interchange. */
  sender: { qualifier: string; id: string };
  receiver: { qualifier: string; id: string };
  date: string;
  time: string;
  usage: string;
  groups: GroupEnvelope[];
  issues: EnvelopeIssue[];
}

/**
 * Guides this reader maps, by ST03 prefix: 005010X222 professional, X223 institutional, X224
 * dental (any errata suffix, A1/A2/A3).
 */
export function guideKind(guide: string): 'professional' | 'institutional' | 'dental' | null {
  if (guide.startsWith('005010X222')) return 'professional';
  if (guide.startsWith('005010X223')) return 'institutional';
  if (guide.startsWith('005010X224')) return 'dental';
  return null;
}

/** Walks the segments into interchanges; never throws. */
export function readEnvelopes(table: SegmentTable): { interchanges: InterchangeEnvelope[]; stray: EnvelopeIssue[] } {
  const interchanges: InterchangeEnvelope[] = [];
  const stray: EnvelopeIssue[] = [];
  let ix: InterchangeEnvelope | null = null;
  let group: GroupEnvelope | null = null;
  let set: TransactionSetEnvelope | null = null;

  const closeSet = (at: number) => {
    if (!set) return;
    if (set.se === null) {
      set.end = at;
      set.issues.push({ code: 'X12_SE_MISSING', message: `transaction set ${set.control} has no SE trailer`, position: { st: set.control, segmentId: 'SE' }, ack: '2' });
    }
    set = null;
  };
  const closeGroup = (at: number) => {
    closeSet(at);
    if (group && group.ge === null) group.issues.push({ code: 'X12_GE_MISSING', message: `functional group ${group.control} has no GE trailer`, position: { group: group.control, segmentId: 'GE' }, ack: '3' });
    group = null;
  };

  for (let i = 0; i < table.count; i++) {
    const id = table.id(i);
    if (id === 'ISA') {
      if (ix) {
        closeGroup(i);
        if (ix.iea === null) ix.issues.push({ code: 'X12_IEA_MISSING', message: `interchange ${ix.control} has no IEA trailer`, position: { interchange: ix.control, segmentId: 'IEA' }, ack: '023' });
      }
      const e = table.elements(i);
      ix = {
        isa: i, iea: null, control: e[13] ?? '', sender: { qualifier: e[5] ?? '', id: (e[6] ?? '').trim() }, receiver: { qualifier: e[7] ?? '', id: (e[8] ?? '').trim() },
        date: e[9] ?? '', time: e[10] ?? '', usage: e[15] ?? '', groups: [], issues: [],
      };
      if (!/^\d{9}$/.test(ix.control)) ix.issues.push({ code: 'X12_CONTROL_NUMBER_INVALID', message: `ISA13 '${ix.control}' is not 9 digits`, position: { interchange: ix.control, segmentId: 'ISA', element: 'ISA13' }, ack: '018' });
      interchanges.push(ix);
      continue;
    }
    if (!ix || ix.iea !== null) {
      stray.push({ code: 'X12_SEGMENT_UNEXPECTED', message: `segment ${id} (#${i + 1}) lies outside any interchange`, position: { segmentId: id }, ack: '024', segmentIndex: i });
      continue;
    }
    if (id === 'IEA') {
      closeGroup(i);
      ix.iea = i;
      const e = table.elements(i);
      if (e[2] !== ix.control) ix.issues.push({ code: 'X12_CONTROL_NUMBER_MISMATCH', message: `IEA02 '${e[2] ?? ''}' differs from ISA13 '${ix.control}'`, position: { interchange: ix.control, segmentId: 'IEA', element: 'IEA02' }, ack: '001' });
      if (Number(e[1]) !== ix.groups.length || !/^\d+$/.test(e[1] ?? '')) ix.issues.push({ code: 'X12_GROUP_COUNT_MISMATCH', message: `IEA01 says ${e[1] ?? ''} groups; the interchange holds ${ix.groups.length}`, position: { interchange: ix.control, segmentId: 'IEA', element: 'IEA01' }, ack: '021' });
      continue;
    }
    if (id === 'GS') {
      closeGroup(i);
      const e = table.elements(i);
      group = { gs: i, ge: null, control: e[6] ?? '', functionalId: e[1] ?? '', version: e[8] ?? '', sets: [], issues: [] };
      ix.groups.push(group);
      if (group.functionalId !== 'HC') group.issues.push({ code: 'X12_GROUP_NOT_SUPPORTED', message: `GS01 '${group.functionalId}' is not HC (health care claim)`, position: { group: group.control, segmentId: 'GS', element: 'GS01' }, ack: '1' });
      continue;
    }
    if (!group) {
      ix.issues.push({ code: 'X12_SEGMENT_UNEXPECTED', message: `segment ${id} (#${i + 1}) lies outside a functional group`, position: { interchange: ix.control, segmentId: id }, ack: '024' });
      continue;
    }
    if (id === 'GE') {
      closeSet(i);
      group.ge = i;
      const e = table.elements(i);
      if (e[2] !== group.control) group.issues.push({ code: 'X12_CONTROL_NUMBER_MISMATCH', message: `GE02 '${e[2] ?? ''}' differs from GS06 '${group.control}'`, position: { group: group.control, segmentId: 'GE', element: 'GE02' }, ack: '4' });
      if (Number(e[1]) !== group.sets.length || !/^\d+$/.test(e[1] ?? '')) group.issues.push({ code: 'X12_SET_COUNT_MISMATCH', message: `GE01 says ${e[1] ?? ''} transaction sets; the group holds ${group.sets.length}`, position: { group: group.control, segmentId: 'GE', element: 'GE01' }, ack: '5' });
      group = null;
      continue;
    }
    if (id === 'ST') {
      closeSet(i);
      const e = table.elements(i);
      set = { st: i, se: null, end: i + 1, control: e[2] ?? '', setId: e[1] ?? '', guide: e[3] ?? '', issues: [] };
      group.sets.push(set);
      const pos = { st: set.control, segment: 1, segmentId: 'ST' };
      if (set.setId !== '837') set.issues.push({ code: 'X12_SET_NOT_SUPPORTED', message: `ST01 '${set.setId}' is not 837`, position: { ...pos, element: 'ST01' }, ack: '1' });
      else if (!/^[A-Za-z0-9]{4,9}$/.test(set.control)) set.issues.push({ code: 'X12_CONTROL_NUMBER_INVALID', message: `ST02 '${set.control}' is not 4-9 characters`, position: { ...pos, element: 'ST02' }, ack: '7' });
      else if (guideKind(set.guide || group.version) === null) set.issues.push({ code: 'X12_GUIDE_NOT_SUPPORTED', message: `ST03 '${set.guide}' names no 837 guide this reader maps (005010X222/X223/X224)`, position: { ...pos, element: 'ST03' }, ack: '24' });
      else if (set.guide && guideKind(set.guide) !== guideKind(group.version)) {
        set.issues.push({ code: 'X12_VERSION_MISMATCH', message: `ST03 '${set.guide}' (${guideKind(set.guide)}) disagrees with GS08 '${group.version}' (${guideKind(group.version) ?? 'unknown'})`, position: { ...pos, element: 'ST03' }, ack: '24' });
      }
      continue;
    }
    if (!set) {
      group.issues.push({ code: 'X12_SEGMENT_UNEXPECTED', message: `segment ${id} (#${i + 1}) lies outside a transaction set`, position: { group: group.control, segmentId: id }, ack: '3' });
      continue;
    }
    if (id === 'SE') {
      set.se = i;
      set.end = i + 1;
      const e = table.elements(i);
      const count = i - set.st + 1;
      const pos = { st: set.control, segment: count, segmentId: 'SE' };
      if (e[2] !== set.control) set.issues.push({ code: 'X12_CONTROL_NUMBER_MISMATCH', message: `SE02 '${e[2] ?? ''}' differs from ST02 '${set.control}'`, position: { ...pos, element: elementRef('SE', 2) }, ack: '3' });
      if (Number(e[1]) !== count || !/^\d+$/.test(e[1] ?? '')) set.issues.push({ code: 'X12_SEGMENT_COUNT_MISMATCH', message: `SE01 says ${e[1] ?? ''} segments; the set holds ${count}`, position: { ...pos, element: elementRef('SE', 1) }, ack: '4' });
      set = null;
      continue;
    }
    set.end = i + 1;
  }
  if (ix) {
    closeGroup(table.count);
    if (ix.iea === null) ix.issues.push({ code: 'X12_IEA_MISSING', message: `interchange ${ix.control} has no IEA trailer (truncated?)`, position: { interchange: ix.control, segmentId: 'IEA' }, ack: '023' });
  }
  return { interchanges, stray };
}
