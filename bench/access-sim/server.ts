import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { Clock } from '../../review/clock.ts';
import { loadReviewConfig, type ReviewConfig } from '../../review/config.ts';
import type { RunningReviewServer } from '../../review/server.ts';
import { startTestReviewServer } from '../../tests/support/review.ts';

/**
 * The review app's settings for a simulation, through its own configuration (review/config.ts),
 * as an operator would set them:
 * - `REVIEW_TRUST_PROXY=127.0.0.1`: the client address comes from X-Forwarded-For, believed from
 *   loopback only (the driver runs on this machine and sends the simulated address);
 * - `REVIEW_LOGIN_PER_IP_PER_MINUTE` / `REVIEW_LOGIN_GLOBAL_PER_MINUTE` raised: those windows are
 *   real-time minutes, and days of sign-ins replayed in seconds would otherwise be refused (the
 *   failed-login throttle stays as it is: the simulation never fails a sign-in);
 * - `REVIEW_AUDIT_SEAL_SECONDS=0`: no sealing (not what is measured).
 */
export function simReviewConfig(config: Readonly<Config>, indexKey: Buffer): Readonly<ReviewConfig> {
  return loadReviewConfig({
    REVIEW_HOST: '127.0.0.1',
    REVIEW_TRUST_PROXY: '127.0.0.1',
    REVIEW_LOGIN_PER_IP_PER_MINUTE: '100000',
    REVIEW_LOGIN_GLOBAL_PER_MINUTE: '1000000',
    REVIEW_AUDIT_SEAL_SECONDS: '0',
    REVIEW_INDEX_KEY: indexKey.toString('hex'),
    VERDICTS_TOPIC: `${config.database.schema}.verdicts`,
  });
}

/**
 * The real review server (review/server.ts, wired as `claimtrail review serve` wires it, through
 * tests/support/review.ts) on a free loopback port, with the simulation's clock and index key.
 * `stop()` also closes the anchor queue.
 */
export function startSimReviewServer(config: Readonly<Config>, review: Readonly<ReviewConfig>, indexKey: Buffer, clock: Clock, log: Logger): Promise<RunningReviewServer> {
  return startTestReviewServer(config, review, log, 0, { indexKey, clock });
}
