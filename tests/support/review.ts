import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { createRedis } from '../../infra/redis.ts';
import type { ReviewConfig } from '../../review/config.ts';
import { startReviewServer, type RunningReviewServer } from '../../review/server.ts';
import { AnchorQueue } from '../../workers/anchor.queue.ts';
import { devIndexKeySource, devMasterKeySource } from '../../cli/dev-sources.ts';
import { testLog } from './env.ts';

/**
 * The review server wired like `claimtrail review serve` wires it: the dev master-key source and
 * the config's anchor queue for sealed audit batches. `stop()` also closes that queue.
 * @param port 0 (default) picks a free port.
 */
export async function startTestReviewServer(config: Readonly<Config>, review: Readonly<ReviewConfig>, log: Logger = testLog, port = 0): Promise<RunningReviewServer> {
  const redis = createRedis(config.redisUrl);
  const anchoring = new AnchorQueue(config.anchor.queue, redis);
  const close = async () => {
    await anchoring.close();
    redis.disconnect();
  };
  try {
    const server = await startReviewServer(config, review, log, { masterKey: devMasterKeySource(config), anchoring, indexKey: devIndexKeySource(config, review) }, port);
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
