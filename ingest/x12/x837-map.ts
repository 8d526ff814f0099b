import { createHash } from 'node:crypto';
import { type Claim, type FieldError, diagnosisCodeSetFor, parseClaim } from '../../domain/claim.schema.ts';
import { claimErrorCode } from '../claim-reasons.ts';
import type { ClaimUnit } from './x837-claims.ts';
import type { SegmentTable } from './x12-segments.ts';
import { type X12Position, elementRef, formatPosition } from './x12-position.ts';

/** A mapped 837 claim, or why it is rejected (claim-level: the other claims of the set go on). */
export type Mapped837 =
  | { ok: true; claimId: string; claim: Claim }
  | { ok: false; claimId: string; errors: FieldError[] };

/** How segment indices of the table translate into positions of the original transaction set. */
export interface PositionContext {
  st: string;
  /** 1-based position in the original transaction set (ST = 1) of table segment i. */
  positionOf(i: number): number;
}

/** Qualifiers (HI0n-1) of the diagnoses that become `diagnosisCodes`, by code set. */
const DX_ICD10 = new Set(['ABK', 'ABF']);
const DX_ICD9 = new Set(['BK', 'BF']);
const AMOUNT = /^-?(\d+\.?\d*|\.\d+)$/;

/** Loop id of a 2310 provider loop by NM101, per guide (TR3s X222A1, X223A2, X224A2). */
const LOOP_2310: Record<ClaimUnit['kind'], Record<string, string>> = {
  professional: { DN: '2310A', '82': '2310B', '77': '2310C', DQ: '2310D', PW: '2310E', '45': '2310F' },
  institutional: { '71': '2310A', '72': '2310B', ZZ: '2310C', '82': '2310D', '77': '2310E', DN: '2310F' },
  dental: { DN: '2310A', P3: '2310A', '82': '2310B', '77': '2310C', DD: '2310D', DQ: '2310E' },
};

/**
 * Maps one claim of an 837P/I/D onto the domain Claim (mapping table: docs/formats.md) and
 * validates it with the domain schema; every error carries a stable code and the X12 position
 * of the element it comes from. Pure; never throws.
 */
export function map837Claim(table: SegmentTable, unit: ClaimUnit, ctx: PositionContext): Mapped837 {
  // Where each claim field comes from is only needed to place a schema error, and recording it
  // for every field cost a third of the mapping time: a claim is mapped without it first and
  // mapped again, recording, only when the schema refuses it (same draft, same errors).
  return mapClaim(table, unit, ctx, null) ?? mapClaim(table, unit, ctx, new Map())!;
}

/** Segments of the 2300/2400 loops the mapper reads elements of; others are only walked. */
const READ_IN_CLAIM = new Set(['NM1', 'PRV', 'DTP', 'REF', 'HI', 'SV1', 'SV2', 'SV3', 'TOO']);

/** {@link map837Claim}, recording field positions in `where` when given; null when the schema refuses the claim and `where` is null. */
function mapClaim(table: SegmentTable, unit: ClaimUnit, ctx: PositionContext, where: Map<string, Pos> | null): Mapped837 | null {
  // Positions stay unrendered (segment index, loop, element) until an error needs one.
  const errors: FieldError[] = [];
  const at = (i: number, loop: string, element?: string): Pos => ({ i, loop, element });
  const render = (p: Pos): X12Position => ({ st: ctx.st, loop: p.loop, segment: ctx.positionOf(p.i), segmentId: table.id(p.i), ...(p.element ? { element: p.element } : {}) });
  const fail = (code: string, position: Pos, message: string) => errors.push({ code, path: formatPosition(render(position)), message });
  const comp = table.delimiters.component;
  const draft: Record<string, unknown> = { claimType: unit.kind };

  // 2000A billing provider: NM1*85 (2010AA) NPI, PRV*BI taxonomy.
  let loop = '2000A';
  let billingTaxonomy: string | undefined;
  for (let i = unit.billing[0]; i < unit.billing[1]; i++) {
    const id = table.id(i);
    if (id !== 'NM1' && id !== 'PRV') continue;
    const e = table.elements(i);
    if (id === 'NM1') loop = e[1] === '85' ? '2010AA' : e[1] === '87' ? '2010AB' : '2010AC';
    if (id === 'NM1' && e[1] === '85') {
      if (e[8] === 'XX') draft.billingProviderNpi = e[9];
      where?.set('billingProviderNpi', at(i, loop, elementRef('NM1', 9)));
    } else if (id === 'PRV' && e[1] === 'BI' && loop === '2000A') billingTaxonomy = e[3];
  }
  if (!where?.has('billingProviderNpi')) where?.set('billingProviderNpi', at(unit.billing[0], '2000A'));

  // 2000B subscriber: NM1*IL member id (2010BA), DMG birth date when the subscriber is the patient.
  let subscriberId = '';
  loop = '2000B';
  let subscriberDob: string | undefined;
  for (let i = unit.subscriber[0]; i < unit.subscriber[1]; i++) {
    const id = table.id(i);
    if (id === 'NM1') {
      const e = table.elements(i);
      loop = e[1] === 'IL' ? '2010BA' : e[1] === 'PR' ? '2010BB' : loop;
      if (e[1] === 'IL') {
        subscriberId = e[9] ?? '';
        where?.set('memberId', at(i, loop, elementRef('NM1', 9)));
      }
    } else if (id === 'DMG' && loop === '2010BA') {
      subscriberDob = date8(table.elements(i)[2]);
      where?.set('memberDateOfBirth', at(i, loop, elementRef('DMG', 2)));
    }
  }
  draft.memberId = subscriberId;
  if (!where?.has('memberId')) where?.set('memberId', at(unit.subscriber[0], '2000B'));
  if (subscriberDob) draft.memberDateOfBirth = subscriberDob;

  // 2000C patient: its own identity (dependents share the subscriber's id in 5010).
  if (unit.patient) {
    let name: string[] = [];
    let dob = '';
    let gender = '';
    for (let i = unit.patient[0]; i < unit.patient[1]; i++) {
      const id = table.id(i);
      const e = id === 'NM1' || id === 'DMG' ? table.elements(i) : null;
      if (id === 'NM1' && e?.[1] === 'QC') name = [(e[3] ?? '').toUpperCase(), (e[4] ?? '').toUpperCase()];
      if (id === 'DMG' && e) {
        dob = e[2] ?? '';
        gender = e[3] ?? '';
        where?.set('memberDateOfBirth', at(i, '2010CA', elementRef('DMG', 2)));
      }
    }
    draft.memberId = patientMemberId(subscriberId, name, dob, gender);
    delete draft.memberDateOfBirth;
    const patientDob = date8(dob);
    if (patientDob) draft.memberDateOfBirth = patientDob;
  }

  // 2300 claim, 2310x providers, 2320/2330 other payers (skipped), 2400 lines, 2410/2420/2430.
  loop = '2300';
  const clmIndex = unit.claim[0];
  const clm = table.elements(clmIndex);
  const claimId = clm[1] ?? '';
  draft.claimId = claimId;
  where?.set('claimId', at(clmIndex, loop, elementRef('CLM', 1)));
  where?.set('(root)', at(clmIndex, loop));
  where?.set('totalCharged', at(clmIndex, loop, elementRef('CLM', 2)));
  if (AMOUNT.test(clm[2] ?? '')) draft.totalCharged = Number(clm[2]);
  else fail('CLAIM_AMOUNT_INVALID', at(clmIndex, loop, elementRef('CLM', 2)), `CLM02 '${clm[2] ?? ''}' is not an amount`);
  const facility = (clm[5] ?? '').split(comp);
  if (unit.kind === 'institutional') {
    draft.billType = `${facility[0] ?? ''}${facility[2] ?? ''}`;
    where?.set('billType', at(clmIndex, loop, elementRef('CLM', 5, 1)));
  } else {
    draft.placeOfService = facility[0] ?? '';
    where?.set('placeOfService', at(clmIndex, loop, elementRef('CLM', 5, 1)));
  }
  if (facility[2]) draft.frequencyCode = facility[2];
  where?.set('frequencyCode', at(clmIndex, loop, elementRef('CLM', 5, 3)));

  const dx: Array<{ code: string; qualifier: string; position: Pos }> = [];
  const lines: Array<Record<string, unknown>> = [];
  let line: Record<string, unknown> | null = null;
  let lineTo: string | undefined;
  const lineRanges: Array<[string, string]> = [];
  let claimFrom: string | undefined;
  let claimTo: string | undefined;
  let renderingTaxonomy: string | undefined;
  /** NM101 of the 2310 loop we are in. */
  let entity = '';
  const closeLine = () => {
    if (!line) return;
    lines.push(line);
    if (typeof line.serviceDate === 'string') lineRanges.push([line.serviceDate, lineTo ?? line.serviceDate]);
    line = null;
    lineTo = undefined;
  };

  for (let i = clmIndex + 1; i < unit.claim[1]; i++) {
    const id = table.id(i);
    if (id === 'SBR') loop = '2320';
    else if (id === 'LX') {
      closeLine();
      loop = '2400';
      line = {};
      continue;
    } else if (id === 'LIN') loop = '2410';
    else if (id === 'SVD') loop = '2430';
    if (id === 'NM1' && loop !== '2300' && !loop.startsWith('2310')) {
      if (loop === '2320' || loop.startsWith('2330')) loop = '2330';
      else if (loop === '2400' || loop === '2410' || loop.startsWith('2420')) loop = '2420';
      continue;
    }
    if (!READ_IN_CLAIM.has(id)) continue;
    const inClaim = loop === '2300' || loop.startsWith('2310');
    const e = table.elements(i);
    if (inClaim && id === 'NM1') {
      entity = e[1] ?? '';
      loop = LOOP_2310[unit.kind][entity] ?? '2310';
      if (e[8] === 'XX' && (entity === '82' || entity === '71')) {
        const field = entity === '82' ? 'renderingProviderNpi' : 'attendingProviderNpi';
        draft[field] = e[9];
        where?.set(field, at(i, loop, elementRef('NM1', 9)));
      }
      continue;
    }
    if (inClaim && id === 'PRV' && entity === '82' && e[1] === 'PE') renderingTaxonomy = e[3];
    if (loop === '2300' && id === 'DTP') {
      const q = e[1];
      const pos = at(i, loop, elementRef('DTP', 3));
      const range = dateRange(e[2], e[3]);
      if (q !== '434' && q !== '435' && q !== '472' && q !== '096') continue;
      if (!range) {
        fail('CLAIM_DATE_INVALID', pos, `DTP*${q} date '${e[3] ?? ''}' (format ${e[2] ?? ''}) is not a date`);
        continue;
      }
      if (q === '434' || q === '472') {
        [claimFrom, claimTo] = range;
        where?.set('serviceFrom', pos).set('serviceTo', pos);
      } else if (q === '435') {
        draft.admissionDate = range[0];
        where?.set('admissionDate', pos);
      }
    } else if (loop === '2300' && id === 'REF' && e[1] === 'F8') {
      draft.originalClaimRef = e[2];
      where?.set('originalClaimRef', at(i, loop, elementRef('REF', 2)));
    } else if (loop === '2300' && id === 'HI') {
      for (let k = 1; k < e.length; k++) {
        const [qualifier = '', code = ''] = (e[k] ?? '').split(comp);
        if (DX_ICD10.has(qualifier) || DX_ICD9.has(qualifier)) dx.push({ code, qualifier, position: at(i, loop, elementRef('HI', k, 2)) });
      }
    } else if (loop === '2400' && line && (id === 'SV1' || id === 'SV2' || id === 'SV3')) {
      const n = lines.length;
      const spec = id === 'SV1' ? { proc: 1, charge: 2, qty: 4 } : id === 'SV2' ? { proc: 2, charge: 3, qty: 5 } : { proc: 1, charge: 2, qty: 6 };
      const parts = (e[spec.proc] ?? '').split(comp);
      const wantQualifier = id === 'SV3' ? 'AD' : 'HC';
      const procPos = at(i, loop, elementRef(id, spec.proc, 2));
      where?.set(`lines.${n}.procedureCode`, procPos).set(`lines.${n}`, at(i, loop));
      if (parts[0] !== wantQualifier && !(parts[0] === '' && id === 'SV2')) fail('CLAIM_PROCEDURE_INVALID', at(i, loop, elementRef(id, spec.proc, 1)), `${id}${String(spec.proc).padStart(2, '0')}-1 qualifier '${parts[0] ?? ''}' is not ${wantQualifier}`);
      if (parts[1]) line.procedureCode = parts[1];
      line.modifiers = parts.slice(2, 6).filter((m) => m !== '');
      if (where) parts.slice(2, 6).forEach((_, m) => where.set(`lines.${n}.modifiers.${m}`, at(i, loop, elementRef(id, spec.proc, 3 + m))));
      where?.set(`lines.${n}.modifiers`, at(i, loop, elementRef(id, spec.proc, 3)));
      const charge = e[spec.charge] ?? '';
      where?.set(`lines.${n}.chargedAmount`, at(i, loop, elementRef(id, spec.charge)));
      if (AMOUNT.test(charge)) line.chargedAmount = Number(charge);
      else fail('CLAIM_AMOUNT_INVALID', at(i, loop, elementRef(id, spec.charge)), `${id}${String(spec.charge).padStart(2, '0')} '${charge}' is not an amount`);
      const qty = e[spec.qty] ?? '';
      where?.set(`lines.${n}.units`, at(i, loop, elementRef(id, spec.qty)));
      // A dental line without SV306 is one procedure.
      line.units = qty === '' && id === 'SV3' ? 1 : AMOUNT.test(qty) ? Number(qty) : qty;
      if (id === 'SV2') {
        line.revenueCode = e[1];
        where?.set(`lines.${n}.revenueCode`, at(i, loop, elementRef('SV2', 1)));
      }
    } else if (loop === '2400' && line && id === 'TOO' && e[2]) {
      const teeth = (line.teeth as string[] | undefined) ?? [];
      teeth.push(e[2]);
      line.teeth = teeth;
    } else if (loop === '2400' && line && id === 'DTP' && e[1] === '472') {
      const pos = at(i, loop, elementRef('DTP', 3));
      where?.set(`lines.${lines.length}.serviceDate`, pos);
      const range = dateRange(e[2], e[3]);
      if (!range) fail('CLAIM_DATE_INVALID', pos, `DTP*472 date '${e[3] ?? ''}' (format ${e[2] ?? ''}) is not a date`);
      else [line.serviceDate, lineTo] = range;
    }
  }
  closeLine();
  draft.lines = lines;
  if (!claimFrom && lineRanges.length > 0) {
    claimFrom = lineRanges.reduce((m, r) => (r[0] < m ? r[0] : m), lineRanges[0]![0]);
    claimTo = lineRanges.reduce((m, r) => (r[1] > m ? r[1] : m), lineRanges[0]![1]);
    if (where) where.set('serviceFrom', where.get('lines.0.serviceDate') ?? at(clmIndex, '2300')).set('serviceTo', where.get('lines.0.serviceDate') ?? at(clmIndex, '2300'));
  }
  // CLM19 PB: a dental predetermination of benefits asks what would be paid; nothing to score.
  if (unit.kind === 'dental' && clm[19] === 'PB') fail('CLAIM_NOT_FOR_PAYMENT', at(clmIndex, '2300', elementRef('CLM', 19)), 'CLM19 PB: a predetermination of benefits, not a claim for payment');
  if (!claimFrom) fail('CLAIM_SERVICE_DATE_MISSING', at(clmIndex, '2300'), 'no date of service: neither 2300 DTP*434/DTP*472 nor 2400 DTP*472');
  if (claimFrom) draft.serviceFrom = claimFrom;
  if (claimTo) draft.serviceTo = claimTo;
  if (!where?.has('serviceFrom')) where?.set('serviceFrom', at(clmIndex, '2300')).set('serviceTo', at(clmIndex, '2300'));
  if (!where?.has('admissionDate')) where?.set('admissionDate', at(clmIndex, '2300'));
  const taxonomy = billingTaxonomy ?? renderingTaxonomy;
  if (taxonomy) draft.providerSpecialty = taxonomy;

  // The code set follows the date of service; the qualifier must agree with it (ABK/ABF ICD-10,
  // BK/BF ICD-9), or the payer would read the codes in the wrong code set.
  const codeSet = claimFrom && /^\d{4}-\d{2}-\d{2}$/.test(claimFrom) ? diagnosisCodeSetFor(claimFrom) : null;
  dx.forEach((d, k) => {
    where?.set(`diagnosisCodes.${k}`, d.position);
    const set = DX_ICD10.has(d.qualifier) ? 'icd10' : 'icd9';
    if (codeSet && set !== codeSet) fail('CLAIM_DIAGNOSIS_CODE_SET', { ...d.position, element: d.position.element!.replace(/-2$/, '-1') }, `qualifier ${d.qualifier} is ${set.toUpperCase()}, but services from ${claimFrom} are coded in ${codeSet.toUpperCase()}`);
  });
  where?.set('diagnosisCodes', dx[0]?.position ?? at(clmIndex, '2300'));
  draft.diagnosisCodes = dx.map((d) => d.code);

  if (errors.length > 0) return { ok: false, claimId, errors };
  const parsed = parseClaim(draft);
  if (parsed.ok) return { ok: true, claimId, claim: parsed.claim };
  if (!where) return null;
  return {
    ok: false,
    claimId,
    errors: parsed.errors.map((err) => ({ code: claimErrorCode(err.path, err.message), path: formatPosition(render(locate(where, err.path))), message: `${err.path}: ${err.message}` })),
  };
}

/** An X12 position before rendering: table segment index, loop id, element reference. */
interface Pos {
  i: number;
  loop: string;
  element: string | undefined;
}

/** The X12 position of a claim field path, or of its nearest mapped parent. */
function locate(where: Map<string, Pos>, path: string): Pos {
  for (let p = path; ; p = p.slice(0, Math.max(0, p.lastIndexOf('.')))) {
    const found = where.get(p);
    if (found) return found;
    if (!p.includes('.')) break;
  }
  return where.get('(root)')!;
}

/** CCYYMMDD -> YYYY-MM-DD (shape only; the schema checks the calendar). */
function date8(value: string | undefined): string | undefined {
  return value && /^\d{8}$/.test(value) ? `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}` : undefined;
}

/** DTP02/03: D8 one day, RD8 a range, DT a date-time (the date part). */
function dateRange(format: string | undefined, value: string | undefined): [string, string] | null {
  if (format === 'D8' || format === 'DT') {
    const d = date8(format === 'DT' ? value?.slice(0, 8) : value);
    return d ? [d, d] : null;
  }
  if (format === 'RD8') {
    const [a, b] = (value ?? '').split('-');
    const from = date8(a);
    const to = date8(b);
    return from && to ? [from, to] : null;
  }
  return null;
}

/**
 * The member id of a 2000C patient: 5010 puts a patient with an id of their own in 2000B, so a
 * 2000C patient is a dependent known only by the subscriber's id, name, birth date and gender.
 * They become `<subscriber id>:dep:<12 hex>`, the hex a SHA-256 of the normalised name, birth date
 * and gender: stable across claims, different for each family member, and no name in the id.
 */
export function patientMemberId(subscriberId: string, name: readonly string[], dob: string, gender: string): string {
  const digest = createHash('sha256').update(JSON.stringify([subscriberId, ...name, dob, gender])).digest('hex').slice(0, 12);
  return `${subscriberId}:dep:${digest}`;
}
