import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { officeClaim } from '../../support/claims.ts';
import type { Claim } from '../../../domain/claim.schema.ts';
import { generateClaims } from '../../../fixtures/generator.ts';
import { describeFeature, extractFeatures, FEATURE_NAMES, FEATURES, featureIndex, reasonCodeOf } from '../../../scoring/features.ts';

const claim = officeClaim;

const value = (c: Claim, name: string): number => extractFeatures(c)[featureIndex(name)] as number;

describe('feature spec', () => {
  it('has unique names, F_ reason codes and a doc for each feature', () => {
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_NAMES.length);
    for (const f of FEATURES) {
      expect(f.reasonCode).toMatch(/^F_[A-Z0-9_]+$/);
      expect(f.doc.length).toBeGreaterThan(10);
      expect(reasonCodeOf(f.name)).toBe(f.reasonCode);
    }
    expect(extractFeatures(claim())).toHaveLength(FEATURE_NAMES.length);
    expect(() => featureIndex('nope')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('extractFeatures', () => {
  it('is finite for every generated claim', () => {
    const { claims } = generateClaims({ count: 3000, seed: 21, fraudRate: 0.3 });
    for (const c of claims) for (const [j, v] of extractFeatures(c).entries()) expect(Number.isFinite(v), `${c.claimId} ${FEATURE_NAMES[j]}`).toBe(true);
  });

  it('is finite for arbitrary schema-valid variations (unknown codes, extreme units and amounts)', () => {
    const line = fc.record({
      procedureCode: fc.constantFrom('99215', '80053', '82040', 'J1100', '99999', 'A0001', '0001U', '27447'),
      modifiers: fc.constantFrom('', '59', '25,RT'),
      units: fc.integer({ min: 1, max: 9999 }),
      chargedAmount: fc.double({ min: 0, max: 100_000, noNaN: true }),
      serviceDate: fc.constantFrom('', '2024-01-01', '2024-02-29', '2025-12-31'),
    });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 50 }), fc.constantFrom('Z99.89', 'E11.9,Q21.1', 'S72.001A'), fc.boolean(), (drawn, dx, institutional) => {
        const lines: Claim['lines'] = drawn.map((l) => ({
          procedureCode: l.procedureCode,
          modifiers: l.modifiers ? l.modifiers.split(',') : [],
          units: l.units,
          chargedAmount: l.chargedAmount,
          ...(l.serviceDate ? { serviceDate: l.serviceDate } : {}),
        }));
        const c = claim({
          lines,
          totalCharged: lines.reduce((sum, l) => sum + l.chargedAmount, 0),
          diagnosisCodes: dx.split(','),
          claimType: institutional ? 'institutional' : 'professional',
          ...(institutional ? { admissionDate: '2024-01-01' } : {}),
          memberDateOfDeath: '2024-02-01',
          placeOfService: '99',
        });
        for (const v of extractFeatures(c)) expect(Number.isFinite(v)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('measures upcoding, charges, unbundling, death and admission signals', () => {
    const upcoded = claim({ lines: [{ procedureCode: '99215', modifiers: [], units: 1, chargedAmount: 500, serviceDate: '2024-03-01' }], totalCharged: 500 });
    expect(value(upcoded, 'charge_ratio_max')).toBeCloseTo(2, 6);
    expect(value(upcoded, 'em_level_excess')).toBe(2);
    expect(value(upcoded, 'em_high_share')).toBe(1);
    expect(value(claim(), 'em_level_excess')).toBe(0);

    const components = ['82040', '82247', '82310', '82374', '82435', '82565', '82947'];
    const unbundled = claim({
      diagnosisCodes: ['E11.9'],
      lines: components.map((c) => ({ procedureCode: c, modifiers: ['59'], units: 1, chargedAmount: 20, serviceDate: '2024-03-01' })),
      totalCharged: 20 * components.length,
    });
    expect(value(unbundled, 'lab_component_lines')).toBe(7);
    expect(value(unbundled, 'panel_coverage_max')).toBeCloseTo(5 / 8, 6); // 5 of 80048's 8 components (7 of 80053's 14)
    expect(value(unbundled, 'modifier_59_lines')).toBe(7);
    expect(value(unbundled, 'unsupported_share')).toBe(0);

    const phantom = claim({ lines: [{ procedureCode: '72148', modifiers: [], units: 1, chargedAmount: 1600, serviceDate: '2024-03-01' }], totalCharged: 1600 });
    expect(value(phantom, 'unsupported_share')).toBe(1);

    const afterDeath = claim({ memberDateOfDeath: '2024-02-20' });
    expect(value(afterDeath, 'has_date_of_death')).toBe(1);
    expect(value(afterDeath, 'log_days_after_death')).toBeCloseTo(Math.log1p(10), 9);
    expect(value(claim({ memberDateOfDeath: '2024-03-05' }), 'log_days_after_death')).toBe(0);

    const stay = claim({
      claimType: 'institutional',
      placeOfService: '21',
      serviceTo: '2024-03-04',
      admissionDate: '2024-03-01',
      dischargeDate: '2024-03-04',
      lines: [
        { procedureCode: '99222', modifiers: [], units: 1, chargedAmount: 300, serviceDate: '2024-03-01' },
        { procedureCode: '85025', modifiers: [], units: 1, chargedAmount: 40, serviceDate: '2024-03-09' },
      ],
      totalCharged: 340,
    });
    expect(value(stay, 'length_of_stay')).toBe(3);
    expect(value(stay, 'lines_outside_admission')).toBe(1);
    expect(value(stay, 'lines_outside_period')).toBe(1);
    expect(value(stay, 'pos_inpatient')).toBe(1);
    expect(value(stay, 'institutional')).toBe(1);
  });
});

describe('describeFeature', () => {
  it('explains with codes and numbers, never member ids, claim ids or dates', () => {
    const { claims } = generateClaims({ count: 400, seed: 5, fraudRate: 0.5 });
    for (const c of claims) {
      const f = extractFeatures(c);
      for (const [j, name] of FEATURE_NAMES.entries()) {
        const text = describeFeature(name, f[j] as number, c);
        expect(text.length).toBeGreaterThan(3);
        expect(text).not.toContain(c.memberId);
        expect(text).not.toContain(c.claimId);
        expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}/);
        expect(text).not.toMatch(/undefined|NaN|null/);
      }
    }
  });

  it('names the code behind a charge ratio', () => {
    const c = claim({ lines: [{ procedureCode: '99215', modifiers: [], units: 1, chargedAmount: 1050, serviceDate: '2024-03-01' }], totalCharged: 1050 });
    expect(describeFeature('charge_ratio_max', value(c, 'charge_ratio_max'), c)).toBe('charge per unit 4.2x the reference fee for 99215');
  });
});
