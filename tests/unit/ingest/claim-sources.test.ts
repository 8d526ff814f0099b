import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_CLAIM_BYTES } from '../../../domain/claim.schema.ts';
import { generateClaims } from '../../../fixtures/generator.ts';
import { readNdjson, readValidClaims } from '../../../ingest/claim-sources.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'claimtrail-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('claim files: one reader for produce, training and evaluation', () => {
  const [a, b] = generateClaims({ count: 2, seed: 5 }).claims;
  const file = path.join(dir, 'mixed.ndjson');
  const notUtf8 = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
  const huge = Buffer.from(JSON.stringify({ ...a, note: 'x'.repeat(MAX_CLAIM_BYTES) }));
  writeFileSync(file, Buffer.concat([
    Buffer.from(`${JSON.stringify(a)}\r\n\n`),
    notUtf8, Buffer.from('\n'),
    huge, Buffer.from('\n'),
    Buffer.from(`${JSON.stringify(b)}`),
  ]));

  it('yields each line byte for byte (no decoding, CR dropped) with its line number', async () => {
    const out = [];
    for await (const m of readNdjson(file)) out.push(m);
    expect(out.map((m) => m.line)).toEqual([1, 3, 4, 5]);
    expect(out[0]!.value.toString('utf8')).toBe(JSON.stringify(a));
    expect(out[0]!.key).toBe(a!.memberId);
    expect(out[1]!.value).toEqual(notUtf8);
    expect(out[2]!.value.length).toBe(huge.length);
  });

  it('applies the scoring stage checks: bad bytes and oversized claims are rejected with the DLQ reason', async () => {
    const read = await readValidClaims(file);
    expect(read.claims).toEqual([a, b]);
    expect(read.rejected.map((r) => [r.line, r.reason])).toEqual([[3, 'NOT_UTF8'], [4, 'TOO_LARGE']]);
  });

  it('refuses a file it cannot read', async () => {
    await expect(readValidClaims(path.join(dir, 'missing.ndjson'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
