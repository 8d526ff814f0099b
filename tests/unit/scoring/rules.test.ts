import { describe, expect, it } from 'vitest';
import { officeClaim } from '../../support/claims.ts';
import type { Claim } from '../../../domain/claim.schema.ts';
import { EXCLUDED_NPIS, generateClaims } from '../../../fixtures/generator.ts';
import { offlineObservations } from '../../../scoring/aggregates.ts';
import { extractFeaturesInto, FEATURES } from '../../../scoring/features.ts';
import { createRulesConfig, describeRule, evaluateRules, reviewRules, RULE_CODES } from '../../../scoring/rules.ts';

const config = createRulesConfig({ excludedNpis: EXCLUDED_NPIS });
/** A claim no identical claim came before. */
const firstSeen = { duplicate: false };
const codes = (c: Claim): string[] => evaluateRules(c, config, firstSeen).map((r) => r.code);

const claim = officeClaim;

describe('evaluateRules', () => {
  const { claims, labels } = generateClaims({ count: 6000, seed: 31 });
  const patternOf = (i: number) => labels[i]?.pattern ?? null;

  it('fires on the rule patterns of generated claims', () => {
    claims.forEach((c, i) => {
      const hit = codes(c);
      if (patternOf(i) === 'excluded_provider') expect(hit).toContain(RULE_CODES.excludedProvider);
      if (patternOf(i) === 'after_death') expect(hit).toContain(RULE_CODES.serviceAfterDeath);
      if (patternOf(i) === 'outside_dates') expect(hit).toContain(RULE_CODES.outsideAdmission);
    });
  });

  it('gives the same hits with the facts of feature extraction as without', () => {
    const row = new Float64Array(FEATURES.length);
    let hits = 0;
    claims.forEach((c) => {
      const facts = extractFeaturesInto(c, row, 0);
      const reference = evaluateRules(c, config, firstSeen);
      hits += reference.length;
      expect(evaluateRules(c, config, firstSeen, facts), c.claimId).toEqual(reference);
    });
    expect(hits).toBeGreaterThan(100);
  });

  it('never fires on legitimate generated claims', () => {
    claims.forEach((c, i) => {
      if (patternOf(i) === null) expect(codes(c), c.claimId).toEqual([]);
    });
  });

  it('flags impossible quantities, including on some phantom billing', () => {
    expect(codes(claim({ lines: [{ procedureCode: 'J3301', units: 9, chargedAmount: 90, serviceDate: '2024-03-01' }], totalCharged: 90 }))).toEqual([RULE_CODES.impossibleUnits]);
    expect(codes(claim({ lines: [{ procedureCode: 'J3301', units: 8, chargedAmount: 80, serviceDate: '2024-03-01' }], totalCharged: 80 }))).toEqual([]);
    // Unknown codes have no maximum.
    expect(codes(claim({ lines: [{ procedureCode: 'A9999', units: 5000, chargedAmount: 80 }], totalCharged: 80 }))).toEqual([]);
    expect(claims.some((c, i) => patternOf(i) === 'phantom_billing' && codes(c).includes(RULE_CODES.impossibleUnits))).toBe(true);
  });

  it('checks the attending NPI too, and service dates against death and admission', () => {
    const npi = EXCLUDED_NPIS[0] as string;
    expect(codes(claim({ billingProviderNpi: npi }))).toEqual([RULE_CODES.excludedProvider]);
    expect(codes(claim({ attendingProviderNpi: npi }))).toEqual([RULE_CODES.excludedProvider]);
    expect(codes(claim({ memberDateOfDeath: '2024-03-01' }))).toEqual([]);
    expect(codes(claim({ memberDateOfDeath: '2024-02-28' }))).toEqual([RULE_CODES.serviceAfterDeath]);
    const stay = { claimType: 'institutional', placeOfService: '21', admissionDate: '2024-03-01', dischargeDate: '2024-03-03', serviceTo: '2024-03-03' };
    expect(codes(claim({ ...stay, lines: [{ procedureCode: '99222', units: 1, chargedAmount: 120, serviceDate: '2024-03-03' }] }))).toEqual([]);
    expect(codes(claim({ ...stay, lines: [{ procedureCode: '99222', units: 1, chargedAmount: 120, serviceDate: '2024-03-04' }] }))).toEqual([RULE_CODES.outsideAdmission]);
    expect(codes(claim({ ...stay, dischargeDate: undefined, lines: [{ procedureCode: '99222', units: 1, chargedAmount: 120, serviceDate: '2024-02-29' }] }))).toEqual([RULE_CODES.outsideAdmission]);
  });

  it('reports hits as a code with contribution 1 and no text; the sentence is rendered from the claim, free of dates and member ids', () => {
    const hit = claim({ billingProviderNpi: EXCLUDED_NPIS[1], memberDateOfDeath: '2024-01-01', lines: [{ procedureCode: 'J1100', units: 500, chargedAmount: 120, serviceDate: '2024-03-01' }] });
    const reasons = evaluateRules(hit, config, firstSeen);
    expect(reasons).toEqual([RULE_CODES.excludedProvider, RULE_CODES.serviceAfterDeath, RULE_CODES.impossibleUnits].map((code) => ({ code, contribution: 1 })));
    const texts = reasons.map((r) => describeRule(r.code, hit, config));
    for (const text of texts) expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}|M00000001/);
    expect(texts.slice(0, 2)).toEqual([`billing provider NPI ${EXCLUDED_NPIS[1]} is on the exclusion list`, "service 60 days after the member's recorded date of death"]);
    expect(texts[2]).toMatch(/^impossible quantity: 500 units of J1100 \(maximum \d+\)$/);
    // Without the scorer's list (the review app), the sentence names the claim's NPIs.
    expect(describeRule(RULE_CODES.excludedProvider, hit)).toContain(`billing NPI ${EXCLUDED_NPIS[1]}`);
    expect(describeRule('F_TOTAL_CHARGED', hit)).toBeUndefined();
  });

  it('has no exclusion list by default', () => {
    expect(evaluateRules(claim({ billingProviderNpi: EXCLUDED_NPIS[0] }), createRulesConfig(), firstSeen)).toEqual([]);
  });

  it('flags a claim whose history holds an identical one, after the other rule hits', () => {
    expect(evaluateRules(claim(), config, { duplicate: true })).toEqual([{ code: RULE_CODES.duplicateClaim, contribution: 1 }]);
    expect(describeRule(RULE_CODES.duplicateClaim, claim())).toBe('a claim with the same member, provider, procedure codes and service dates was seen before');
    const reasons = evaluateRules(claim({ billingProviderNpi: EXCLUDED_NPIS[0] }), config, { duplicate: true });
    expect(reasons.map((r) => r.code)).toEqual([RULE_CODES.excludedProvider, RULE_CODES.duplicateClaim]);
  });

  it('fires the duplicate rule on the generator\'s planted duplicates, with the history observed in stream order', () => {
    const observed = offlineObservations(claims);
    const planted = claims.flatMap((_, i) => (patternOf(i) === 'duplicate' ? [i] : []));
    expect(planted.length).toBeGreaterThan(0);
    const hit = planted.filter((i) => evaluateRules(claims[i]!, config, observed[i]!).some((r) => r.code === RULE_CODES.duplicateClaim));
    expect(hit.length / planted.length).toBeGreaterThan(0.9);
  });
});

describe('reviewRules', () => {
  const notTrained = [{ code: RULE_CODES.notTrainedType, contribution: 1 }];
  it('routes dental claims and ICD-9-coded claims to review, and nothing else', () => {
    expect(reviewRules(officeClaim())).toEqual([]);
    expect(reviewRules(officeClaim({ claimType: 'dental', diagnosisCodes: [] }))).toEqual(notTrained);
    const icd9 = officeClaim({ serviceFrom: '2015-09-30', serviceTo: '2015-09-30', diagnosisCodes: ['250.00'], lines: [{ procedureCode: '99213', units: 1, chargedAmount: 120 }] });
    expect(reviewRules(icd9)).toEqual(notTrained);
    expect(describeRule(RULE_CODES.notTrainedType, icd9)).toMatch(/ICD-9-CM/);
    expect(describeRule(RULE_CODES.notTrainedType, officeClaim({ claimType: 'dental' }))).toMatch(/^dental claim/);
    for (const c of generateClaims({ count: 2000, seed: 5 }).claims) expect(reviewRules(c)).toEqual([]);
  });
});
