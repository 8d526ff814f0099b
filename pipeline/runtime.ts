import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { AnchorRootRepository } from '../anchoring/anchor-root.repository.ts';
import { AnchorTxManager, type AnchorTxManagerOptions } from '../anchoring/chain/anchor-tx.manager.ts';
import { connectProvider } from '../anchoring/chain/provider.ts';
import { AnchorTxRepository } from '../anchoring/chain/anchor-tx.repository.ts';
import { BatchAnchorer } from '../anchoring/chain/batch-anchorer.ts';
import { DecisionAnchorClient } from '../anchoring/chain/decision-anchor.client.ts';
import { ensureDecisionAnchor } from '../anchoring/chain/deployment.ts';
import { FlaggedAnchorer } from '../anchoring/chain/flagged-anchorer.ts';
import type { SignerSource } from '../anchoring/chain/signer-source.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { ClaimPayloadRepository } from '../privacy/claim-payload.repository.ts';
import { CaseOpeningService } from '../review/services/case-opening.service.ts';
import { DecisionIndexRepository } from '../anchoring/decision-index.repository.ts';
import { InstanceRepository } from '../anchoring/instance.repository.ts';
import { migrate } from '../infra/db/migrate.ts';
import { createPool } from '../infra/db/pool.ts';
import { createKafka, ensureTopics, topicSizeProblems } from '../infra/kafka/kafka.ts';
import { openMemberKeys, type MasterKeySource } from '../privacy/master-key.ts';
import { DEFAULT_AGGREGATE_SPEC, RedisClaimAggregates, type AggregateSpec } from '../scoring/aggregates.ts';
import { configAggregateKeySource, type AggregateKeySource } from '../scoring/aggregate-key.ts';
import { loadLeieNpis } from '../scoring/exclusion-list.ts';
import { createRulesConfig } from '../scoring/rules.ts';
import { Scorer } from '../scoring/scorer.ts';
import { AnchorQueue } from '../workers/anchor.queue.ts';
import { AnchorWorker } from '../workers/anchor.worker.ts';
import { createRedis } from '../infra/redis.ts';
import { BatchingStage } from './batching.stage.ts';
import { sealLegacyDecisions } from './legacy-decisions.ts';
import { ScoringStage } from './scoring.stage.ts';
import { startIngestStage } from './ingest.stage.ts';

/** The parts a process can run; scale scoring by running more processes with only `scoring`. */
export type PipelineRole = 'scoring' | 'batching' | 'anchoring' | 'ingest';
export const ALL_ROLES: readonly PipelineRole[] = ['scoring', 'batching', 'anchoring', 'ingest'];

export interface RunningPipeline {
  pool: Pool;
  kafka: Kafka;
  index: DecisionIndexRepository;
  scoring?: ScoringStage;
  batching?: BatchingStage;
  /** The anchor worker, its contract client (reads) and its transaction manager (the signer's only sender). */
  anchor?: { worker: AnchorWorker; client: DecisionAnchorClient; tx: AnchorTxManager };
  queue: AnchorQueue;
  stop(): Promise<void>;
}

/**
 * Where the pipeline's keys come from. Production passes the config sources
 * (configSignerSource, configMasterKeySource); the CLI and tests next to the local stack pass the
 * dev sources (cli/dev-sources.ts), which fall back to the stack's generated keys.
 */
export interface PipelineKeys {
  /** The anchor signer's key (used by the `anchoring` role). */
  signer: SignerSource;
  /** The PHI master key (used by the `scoring` role to encrypt claim payloads). */
  masterKey: MasterKeySource;
  /** HMAC key of the aggregates' duplicate-claim keys (`scoring` role); default: the configured one (AGGREGATE_KEY_SECRET). */
  aggregateKey?: AggregateKeySource;
}

/** The chain side of anchoring: a read/encode client of the contract and the signer's only sender. */
export interface AnchoringConnection {
  client: DecisionAnchorClient;
  tx: AnchorTxManager;
}

/** Fee cap of the anchor signer's transactions, in wei (200 gwei): fee bumping stops here. */
const ANCHOR_MAX_FEE_CAP_WEI = 200_000_000_000n;

/**
 * Connects the chain side: provider, the signer's transaction manager (attempts stored in `pool`'s
 * schema, which must be migrated), and the DecisionAnchor (configured, recorded, or deployed now
 * through the manager). Call `client.provider.destroy()` when done.
 * @param manager overrides of the manager's options (the fee cap and confirmations come from here).
 * @throws SignerMissingError (from the signer source) when no key is available for the chain.
 */
export async function connectAnchoring(
  config: Readonly<Config>,
  deps: { pool: Pool; signer: SignerSource; log: Logger },
  manager: Partial<AnchorTxManagerOptions> = {},
): Promise<AnchoringConnection> {
  const { pool, signer, log } = deps;
  const provider = await connectProvider(config.chain.rpcUrl);
  try {
    const signerKey = await signer.signerKey((await provider.getNetwork()).chainId, log);
    const tx = new AnchorTxManager(
      { provider, signerKey, repo: new AnchorTxRepository(pool), log: log.child({ component: 'anchor-tx' }) },
      { maxFeeCapWei: ANCHOR_MAX_FEE_CAP_WEI, confirmations: config.chain.confirmations, pollMs: 250, ...manager },
    );
    const address = await ensureDecisionAnchor({ provider, tx, configuredAddress: config.chain.contractAddress, stateDir: config.stateDir, log });
    return { client: new DecisionAnchorClient({ provider, address }), tx };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}

/**
 * Builds and starts the pipeline's stages in this process: database migrations, Kafka topics,
 * then each requested role. `stop()` stops them in reverse order (in-flight work finishes or is
 * left to be re-read: nothing is lost).
 * @param keys where the signer and PHI master keys come from (chosen by the caller: the runtime
 *   never reaches for a dev key by itself).
 */
export async function startPipeline(config: Readonly<Config>, log: Logger, keys: PipelineKeys, roles: readonly PipelineRole[] = ALL_ROLES): Promise<RunningPipeline> {
  const pool = createPool(config.database.url, config.database.schema);
  await migrate(config.database.url, config.database.schema, log);
  const kafka = createKafka(config, log);
  await ensureTopics(kafka, config);
  // Topics made by hand or by an older version may refuse claims the stage would take (infra/kafka/kafka.ts).
  for (const problem of await topicSizeProblems(kafka, config)) log.warn({ component: 'kafka' }, problem);
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
      const { client, tx } = await connectAnchoring(config, { pool, signer: keys.signer, log: log.child({ component: 'chain' }) });
      const workerLog = log.child({ component: 'anchor-worker' });
      const roots = new AnchorRootRepository(pool);
      const batches = new BatchAnchorer({ roots, chain: client, tx, log: workerLog });
      const flagged = new FlaggedAnchorer({ index, chain: client, tx, log: workerLog });
      const workerRedis = createRedis(config.redisUrl);
      const worker = new AnchorWorker(config.anchor.queue, workerRedis, { index, roots, batches, flagged, tx, queue, log: workerLog });
      await worker.start();
      stoppers.push(async () => {
        await worker.close();
        workerRedis.disconnect();
        client.provider.destroy();
      });
      running.anchor = { worker, client, tx };
    }
    if (roles.includes('ingest')) stoppers.push(await startIngestStage({ kafka, config, log }));
    if (roles.includes('batching')) {
      // Review cases open in the transaction that records their decisions.
      const batching = new BatchingStage({ kafka, config, index, recorded: new CaseOpeningService(), jobs: queue, log: log.child({ component: 'batching' }) });
      await batching.start();
      stoppers.push(() => batching.stop());
      running.batching = batching;
    }
    if (roles.includes('scoring')) {
      const excludedNpis = await loadLeieNpis(config.exclusionLists);
      log.info({ files: config.exclusionLists.length, npis: excludedNpis.size }, 'exclusion lists loaded');
      const scorer = await Scorer.load(config.modelDir, { rules: createRulesConfig({ excludedNpis }), log: log.child({ component: 'scorer' }) });
      if (running.anchor && !(await running.anchor.client.isModelRegistered(scorer.modelHash))) {
        // Through the transaction manager: it is the signer's only sender while the worker runs.
        const data = running.anchor.client.calldata('registerModel', [scorer.modelHash, `claimtrail-model:${scorer.modelHash}`]);
        await running.anchor.tx.send({ to: running.anchor.client.address, data, method: 'registerModel', batchIds: [] });
      }
      // Entity aggregates in Redis: windows from the model when it was trained with them.
      const spec = aggregateSpecFor(scorer, config);
      const fingerprintKey = (keys.aggregateKey ?? configAggregateKeySource(config)).aggregateKey(log);
      const aggregates = new RedisClaimAggregates(redis, { prefix: config.aggregates.keyPrefix, spec, fingerprintKey });
      const challenger = config.challengerModelDir ? await Scorer.load(config.challengerModelDir, { rules: createRulesConfig({ excludedNpis }), log: log.child({ component: 'challenger' }) }) : undefined;
      if (challenger?.aggregates && challenger.aggregates.windowsDays.join() !== spec.windowsDays.join()) {
        throw new InvalidArgumentError(`challenger ${config.challengerModelDir} uses aggregate windows [${challenger.aggregates.windowsDays.join(', ')}] days, the champion [${spec.windowsDays.join(', ')}]: retrain it with the champion's windows`);
      }
      if (challenger) log.info({ champion: scorer.modelHash, challenger: challenger.modelHash, topic: config.kafka.topics.shadow }, 'challenger scoring in shadow');
      // PHI at rest: payloads encrypted under per-member data keys (docs/privacy.md); rows still
      // in clear (written before encryption existed) are encrypted before scoring starts.
      const payloads = new ClaimPayloadRepository(pool, await openMemberKeys(pool, keys.masterKey, log.child({ component: 'privacy' })));
      const encrypted = await payloads.encryptLegacyRows();
      if (encrypted > 0) log.info({ component: 'privacy', rows: encrypted }, 'encrypted claim payloads stored in clear');
      // v1 decision rows: salts and reason texts into the sealed store (docs/privacy.md).
      await sealLegacyDecisions({ index, payloads, log });
      const instanceId = await new InstanceRepository(pool).instanceId();
      log.info({ component: 'scoring', instanceId, runId: config.scoringRunId }, 'decision ids bound to this installation and run');
      const scoring = new ScoringStage({ kafka, config, scorer, payloads, instanceId, log: log.child({ component: 'scoring' }), aggregates, ...(challenger ? { challenger } : {}) });
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

/**
 * The aggregate spec of the streaming path: the model's windows (the defaults for a model without
 * aggregates, which then only feed the duplicate rule) and the configured key lifetime.
 * @throws InvalidArgumentError when AGGREGATE_TTL_DAYS does not outlive the longest window.
 */
export function aggregateSpecFor(scorer: Scorer, config: Readonly<Config>): AggregateSpec {
  const windowsDays = scorer.aggregates?.windowsDays ?? DEFAULT_AGGREGATE_SPEC.windowsDays;
  const longest = windowsDays[windowsDays.length - 1] as number;
  if (config.aggregates.ttlDays <= longest) throw new InvalidArgumentError(`AGGREGATE_TTL_DAYS ${config.aggregates.ttlDays} must exceed the model's longest aggregate window (${longest} days)`);
  return { windowsDays, ttlSeconds: config.aggregates.ttlDays * 86_400 };
}
