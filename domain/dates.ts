/**
 * Calendar-date arithmetic on `YYYY-MM-DD` strings, as day numbers (days since 1970-01-01, UTC).
 * Claim dates are already validated by the schema, so these helpers do not re-validate.
 */

const MS_PER_DAY = 86_400_000;

/**
 * Day number of an ISO calendar date (`2024-03-01` -> 19783). Precondition: `YYYY-MM-DD` with a
 * valid month and day (the claim schema guarantees it). Computed from the digits with the
 * proleptic Gregorian days-from-civil formula (H. Hinnant) instead of `Date.parse`, which
 * dominated feature extraction; tests/unit/domain/dates.test.ts proves both agree.
 */
export function dayNumber(isoDate: string): number {
  const d = (i: number): number => isoDate.charCodeAt(i) - 48;
  let y = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
  const m = d(5) * 10 + d(6);
  const day = d(8) * 10 + d(9);
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * True when `text` is a real calendar date `YYYY-MM-DD` (proleptic Gregorian, years 0000-9999):
 * the same answer as parsing `${text}T00:00:00Z` and checking that the date reads back unchanged,
 * computed from the digits (the Date round trip dominated claim validation). Any other shape
 * falls back to that round trip, so callers see exactly its verdict; tests/unit/domain/dates.test.ts
 * compares both.
 */
export function isCalendarDate(text: string): boolean {
  if (text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return calendarRoundTrip(text);
  let y = 0;
  for (const i of [0, 1, 2, 3]) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return calendarRoundTrip(text);
    y = y * 10 + c;
  }
  const m1 = text.charCodeAt(5) - 48;
  const m2 = text.charCodeAt(6) - 48;
  const d1 = text.charCodeAt(8) - 48;
  const d2 = text.charCodeAt(9) - 48;
  if (m1 < 0 || m1 > 9 || m2 < 0 || m2 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return calendarRoundTrip(text);
  const m = m1 * 10 + m2;
  const d = d1 * 10 + d2;
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (m === 2 ? (leap ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31);
}

/** The reference check {@link isCalendarDate} answers like: Date parses it and reads it back the same. */
export function calendarRoundTrip(text: string): boolean {
  return !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);
}

/** ISO calendar date of a day number (inverse of dayNumber). */
export function isoDateOf(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** ISO-8601 UTC timestamp for a day number plus seconds into that day. */
export function isoDateTimeOf(day: number, secondsIntoDay: number): string {
  return new Date(day * MS_PER_DAY + secondsIntoDay * 1000).toISOString();
}
