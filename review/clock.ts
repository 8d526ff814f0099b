/**
 * The review app's source of "now": the time of audit entries, session and token expiry, and the
 * times a case is taken, noted, disposed or closed. Production uses {@link systemClock}; the
 * access-monitoring simulator (bench/access-sim/) injects a virtual clock to replay weeks of work
 * through the real API in minutes.
 *
 * WARNING: whoever holds the clock sets the time the audit log records. Only composition roots
 * choose it; nothing reads it from a request.
 */
export interface Clock {
  /** The current time. */
  now(): Date;
}

/** The host's clock (`new Date()`). */
export const systemClock: Clock = Object.freeze({ now: () => new Date() });
