import { devMasterKeySource } from '../../cli/dev-sources.ts';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { createRedis } from '../../infra/redis.ts';
import type { Clock } from '../../review/clock.ts';
import { loadReviewConfig, type ReviewConfig } from '../../review/config.ts';
import { type RunningReviewServer, startReviewServer } from '../../review/server.ts';
import { AnchorQueue } from '../../workers/anchor.queue.ts';

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
 * The real review server (review/server.ts, wired as `claimtrail review serve` wires it: the
 * config's master key and anchor queue) on a free loopback port, with the simulation's clock.
 * `stop()` also closes the anchor queue.
 */
export async function startSimReviewServer(config: Readonly<Config>, review: Readonly<ReviewConfig>, indexKey: Buffer, clock: Clock, log: Logger): Promise<RunningReviewServer> {
  const redis = createRedis(config.redisUrl);
  const anchoring = new AnchorQueue(config.anchor.queue, redis);
  const close = async () => {
    await anchoring.close();
    redis.disconnect();
  };
  try {
    const server = await startReviewServer(config, review, log, { masterKey: devMasterKeySource(config), anchoring, indexKey: { indexKey: () => indexKey }, clock }, 0);
    return { ...server, async stop() { await server.stop(); await close(); } };
  } catch (error) {
    await close();
    throw error;
  }
}
