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

/** ISO calendar date of a day number (inverse of dayNumber). */
export function isoDateOf(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** ISO-8601 UTC timestamp for a day number plus seconds into that day. */
export function isoDateTimeOf(day: number, secondsIntoDay: number): string {
  return new Date(day * MS_PER_DAY + secondsIntoDay * 1000).toISOString();
}
