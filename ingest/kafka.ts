import { Kafka, logLevel as KafkaLogLevel, type ITopicConfig, type LogEntry } from 'kafkajs';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';

/** A kafkajs client whose log lines go through pino (namespace kept as `kafkajs`). */
export function createKafka(config: Readonly<Config>, log: Logger, clientIdSuffix = ''): Kafka {
  const kafkaLog = log.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: `${config.kafka.clientId}${clientIdSuffix}`,
    brokers: [...config.kafka.brokers],
    logLevel: KafkaLogLevel.WARN,
    retry: { initialRetryTime: 200, retries: 10 },
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...context } = entry;
        if (level <= KafkaLogLevel.ERROR) kafkaLog.error(context, message);
        else if (level === KafkaLogLevel.WARN) kafkaLog.warn(context, message);
        else kafkaLog.debug(context, message);
      },
  });
}

/**
 * Creates the claims, DLQ and decisions topics when missing (idempotent). The DLQ keeps
 * messages for 30 days; the decisions topic is the audit log and is never deleted by time
 * (retention -1): batches are recomputed from it.
 */
export async function ensureTopics(kafka: Kafka, config: Readonly<Config>): Promise<void> {
  const { claims, dlq, decisions, shadow } = config.kafka.topics;
  const partitions = config.kafka.partitions;
  const wanted: ITopicConfig[] = [
    { topic: claims, numPartitions: partitions, replicationFactor: 1 },
    { topic: dlq, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: String(30 * 24 * 3600 * 1000) }] },
    { topic: decisions, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] },
    // Champion / challenger shadow scores (scoring/shadow.ts): default retention.
    { topic: shadow, numPartitions: partitions, replicationFactor: 1 },
  ];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}
