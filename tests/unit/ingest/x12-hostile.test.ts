import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitX12 } from '../../../ingest/x12/x12-interchange.ts';

/** Hostile X12: every input ends as claim messages or rejections with a code; nothing throws. */
const FILE = join(import.meta.dirname, '../../../../shared/samples/x12/home-infusion-therapy-pharmacy-(adjudicated-with-NDC-in-loop-2410).edi');
const good = readFileSync(FILE, 'latin1');
const outcome = (text: string) => {
  const s = splitX12(Buffer.from(text, 'latin1'));
  return { claims: s.messages.length, reasons: s.rejections.map((r) => r.reason), paths: s.rejections.map((r) => r.errors[0]?.path) };
};

describe('hostile X12', () => {
  it('reads the sample with and without line breaks, and with CRLF after each terminator, alike', () => {
    expect(outcome(good)).toEqual({ claims: 1, reasons: [], paths: [] });
    expect(outcome(good.replaceAll('~', '~\r\n'))).toEqual({ claims: 1, reasons: [], paths: [] });
    expect(splitX12(Buffer.from(good.replaceAll('~', '~\n  '), 'latin1')).messages[0]!.slice).toEqual(splitX12(Buffer.from(good, 'latin1')).messages[0]!.slice);
  });

  it('rejects truncation, lying counts, mismatched control numbers and mixed delimiters precisely', () => {
    // Cut between segments: the envelope is incomplete, so the whole interchange is refused (TA1 023).
    expect(outcome(good.slice(0, good.indexOf('SE*')))).toMatchObject({ claims: 0, reasons: ['X12_IEA_MISSING'] });
    expect(outcome(good.slice(0, good.indexOf('SE*') + 4))).toMatchObject({ claims: 0, reasons: ['X12_TRUNCATED'] });
    expect(outcome(good.slice(0, good.indexOf('GE*')))).toMatchObject({ claims: 0, reasons: ['X12_IEA_MISSING'] });
    expect(outcome(good.replace('SE*65*0711', 'SE*64*0711'))).toMatchObject({ claims: 0, reasons: ['X12_SEGMENT_COUNT_MISMATCH'], paths: ['ST=0711/seg=65:SE/SE01'] });
    expect(outcome(good.replace('SE*65*0711', 'SE*65*0712'))).toMatchObject({ claims: 0, reasons: ['X12_CONTROL_NUMBER_MISMATCH'] });
    expect(outcome(good.replace('GE*1*20213', 'GE*2*20213'))).toMatchObject({ claims: 0, reasons: ['X12_SET_COUNT_MISMATCH'] });
    expect(outcome(good.replace('IEA*1*000010216', 'IEA*1*000010217'))).toMatchObject({ claims: 0, reasons: ['X12_CONTROL_NUMBER_MISMATCH'], paths: ['ISA=000010216/IEA/IEA02'] });
    // Mixed delimiters: a segment id swallowed by a foreign separator, or two segments merged.
    expect(outcome(good.replace('CLM*CLMNO12345', 'CLM|CLMNO12345'))).toMatchObject({ claims: 0, reasons: ['X12_SEGMENT_INVALID'], paths: ['byte=714'] });
    expect(outcome(good.replace('~HL*2*1*22*0', '|HL*2*1*22*0'))).toMatchObject({ claims: 0, reasons: ['X12_SEGMENT_COUNT_MISMATCH'], paths: ['ST=0711/seg=64:SE/SE01'] });
    expect(outcome(good.replace('HL*2*1*22*0', 'HL*2*7*22*0'))).toMatchObject({ claims: 0, reasons: ['X12_HL_INVALID'] });
  });

  it('keeps non-ASCII names and maps the claim; refuses UTF-16', () => {
    expect(outcome(good.replace('Smith*Steve', Buffer.from('Smíth*Stéve', 'utf8').toString('latin1')))).toMatchObject({ claims: 1, reasons: [] });
    expect(splitX12(Buffer.from(good, 'utf16le')).rejections[0]!.reason).toBe('X12_ENCODING');
  });

  it('never throws on mutated interchanges (bit flips, truncation, inserted delimiters)', () => {
    const bytes = Buffer.from(good, 'latin1');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.constantFrom(0x7e, 0x2a, 0x3a, 0x0d, 0x0a, 0x00, 0xff, 0x41)), { maxLength: 6 }), fc.nat(bytes.length), (edits, cut) => {
        const b = Buffer.from(bytes.subarray(0, Math.max(1, cut)));
        for (const [at, v] of edits) if (at < b.length) b[at] = v;
        const s = splitX12(b);
        // Nothing lost: claims + rejections account for the input.
        expect(s.messages.length + s.rejections.length).toBeGreaterThan(0);
        for (const r of s.rejections) expect(r.reason).toMatch(/^(X12|CLAIM)_/);
      }),
      { numRuns: 500 },
    );
  });
});
