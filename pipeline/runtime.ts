import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { connectProvider } from '../chain/provider.ts';
import { DecisionAnchorClient } from '../chain/decision-anchor.client.ts';
import { ensureDecisionAnchor } from '../chain/deployment.ts';
import { ClaimtrailError } from '../core/errors.ts';
import { DEV_CHAIN_ID, ensureDevSigner } from '../stack/dev-signer.ts';
import { DEV_SIGNER_KEY_FILE } from '../stack/chain.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { ClaimPayloadRepository } from '../db/claim-payload.repository.ts';
import { DecisionIndexRepository } from '../db/decision-index.repository.ts';
import { migrate } from '../db/migrate.ts';
import { createPool } from '../db/pool.ts';
import { createKafka, ensureTopics } from '../ingest/kafka.ts';
import { loadLeieNpis } from '../scoring/exclusion-list.ts';
import { createRulesConfig } from '../scoring/rules.ts';
import { Scorer } from '../scoring/scorer.ts';
import { AnchorQueue } from '../workers/anchor.queue.ts';
import { AnchorWorker } from '../workers/anchor.worker.ts';
import { createRedis } from '../workers/redis.ts';
import { BatchingStage } from './batching.stage.ts';
import { ScoringStage } from './scoring.stage.ts';

/** The parts a process can run; scale scoring by running more processes with only `scoring`. */
export type PipelineRole = 'scoring' | 'batching' | 'anchoring';
export const ALL_ROLES: readonly PipelineRole[] = ['scoring', 'batching', 'anchoring'];

export interface RunningPipeline {
  pool: Pool;
  kafka: Kafka;
  index: DecisionIndexRepository;
  scoring?: ScoringStage;
  batching?: BatchingStage;
  anchor?: { worker: AnchorWorker; client: DecisionAnchorClient };
  queue: AnchorQueue;
  stop(): Promise<void>;
}

/** Connects the chain side: provider, signer (dev key on a local chain), deployed contract. */
export async function connectAnchorClient(config: Readonly<Config>, log: Logger): Promise<DecisionAnchorClient> {
  const provider = await connectProvider(config.chain.rpcUrl);
  let signerKey = config.chain.signerKey;
  if (!signerKey) {
    // Only a local dev chain may fall back to the stack's generated key; anywhere else a missing
    // key is a configuration error, never a silent default.
    const chainId = (await provider.getNetwork()).chainId;
    if (chainId !== BigInt(DEV_CHAIN_ID)) {
      throw new ClaimtrailError('SIGNER_MISSING', `no signer configured for chain ${chainId}: set SIGNER_PRIVATE_KEY or SIGNER_KEY_FILE`);
    }
    const dev = await ensureDevSigner(join(config.stateDir, DEV_SIGNER_KEY_FILE), config.chain.rpcUrl, DEV_CHAIN_ID, log);
    signerKey = readFileSync(dev.keyFile, 'utf8').trim();
  }
  const address = await ensureDecisionAnchor({ provider, signerKey, configuredAddress: config.chain.contractAddress, stateDir: config.stateDir, log });
  return new DecisionAnchorClient({ provider, address, signerKey, confirmations: config.chain.confirmations });
}

/**
 * Builds and starts the pipeline's stages in this process: database migrations, Kafka topics,
 * then each requested role. `stop()` stops them in reverse order (in-flight work finishes or is
 * left to be re-read: nothing is lost).
 */
export async function startPipeline(config: Readonly<Config>, log: Logger, roles: readonly PipelineRole[] = ALL_ROLES): Promise<RunningPipeline> {
  const pool = createPool(config.database.url, config.database.schema);
  await migrate(config.database.url, config.database.schema, log);
  const kafka = createKafka(config, log);
  await ensureTopics(kafka, config);
  const index = new DecisionIndexRepository(pool);
  const redis: Redis = createRedis(config.redisUrl);
  const queue = new AnchorQueue(config.anchor.queue, redis);
  const stoppers: Array<() => Promise<void>> = [];
  const running: RunningPipeline = {
    pool,
    kafka,
    index,
    queue,
    async stop() {
      for (const stop of stoppers.reverse()) {
        await stop().catch((error: unknown) => log.error({ err: error }, 'stopping a stage failed'));
      }
      await queue.close();
      redis.disconnect();
      await pool.end();
    },
  };
  try {
    if (roles.includes('anchoring')) {
      const client = await connectAnchorClient(config, log.child({ component: 'chain' }));
      const workerRedis = createRedis(config.redisUrl);
      const worker = new AnchorWorker(config.anchor.queue, workerRedis, { index, chain: client, queue, log: log.child({ component: 'anchor-worker' }) });
      await worker.start();
      stoppers.push(async () => {
        await worker.close();
        workerRedis.disconnect();
        client.provider.destroy();
      });
      running.anchor = { worker, client };
    }
    if (roles.includes('batching')) {
      const batching = new BatchingStage({ kafka, config, index, jobs: queue, log: log.child({ component: 'batching' }) });
      await batching.start();
      stoppers.push(() => batching.stop());
      running.batching = batching;
    }
    if (roles.includes('scoring')) {
      const excludedNpis = await loadLeieNpis(config.exclusionLists);
      log.info({ files: config.exclusionLists.length, npis: excludedNpis.size }, 'exclusion lists loaded');
      const scorer = await Scorer.load(config.modelDir, { rules: createRulesConfig({ excludedNpis }), log: log.child({ component: 'scorer' }) });
      if (running.anchor && !(await running.anchor.client.isModelRegistered(scorer.modelHash))) {
        await running.anchor.client.registerModel(scorer.modelHash, `claimtrail-model:${scorer.modelHash}`);
      }
      const scoring = new ScoringStage({ kafka, config, scorer, payloads: new ClaimPayloadRepository(pool), log: log.child({ component: 'scoring' }) });
      await scoring.start();
      stoppers.push(() => scoring.stop());
      running.scoring = scoring;
    }
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}
