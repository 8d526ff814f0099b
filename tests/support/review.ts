import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { createRedis } from '../../infra/redis.ts';
import type { Clock } from '../../review/clock.ts';
import type { ReviewConfig } from '../../review/config.ts';
import { startReviewServer, type RunningReviewServer } from '../../review/server.ts';
import { AnchorQueue } from '../../workers/anchor.queue.ts';
import { devIndexKeySource, devMasterKeySource } from '../../cli/dev-sources.ts';
import { testLog } from './env.ts';

/**
 * The review server wired like `claimtrail review serve` wires it: the dev master-key source and
 * the config's anchor queue for sealed audit batches. `stop()` also closes that queue.
 * @param port 0 (default) picks a free port.
 * @param options `indexKey`: the review index key itself (default: the dev key source); `clock`:
 *   the app's clock (default: the system clock), as the access simulator injects it.
 */
export async function startTestReviewServer(
  config: Readonly<Config>,
  review: Readonly<ReviewConfig>,
  log: Logger = testLog,
  port = 0,
  options: { indexKey?: Buffer; clock?: Clock } = {},
): Promise<RunningReviewServer> {
  const redis = createRedis(config.redisUrl);
  const anchoring = new AnchorQueue(config.anchor.queue, redis);
  const close = async () => {
    await anchoring.close();
    redis.disconnect();
  };
  try {
    const indexKey = options.indexKey ? { indexKey: () => options.indexKey! } : devIndexKeySource(config, review);
    const deps = { masterKey: devMasterKeySource(config), anchoring, indexKey, ...(options.clock ? { clock: options.clock } : {}) };
    const server = await startReviewServer(config, review, log, deps, port);
    return {
      ...server,
      async stop() {
        await server.stop();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}
