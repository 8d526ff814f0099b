import type { Pool } from 'pg';
import { connectProvider } from '../anchoring/chain/provider.ts';
import type { Config } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { configuredTrustAnchor } from '../proofs/configured-trust.ts';
import { AlertRepository } from './alert.repository.ts';
import { ChainWatch } from './chain-watch.ts';

/**
 * The chain watch over the configured DecisionAnchorV2 and our anchorer (the trust anchor of
 * proofs/configured-trust.ts: configuration, never a stored row), scanning every
 * MONITOR_CHAIN_POLL_MS from the head at its first start.
 */
export async function startChainWatch(deps: { pool: Pool; config: Readonly<Config>; log: Logger }): Promise<{ watch: ChainWatch; stop(): Promise<void> }> {
  const provider = await connectProvider(deps.config.chain.rpcUrl);
  try {
    const trust = await configuredTrustAnchor(deps.config, provider);
    const v2 = trust.deployments.find((d) => d.version === 'v2');
    if (!v2?.anchorers?.length) throw new ConfigError(['DECISION_ANCHOR_V2_ANCHORER: the chain watch needs the DecisionAnchorV2 address and our anchorer (DECISION_ANCHOR_V2_ADDRESS, DECISION_ANCHOR_V2_ANCHORER)']);
    const watch = new ChainWatch({ provider, pool: deps.pool, alerts: new AlertRepository(deps.pool), contract: v2.contract, anchorers: v2.anchorers, log: deps.log });
    await watch.scan();
    watch.start(deps.config.monitoring.chainPollMs);
    return {
      watch,
      async stop() {
        await watch.stop();
        provider.destroy();
      },
    };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}
