import { describe, expect, it } from 'vitest';
import { generateClaims } from '../../../fixtures/generator.ts';
import { claimToFhir } from '../../../fixtures/fhir-writer.ts';
import { decodeFhirClaim } from '../../../ingest/fhir/fhir-claim.ts';
import { fhirMessages } from '../../../ingest/insurer-files.ts';

describe('FHIR writer -> FHIR decoder', () => {
  const { claims } = generateClaims({ count: 200, seed: 7 });

  it('writes Claims that pass the R4 structure validation and map back to the same facts', () => {
    for (const claim of claims) {
      const decoded = decodeFhirClaim(Buffer.from(JSON.stringify(claimToFhir(claim))));
      expect(decoded, claim.claimId).toMatchObject({ ok: true });
      if (!decoded.ok) continue;
      const { claimId, memberId, billingProviderNpi, claimType, serviceFrom, serviceTo, diagnosisCodes, totalCharged, placeOfService, admissionDate } = claim;
      expect(decoded.claim).toMatchObject({ claimId, memberId, billingProviderNpi, claimType, serviceFrom, serviceTo, diagnosisCodes, totalCharged, placeOfService, ...(admissionDate ? { admissionDate } : {}) });
      expect(decoded.claim.lines.map((l) => [l.procedureCode, l.units, l.chargedAmount])).toEqual(claim.lines.map((l) => [l.procedureCode, l.units, l.chargedAmount]));
    }
  });

  it('splits a Bundle into its Claim entries, each the entry resource bytes as received', () => {
    const text = JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'p' } }, ...claims.slice(0, 3).map((c) => ({ fullUrl: `urn:uuid:${c.claimId}`, resource: claimToFhir(c) }))] }, null, 1);
    const messages = fhirMessages(Buffer.from(text), 'bundle.json');
    expect(messages).toHaveLength(3);
    messages.forEach((m, i) => {
      expect(m.value.toString()).toBe(JSON.stringify(claimToFhir(claims[i]!), null, 1).replaceAll('\n', '\n   '));
    });
  });

  it('rejects with FHIRPath locations and value-set codes', () => {
    const resource = claimToFhir(claims[0]!);
    const bad = { ...resource, status: 'pending', item: [...(resource.item as object[]), { sequence: 99, productOrService: { coding: [{ code: 'ZZ' }] }, net: { value: 1 } }] };
    expect(decodeFhirClaim(Buffer.from(JSON.stringify(bad)))).toMatchObject({ ok: false, reason: 'FHIR_VALUE_INVALID', errors: [{ path: 'Claim.status' }] });
    const wrongCode = { ...resource, item: [...(resource.item as object[]), { sequence: 2, productOrService: { coding: [{ code: 'ZZ' }] }, quantity: { value: 1 }, net: { value: 0 } }] };
    const decoded = decodeFhirClaim(Buffer.from(JSON.stringify(wrongCode)));
    expect(decoded).toMatchObject({ ok: false, reason: 'CLAIM_PROCEDURE_INVALID' });
    if (!decoded.ok) expect(decoded.errors[0]!.path).toMatch(/^Claim\.item\[\d+\]\.productOrService\.coding\[0\]\.code$/);
    expect(decodeFhirClaim(Buffer.from('['.repeat(100_000)))).toMatchObject({ ok: false, reason: 'FHIR_JSON_TOO_DEEP' });
  });
});
