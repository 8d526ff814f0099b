import { describe, expect, it } from 'vitest';
import { generateClaims } from '../../../fixtures/generator.ts';
import { claimToFhir } from '../../../fixtures/fhir-writer.ts';
import { CONTENT_TYPE_HEADER, decodeClaim } from '../../../ingest/claim-decoder.ts';
import { FHIR_CONTENT_TYPE } from '../../../ingest/fhir/fhir-claim.ts';
import { fhirMessages } from '../../../ingest/insurer-files.ts';

/** Inputs hostile by size or depth: a clear reason or a mapped claim, in bounded time and memory. */
describe('hostile sizes and depths', () => {
  const claim = generateClaims({ count: 1, seed: 3 }).claims[0]!;

  it('rejects own JSON nested 10,000 deep with JSON_TOO_DEEP (not a schema error, not a crash)', () => {
    const deep = `{"extra":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)},${JSON.stringify(claim).slice(1)}`;
    expect(decodeClaim(Buffer.from(deep))).toMatchObject({ ok: false, reason: 'JSON_TOO_DEEP', errors: [{ code: 'JSON_TOO_DEEP', path: expect.stringMatching(/^byte=\d+$/) }] });
    expect(decodeClaim(Buffer.from(`${'['.repeat(10_000)}${']'.repeat(10_000)}`))).toMatchObject({ ok: false, reason: 'JSON_TOO_DEEP' });
    // Within the limit, an insurer's nested extra field is kept as before.
    const nested = `{"extra":${'{"a":'.repeat(20)}1${'}'.repeat(20)},${JSON.stringify(claim).slice(1)}`;
    expect(decodeClaim(Buffer.from(nested))).toMatchObject({ ok: true });
    // Malformed but shallow JSON keeps its NOT_JSON reason.
    expect(decodeClaim(Buffer.from('{"claimId": '))).toMatchObject({ ok: false, reason: 'NOT_JSON' });
  });

  it('rejects a FHIR resource nested 10,000 deep with FHIR_JSON_TOO_DEEP', () => {
    const resource = { ...claimToFhir(claim), extension: [{ url: 'x', valueString: 'y' }] };
    const deep = JSON.stringify(resource).replace('"valueString":"y"', `"valueString":"y","z":${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    expect(decodeClaim(Buffer.from(deep), { [CONTENT_TYPE_HEADER]: FHIR_CONTENT_TYPE })).toMatchObject({ ok: false, reason: 'FHIR_JSON_TOO_DEEP' });
  });

  it('splits a FHIR Bundle of 100,000 entries in bounded time and memory: every Claim entry a message, the rest skipped', () => {
    const claims = generateClaims({ count: 200, seed: 4 }).claims;
    const entries: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      entries.push(i % 500 === 0 ? JSON.stringify({ fullUrl: `urn:uuid:c${i}`, resource: claimToFhir(claims[(i / 500) % claims.length]!) }) : `{"fullUrl":"urn:uuid:p${i}","resource":{"resourceType":"Patient","id":"p${i}"}}`);
    }
    const bundle = Buffer.from(`{"resourceType":"Bundle","type":"collection","entry":[${entries.join(',')}]}`);
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const messages = fhirMessages(bundle, 'big-bundle.json');
    const elapsed = performance.now() - started;
    expect(messages).toHaveLength(200);
    expect(messages.every((m) => m.route === 'claims')).toBe(true);
    expect(elapsed).toBeLessThan(20_000);
    // The messages are views into the bundle's bytes: little more than the bundle itself stays live.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
    // Each one decodes (mapped) or is rejected with a reason; here all map.
    for (const m of messages.slice(0, 20)) expect(decodeClaim(m.value, m.headers)).toMatchObject({ ok: true });
    // The whole Bundle sent as one claims message is refused clearly, not parsed as a claim.
    expect(decodeClaim(bundle, { [CONTENT_TYPE_HEADER]: FHIR_CONTENT_TYPE })).toMatchObject({ ok: false, reason: 'TOO_LARGE' });
    const small = Buffer.from(`{"resourceType":"Bundle","type":"collection","entry":[${entries.slice(0, 50).join(',')}]}`);
    expect(decodeClaim(small, { [CONTENT_TYPE_HEADER]: FHIR_CONTENT_TYPE })).toMatchObject({ ok: false, reason: 'FHIR_NOT_A_CLAIM' });
  }, 60_000);
});
