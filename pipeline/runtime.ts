import { setPriority } from 'node:os';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { AnchorRootRepository } from '../anchoring/anchor-root.repository.ts';
import { AnchorTxManager, type AnchorTxManagerOptions } from '../anchoring/chain/anchor-tx.manager.ts';
import { connectProvider } from '../anchoring/chain/provider.ts';
import { AnchorTxRepository } from '../anchoring/chain/anchor-tx.repository.ts';
import { BatchAnchorer } from '../anchoring/chain/batch-anchorer.ts';
import { DecisionAnchorClient } from '../anchoring/chain/decision-anchor.client.ts';
import { DecisionAnchorV2Client } from '../anchoring/chain/decision-anchor-v2.client.ts';
import { ensureDecisionAnchor, recordedDecisionAnchor } from '../anchoring/chain/deployment.ts';
import { checkAnchorerRoles, DecisionAnchorV2UnconfiguredError, DEV_CHAIN_ID, ensureDecisionAnchorV2 } from '../anchoring/chain/deployment-v2.ts';
import { EpochAnchorer } from '../anchoring/chain/epoch-anchorer.ts';
import { federationCitationOf, registerModel } from '../anchoring/chain/model-registration.ts';
import { FlaggedAnchorer } from '../anchoring/chain/flagged-anchorer.ts';
import { FlaggedRootAnchorer } from '../anchoring/chain/flagged-root-anchorer.ts';
import { configRoleKeySource, type RoleKeySource, type SignerSource } from '../anchoring/chain/signer-source.ts';
import { EpochRepository } from '../anchoring/epoch.repository.ts';
import { FlaggedRootRepository } from '../anchoring/flagged-root.repository.ts';
import { ConfigError, InvalidArgumentError } from '../core/errors.ts';
import type { IndexKeySource } from '../review/identifier-key.ts';
import { type RunningMonitor, startMonitor } from './monitor.ts';
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
import { metrics } from '../infra/metrics/registry.ts';
import { every, sampleConsumerLag } from '../infra/metrics/samplers.ts';
import { startMetricsServer, type MetricsServer, type ReadinessCheck } from '../infra/metrics/server.ts';
import { BatchingStage } from './batching.stage.ts';
import { LogIdentityRepository } from '../anchoring/log-identity.repository.ts';
import { sealLegacyDecisions } from './legacy-decisions.ts';
import { BackfillGate } from './backfill-gate.ts';
import { ScoringStage } from './scoring.stage.ts';
import { startIngestStage } from './ingest.stage.ts';

/**
 * The parts a process can run; scale scoring by running more processes with only `scoring`.
 * `monitor` (access monitoring: the access-events relay and the monitor, monitoring/) runs only
 * when asked for: it needs the review index key.
 */
export type PipelineRole = 'scoring' | 'batching' | 'anchoring' | 'ingest' | 'monitor';
export const ALL_ROLES: readonly PipelineRole[] = ['scoring', 'batching', 'anchoring', 'ingest'];
/** Every role a process may be asked to run (ALL_ROLES is the default set). */
export const KNOWN_ROLES: readonly PipelineRole[] = [...ALL_ROLES, 'monitor'];

export interface RunningPipeline {
  pool: Pool;
  kafka: Kafka;
  index: DecisionIndexRepository;
  scoring?: ScoringStage;
  batching?: BatchingStage;
  /** The access-events relay and the monitor (role `monitor`). */
  monitor?: RunningMonitor;
  /**
   * The anchor worker, its contract clients (reads; `client` is the v1 contract, absent when none
   * is configured or recorded) and its transaction manager (the anchoring key's only sender).
   */
  anchor?: { worker: AnchorWorker; client: DecisionAnchorClient | undefined; v2: DecisionAnchorV2Client; tx: AnchorTxManager };
  queue: AnchorQueue;
  /** The metrics and health endpoint (/metrics, /healthz, /readyz), when one listens. */
  metricsServer?: MetricsServer;
  stop(): Promise<void>;
}

/** Options of {@link startPipeline}. */
export interface PipelineOptions {
  /** Port of the metrics endpoint, overriding METRICS_PORT: 0 picks a free one (tests). Default: METRICS_PORT (0 = none). */
  metricsPort?: number;
  /** Milliseconds between samples of consumer lag, pending batches and the signer balance. Default 15000. */
  sampleMs?: number;
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
  /** DecisionAnchorV2's admin (dev deployment only) and registrar keys; default: the config's (no admin). */
  roles?: RoleKeySource;
  /** The review index key (REVIEW_INDEX_KEY), which keys the access pseudonyms: required by the `monitor` role. */
  indexKey?: IndexKeySource;
}

/** The chain side of anchoring: read/encode clients of the contracts and the keys' only senders. */
export interface AnchoringConnection {
  /** The v1 DecisionAnchor, for v1-leaf batches from before proof format v2; absent when none is configured or recorded (or deployed, on the dev chain). */
  client: DecisionAnchorClient | undefined;
  /** DecisionAnchorV2: epochs, flagged roots, models. */
  v2: DecisionAnchorV2Client;
  /** The anchoring key's transaction manager (its only sender). */
  tx: AnchorTxManager;
  /** The model registrar key's own transaction manager, or undefined when no registrar key is available. */
  registrar: AnchorTxManager | undefined;
}

/** Fee cap of the anchor signer's transactions, in wei (200 gwei): fee bumping stops here. */
const ANCHOR_MAX_FEE_CAP_WEI = 200_000_000_000n;

/**
 * Connects the chain side: provider, the anchoring key's transaction manager (attempts stored in
 * `pool`'s schema, which must be migrated), DecisionAnchorV2 (DECISION_ANCHOR_V2_ADDRESS, or on
 * the dev chain only a recorded or fresh dev deployment with three distinct role keys), and the v1
 * DecisionAnchor for v1 leftovers (configured or recorded; deployed only on the dev chain).
 * Call `v2.provider.destroy()` when done.
 * @param manager overrides of the managers' options (the fee cap and confirmations come from here).
 * @throws SignerMissingError (from the signer source) when no key is available for the chain;
 *   DecisionAnchorV2UnconfiguredError off the dev chain without DECISION_ANCHOR_V2_ADDRESS;
 *   AnchorerHoldsAdminError / ANCHORER_ROLE_MISSING when the anchoring key's roles are wrong.
 */
export async function connectAnchoring(
  config: Readonly<Config>,
  deps: { pool: Pool; signer: SignerSource; roles?: RoleKeySource; log: Logger },
  manager: Partial<AnchorTxManagerOptions> = {},
): Promise<AnchoringConnection> {
  const { pool, signer, log } = deps;
  const roles = deps.roles ?? configRoleKeySource(config);
  const provider = await connectProvider(config.chain.rpcUrl);
  try {
    const chainId = (await provider.getNetwork()).chainId;
    const repo = new AnchorTxRepository(pool);
    const managerFor = (signerKey: string, component: string) =>
      new AnchorTxManager(
        { provider, signerKey, repo, log: log.child({ component }) },
        { maxFeeCapWei: ANCHOR_MAX_FEE_CAP_WEI, confirmations: config.chain.confirmations, pollMs: 250, ...manager },
      );
    // Checked before any key is asked for: off the dev chain nothing is deployed, so the address must be set.
    if (!config.chain.contractV2Address && chainId !== DEV_CHAIN_ID) throw new DecisionAnchorV2UnconfiguredError(chainId);
    const tx = managerFor(await signer.signerKey(chainId, log), 'anchor-tx');
    const registrarKey = await roles.registrarKey(chainId, log);
    const registrar = registrarKey ? managerFor(registrarKey, 'registrar-tx') : undefined;
    const v2Address = await ensureDecisionAnchorV2({
      provider,
      anchorer: tx.address,
      configuredAddress: config.chain.contractV2Address,
      stateDir: config.stateDir,
      log,
      devRoles: async () => {
        const adminKey = await roles.adminKey(chainId, log);
        return adminKey && registrar ? { admin: managerFor(adminKey, 'admin-tx'), registrar: registrar.address } : null;
      },
    });
    const v2 = new DecisionAnchorV2Client({ provider, address: v2Address });
    await checkAnchorerRoles(v2, tx.address);
    // v1: only for v1-leaf batches left from before proof format v2 (docs/anchor-transactions.md).
    const v1Address = config.chain.contractAddress ?? recordedDecisionAnchor(config.stateDir, chainId) ?? (chainId === DEV_CHAIN_ID ? await ensureDecisionAnchor({ provider, tx, configuredAddress: undefined, stateDir: config.stateDir, log }) : null);
    if (v1Address && config.chain.contractAddress) await ensureDecisionAnchor({ provider, tx, configuredAddress: v1Address, stateDir: config.stateDir, log });
    const client = v1Address ? new DecisionAnchorClient({ provider, address: v1Address }) : undefined;
    return { client, v2, tx, registrar };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}

/**
 * Throws DecisionAnchorV2UnconfiguredError when DECISION_ANCHOR_V2_ADDRESS is unset and the
 * chain is not the dev chain (the only one claimtrail deploys on). connectAnchoring checks the
 * same; this runs first so the refusal needs nothing but the chain.
 */
async function refuseUnconfiguredChain(config: Readonly<Config>): Promise<void> {
  if (config.chain.contractV2Address) return;
  const provider = await connectProvider(config.chain.rpcUrl);
  try {
    const chainId = (await provider.getNetwork()).chainId;
    if (chainId !== DEV_CHAIN_ID) throw new DecisionAnchorV2UnconfiguredError(chainId);
  } finally {
    provider.destroy();
  }
}

/**
 * Builds and starts the pipeline's stages in this process: database migrations, Kafka topics,
 * then each requested role. `stop()` stops them in reverse order (in-flight work finishes or is
 * left to be re-read: nothing is lost).
 * @param keys where the signer and PHI master keys come from (chosen by the caller: the runtime
 *   never reaches for a dev key by itself).
 */
export async function startPipeline(config: Readonly<Config>, log: Logger, keys: PipelineKeys, roles: readonly PipelineRole[] = ALL_ROLES, options: PipelineOptions = {}): Promise<RunningPipeline> {
  // A configuration the anchoring role refuses is refused before anything else is touched.
  if (roles.includes('anchoring')) await refuseUnconfiguredChain(config);
  const pool = createPool(config.database.url, config.database.schema);
  await migrate(config.database.url, config.database.schema, log);
  const kafka = createKafka(config, log);
  await ensureTopics(kafka, config);
  // Topics made by hand or by an older version may refuse claims the stage would take (infra/kafka/kafka.ts).
  for (const problem of await topicSizeProblems(kafka, config)) log.warn({ component: 'kafka' }, problem);
  const index = new DecisionIndexRepository(pool);
  const redis: Redis = createRedis(config.redisUrl);
  const queue = new AnchorQueue(config.anchor.queue, redis, { epochDelayMs: config.anchor.epochSeconds * 1000 });
  const stoppers: Array<() => Promise<void>> = [];
  // Readiness and sampling: one admin client for both.
  const admin = kafka.admin();
  await admin.connect();
  stoppers.push(() => admin.disconnect());
  /** The model registrar key's sender (never the anchoring key's), when the anchoring role runs here. */
  let registrarTx: AnchorTxManager | undefined;
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
      const { client, v2, tx, registrar } = await connectAnchoring(config, { pool, signer: keys.signer, ...(keys.roles ? { roles: keys.roles } : {}), log: log.child({ component: 'chain' }) });
      const workerLog = log.child({ component: 'anchor-worker' });
      const roots = new AnchorRootRepository(pool);
      const attempts = new AnchorTxRepository(pool);
      const instanceId = await new InstanceRepository(pool).instanceId();
      const epochStore = new EpochRepository(pool);
      const flaggedStore = new FlaggedRootRepository(pool);
      const epochs = new EpochAnchorer({ epochs: epochStore, attempts, chain: v2, tx, instanceId, log: workerLog });
      const flaggedRoots = new FlaggedRootAnchorer({ index, roots: flaggedStore, attempts, chain: v2, tx, log: workerLog });
      const v1 = client ? { batches: new BatchAnchorer({ roots, chain: client, tx, log: workerLog }), flagged: new FlaggedAnchorer({ index, chain: client, tx, log: workerLog }) } : {};
      const workerRedis = createRedis(config.redisUrl);
      const worker = new AnchorWorker(config.anchor.queue, workerRedis, { index, roots, epochStore, flaggedStore, instanceId, epochs, flaggedRoots, ...v1, tx, queue, log: workerLog });
      await worker.start();
      stoppers.push(async () => {
        await worker.close();
        workerRedis.disconnect();
        v2.provider.destroy();
      });
      running.anchor = { worker, client, v2, tx };
      registrarTx = registrar;
    }
    if (roles.includes('ingest')) stoppers.push(await startIngestStage({ kafka, config, log }));
    if (roles.includes('monitor')) {
      if (!keys.indexKey) throw new ConfigError(['REVIEW_INDEX_KEY: the monitor role needs the review index key (it keys the access pseudonyms)']);
      const monitor = await startMonitor({ kafka, pool, config, indexKey: keys.indexKey, log: log.child({ component: 'monitor' }) });
      stoppers.push(() => monitor.stop());
      running.monitor = monitor;
    }
    if (roles.includes('batching')) {
      // Review cases open in the transaction that records their decisions.
      const batching = new BatchingStage({ kafka, config, index, identity: new LogIdentityRepository(pool), recorded: new CaseOpeningService(), jobs: queue, log: log.child({ component: 'batching' }) });
      await batching.start();
      stoppers.push(() => batching.stop());
      running.batching = batching;
    }
    if (roles.includes('scoring')) {
      const excludedNpis = await loadLeieNpis(config.exclusionLists);
      log.info({ files: config.exclusionLists.length, npis: excludedNpis.size }, 'exclusion lists loaded');
      const scorer = await Scorer.load(config.modelDir, { rules: createRulesConfig({ excludedNpis }), log: log.child({ component: 'scorer' }) });
      if (running.anchor) await registerModel(running.anchor.v2, registrarTx, scorer.modelHash, federationCitationOf(scorer.manifest.training), log.child({ component: 'chain' }));
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
      const yieldTo = config.kafka.yieldTo;
      if (yieldTo) {
        if (yieldTo.groupId === config.kafka.scoringGroupId) throw new ConfigError([`SCORING_YIELD_TO_GROUP: a backfill cannot yield to its own group (${yieldTo.groupId}); set SCORING_GROUP_ID to the backfill's own group`]);
        // Lowest scheduling priority: on a shared machine the live processes get the CPU first.
        setPriority(19);
        const gate = new BackfillGate({ admin, liveGroupId: yieldTo.groupId, topic: config.kafka.topics.claims, maxLag: yieldTo.maxLag, stage: scoring, log: log.child({ component: 'backfill' }) });
        gate.start();
        stoppers.push(() => gate.stop());
        log.info({ component: 'backfill', runId: config.scoringRunId, liveGroupId: yieldTo.groupId, maxLag: yieldTo.maxLag }, 'backfill: yields to live scoring');
      }
      running.scoring = scoring;
    }
    await startObservability(running, { config, log, roles, admin, redis, options, stoppers });
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}

/**
 * Samplers of the gauges (consumer lag of this process's groups, pending batches, the signer's
 * balance) and, when a port is configured, the metrics and health endpoint. Both stop first.
 */
async function startObservability(
  running: RunningPipeline,
  deps: { config: Readonly<Config>; log: Logger; roles: readonly PipelineRole[]; admin: ReturnType<Kafka['admin']>; redis: Redis; options: PipelineOptions; stoppers: Array<() => Promise<void>> },
): Promise<void> {
  const { config, log, roles, admin, redis, options, stoppers } = deps;
  const sampleMs = options.sampleMs ?? 15_000;
  const groups = [
    ...(roles.includes('scoring') ? [{ groupId: config.kafka.scoringGroupId, topic: config.kafka.topics.claims }] : []),
    ...(roles.includes('batching') ? [{ groupId: config.kafka.batchingGroupId, topic: config.kafka.topics.decisions }] : []),
    ...(roles.includes('monitor') ? [{ groupId: config.monitoring.groupId, topic: config.monitoring.accessTopic }] : []),
  ];
  if (groups.length > 0) stoppers.push(every(sampleMs, () => sampleConsumerLag(admin, groups, metrics), log, 'consumer lag'));
  if (roles.includes('batching') || roles.includes('anchoring')) {
    stoppers.push(every(sampleMs, async () => {
      const { rows } = await running.pool.query<{ n: string }>(`SELECT count(*) AS n FROM batches WHERE status = 'pending'`);
      metrics.batchesPending.set(Number(rows[0]!.n));
    }, log, 'pending batches'));
  }
  const anchor = running.anchor;
  if (anchor) stoppers.push(every(sampleMs, async () => metrics.signerBalance.set(Number(await anchor.v2.provider.getBalance(anchor.tx.address))), log, 'signer balance'));
  const port = options.metricsPort ?? config.metrics.port;
  if (options.metricsPort === undefined && port === 0) return;
  const checks = (): Record<string, ReadinessCheck> => ({
    kafka: () => admin.describeCluster(),
    postgres: () => running.pool.query('SELECT 1'),
    redis: () => redis.ping(),
    ...(anchor ? { chain: () => anchor.v2.provider.getBlockNumber() } : {}),
    ...(running.scoring ? { 'consumer:scoring': async () => { if (!running.scoring?.joined) throw new Error('not in its consumer group'); } } : {}),
    ...(running.batching ? { 'consumer:batching': async () => { if (!running.batching?.joined) throw new Error('not in its consumer group'); } } : {}),
    ...(running.monitor ? { 'consumer:monitor': async () => { if (!running.monitor?.stage.joined) throw new Error('not in its consumer group'); } } : {}),
  });
  const server = await startMetricsServer({ host: config.metrics.host, port, token: config.metrics.token, registry: metrics.registry, checks, log });
  running.metricsServer = server;
  stoppers.push(() => server.close());
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
