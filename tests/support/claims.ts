import { ClaimSchema, type Claim } from '../../domain/claim.schema.ts';

/** A small legitimate office claim (one E/M line) for unit tests to derive hand-made cases from. */
export function officeClaim(overrides: Record<string, unknown> = {}): Claim {
  return ClaimSchema.parse({
    claimId: 'T-1',
    memberId: 'M00000001',
    billingProviderNpi: '1234567893',
    claimType: 'professional',
    serviceFrom: '2024-03-01',
    serviceTo: '2024-03-01',
    diagnosisCodes: ['J06.9'],
    lines: [{ procedureCode: '99213', units: 1, chargedAmount: 120, serviceDate: '2024-03-01' }],
    totalCharged: 120,
    placeOfService: '11',
    ...overrides,
  });
}
