import type { Admin } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import { groupLag } from '../infra/kafka/group-lag.ts';

/** What the gate steers: a stage that can stop fetching and start again without leaving its group. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

export interface BackfillGateOptions {
  admin: Admin;
  /** The live scoring group this backfill yields to (SCORING_YIELD_TO_GROUP). */
  liveGroupId: string;
  /** The live group's input topic (the claims topic). */
  topic: string;
  /** Live lag above which the backfill pauses (SCORING_YIELD_MAX_LAG); it resumes at half of it. */
  maxLag: number;
  stage: Pausable;
  log: Logger;
  /** How often the live lag is read. Default 1,000 ms. */
  intervalMs?: number;
}

/**
 * Keeps a backfill (re-scoring history under its own SCORING_RUN_ID and consumer group) behind
 * live claims: while the live scoring group lags by more than `maxLag` messages, the backfill's
 * consumer is paused (it stays in its group, its transaction is not touched, and it fetches
 * nothing); once the live lag is back under half of `maxLag` it resumes. The backfill process also
 * runs at the lowest OS scheduling priority (runtime.ts), so on a shared machine the live
 * processes get the CPU first. A failed lag read pauses too: a backfill never races live claims
 * blind.
 */
export class BackfillGate {
  readonly #options: BackfillGateOptions;
  #paused = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  /** Times the gate paused the backfill (for tests and logs). */
  pauses = 0;

  constructor(options: BackfillGateOptions) {
    if (!Number.isInteger(options.maxLag) || options.maxLag < 1) throw new RangeError(`maxLag must be a positive integer, got ${options.maxLag}`);
    this.#options = options;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Reads the live lag once and pauses or resumes the backfill accordingly. */
  async check(): Promise<void> {
    const { admin, liveGroupId, topic, maxLag, stage, log } = this.#options;
    let lag: number;
    try {
      lag = await groupLag(admin, liveGroupId, topic);
    } catch (error) {
      if (!this.#paused) log.warn({ err: error, liveGroupId }, 'backfill paused: the live group lag cannot be read');
      this.#pause();
      return;
    }
    if (!this.#paused && lag > maxLag) {
      log.info({ liveGroupId, liveLag: lag, maxLag }, 'backfill paused: live claims are waiting');
      this.#pause();
    } else if (this.#paused && lag <= maxLag / 2) {
      log.info({ liveGroupId, liveLag: lag }, 'backfill resumed');
      this.#paused = false;
      stage.resume();
    }
  }

  /** Checks now, then every `intervalMs` (never overlapping). */
  start(): void {
    const tick = () => {
      this.#running = this.#running.then(() => this.check());
    };
    tick();
    this.#timer = setInterval(tick, this.#options.intervalMs ?? 1000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.pauses++;
    this.#options.stage.pause();
  }
}
