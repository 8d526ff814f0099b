import { RateLimitedError } from '../errors.ts';

export interface ConcurrencyGateOptions {
  /** Tasks running at once. Default 4 (scrypt at N=2^15 takes ~32 MiB and a core for ~50-100 ms). */
  concurrency?: number;
  /** Tasks waiting for a slot; one more is refused at once. Default 64. */
  maxQueued?: number;
}

/**
 * A small semaphore for expensive work (password hashing): at most `concurrency` tasks run, up to
 * `maxQueued` wait in order, and a caller beyond that is refused immediately with a
 * RateLimitedError (429, retry after a second) instead of piling up memory and latency.
 */
export class ConcurrencyGate {
  readonly #concurrency: number;
  readonly #maxQueued: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(options: ConcurrencyGateOptions = {}) {
    this.#concurrency = options.concurrency ?? 4;
    this.#maxQueued = options.maxQueued ?? 64;
    if (!(Number.isInteger(this.#concurrency) && this.#concurrency >= 1)) throw new RangeError(`concurrency must be a whole number >= 1, got ${this.#concurrency}`);
    if (!(Number.isInteger(this.#maxQueued) && this.#maxQueued >= 0)) throw new RangeError(`maxQueued must be a whole number >= 0, got ${this.#maxQueued}`);
  }

  /** Tasks waiting for a slot (for tests and metrics). */
  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `task` when a slot is free.
   * @throws RateLimitedError at once when every slot is taken and the queue is full.
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#maxQueued) throw new RateLimitedError('the server is busy checking passwords; try again in a moment', 1);
      // The releasing task hands its slot over directly, so #running stays counted.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
