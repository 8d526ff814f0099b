/**
 * Calendar-date arithmetic on `YYYY-MM-DD` strings, as day numbers (days since 1970-01-01, UTC).
 * Claim dates are already validated by the schema, so these helpers do not re-validate.
 */

const MS_PER_DAY = 86_400_000;

/** Day number of an ISO calendar date (`2024-03-01` -> 19783). */
export function dayNumber(isoDate: string): number {
  return Math.round(Date.parse(`${isoDate}T00:00:00Z`) / MS_PER_DAY);
}

/** ISO calendar date of a day number (inverse of dayNumber). */
export function isoDateOf(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** ISO-8601 UTC timestamp for a day number plus seconds into that day. */
export function isoDateTimeOf(day: number, secondsIntoDay: number): string {
  return new Date(day * MS_PER_DAY + secondsIntoDay * 1000).toISOString();
}
