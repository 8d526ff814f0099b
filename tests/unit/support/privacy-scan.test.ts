import { describe, expect, it } from 'vitest';
import { claimNeedles, textPieces, TokenScanner, type Finding } from '../../support/privacy-scan.ts';
import { officeClaim } from '../../support/claims.ts';

/** The privacy e2e test's scanner: what counts as a finding in a log line. */
describe('privacy scanner: numbers in log lines', () => {
  const claim = officeClaim({ lines: [{ procedureCode: '99213', units: 1, chargedAmount: 15, serviceDate: '2024-03-01' }], totalCharged: 15 });
  const scanner = new TokenScanner(claimNeedles([claim]));
  const findings = (line: object): Finding[] => {
    const out: Finding[] = [];
    for (const piece of textPieces('log', 'line 1', JSON.stringify(line), '(line)')) scanner.scan(piece, out);
    return out;
  };

  it("does not report kafkajs's own retry and request numbers that equal an amount", () => {
    const line = { level: 40, component: 'kafkajs', msg: 'Restarting the consumer', retryCount: 15, retryTime: 15, correlationId: 15, size: 15 };
    expect(findings(line)).toEqual([]);
  });

  it("does not report the anchorers' leaf and batch counts that equal an amount", () => {
    expect(findings({ component: 'epoch-anchorer', msg: 'epoch anchored', epochId: 'e1', batches: 15, leaves: 15, gasUsed: '15' })).toEqual([]);
  });

  it('still reports the same number under any other key', () => {
    expect(findings({ component: 'kafkajs', msg: 'x', value: 15 }).map((f) => `${f.key} ${f.needle}`)).toEqual(['value 15']);
    expect(findings({ msg: 'charged 15 today' }).map((f) => `${f.key} ${f.needle}`)).toEqual(['msg 15']);
  });

  it('does not report a timestamp whose hour, minute or second equals an amount', () => {
    expect(findings({ timestamp: '2026-12-06T15:15:15.000Z', decided_at: '2026-12-06 15:15:15.123+00' })).toEqual([]);
    // Not a timestamp as a whole: the number is still found.
    expect(findings({ note: 'at 2026-12-06T15:15:15Z charged 15' }).map((f) => f.needle)).toContain('15');
  });

  it('still reports text needles under the exempt keys', () => {
    expect(findings({ component: 'kafkajs', retryTime: claim.memberId }).map((f) => f.key)).toEqual(['retryTime']);
  });
});
