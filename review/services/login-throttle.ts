import { RateLimitedError } from '../errors.ts';

export interface LoginThrottleOptions {
  /** Failed logins allowed per user name and client address within the window. Default 10. */
  maxFailures?: number;
  /** Window length in milliseconds. Default 15 minutes. */
  windowMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Keys tracked at most; beyond, expired keys are swept and then the oldest dropped. Default 100,000. */
  maxKeys?: number;
}

/**
 * Slows password guessing: after `maxFailures` failed logins for one user name from one client
 * address within `windowMs`, further attempts are refused (without checking the password) until
 * the oldest failure leaves the window. A successful login clears the count. In memory, per
 * process: behind several review servers, each counts on its own (put the limit in the proxy too).
 */
export class LoginThrottle {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #failures = new Map<string, number[]>();

  constructor(options: LoginThrottleOptions = {}) {
    this.#max = options.maxFailures ?? 10;
    this.#windowMs = options.windowMs ?? 15 * 60_000;
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  static key(name: string, ip: string | null): string {
    return `${name.trim().toLowerCase()}\u0000${ip ?? '-'}`;
  }

  /** @throws RateLimitedError (with the seconds until the next attempt is allowed) when over the limit. */
  check(key: string): void {
    const recent = this.#recent(key);
    if (recent.length >= this.#max) {
      const retryAfterMs = recent[recent.length - this.#max]! + this.#windowMs - this.#now();
      throw new RateLimitedError('too many failed sign-ins for this user from this address; try again later', Math.max(1, Math.ceil(retryAfterMs / 1000)));
    }
  }

  fail(key: string): void {
    const recent = this.#recent(key);
    recent.push(this.#now());
    this.#failures.delete(key);
    this.#failures.set(key, recent);
    if (this.#failures.size > this.#maxKeys) this.#sweep();
  }

  succeed(key: string): void {
    this.#failures.delete(key);
  }

  /** Keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.#failures.size;
  }

  #recent(key: string): number[] {
    const since = this.#now() - this.#windowMs;
    const recent = (this.#failures.get(key) ?? []).filter((t) => t > since);
    if (recent.length === 0) this.#failures.delete(key);
    return recent;
  }

  #sweep(): void {
    const since = this.#now() - this.#windowMs;
    for (const [key, times] of this.#failures) if (!times.some((t) => t > since)) this.#failures.delete(key);
    // Map order is insertion order and fail() re-inserts: the first keys are the least recent.
    for (const key of this.#failures.keys()) {
      if (this.#failures.size <= this.#maxKeys) break;
      this.#failures.delete(key);
    }
  }
}
