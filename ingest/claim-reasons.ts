/**
 * Every reason a claim message can be dead-lettered for, registered once with its meaning: the
 * value of the `x-dlq-reason` header and the `code` of each field error. Stable: operators,
 * acknowledgements and golden tests match on them. Envelope reasons (X12_*) reject a whole
 * interchange, group or transaction set; CLAIM_* reasons reject one claim whatever its format;
 * FHIR_* reasons are about the FHIR structure.
 */
export const DLQ_REASONS = {
  // Any format (own JSON since the start).
  EMPTY_MESSAGE: 'the message has no value',
  TOO_LARGE: 'the message is larger than the claim limit (1 MiB)',
  NOT_UTF8: 'the message is not valid UTF-8',
  NOT_JSON: 'the message is not JSON',
  JSON_TOO_DEEP: 'an own-JSON claim nests deeper than claimtrail reads (64 levels)',
  SCHEMA_INVALID: 'an own-JSON claim breaks the claim schema (see the field errors)',
  CONTENT_TYPE_UNKNOWN: 'the content-type header names no format claimtrail reads',

  // One claim, any insurer format: the field errors say which element / FHIRPath.
  CLAIM_ID_INVALID: 'the claim or member id is missing or not an identifier',
  CLAIM_NPI_INVALID: 'a provider NPI is missing or fails its check digit',
  CLAIM_DIAGNOSIS_INVALID: 'a diagnosis code is not of the code set of its date of service',
  CLAIM_DIAGNOSIS_CODE_SET: 'the diagnosis qualifier (ICD-9 vs ICD-10) disagrees with the date of service',
  CLAIM_PROCEDURE_INVALID: 'a procedure code or its qualifier is not CPT/HCPCS/CDT',
  CLAIM_MODIFIER_INVALID: 'a procedure modifier is not two letters/digits',
  CLAIM_REVENUE_CODE_INVALID: 'an institutional revenue code is not four digits',
  CLAIM_UNITS_INVALID: 'a line quantity is not a whole number from 1 to 9999',
  CLAIM_AMOUNT_INVALID: 'an amount is not a non-negative number',
  CLAIM_TOTAL_MISMATCH: 'the claim total differs from the sum of its line charges',
  CLAIM_DATE_INVALID: 'a date is not a calendar date, or dates are out of order',
  CLAIM_PLACE_OF_SERVICE_INVALID: 'the place of service is missing or not two digits',
  CLAIM_BILL_TYPE_INVALID: 'the institutional type of bill is missing or malformed',
  CLAIM_ADMISSION_DATE_MISSING: 'an inpatient institutional claim has no admission date',
  CLAIM_LINES_INVALID: 'the claim has no service line, or more than 50',
  CLAIM_TYPE_UNSUPPORTED: 'the claim type is not professional, institutional or dental',
  CLAIM_SERVICE_DATE_MISSING: 'the claim carries no date of service',
  CLAIM_NOT_FOR_PAYMENT: 'a predetermination or preauthorization, not a claim for payment: nothing to score',
  CLAIM_FIELD_MISSING: 'a field the claim needs is absent',
  CLAIM_FIELD_INVALID: 'a field has a value the claim schema refuses',

  // X12 envelope and structure (TA1 / 999).
  X12_NOT_X12: 'the bytes do not start with an ISA segment',
  X12_ENCODING: 'the bytes are not single-byte text (UTF-16, NUL bytes)',
  X12_ISA_INVALID: 'the ISA segment is not the fixed 106 bytes',
  X12_DELIMITERS_INVALID: 'the ISA delimiters are not distinct, or are letters/digits/space',
  X12_SEGMENT_INVALID: 'a segment has no valid id (wrong or mixed delimiters)',
  X12_TRUNCATED: 'the input ends inside a segment or an envelope',
  X12_SEGMENT_UNEXPECTED: 'a segment lies outside the envelope that must hold it',
  X12_IEA_MISSING: 'the interchange has no IEA trailer',
  X12_GE_MISSING: 'the functional group has no GE trailer',
  X12_SE_MISSING: 'the transaction set has no SE trailer',
  X12_CONTROL_NUMBER_INVALID: 'a control number has the wrong shape',
  X12_CONTROL_NUMBER_MISMATCH: 'a trailer control number differs from its header',
  X12_GROUP_COUNT_MISMATCH: 'IEA01 differs from the number of groups',
  X12_SET_COUNT_MISMATCH: 'GE01 differs from the number of transaction sets',
  X12_SEGMENT_COUNT_MISMATCH: 'SE01 differs from the number of segments of the set',
  X12_GROUP_NOT_SUPPORTED: 'GS01 is not HC',
  X12_SET_NOT_SUPPORTED: 'ST01 is not 837',
  X12_GUIDE_NOT_SUPPORTED: 'ST03 names no 837P/I/D 5010 guide',
  X12_VERSION_MISMATCH: 'ST03 names another guide than GS08',
  X12_HL_INVALID: 'the HL hierarchy is broken (ids, parents, child codes)',
  X12_LOOP_INVALID: 'a claim lies outside a subscriber or patient loop',
  X12_NO_CLAIMS: 'the transaction set holds no claim',
  X12_SLICE_INVALID: 'an application/edi-x12 message is not one claim slice',

  // FHIR structure.
  FHIR_NOT_A_CLAIM: 'the resource is not a Claim, an ExplanationOfBenefit or a Bundle of them',
  FHIR_STRUCTURE_INVALID: 'the resource breaks the FHIR R4 structure (types, cardinality)',
  FHIR_VALUE_INVALID: 'status, use or type is outside its FHIR value set',
  FHIR_NOT_SCORED: 'a valid resource claimtrail does not score (status not active)',
  FHIR_JSON_TOO_DEEP: 'the JSON nests deeper than claimtrail reads',
  FHIR_BUNDLE_EMPTY: 'the Bundle holds no Claim or ExplanationOfBenefit',
} as const satisfies Record<string, string>;

/** Why a message went to the dead-letter topic. Stable values, also in the `x-dlq-reason` header. */
export type DlqReason = keyof typeof DLQ_REASONS;

/** True when `code` is a registered DLQ reason. */
export function isDlqReason(code: string): code is DlqReason {
  return Object.hasOwn(DLQ_REASONS, code);
}

/**
 * The CLAIM_* code of a domain schema error (`parseClaim` path + message), so an insurer format
 * reports the same code for the same defect whatever the format.
 */
export function claimErrorCode(path: string, message: string): DlqReason {
  const last = path.split('.').filter((p) => !/^\d+$/.test(p)).pop() ?? '';
  if (/received undefined|need an? /.test(message) && last !== 'admissionDate') return last.endsWith('ProviderNpi') ? 'CLAIM_NPI_INVALID' : last === 'placeOfService' ? 'CLAIM_PLACE_OF_SERVICE_INVALID' : last === 'billType' ? 'CLAIM_BILL_TYPE_INVALID' : last === 'claimId' || last === 'memberId' ? 'CLAIM_ID_INVALID' : 'CLAIM_FIELD_MISSING';
  if (last.endsWith('ProviderNpi')) return 'CLAIM_NPI_INVALID';
  if (last === 'claimId' || last === 'memberId') return 'CLAIM_ID_INVALID';
  if (last === 'diagnosisCodes') return 'CLAIM_DIAGNOSIS_INVALID';
  if (last === 'procedureCode') return 'CLAIM_PROCEDURE_INVALID';
  if (last === 'modifiers') return 'CLAIM_MODIFIER_INVALID';
  if (last === 'revenueCode') return 'CLAIM_REVENUE_CODE_INVALID';
  if (last === 'units') return 'CLAIM_UNITS_INVALID';
  if (last === 'totalCharged' && /differs/.test(message)) return 'CLAIM_TOTAL_MISMATCH';
  if (/Amount$|^total|^deductible$/.test(last)) return 'CLAIM_AMOUNT_INVALID';
  if (last === 'admissionDate' && /need/.test(message)) return 'CLAIM_ADMISSION_DATE_MISSING';
  if (/Date$|^service(From|To)$|DateOf/.test(last)) return 'CLAIM_DATE_INVALID';
  if (last === 'placeOfService') return 'CLAIM_PLACE_OF_SERVICE_INVALID';
  if (last === 'billType') return 'CLAIM_BILL_TYPE_INVALID';
  if (last === 'lines') return 'CLAIM_LINES_INVALID';
  if (last === 'claimType') return 'CLAIM_TYPE_UNSUPPORTED';
  return 'CLAIM_FIELD_INVALID';
}
