import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { ChainWatch } from '../monitoring/chain-watch.ts';
import { startChainWatch } from '../monitoring/chain-watch.connect.ts';
import { every } from '../infra/metrics/samplers.ts';
import { AlertRepository } from '../monitoring/alert.repository.ts';
import { BehaviourMonitor } from '../monitoring/behaviour-monitor.ts';
import { AccessMonitorStage } from '../monitoring/access-monitor.stage.ts';
import { AccessOutboxRepository } from '../monitoring/access-outbox.repository.ts';
import { AccessRecordRepository } from '../monitoring/access-record.repository.ts';
import { AccessRelay } from '../monitoring/access-relay.ts';
import { ensureAccessTopics } from '../monitoring/access-topics.ts';
import { UserDirectory } from '../monitoring/user-directory.ts';
import { AccessPseudonyms } from '../review/audit/access-pseudonyms.ts';
import type { IndexKeySource } from '../review/identifier-key.ts';

/** The `monitor` role running in this process. */
export interface RunningMonitor {
  relay: AccessRelay;
  stage: AccessMonitorStage;
  /** Absent when MONITOR_CHAIN_POLL_MS is 0. */
  chain?: ChainWatch;
  /** The behaviour model (scored every MONITOR_SCORE_SECONDS, or on demand). */
  behaviour: BehaviourMonitor;
  stop(): Promise<void>;
}

/**
 * Starts the `monitor` role: the access-events topics, the relay (audit outbox -> access-events)
 * the monitor stage (access-events -> explained access records, bad events -> DLQ) and the chain
 * watch (high-severity alerts on the anchoring contract and our signer).
 * `pool`'s schema must be migrated.
 */
export async function startMonitor(deps: { kafka: Kafka; pool: Pool; config: Readonly<Config>; indexKey: IndexKeySource; log: Logger }): Promise<RunningMonitor> {
  const { kafka, pool, config, log } = deps;
  await ensureAccessTopics(kafka, config);
  const pseudonyms = new AccessPseudonyms(deps.indexKey.indexKey(log));
  const outbox = new AccessOutboxRepository(pool);
  const records = new AccessRecordRepository(pool);
  const relay = new AccessRelay({ kafka, outbox, pseudonyms, topic: config.monitoring.accessTopic, pollMs: config.monitoring.relayPollMs, log: log.child({ part: 'relay' }) });
  const stage = new AccessMonitorStage({
    kafka,
    pool,
    records,
    users: new UserDirectory(records, pseudonyms),
    source: await outbox.source(),
    accessTopic: config.monitoring.accessTopic,
    dlqTopic: config.monitoring.accessDlqTopic,
    groupId: config.monitoring.groupId,
    transactionalId: `${config.monitoring.groupId}-${config.kafka.scoringInstanceId}`,
    maxClockSkewSeconds: config.monitoring.maxClockSkewSeconds,
    log: log.child({ part: 'access-monitor' }),
  });
  const chain = config.monitoring.chainPollMs > 0 ? await startChainWatch({ pool, config, log: log.child({ part: 'chain-watch' }) }) : undefined;
  const behaviour = new BehaviourMonitor({ pool, alerts: new AlertRepository(pool), log: log.child({ part: 'behaviour' }) });
  await relay.start();
  try {
    await stage.start();
  } catch (error) {
    await relay.stop();
    await chain?.stop();
    throw error;
  }
  const stopScoring = config.monitoring.scoreSeconds > 0
    ? every(config.monitoring.scoreSeconds * 1000, async () => {
        const now = Date.now();
        for (const t of [now - 86_400_000, now]) await behaviour.scoreDay(new Date(t).toISOString().slice(0, 10));
      }, log, 'behaviour scoring')
    : async () => undefined;
  return {
    relay,
    stage,
    behaviour,
    ...(chain ? { chain: chain.watch } : {}),
    async stop() {
      await stopScoring();
      await chain?.stop();
      await stage.stop();
      await relay.stop();
    },
  };
}
