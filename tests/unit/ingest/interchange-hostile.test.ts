import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateClaims } from '../../../fixtures/generator.ts';
import { claimToFhir } from '../../../fixtures/fhir-writer.ts';
import { writeX12 } from '../../../fixtures/x12-writer.ts';
import { isDlqReason } from '../../../ingest/claim-reasons.ts';
import { interchangeMessages } from '../../../ingest/insurer-files.ts';

/**
 * Whole hostile files as the ingest role receives them (interchanges topic): whatever the bytes,
 * `interchangeMessages` never throws, every DLQ entry carries a registered reason, every X12
 * interchange gets an acknowledgement, and no claim of the file is silently dropped.
 */
describe('hostile interchanges and Bundles (ingest role input)', () => {
  const { claims } = generateClaims({ count: 40, seed: 17 });
  const professional = claims.filter((c) => c.claimType === 'professional').slice(0, 12);
  const x12 = writeX12(professional, 'professional', { claimsPerSet: 4 });
  const bundle = Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: professional.map((c) => ({ resource: claimToFhir(c) })) }));
  const mutate = (base: Buffer, bytes: readonly number[]) =>
    fc.tuple(fc.array(fc.tuple(fc.nat(base.length - 1), fc.constantFrom(...bytes)), { maxLength: 8 }), fc.nat(base.length), fc.boolean()).map(([edits, cut, lineBreaks]) => {
      let b = Buffer.from(base.subarray(0, Math.max(1, cut)));
      for (const [at, v] of edits) if (at < b.length) b[at] = v;
      if (lineBreaks) b = Buffer.from(b.toString('latin1').replaceAll('~', '~\r\n'), 'latin1');
      return b;
    });

  it('X12: claims, DLQ entries with reasons and one acknowledgement, never a throw', () => {
    fc.assert(
      fc.property(mutate(x12, [0x7e, 0x2a, 0x3a, 0x5e, 0x0d, 0x0a, 0x00, 0xff, 0xe9, 0x31]), (b) => {
        const out = interchangeMessages(b, 'application/edi-x12', 'f.837');
        for (const m of out.filter((x) => x.route === 'dlq')) expect(isDlqReason(m.headers['x-dlq-reason'] ?? '')).toBe(true);
        const claimsOut = out.filter((m) => m.route === 'claims').length;
        const dlq = out.filter((m) => m.route === 'dlq').length;
        // Nothing silently dropped: claims sent, or the rejection says why.
        expect(claimsOut + dlq).toBeGreaterThan(0);
        expect(claimsOut).toBeLessThanOrEqual(professional.length);
        // Claims sent means an interchange was read: its sender gets an acknowledgement.
        if (claimsOut > 0) expect(out.filter((m) => m.route === 'acks')).toHaveLength(1);
      }),
      { numRuns: 400, seed: 5 },
    );
  });

  it('FHIR: Bundles cut, flipped or re-typed give resources or a reason, never a throw', () => {
    fc.assert(
      fc.property(mutate(bundle, [0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x2c, 0x3a, 0x5c, 0x00, 0xff]), fc.constantFrom(undefined, 'application/fhir+json', 'application/xml'), (b, type) => {
        const out = interchangeMessages(b, type, 'b.json');
        expect(out.length).toBeGreaterThan(0);
        for (const m of out.filter((x) => x.route === 'dlq')) expect(isDlqReason(m.headers['x-dlq-reason'] ?? '')).toBe(true);
      }),
      { numRuns: 300, seed: 6 },
    );
    expect(interchangeMessages(null, undefined, 'empty')).toMatchObject([{ route: 'dlq', headers: { 'x-dlq-reason': 'EMPTY_MESSAGE' } }]);
    expect(interchangeMessages(bundle, 'application/pdf', 'x.pdf')).toMatchObject([{ route: 'dlq', headers: { 'x-dlq-reason': 'CONTENT_TYPE_UNKNOWN' } }]);
  });
});
