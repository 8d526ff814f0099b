import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateMalformedCases } from '../../../fixtures/generator.ts';
import { DLQ_HEADERS, decodeClaim, headerString, toDlqMessage } from '../../../ingest/claim-decoder.ts';
import { MAX_CLAIM_BYTES } from '../../../domain/claim.schema.ts';

const sampleLines = readFileSync('fixtures/samples/claims-100.ndjson', 'utf8').trim().split('\n');
const sample = sampleLines[0]!;

describe('decodeClaim', () => {
  it('accepts every sample claim and keeps the exact bytes', () => {
    for (const line of sampleLines) {
      const bytes = Buffer.from(line);
      const decoded = decodeClaim(bytes);
      expect(decoded.ok).toBe(true);
      if (decoded.ok) expect(decoded.bytes.equals(bytes)).toBe(true);
    }
  });

  it('keeps unknown extra fields', () => {
    const decoded = decodeClaim(Buffer.from(JSON.stringify({ ...JSON.parse(sample), payerPlanCode: 'PPO-7', x: { y: 1 } })));
    expect(decoded.ok && decoded.claim).toMatchObject({ payerPlanCode: 'PPO-7', x: { y: 1 } });
  });

  it('names the field and the problem, listing every error at once', () => {
    const claim = JSON.parse(sample);
    claim.billingProviderNpi = '1234567890';
    claim.lines[0].units = 0;
    delete claim.placeOfService;
    const decoded = decodeClaim(Buffer.from(JSON.stringify(claim)));
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.reason).toBe('SCHEMA_INVALID');
    const paths = decoded.errors.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['billingProviderNpi', 'lines.0.units', 'placeOfService']));
    expect(decoded.errors.find((e) => e.path === 'billingProviderNpi')?.message).toMatch(/NPI/);
  });

  it('gives each kind of malformed message a reason and at least one field error', () => {
    for (const c of generateMalformedCases(60, 3)) {
      const text = typeof c.value === 'string' ? c.value : JSON.stringify(c.value);
      const decoded = decodeClaim(Buffer.from(text));
      expect(decoded.ok, c.kind).toBe(false);
      if (!decoded.ok) {
        expect(['NOT_JSON', 'SCHEMA_INVALID']).toContain(decoded.reason);
        expect(decoded.errors.length).toBeGreaterThan(0);
      }
    }
  });

  it('refuses empty, oversized and non-UTF-8 messages with their own reasons', () => {
    expect(decodeClaim(null)).toMatchObject({ ok: false, reason: 'EMPTY_MESSAGE' });
    expect(decodeClaim(Buffer.alloc(0))).toMatchObject({ ok: false, reason: 'EMPTY_MESSAGE' });
    expect(decodeClaim(Buffer.alloc(MAX_CLAIM_BYTES + 1, 0x20))).toMatchObject({ ok: false, reason: 'TOO_LARGE' });
    expect(decodeClaim(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toMatchObject({ ok: false, reason: 'NOT_UTF8' });
  });

  it('never throws, whatever the bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const decoded = decodeClaim(Buffer.from(bytes));
        expect(typeof decoded.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const decoded = decodeClaim(Buffer.from(JSON.stringify(value) ?? 'null'));
        expect(decoded.ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('toDlqMessage', () => {
  it('keeps key, value bytes and headers, and adds the reason, errors and source position', () => {
    const value = Buffer.from('{"claimId": 1');
    const message = toDlqMessage(
      { key: Buffer.from('M1'), value, headers: { 'x-correlation-id': Buffer.from('abc') } },
      { topic: 'claims', partition: 2, offset: '41' },
      { reason: 'NOT_JSON', errors: [{ path: '(root)', message: 'not JSON' }] },
      new Date('2026-01-02T03:04:05.000Z'),
    );
    expect(message.value).toBe(value);
    expect(message.key?.toString()).toBe('M1');
    expect(headerString(message.headers, 'x-correlation-id')).toBe('abc');
    expect(message.headers).toMatchObject({
      [DLQ_HEADERS.reason]: 'NOT_JSON',
      [DLQ_HEADERS.sourceTopic]: 'claims',
      [DLQ_HEADERS.sourcePartition]: '2',
      [DLQ_HEADERS.sourceOffset]: '41',
      [DLQ_HEADERS.failedAt]: '2026-01-02T03:04:05.000Z',
    });
    expect(JSON.parse(headerString(message.headers, DLQ_HEADERS.errors)!)).toEqual([{ path: '(root)', message: 'not JSON' }]);
  });
});
