import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calendarRoundTrip, dayNumber, isCalendarDate, isoDateOf } from '../../../domain/dates.ts';

describe('dayNumber', () => {
  it('equals Date.parse arithmetic for every valid date (property)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }), (date) => {
        const iso = date.toISOString().slice(0, 10);
        expect(dayNumber(iso)).toBe(Math.round(Date.parse(`${iso}T00:00:00Z`) / 86_400_000));
        expect(isoDateOf(dayNumber(iso))).toBe(iso);
      }),
      { numRuns: 2000 },
    );
  });

  it('handles epoch, leap days and century rules', () => {
    expect(dayNumber('1970-01-01')).toBe(0);
    expect(dayNumber('2024-03-01')).toBe(19783);
    expect(dayNumber('2024-02-29') + 1).toBe(dayNumber('2024-03-01'));
    expect(dayNumber('1900-03-01') - dayNumber('1900-02-28')).toBe(1);
    expect(dayNumber('2000-03-01') - dayNumber('2000-02-28')).toBe(2);
  });
});

describe('isCalendarDate', () => {
  it('gives the Date round trip\'s verdict for every YYYY-MM-DD digit string and any other text (property)', () => {
    const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
    const shaped = fc.tuple(digits(4), digits(2), digits(2)).map(([y, m, d]) => `${y}-${m}-${d}`);
    fc.assert(fc.property(fc.oneof(shaped, fc.string({ maxLength: 12 }), fc.constantFrom('0000-02-29', '1900-02-29', '2000-02-29', '2023-02-29', '2024-04-31', '9999-12-31', '2024-1-01', '+02024-01-01')), (s) => {
      expect(isCalendarDate(s)).toBe(calendarRoundTrip(s));
    }), { numRuns: 5000 });
  });
});
