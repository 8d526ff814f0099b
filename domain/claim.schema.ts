import { z } from 'zod';

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
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'not a real calendar date');

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
const icd10 = z.string().regex(/^[A-TV-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$/, 'not an ICD-10-CM code');

/** CPT (5 digits, or 4 digits + F/T/U) or HCPCS Level II (letter + 4 digits). */
const procedureCode = z.string().regex(/^(\d{4}[0-9FTU]|[A-V]\d{4})$/, 'not a CPT/HCPCS code');

export const ClaimLineSchema = z.looseObject({
  procedureCode,
  modifiers: z.array(z.string().regex(/^[A-Z0-9]{2}$/, 'modifier is 2 letters/digits')).max(4).default([]),
  units: z.number().int().min(1).max(9999),
  chargedAmount: money,
  serviceDate: isoDate.optional(),
});

export const ClaimSchema = z
  .looseObject({
    claimId: identifier,
    memberId: identifier,
    billingProviderNpi: npi,
    attendingProviderNpi: npi.optional(),
    /** Optional provider taxonomy / specialty label, e.g. "internal-medicine". */
    providerSpecialty: z.string().max(64).optional(),
    claimType: z.enum(['professional', 'institutional']),
    serviceFrom: isoDate,
    serviceTo: isoDate,
    admissionDate: isoDate.optional(),
    dischargeDate: isoDate.optional(),
    /** Member's date of death when the payer knows it (eligibility file); drives a hard rule. */
    memberDateOfDeath: isoDate.optional(),
    memberDateOfBirth: isoDate.optional(),
    diagnosisCodes: z.array(icd10).min(1).max(25),
    lines: z.array(ClaimLineSchema).min(1).max(50),
    totalCharged: money,
    totalAllowed: money.optional(),
    totalPaid: money.optional(),
    deductible: money.optional(),
    /** CMS place-of-service code, two digits (11 office, 21 inpatient hospital, 23 ER ...). */
    placeOfService: z.string().regex(/^\d{2}$/, 'place of service is two digits'),
    submittedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.serviceTo < c.serviceFrom) {
      ctx.addIssue({ code: 'custom', path: ['serviceTo'], message: 'serviceTo is before serviceFrom' });
    }
    if (c.admissionDate && c.dischargeDate && c.dischargeDate < c.admissionDate) {
      ctx.addIssue({ code: 'custom', path: ['dischargeDate'], message: 'dischargeDate is before admissionDate' });
    }
    if (c.claimType === 'institutional' && !c.admissionDate) {
      ctx.addIssue({ code: 'custom', path: ['admissionDate'], message: 'institutional claims need an admissionDate' });
    }
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
  path: string;
  message: string;
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
