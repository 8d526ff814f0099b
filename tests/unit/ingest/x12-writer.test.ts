import { describe, expect, it } from 'vitest';
import type { Claim } from '../../../domain/claim.schema.ts';
import { generateClaims } from '../../../fixtures/generator.ts';
import { type X12ClaimKind, asDentalClaim, billTypeOf, defaultRevenueCode, writeX12 } from '../../../fixtures/x12-writer.ts';
import { CONTENT_TYPE_HEADER, decodeClaim } from '../../../ingest/claim-decoder.ts';
import { x12Messages } from '../../../ingest/insurer-files.ts';
import { splitX12 } from '../../../ingest/x12/x12-interchange.ts';
import { X12_CONTENT_TYPE, X12_POSITIONS_HEADER } from '../../../ingest/x12/x12-slice.ts';

/** The facts an 837 of `kind` carries for `claim`, as the reader gives them back (see fixtures/x12-writer.ts). */
function carried(claim: Claim, kind: X12ClaimKind) {
  const lineDates = claim.lines.map((l) => l.serviceDate ?? claim.serviceFrom).sort();
  return {
    claimId: claim.claimId,
    memberId: claim.memberId,
    billingProviderNpi: claim.billingProviderNpi,
    claimType: kind,
    frequencyCode: claim.frequencyCode ?? '1',
    serviceFrom: kind === 'institutional' ? claim.serviceFrom : lineDates[0],
    serviceTo: kind === 'institutional' ? claim.serviceTo : lineDates.at(-1),
    diagnosisCodes: claim.diagnosisCodes.map((d) => d.replace('.', '')),
    totalCharged: claim.totalCharged,
    ...(claim.memberDateOfBirth ? { memberDateOfBirth: claim.memberDateOfBirth } : {}),
    ...(kind === 'institutional' ? { billType: billTypeOf(claim), ...(claim.attendingProviderNpi ? { attendingProviderNpi: claim.attendingProviderNpi } : {}), ...(claim.admissionDate ? { admissionDate: claim.admissionDate } : {}) } : { placeOfService: claim.placeOfService }),
    lines: claim.lines.map((l) => ({
      procedureCode: l.procedureCode,
      modifiers: l.modifiers,
      units: l.units,
      chargedAmount: l.chargedAmount,
      serviceDate: l.serviceDate ?? claim.serviceFrom,
      ...(kind === 'institutional' ? { revenueCode: l.revenueCode ?? defaultRevenueCode(l.procedureCode) } : {}),
      ...(l.teeth ? { teeth: l.teeth } : {}),
    })),
  };
}

describe('X12 writer -> X12 reader', () => {
  const { claims } = generateClaims({ count: 600, seed: 7 });
  const byKind: Record<X12ClaimKind, Claim[]> = {
    professional: claims.filter((c) => c.claimType === 'professional'),
    institutional: claims.filter((c) => c.claimType === 'institutional'),
    dental: claims.filter((c) => c.claimType === 'professional').slice(0, 80).map(asDentalClaim),
  };

  for (const kind of ['professional', 'institutional', 'dental'] as const) {
    it(`writes a valid 837${kind[0]!.toUpperCase()} whose claims decode back to the same domain claims`, () => {
      const written = byKind[kind];
      expect(written.length).toBeGreaterThan(10);
      const bytes = writeX12(written, kind, { control: 42, claimsPerSet: 25, lineBreaks: kind === 'dental' });
      const split = splitX12(bytes);
      // Envelopes, counts and HL chains agree: nothing rejected, one message per claim, in order.
      expect(split.readError).toBeNull();
      expect(split.rejections).toEqual([]);
      expect(split.interchanges).toHaveLength(1);
      expect(split.interchanges[0]!.groups[0]!.sets).toHaveLength(Math.ceil(written.length / 25));
      expect(split.messages.map((m) => m.claimId)).toEqual(written.map((c) => c.claimId));
      split.messages.forEach((m, i) => {
        const claim = written[i]!;
        expect(m.mapped, claim.claimId).toMatchObject({ ok: true });
        // The scoring stage's view: the slice alone, decoded by content type.
        const decoded = decodeClaim(m.slice, { [CONTENT_TYPE_HEADER]: X12_CONTENT_TYPE, [X12_POSITIONS_HEADER]: m.positions });
        expect(decoded.ok, claim.claimId).toBe(true);
        if (decoded.ok) expect(decoded.claim).toMatchObject(carried(claim, kind));
      });
      // Acknowledgements accept every set and every claim.
      const acks = x12Messages(bytes, 'gen.837').filter((m) => m.route === 'acks').map((m) => m.value.toString('latin1'));
      expect(acks).toHaveLength(1);
      expect(acks[0]).toMatch(/~TA1\*000000042\*\d{6}\*\d{4}\*A\*000~/);
      expect(acks[0]!.match(/STC\*A2:20/g)).toHaveLength(written.length);
    });
  }

  it('refuses a claim of another type than the interchange', () => {
    expect(() => writeX12(byKind.institutional.slice(0, 1), 'professional')).toThrow(RangeError);
  });
});

describe('a 10,000-claim interchange', () => {
  it('splits, maps and acknowledges every claim in bounded time (no argument-count limit in the 277CA)', () => {
    const { claims } = generateClaims({ count: 400, seed: 8 });
    const professional = claims.filter((c) => c.claimType === 'professional');
    const many: Claim[] = [];
    for (let k = 0; many.length < 10_000; k++) for (const c of professional) if (many.length < 10_000) many.push({ ...c, claimId: `${c.claimId}-${k}` });
    const bytes = writeX12(many, 'professional', { claimsPerSet: 10_000 });
    const started = performance.now();
    const messages = x12Messages(bytes, 'many.837');
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(messages.filter((m) => m.route === 'claims')).toHaveLength(10_000);
    expect(messages.filter((m) => m.route === 'dlq')).toHaveLength(0);
    const [ack] = messages.filter((m) => m.route === 'acks');
    expect(ack!.value.toString('latin1').match(/STC\*A2:20/g)).toHaveLength(10_000);
  });
});
