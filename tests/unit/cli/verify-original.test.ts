import { describe, expect, it } from 'vitest';
import { claimCommitment, newSalt } from '../../../anchoring/core/commitment.ts';
import { checkOriginal, ORIGINAL_EXIT_CODES } from '../../../cli/commands/verify-original.ts';
import { generateClaims } from '../../../fixtures/generator.ts';
import { claimToFhir } from '../../../fixtures/fhir-writer.ts';
import { writeX12 } from '../../../fixtures/x12-writer.ts';
import { fhirMessages, x12Messages } from '../../../ingest/insurer-files.ts';

/** `verify --original`: recompute the committed bytes from the original file, check with the salt. */
describe('checkOriginal', () => {
  const { claims } = generateClaims({ count: 60, seed: 12 });
  const professional = claims.filter((c) => c.claimType === 'professional').slice(0, 10);
  const salt = newSalt();
  const x12 = writeX12(professional, 'professional', { lineBreaks: true });
  const target = professional[3]!;
  // What ingest sent for the claim and the scoring stage committed to.
  const slice = x12Messages(x12, 'f.837').find((m) => m.route === 'claims' && m.value.includes(`CLM*${target.claimId}*`))!.value;
  const decision = { decisionId: 'd-1', claimId: target.claimId, claimCommitment: claimCommitment(slice, salt) };
  const saltOf = async () => salt;

  it('passes for the original X12 file, line breaks or not; another file with the same claim facts fails (HL ids are in the slice)', async () => {
    expect(await checkOriginal(decision, x12, 'f.837', saltOf)).toMatchObject({ ok: true, format: 'x12', candidates: 1, matched: 0 });
    expect(await checkOriginal(decision, Buffer.from(x12.toString('latin1').replaceAll('~\n', '~\r\n'), 'latin1'), 'f.837', saltOf)).toMatchObject({ ok: true });
    const reordered = writeX12([target, ...professional.slice(0, 3)], 'professional');
    expect(await checkOriginal(decision, reordered, 'g.edi', saltOf)).toMatchObject({ ok: false, code: 'ORIGINAL_MISMATCH' });
  });

  it('fails with its own codes: altered file, claim not in the file, salt gone', async () => {
    const altered = Buffer.from(x12.toString('latin1').replace(`CLM*${target.claimId}*${target.totalCharged}*`, `CLM*${target.claimId}*${target.totalCharged + 1}*`), 'latin1');
    expect(await checkOriginal(decision, altered, 'f.837', saltOf)).toMatchObject({ ok: false, code: 'ORIGINAL_MISMATCH' });
    expect(await checkOriginal({ ...decision, claimId: 'NOT-THERE' }, x12, 'f.837', saltOf)).toMatchObject({ ok: false, code: 'ORIGINAL_CLAIM_NOT_FOUND' });
    expect(await checkOriginal(decision, x12, 'f.837', async () => null)).toMatchObject({ ok: false, code: 'ORIGINAL_SALT_UNAVAILABLE' });
    expect(new Set(Object.values(ORIGINAL_EXIT_CODES)).size).toBe(3);
  });

  it('passes for a FHIR Bundle holding the resource as received, fails for the resource re-serialised', async () => {
    const bundle = Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: professional.map((c) => ({ resource: claimToFhir(c) })) }, null, 2));
    const resource = fhirMessages(bundle, 'b.json')[3]!.value;
    const fhirDecision = { ...decision, claimCommitment: claimCommitment(resource, salt) };
    expect(await checkOriginal(fhirDecision, bundle, 'b.json', saltOf)).toMatchObject({ ok: true, format: 'fhir' });
    const compact = Buffer.from(JSON.stringify(JSON.parse(bundle.toString())));
    expect(await checkOriginal(fhirDecision, compact, 'b.json', saltOf)).toMatchObject({ ok: false, code: 'ORIGINAL_MISMATCH' });
  });
});
