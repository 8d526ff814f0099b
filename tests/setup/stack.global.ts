import { createLogger } from '../../core/logger.ts';
import { stackUp } from '../../stack/stack.ts';

/**
 * vitest globalSetup of the integration project: the tests run against the live local stack, so
 * bring it up first (a no-op taking well under a second when it already runs). It is left
 * running afterwards on purpose: other engineers and the next test run share it, and
 * `claimtrail stack down` is the way to stop it.
 */
export default async function setup(): Promise<void> {
  const result = await stackUp({ log: createLogger(process.env.LOG_LEVEL ?? 'warn') });
  if (result.started.length > 0) {
    process.stdout.write(`[stack] started ${result.started.join(', ')} in ${(result.elapsedMs / 1000).toFixed(1)} s\n`);
  }
}
