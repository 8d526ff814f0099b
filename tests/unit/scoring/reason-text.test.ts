import { describe, expect, it } from 'vitest';
import { generateClaims } from '../../../fixtures/generator.ts';
import { describeFeature, extractFeatures, featureIndex } from '../../../scoring/features.ts';
import { renderReasonTexts } from '../../../scoring/reason-text.ts';
import { describeRule, RULE_CODES } from '../../../scoring/rules.ts';
import { officeClaim } from '../../support/claims.ts';

describe('renderReasonTexts (view time)', () => {
  const claim = officeClaim({ memberDateOfDeath: '2024-01-01' });

  it('recomputes a claim-feature reason from the claim and says what describeFeature says', () => {
    const [r] = renderReasonTexts([{ code: 'F_TOTAL_CHARGED', contribution: 0.2 }], claim);
    expect(r).toEqual({ code: 'F_TOTAL_CHARGED', contribution: 0.2, text: describeFeature('log_total_charged', extractFeatures(claim)[featureIndex('log_total_charged')]!, claim) });
  });

  it('renders rule hits with their rule sentence, aggregate reasons without other claims\' numbers, unknown codes empty', () => {
    const out = renderReasonTexts([{ code: RULE_CODES.serviceAfterDeath, contribution: 1 }, { code: 'F_PROVIDER_VOLUME', contribution: 0.1 }, { code: 'F_NEWER_MODEL', contribution: 0.05 }], claim);
    expect(out[0]!.text).toBe(describeRule(RULE_CODES.serviceAfterDeath, claim));
    expect(out[1]!.text).toMatch(/billing provider's recent claims/);
    expect(out[1]!.text).not.toMatch(/\d/);
    expect(out[2]).toEqual({ code: 'F_NEWER_MODEL', contribution: 0.05, text: '' });
  });

  it('picks the one-hot feature set for the claim when features share a code', () => {
    const [r] = renderReasonTexts([{ code: 'F_PLACE_OF_SERVICE', contribution: 0.1 }], claim);
    expect(r!.text).toBe(`place of service ${claim.placeOfService}`);
  });

  it('renders nothing about the person without a claim (erased member)', () => {
    expect(renderReasonTexts([{ code: 'F_TOTAL_CHARGED', contribution: 0.2 }], null)).toEqual([{ code: 'F_TOTAL_CHARGED', contribution: 0.2, text: '' }]);
  });

  it('never renders a member id, claim id or date for any generated claim and code', () => {
    const codes = ['F_TOTAL_CHARGED', 'F_CHARGE_PER_UNIT', 'F_EM_ABOVE_DIAGNOSIS', 'F_SERVICE_AFTER_DEATH', 'F_OUTSIDE_ADMISSION', 'F_MEMBER_FREQUENCY', ...Object.values(RULE_CODES)];
    for (const c of generateClaims({ count: 300, seed: 5 }).claims) {
      for (const r of renderReasonTexts(codes.map((code) => ({ code, contribution: 0.1 })), c)) {
        expect(r.text.length, r.code).toBeGreaterThan(3);
        expect(r.text).not.toContain(c.memberId);
        expect(r.text).not.toContain(c.claimId);
        expect(r.text).not.toMatch(/\d{4}-\d{2}-\d{2}|undefined|NaN/);
      }
    }
  });
});
