import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTENT_TYPE_HEADER, decodeClaim } from '../../../ingest/claim-decoder.ts';
import { fhirMessages } from '../../../ingest/insurer-files.ts';
import { splitX12 } from '../../../ingest/x12/x12-interchange.ts';
import { X12_POSITIONS_HEADER, recomputeSlices } from '../../../ingest/x12/x12-slice.ts';

/**
 * Every public sample file (../shared/samples, beside the checkout; never copied in) against its
 * golden under tests/golden/samples/: the mapped claims, or the exact rejection (reason code and
 * X12 position / FHIRPath). `UPDATE_GOLDENS=1` rewrites the goldens; review the diff.
 */
const SAMPLES = join(import.meta.dirname, '../../../../shared/samples');
const GOLDEN = join(import.meta.dirname, '../../golden/samples');
const update = process.env.UPDATE_GOLDENS === '1';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function x12Outcome(file: string) {
  const bytes = readFileSync(file);
  const split = splitX12(bytes);
  return {
    rejections: split.rejections.map((r) => ({ level: r.level, reason: r.reason, errors: r.errors.map((e) => ({ code: e.code, path: e.path })), bytesSha256: sha(r.bytes) })),
    claims: split.messages.map((m) => {
      // The decoder reads the message exactly as the scoring stage does, and agrees with the split.
      const decoded = decodeClaim(m.slice, { [CONTENT_TYPE_HEADER]: 'application/edi-x12', [X12_POSITIONS_HEADER]: m.positions });
      const recomputed = recomputeSlices(bytes, m.claimId);
      expect(recomputed.some((s) => s.equals(m.slice))).toBe(true);
      expect(decoded.ok).toBe(m.mapped.ok);
      if (decoded.ok && m.mapped.ok) expect(decoded.claim).toEqual(m.mapped.claim);
      if (!decoded.ok && !m.mapped.ok) expect(decoded.errors).toEqual(m.mapped.errors);
      return {
        claimId: m.claimId,
        st: m.st,
        sliceSha256: sha(m.slice),
        sliceBytes: m.slice.length,
        ...(m.mapped.ok ? { claim: m.mapped.claim } : { rejected: m.mapped.errors.map((e) => ({ code: e.code, path: e.path })) }),
      };
    }),
  };
}

function fhirOutcome(file: string) {
  const messages = fhirMessages(readFileSync(file), 'sample');
  return messages.map((m) => {
    if (m.route !== 'claims') return { dlq: m.headers['x-dlq-reason'], errors: JSON.parse(m.headers['x-dlq-errors'] ?? '[]') as unknown };
    const decoded = decodeClaim(m.value, m.headers);
    return { resourceSha256: sha(m.value), ...(decoded.ok ? { claim: decoded.claim } : { rejected: decoded.errors.slice(0, 5).map((e) => ({ code: e.code, path: e.path })) }) };
  });
}

function check(kind: 'x12' | 'fhir', name: string, outcome: unknown) {
  const path = join(GOLDEN, kind, `${name}.golden.json`);
  if (update || !existsSync(path)) {
    mkdirSync(join(GOLDEN, kind), { recursive: true });
    writeFileSync(path, `${JSON.stringify(outcome, null, 2)}\n`);
    if (!update) throw new Error(`golden ${path} was missing and has been written: review and commit it`);
  }
  expect(JSON.parse(JSON.stringify(outcome))).toEqual(JSON.parse(readFileSync(path, 'utf8')));
}

describe.skipIf(!existsSync(SAMPLES))('sample files against their goldens', () => {
  for (const name of readdirSync(join(SAMPLES, 'x12')).sort()) {
    it(`x12/${name}`, () => check('x12', name, x12Outcome(join(SAMPLES, 'x12', name))));
  }
  for (const name of readdirSync(join(SAMPLES, 'fhir')).sort()) {
    it(`fhir/${name}`, { timeout: 60_000 }, () => check('fhir', name, fhirOutcome(join(SAMPLES, 'fhir', name))));
  }
});
