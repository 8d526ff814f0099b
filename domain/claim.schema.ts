import { z } from 'zod';
import { isCalendarDate } from './dates.ts';

/**
 * The health-insurance claim as claimtrail reads it from the `claims` topic (own JSON format).
 * Field names are camelCase; amounts are in US dollars (decimal numbers, cents allowed); dates
 * are calendar dates `YYYY-MM-DD`. Unknown extra fields are allowed and kept as they are
 * (insurers add their own), so a claim round-trips unchanged.
 *
 * Everything here is PHI: it never goes on chain, into a Merkle leaf or into a log line.
 */

/** Largest claim message we accept, in bytes (documented in the README). Larger ones go to the DLQ. */
export const MAX_CLAIM_BYTES = 1024 * 1024;

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
  .refine(isCalendarDate, 'not a real calendar date');

/** Money in dollars: finite, not negative, at most 10 million per field. */
const money = z.number().finite().nonnegative().max(10_000_000);

/**
 * National Provider Identifier: 10 digits whose last is a Luhn check digit computed over the
 * prefix 80840 + the first 9 digits (CMS NPI standard).
 */
export function isValidNpi(npi: string): boolean {
  if (!/^\d{10}$/.test(npi)) return false;
  const digits = `80840${npi}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const npi = z.string().refine(isValidNpi, 'not a valid NPI (10 digits with a Luhn check digit)');

const identifier = z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits and . _ : - only');

/** ICD-10-CM diagnosis code, with or without the dot (E11.9, E119). */
const ICD10_CM = /^[A-TV-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$/;
/** ICD-9-CM diagnosis code, with or without the dot: 3 digits (+2), V + 2 digits (+2), E + 3 digits (+1). */
const ICD9_CM = /^(\d{3}(\.?\d{1,2})?|V\d{2}(\.?\d{1,2})?|E\d{3}(\.?\d)?)$/;
/**
 * First date of service coded in ICD-10-CM (HIPAA final rule, 45 CFR 162.1002): services before
 * it carry ICD-9-CM diagnoses, services on or after it ICD-10-CM. The code set follows the date
 * of service (`serviceFrom`), never the sender's preference.
 */
export const ICD10_EFFECTIVE_DATE = '2015-10-01';

/** The diagnosis code set a claim must use, by its first date of service. */
export function diagnosisCodeSetFor(serviceFrom: string): 'icd9' | 'icd10' {
  return serviceFrom < ICD10_EFFECTIVE_DATE ? 'icd9' : 'icd10';
}

/**
 * True for an inpatient type of bill (NUBC UB-04 FL4): classification digit (the second of the
 * three) 1 (inpatient, Part A) or 2 (inpatient, Part B only), e.g. 111, 121, 211, 411. An admission
 * date is required only for these.
 */
export function isInpatientBillType(billType: string): boolean {
  const tob = billType.length === 4 ? billType.slice(1) : billType;
  return tob[1] === '1' || tob[1] === '2';
}

/** CPT (5 digits, or 4 digits + F/T/U) or HCPCS Level II (letter + 4 digits). */
const procedureCode = z.string().regex(/^(\d{4}[0-9FTU]|[A-V]\d{4})$/, 'not a CPT/HCPCS code');

export const ClaimLineSchema = z.looseObject({
  /** CPT/HCPCS; for dental claims the CDT code (D + 4 digits, shaped like HCPCS Level II). */
  procedureCode,
  modifiers: z.array(z.string().regex(/^[A-Z0-9]{2}$/, 'modifier is 2 letters/digits')).max(4).default([]),
  units: z.number().int().min(1).max(9999),
  chargedAmount: money,
  serviceDate: isoDate.optional(),
  /** Institutional only: NUBC revenue code, four digits (0450 emergency room). */
  revenueCode: z.string().regex(/^\d{4}$/, 'revenue code is four digits').optional(),
  /** Dental only: tooth numbers (universal/ISO 3950 as sent), at most 32. */
  teeth: z.array(z.string().regex(/^[A-Z0-9]{1,3}$/, 'tooth number is 1-3 letters/digits')).max(32).optional(),
});

export const ClaimSchema = z
  .looseObject({
    claimId: identifier,
    memberId: identifier,
    billingProviderNpi: npi,
    attendingProviderNpi: npi.optional(),
    /** Rendering provider (837P/837D loop 2310B NM1*82), when it differs from the billing one. */
    renderingProviderNpi: npi.optional(),
    /** Optional provider taxonomy / specialty label, e.g. "internal-medicine". */
    providerSpecialty: z.string().max(64).optional(),
    claimType: z.enum(['professional', 'institutional', 'dental']),
    /**
     * Claim frequency (X12 CLM05-3, UB-04 FL4 last digit): 1 original, 7 replacement, 8 void.
     * Absent means original. A replacement or void is not a duplicate of the claim it replaces.
     */
    frequencyCode: z.string().regex(/^[0-9A-Z]$/, 'frequency code is one letter/digit').optional(),
    /** Payer claim number of the claim a replacement (7) or void (8) refers to (X12 REF*F8). */
    originalClaimRef: z.string().min(1).max(50).optional(),
    /** Institutional type of bill, three digits (facility, classification, frequency), e.g. 131. */
    billType: z.string().regex(/^\d{2}[0-9A-Z]$/, 'bill type is three characters: two digits and a frequency').optional(),
    serviceFrom: isoDate,
    serviceTo: isoDate,
    admissionDate: isoDate.optional(),
    dischargeDate: isoDate.optional(),
    /** Member's date of death when the payer knows it (eligibility file); drives a hard rule. */
    memberDateOfDeath: isoDate.optional(),
    memberDateOfBirth: isoDate.optional(),
    /** ICD-9-CM before 2015-10-01, ICD-10-CM from then on (by serviceFrom); dental claims may have none. */
    diagnosisCodes: z.array(z.string().max(8)).max(25),
    lines: z.array(ClaimLineSchema).min(1).max(50),
    totalCharged: money,
    totalAllowed: money.optional(),
    totalPaid: money.optional(),
    deductible: money.optional(),
    /** CMS place-of-service code, two digits (11 office, 21 inpatient hospital, 23 ER ...). */
    placeOfService: z.string().regex(/^\d{2}$/, 'place of service is two digits').optional(),
    submittedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.serviceTo < c.serviceFrom) {
      ctx.addIssue({ code: 'custom', path: ['serviceTo'], message: 'serviceTo is before serviceFrom' });
    }
    if (c.admissionDate && c.dischargeDate && c.dischargeDate < c.admissionDate) {
      ctx.addIssue({ code: 'custom', path: ['dischargeDate'], message: 'dischargeDate is before admissionDate' });
    }
    // Professional and dental claims say where (place of service); institutional ones say what
    // kind of stay (type of bill). A JSON institutional claim of the original format has no bill
    // type: it keeps its place of service and is treated as inpatient (admission date required).
    if (c.claimType !== 'institutional' && c.placeOfService === undefined) {
      ctx.addIssue({ code: 'custom', path: ['placeOfService'], message: `${c.claimType} claims need a placeOfService` });
    }
    if (c.claimType === 'institutional' && c.billType === undefined && c.placeOfService === undefined) {
      ctx.addIssue({ code: 'custom', path: ['billType'], message: 'institutional claims need a billType (or a placeOfService)' });
    }
    if (c.claimType === 'institutional' && !c.admissionDate && (c.billType === undefined || isInpatientBillType(c.billType))) {
      ctx.addIssue({ code: 'custom', path: ['admissionDate'], message: 'inpatient institutional claims need an admissionDate' });
    }
    if (c.claimType !== 'dental' && c.diagnosisCodes.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['diagnosisCodes'], message: `${c.claimType} claims need at least one diagnosis code` });
    }
    const codeSet = diagnosisCodeSetFor(c.serviceFrom);
    const shape = codeSet === 'icd9' ? ICD9_CM : ICD10_CM;
    c.diagnosisCodes.forEach((code, i) => {
      if (!shape.test(code)) {
        ctx.addIssue({ code: 'custom', path: ['diagnosisCodes', i], message: codeSet === 'icd9' ? `not an ICD-9-CM code (services before ${ICD10_EFFECTIVE_DATE} are coded in ICD-9-CM)` : 'not an ICD-10-CM code' });
      }
    });
    const sum = c.lines.reduce((s, l) => s + l.chargedAmount, 0);
    if (Math.abs(sum - c.totalCharged) > 0.01 * c.lines.length) {
      ctx.addIssue({ code: 'custom', path: ['totalCharged'], message: `totalCharged ${c.totalCharged} differs from the sum of line charges ${sum.toFixed(2)}` });
    }
    if (c.totalAllowed !== undefined && c.totalAllowed > c.totalCharged + 0.005) {
      ctx.addIssue({ code: 'custom', path: ['totalAllowed'], message: 'totalAllowed exceeds totalCharged' });
    }
  });

export type Claim = z.infer<typeof ClaimSchema>;
export type ClaimLine = z.infer<typeof ClaimLineSchema>;

/** One precise problem with a claim: where (dotted path) and what. */
export interface FieldError {
  /** Dotted claim path (`lines.2.procedureCode`), an X12 position or a FHIRPath location. */
  path: string;
  message: string;
  /** Stable machine-readable code (insurer formats: `CLAIM_NPI_INVALID`, `X12_SE_COUNT` ...). */
  code?: string;
}

export type ClaimParseResult = { ok: true; claim: Claim } | { ok: false; errors: FieldError[] };

/** Validates an already-decoded value. Never throws; lists every field error found. */
export function parseClaim(value: unknown): ClaimParseResult {
  const result = ClaimSchema.safeParse(value);
  if (result.success) return { ok: true, claim: result.data };
  return {
    ok: false,
    errors: result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message })),
  };
}
